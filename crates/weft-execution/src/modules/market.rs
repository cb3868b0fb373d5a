//! Market: requests for quote with escrowed quotes, and periodic double auctions with
//! uniform-price clearing. Every settlement is delivery-versus-payment inside one
//! transaction: all legs happen or, on any failure, none does.
//!
//! **Request for quote.** The requester names what it wants (`want_quantity` of
//! `want_symbol`) and what it pays in. Any other member quotes a unit price until the
//! deadline; quoting escrows the quoter's `want_quantity` of the wanted token, so delivery
//! cannot fail later and the quoter does not have to co-sign the acceptance. The requester
//! accepts one quote (while the request is not closed): it pays `unit_price * want_quantity`
//! to the quoter and receives the escrowed delivery. Closing (by the requester at any time,
//! by anyone once the deadline has passed) refunds every quote still in escrow.
//!
//! **Double auction.** Orders escrow what they may have to deliver: a sell order its base
//! quantity, a buy order `quantity * limit_price` of quote. A clearing is allowed once the
//! height reaches `last_cleared_at + interval_blocks`. Bids are ranked by price descending,
//! asks by price ascending, ties by placement height then order id. Walking both lists
//! greedily matches the maximum volume; the marginal (last matched) bid price `b` and ask
//! price `a` satisfy `a <= b`, and the clearing price is the midpoint rounded down,
//! `a + (b - a) / 2`. Every matched bid's limit is at least `b` and every matched ask's at
//! most `a`, so no buyer pays above its limit and no seller receives below its own. Fills
//! follow the ranking (only the marginal orders fill partially); buyers receive base, pay
//! `fill * price` and get `fill * (limit - price)` of their escrow back; sellers receive
//! `fill * price`. Orders of an account frozen for either token, or lacking a token's holder
//! role, sit out the clearing, so one such account cannot block the market. Unfilled quantity stays for the next interval.
//!
//! **Asset offers.** The owner of a unique asset offers it at a fixed price in a token,
//! optionally to one named buyer, optionally with a marketplace fee of `fee_bps` basis
//! points (at most 10 000) payable to a fee account. The offer is the request for quote kept
//! under the asset's own id (`rfq/<asset>`), which is how the asset module finds the lock:
//! while the offer is open the asset stays its owner's but cannot be transferred, split,
//! merged, transformed, updated or retired. A retired asset cannot be offered, so it can
//! never be sold. Buying settles in one step: the buyer pays the price, the seller receives
//! `price - fee`, the fee account `fee = floor(price * fee_bps / 10 000)`, and the asset
//! passes to the buyer (status `sold`, final). The buyer names the price it agrees to pay, so
//! an offer withdrawn and made again at another price cannot take more. Closing the offer
//! (`CloseRfq`: by the seller at any time, by anyone after the deadline) releases the lock.
//! A finished offer (sold or closed) gives way to the next offer of the same asset; its
//! history stays in the events.
//!
//! Invariants: for every token, supply = balances + token holds + the quote escrow of
//! requests + the order escrow of markets (escrow is debited from balances and recorded
//! here). An asset sale moves tokens only between balances, so it keeps supply, and it
//! changes the asset's one owner only together with the payment.

use std::cmp::Reverse;

use weft_types::{
    AcceptQuote, AccountId, Amount, BuyAsset, CancelOrder, ClearMarket, CloseRfq, ErrorCode,
    MAX_FEE_BPS, Name, OfferAsset, OpenMarket, PlaceOrder, RequestQuote, Side, SubmitQuote,
};

use super::token::{credit, debit};
use crate::{
    ExecError,
    context::TxContext,
    keys::StateKey,
    model::{Asset, AssetStatus, Market, MarketOrder, Rfq, RfqKind, RfqQuote, RfqStatus},
};

/// Whether `who` may be credited with `symbol` now (its holder role); other failures are
/// errors, not a "no".
fn may_receive(ctx: &TxContext<'_, '_>, symbol: &Name, who: &AccountId) -> Result<bool, ExecError> {
    match super::token::require_may_receive(ctx, symbol, who) {
        Ok(()) => Ok(true),
        Err(ExecError::Tx(e)) if e.code == ErrorCode::Unauthorized => Ok(false),
        Err(e) => Err(e),
    }
}

fn invalid(message: impl Into<String>) -> ExecError {
    ExecError::tx(ErrorCode::InvalidArgument, message)
}

fn positive(what: &str, amount: Amount) -> Result<u128, ExecError> {
    if amount.0 == 0 {
        Err(invalid(format!("{what} must be positive")))
    } else {
        Ok(amount.0)
    }
}

fn mul(a: u128, b: u128) -> Result<u128, ExecError> {
    a.checked_mul(b)
        .ok_or_else(|| ExecError::tx(ErrorCode::Overflow, format!("{a} * {b} overflows")))
}

fn require_token(ctx: &TxContext<'_, '_>, symbol: &Name) -> Result<(), ExecError> {
    if ctx.exists(&StateKey::Token(symbol.clone()))? {
        Ok(())
    } else {
        Err(ExecError::tx(
            ErrorCode::UnknownToken,
            format!("token {symbol} is not defined"),
        ))
    }
}

// ---- request for quote ----

fn load_rfq(ctx: &TxContext<'_, '_>, id: &Name) -> Result<Rfq, ExecError> {
    ctx.get::<Rfq>(&StateKey::Rfq(id.clone()))?
        .ok_or_else(|| ExecError::tx(ErrorCode::NotFound, format!("rfq {id} does not exist")))
}

fn require_open(id: &Name, rfq: &Rfq) -> Result<(), ExecError> {
    match &rfq.status {
        RfqStatus::Open => Ok(()),
        RfqStatus::Accepted { quote, .. } => {
            Err(invalid(format!("rfq {id} already accepted quote {quote}")))
        }
        RfqStatus::Closed { at_height } => Err(invalid(format!(
            "rfq {id} was closed at height {at_height}"
        ))),
        RfqStatus::Sold { buyer, at_height } => Err(invalid(format!(
            "rfq {id} was sold to {buyer} at height {at_height}"
        ))),
    }
}

/// The token and quantity a buy request wants; asset offers take no quotes.
fn wanted(id: &Name, rfq: &Rfq) -> Result<(Name, Amount), ExecError> {
    match &rfq.kind {
        RfqKind::Buy {
            want_symbol,
            want_quantity,
        } => Ok((want_symbol.clone(), *want_quantity)),
        RfqKind::AssetOffer { asset, .. } => Err(invalid(format!(
            "rfq {id} offers asset {asset} at a fixed price; it takes no quotes (use buy_asset)"
        ))),
    }
}

pub(crate) fn request_quote(
    ctx: &mut TxContext<'_, '_>,
    op: &RequestQuote,
) -> Result<(), ExecError> {
    let quantity = positive("want_quantity", op.want_quantity)?;
    if op.want_symbol == op.pay_symbol {
        return Err(invalid("want_symbol and pay_symbol must differ"));
    }
    require_token(ctx, &op.want_symbol)?;
    require_token(ctx, &op.pay_symbol)?;
    if op.deadline_height < ctx.height {
        return Err(invalid(format!(
            "deadline {} is before the current height {}",
            op.deadline_height, ctx.height
        )));
    }
    let key = StateKey::Rfq(op.id.clone());
    if ctx.exists(&key)? {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("rfq {} exists", op.id),
        ));
    }
    let rfq = Rfq {
        requester: ctx.signer,
        kind: RfqKind::Buy {
            want_symbol: op.want_symbol.clone(),
            want_quantity: Amount(quantity),
        },
        pay_symbol: op.pay_symbol.clone(),
        deadline_height: op.deadline_height,
        created_at: ctx.height,
        status: RfqStatus::Open,
        quotes: Vec::new(),
    };
    ctx.put(&key, &rfq);
    ctx.emit(
        "market.rfq_opened",
        vec![ctx.signer],
        vec![
            ("rfq", op.id.to_string()),
            ("want_symbol", op.want_symbol.to_string()),
            ("want_quantity", quantity.to_string()),
            ("pay_symbol", op.pay_symbol.to_string()),
            ("deadline_height", op.deadline_height.to_string()),
        ],
    );
    Ok(())
}

pub(crate) fn submit_quote(ctx: &mut TxContext<'_, '_>, op: &SubmitQuote) -> Result<(), ExecError> {
    let mut rfq = load_rfq(ctx, &op.rfq)?;
    let (want_symbol, want_quantity) = wanted(&op.rfq, &rfq)?;
    require_open(&op.rfq, &rfq)?;
    if ctx.height > rfq.deadline_height {
        return Err(invalid(format!(
            "rfq {} took quotes until height {}, now {}",
            op.rfq, rfq.deadline_height, ctx.height
        )));
    }
    if ctx.signer == rfq.requester {
        return Err(invalid("the requester cannot quote on its own request"));
    }
    let unit_price = positive("unit_price", op.unit_price)?;
    if rfq.quotes.iter().any(|q| q.id == op.quote) {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("quote {} exists on rfq {}", op.quote, op.rfq),
        ));
    }
    if rfq.quotes.len() >= Rfq::MAX_QUOTES {
        return Err(invalid(format!(
            "rfq {} has the maximum of {} quotes",
            op.rfq,
            Rfq::MAX_QUOTES
        )));
    }
    // The price must be payable without overflow, so acceptance cannot fail on arithmetic.
    let total = mul(unit_price, want_quantity.0)?;
    let quoter = ctx.signer;
    debit(ctx, &want_symbol, &quoter, want_quantity.0)?;
    rfq.quotes.push(RfqQuote {
        id: op.quote.clone(),
        quoter,
        unit_price: Amount(unit_price),
        escrow: want_quantity,
        submitted_at: ctx.height,
    });
    ctx.put(&StateKey::Rfq(op.rfq.clone()), &rfq);
    ctx.emit(
        "market.quoted",
        vec![quoter, rfq.requester],
        vec![
            ("rfq", op.rfq.to_string()),
            ("quote", op.quote.to_string()),
            ("unit_price", unit_price.to_string()),
            ("total", total.to_string()),
            ("escrow", want_quantity.to_string()),
        ],
    );
    Ok(())
}

pub(crate) fn accept_quote(ctx: &mut TxContext<'_, '_>, op: &AcceptQuote) -> Result<(), ExecError> {
    let mut rfq = load_rfq(ctx, &op.rfq)?;
    if ctx.signer != rfq.requester {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("only the requester {} can accept a quote", rfq.requester),
        ));
    }
    let (want_symbol, want_quantity) = wanted(&op.rfq, &rfq)?;
    require_open(&op.rfq, &rfq)?;
    let index = rfq
        .quotes
        .iter()
        .position(|q| q.id == op.quote)
        .ok_or_else(|| {
            ExecError::tx(
                ErrorCode::NotFound,
                format!("rfq {} has no quote {}", op.rfq, op.quote),
            )
        })?;
    let quote = rfq.quotes[index].clone();
    if quote.escrow != want_quantity {
        return Err(ExecError::Fatal(format!(
            "rfq {} quote {} escrows {} instead of {}",
            op.rfq, op.quote, quote.escrow, want_quantity
        )));
    }
    let price = mul(quote.unit_price.0, want_quantity.0)?;
    let requester = rfq.requester;
    // Payment leg, then delivery leg out of escrow; any failure undoes both.
    debit(ctx, &rfq.pay_symbol, &requester, price)?;
    credit(ctx, &rfq.pay_symbol, &quote.quoter, price)?;
    credit(ctx, &want_symbol, &requester, quote.escrow.0)?;
    rfq.quotes[index].escrow = Amount(0);
    rfq.status = RfqStatus::Accepted {
        quote: op.quote.clone(),
        at_height: ctx.height,
    };
    ctx.put(&StateKey::Rfq(op.rfq.clone()), &rfq);
    ctx.emit(
        "market.rfq_settled",
        vec![requester, quote.quoter],
        vec![
            ("rfq", op.rfq.to_string()),
            ("quote", op.quote.to_string()),
            ("delivered_symbol", want_symbol.to_string()),
            ("delivered", quote.escrow.to_string()),
            ("paid_symbol", rfq.pay_symbol.to_string()),
            ("paid", price.to_string()),
        ],
    );
    Ok(())
}

pub(crate) fn close_rfq(ctx: &mut TxContext<'_, '_>, op: &CloseRfq) -> Result<(), ExecError> {
    let mut rfq = load_rfq(ctx, &op.rfq)?;
    if matches!(
        rfq.status,
        RfqStatus::Closed { .. } | RfqStatus::Sold { .. }
    ) {
        require_open(&op.rfq, &rfq)?;
    }
    if ctx.signer != rfq.requester && ctx.height <= rfq.deadline_height {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!(
                "only the requester can close rfq {} before its deadline {}",
                op.rfq, rfq.deadline_height
            ),
        ));
    }
    let want_symbol = match &rfq.kind {
        RfqKind::Buy { want_symbol, .. } => want_symbol.clone(),
        RfqKind::AssetOffer { asset, .. } => {
            let asset = asset.clone();
            return withdraw_offer(ctx, &op.rfq, rfq, &asset);
        }
    };
    let mut refunded = 0u128;
    for i in 0..rfq.quotes.len() {
        let (quoter, escrow) = (rfq.quotes[i].quoter, rfq.quotes[i].escrow.0);
        if escrow > 0 {
            credit(ctx, &want_symbol, &quoter, escrow)?;
            rfq.quotes[i].escrow = Amount(0);
            refunded = refunded.saturating_add(escrow);
        }
    }
    rfq.status = RfqStatus::Closed {
        at_height: ctx.height,
    };
    ctx.put(&StateKey::Rfq(op.rfq.clone()), &rfq);
    let mut accounts = vec![rfq.requester];
    accounts.extend(rfq.quotes.iter().map(|q| q.quoter));
    ctx.emit(
        "market.rfq_closed",
        accounts,
        vec![
            ("rfq", op.rfq.to_string()),
            ("symbol", want_symbol.to_string()),
            ("refunded", refunded.to_string()),
        ],
    );
    Ok(())
}

// ---- asset offers ----

/// The marketplace fee on `price`: `floor(price * fee_bps / 10 000)`, never above the price.
fn fee_of(price: u128, fee_bps: u16) -> Result<u128, ExecError> {
    Ok(mul(price, u128::from(fee_bps))? / u128::from(MAX_FEE_BPS))
}

fn require_registered(ctx: &TxContext<'_, '_>, who: &AccountId) -> Result<(), ExecError> {
    if ctx.exists(&StateKey::Account(*who))? {
        Ok(())
    } else {
        Err(ExecError::tx(
            ErrorCode::UnknownAccount,
            format!("account {who} is not registered"),
        ))
    }
}

/// Refuses when `asset` is locked by an open offer. The asset module calls this before it
/// lets an owner change an asset, so an offered asset is delivered as it was offered.
pub(crate) fn require_unlocked(ctx: &TxContext<'_, '_>, asset: &Name) -> Result<(), ExecError> {
    match ctx.get::<Rfq>(&StateKey::Rfq(asset.clone()))? {
        Some(rfq) if rfq.locks(asset) => Err(invalid(format!(
            "asset {asset} is locked: it is offered for sale (rfq {asset}) until the offer is \
             bought or closed"
        ))),
        _ => Ok(()),
    }
}

fn load_asset(ctx: &TxContext<'_, '_>, id: &Name) -> Result<Asset, ExecError> {
    ctx.get::<Asset>(&StateKey::Asset(id.clone()))?
        .ok_or_else(|| ExecError::tx(ErrorCode::NotFound, format!("asset {id} does not exist")))
}

pub(crate) fn offer_asset(ctx: &mut TxContext<'_, '_>, op: &OfferAsset) -> Result<(), ExecError> {
    let price = positive("price", op.price)?;
    if op.fee_bps > MAX_FEE_BPS {
        return Err(invalid(format!(
            "fee_bps {} is above {MAX_FEE_BPS} (the whole price)",
            op.fee_bps
        )));
    }
    if op.fee_bps > 0 && op.fee_account.is_none() {
        return Err(invalid("a fee needs a fee_account"));
    }
    // Computed now so the settlement cannot fail on arithmetic.
    let fee = fee_of(price, op.fee_bps)?;
    require_token(ctx, &op.pay_symbol)?;
    if op.deadline_height < ctx.height {
        return Err(invalid(format!(
            "deadline {} is before the current height {}",
            op.deadline_height, ctx.height
        )));
    }
    let asset = load_asset(ctx, &op.asset)?;
    if let AssetStatus::Retired { at_height, .. } = &asset.status {
        return Err(invalid(format!(
            "asset {} was retired at height {at_height}; a retired asset cannot be sold",
            op.asset
        )));
    }
    let seller = ctx.signer;
    if asset.owner != seller {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!(
                "asset {} is owned by {}, not {seller}",
                op.asset, asset.owner
            ),
        ));
    }
    let key = StateKey::Rfq(op.asset.clone());
    if let Some(existing) = ctx.get::<Rfq>(&key)? {
        if existing.locks(&op.asset) {
            return Err(invalid(format!(
                "asset {} is already offered (rfq {})",
                op.asset, op.asset
            )));
        }
        if !matches!(existing.kind, RfqKind::AssetOffer { .. }) {
            return Err(ExecError::tx(
                ErrorCode::AlreadyExists,
                format!(
                    "rfq {} is a request for quote; an offer is kept under its asset's id",
                    op.asset
                ),
            ));
        }
    }
    for who in op.fee_account.iter().chain(&op.buyer) {
        require_registered(ctx, who)?;
    }
    if op.buyer == Some(seller) {
        return Err(invalid("the seller cannot be the offer's buyer"));
    }
    let rfq = Rfq {
        requester: seller,
        kind: RfqKind::AssetOffer {
            asset: op.asset.clone(),
            price: Amount(price),
            fee_bps: op.fee_bps,
            fee_account: op.fee_account,
            buyer: op.buyer,
        },
        pay_symbol: op.pay_symbol.clone(),
        deadline_height: op.deadline_height,
        created_at: ctx.height,
        status: RfqStatus::Open,
        quotes: Vec::new(),
    };
    ctx.put(&key, &rfq);
    let mut accounts = vec![seller];
    accounts.extend(op.buyer);
    let text = |a: Option<AccountId>| a.map(|a| a.to_string()).unwrap_or_default();
    ctx.emit(
        "market.asset_offered",
        accounts,
        vec![
            ("asset", op.asset.to_string()),
            ("class", asset.class.to_string()),
            ("seller", seller.to_string()),
            ("pay_symbol", op.pay_symbol.to_string()),
            ("price", price.to_string()),
            ("fee_bps", op.fee_bps.to_string()),
            ("fee", fee.to_string()),
            ("fee_account", text(op.fee_account)),
            ("buyer", text(op.buyer)),
            ("deadline_height", op.deadline_height.to_string()),
        ],
    );
    Ok(())
}

pub(crate) fn buy_asset(ctx: &mut TxContext<'_, '_>, op: &BuyAsset) -> Result<(), ExecError> {
    let key = StateKey::Rfq(op.asset.clone());
    let mut rfq = ctx.get::<Rfq>(&key)?.ok_or_else(|| {
        ExecError::tx(
            ErrorCode::NotFound,
            format!("asset {} is not offered", op.asset),
        )
    })?;
    let RfqKind::AssetOffer {
        price,
        fee_bps,
        fee_account,
        buyer: reserved_for,
        ..
    } = rfq.kind.clone()
    else {
        return Err(ExecError::tx(
            ErrorCode::NotFound,
            format!(
                "rfq {} is a request for quote, not an asset offer",
                op.asset
            ),
        ));
    };
    require_open(&op.asset, &rfq)?;
    if ctx.height > rfq.deadline_height {
        return Err(invalid(format!(
            "the offer of asset {} could be bought until height {}, now {}",
            op.asset, rfq.deadline_height, ctx.height
        )));
    }
    let (buyer, seller) = (ctx.signer, rfq.requester);
    if buyer == seller {
        return Err(invalid("the seller cannot buy its own offer"));
    }
    if let Some(reserved) = reserved_for
        && reserved != buyer
    {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("the offer of asset {} is reserved for {reserved}", op.asset),
        ));
    }
    if op.price != price {
        return Err(invalid(format!(
            "asset {} is offered at {price}, not {}",
            op.asset, op.price
        )));
    }
    let mut asset = load_asset(ctx, &op.asset)?;
    // The lock keeps both true; a typed refusal rather than a halt if anything bypassed it.
    if !asset.is_active() || asset.owner != seller {
        return Err(invalid(format!(
            "asset {} is no longer the seller's active asset",
            op.asset
        )));
    }
    let fee = fee_of(price.0, fee_bps)?;
    let proceeds = price.0 - fee;
    // Payment legs, then delivery; any failure (funds, frozen accounts) undoes every leg.
    debit(ctx, &rfq.pay_symbol, &buyer, price.0)?;
    if proceeds > 0 {
        credit(ctx, &rfq.pay_symbol, &seller, proceeds)?;
    }
    if fee > 0 {
        let fee_account = fee_account.ok_or_else(|| {
            ExecError::Fatal(format!("offer {} has a fee but no fee account", op.asset))
        })?;
        credit(ctx, &rfq.pay_symbol, &fee_account, fee)?;
    }
    asset.owner = buyer;
    asset.updated_at = ctx.height;
    ctx.put(&StateKey::Asset(op.asset.clone()), &asset);
    rfq.status = RfqStatus::Sold {
        buyer,
        at_height: ctx.height,
    };
    ctx.put(&key, &rfq);
    // The asset module's event, so the asset's event history stays its ownership timeline.
    ctx.emit(
        "asset.transferred",
        vec![seller, buyer],
        vec![
            ("asset", op.asset.to_string()),
            ("from", seller.to_string()),
            ("to", buyer.to_string()),
        ],
    );
    let mut accounts = vec![buyer, seller];
    accounts.extend(fee_account.filter(|_| fee > 0));
    ctx.emit(
        "market.asset_sold",
        accounts,
        vec![
            ("asset", op.asset.to_string()),
            ("seller", seller.to_string()),
            ("buyer", buyer.to_string()),
            ("pay_symbol", rfq.pay_symbol.to_string()),
            ("price", price.to_string()),
            ("fee", fee.to_string()),
            ("proceeds", proceeds.to_string()),
            (
                "fee_account",
                fee_account.map(|a| a.to_string()).unwrap_or_default(),
            ),
        ],
    );
    Ok(())
}

/// Closes an open asset offer and so releases the asset's lock.
fn withdraw_offer(
    ctx: &mut TxContext<'_, '_>,
    id: &Name,
    mut rfq: Rfq,
    asset: &Name,
) -> Result<(), ExecError> {
    rfq.status = RfqStatus::Closed {
        at_height: ctx.height,
    };
    ctx.put(&StateKey::Rfq(id.clone()), &rfq);
    ctx.emit(
        "market.offer_closed",
        vec![rfq.requester],
        vec![("rfq", id.to_string()), ("asset", asset.to_string())],
    );
    Ok(())
}

// ---- periodic double auction ----

fn load_market(ctx: &TxContext<'_, '_>, id: &Name) -> Result<Market, ExecError> {
    ctx.get::<Market>(&StateKey::Market(id.clone()))?
        .ok_or_else(|| ExecError::tx(ErrorCode::NotFound, format!("market {id} does not exist")))
}

/// The token an order of `side` escrows in `market`.
fn escrow_symbol(market: &Market, side: Side) -> &Name {
    match side {
        Side::Buy => &market.quote,
        Side::Sell => &market.base,
    }
}

const fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

pub(crate) fn open_market(ctx: &mut TxContext<'_, '_>, op: &OpenMarket) -> Result<(), ExecError> {
    if op.interval_blocks == 0 {
        return Err(invalid("interval_blocks must be positive"));
    }
    if op.base == op.quote {
        return Err(invalid("base and quote must differ"));
    }
    require_token(ctx, &op.base)?;
    require_token(ctx, &op.quote)?;
    let key = StateKey::Market(op.id.clone());
    if ctx.exists(&key)? {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("market {} exists", op.id),
        ));
    }
    let market = Market {
        creator: ctx.signer,
        base: op.base.clone(),
        quote: op.quote.clone(),
        interval_blocks: op.interval_blocks,
        opened_at: ctx.height,
        last_cleared_at: ctx.height,
        last_price: None,
        traded_volume: Amount(0),
        orders: Vec::new(),
    };
    ctx.put(&key, &market);
    ctx.emit(
        "market.opened",
        vec![ctx.signer],
        vec![
            ("market", op.id.to_string()),
            ("base", op.base.to_string()),
            ("quote", op.quote.to_string()),
            ("interval_blocks", op.interval_blocks.to_string()),
        ],
    );
    Ok(())
}

pub(crate) fn place_order(ctx: &mut TxContext<'_, '_>, op: &PlaceOrder) -> Result<(), ExecError> {
    let mut market = load_market(ctx, &op.market)?;
    let quantity = positive("quantity", op.quantity)?;
    let limit = positive("limit_price", op.limit_price)?;
    if market.orders.iter().any(|o| o.id == op.order) {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("order {} is open in market {}", op.order, op.market),
        ));
    }
    if market.orders.len() >= Market::MAX_ORDERS {
        return Err(invalid(format!(
            "market {} is full ({} open orders)",
            op.market,
            Market::MAX_ORDERS
        )));
    }
    let escrow = match op.side {
        Side::Sell => quantity,
        Side::Buy => mul(quantity, limit)?,
    };
    let owner = ctx.signer;
    // An order whose owner may not hold what a fill (or its refund) credits could never
    // settle: refuse it now rather than let it sit in the book.
    super::token::require_may_receive(ctx, &market.base, &owner)?;
    super::token::require_may_receive(ctx, &market.quote, &owner)?;
    let symbol = escrow_symbol(&market, op.side).clone();
    debit(ctx, &symbol, &owner, escrow)?;
    market.orders.push(MarketOrder {
        id: op.order.clone(),
        owner,
        side: op.side,
        quantity: Amount(quantity),
        limit_price: Amount(limit),
        placed_at: ctx.height,
        escrow: Amount(escrow),
    });
    ctx.put(&StateKey::Market(op.market.clone()), &market);
    ctx.emit(
        "market.order_placed",
        vec![owner],
        vec![
            ("market", op.market.to_string()),
            ("order", op.order.to_string()),
            ("side", side_name(op.side).to_owned()),
            ("quantity", quantity.to_string()),
            ("limit_price", limit.to_string()),
            ("escrow_symbol", symbol.to_string()),
            ("escrow", escrow.to_string()),
        ],
    );
    Ok(())
}

pub(crate) fn cancel_order(ctx: &mut TxContext<'_, '_>, op: &CancelOrder) -> Result<(), ExecError> {
    let mut market = load_market(ctx, &op.market)?;
    let index = market
        .orders
        .iter()
        .position(|o| o.id == op.order)
        .ok_or_else(|| {
            ExecError::tx(
                ErrorCode::NotFound,
                format!("market {} has no open order {}", op.market, op.order),
            )
        })?;
    let order = market.orders.remove(index);
    if order.owner != ctx.signer {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("order {} belongs to {}", op.order, order.owner),
        ));
    }
    let symbol = escrow_symbol(&market, order.side).clone();
    credit(ctx, &symbol, &order.owner, order.escrow.0)?;
    ctx.put(&StateKey::Market(op.market.clone()), &market);
    ctx.emit(
        "market.order_cancelled",
        vec![order.owner],
        vec![
            ("market", op.market.to_string()),
            ("order", op.order.to_string()),
            ("refund_symbol", symbol.to_string()),
            ("refund", order.escrow.to_string()),
        ],
    );
    Ok(())
}

/// The result of matching: per order index, the quantity filled; the volume; the price.
struct Matching {
    fills: Vec<(usize, u128)>,
    volume: u128,
    price: u128,
}

/// Ranks the eligible orders and matches the maximum volume (see the module docs).
fn match_orders(orders: &[MarketOrder], eligible: &[bool]) -> Matching {
    let mut bids: Vec<usize> = Vec::new();
    let mut asks: Vec<usize> = Vec::new();
    for (i, o) in orders.iter().enumerate() {
        if !eligible[i] {
            continue;
        }
        match o.side {
            Side::Buy => bids.push(i),
            Side::Sell => asks.push(i),
        }
    }
    bids.sort_by_key(|&i| {
        let o = &orders[i];
        (Reverse(o.limit_price.0), o.placed_at, o.id.clone())
    });
    asks.sort_by_key(|&i| {
        let o = &orders[i];
        (o.limit_price.0, o.placed_at, o.id.clone())
    });
    let mut bid_left: Vec<u128> = bids.iter().map(|&i| orders[i].quantity.0).collect();
    let mut ask_left: Vec<u128> = asks.iter().map(|&i| orders[i].quantity.0).collect();
    let (mut b, mut a) = (0usize, 0usize);
    let mut volume = 0u128;
    let (mut marginal_bid, mut marginal_ask) = (0u128, 0u128);
    let mut bid_fill = vec![0u128; bids.len()];
    let mut ask_fill = vec![0u128; asks.len()];
    while b < bids.len()
        && a < asks.len()
        && orders[bids[b]].limit_price >= orders[asks[a]].limit_price
    {
        let q = bid_left[b].min(ask_left[a]);
        bid_left[b] -= q;
        ask_left[a] -= q;
        bid_fill[b] += q;
        ask_fill[a] += q;
        // Each unit is one unit of an order's quantity, so the sum stays within supply.
        volume = volume.saturating_add(q);
        marginal_bid = orders[bids[b]].limit_price.0;
        marginal_ask = orders[asks[a]].limit_price.0;
        if bid_left[b] == 0 {
            b += 1;
        }
        if ask_left[a] == 0 {
            a += 1;
        }
    }
    let price = marginal_ask + (marginal_bid - marginal_ask) / 2;
    let fills = bids
        .iter()
        .zip(&bid_fill)
        .chain(asks.iter().zip(&ask_fill))
        .filter(|(_, q)| **q > 0)
        .map(|(&i, &q)| (i, q))
        .collect();
    Matching {
        fills,
        volume,
        price,
    }
}

pub(crate) fn clear_market(ctx: &mut TxContext<'_, '_>, op: &ClearMarket) -> Result<(), ExecError> {
    let mut market = load_market(ctx, &op.market)?;
    let due = market
        .last_cleared_at
        .saturating_add(market.interval_blocks);
    if ctx.height < due {
        return Err(invalid(format!(
            "market {} was cleared at height {}; next clearing at height {due}, now {}",
            op.market, market.last_cleared_at, ctx.height
        )));
    }
    // Orders of accounts frozen for either token, or no longer holding a token's holder
    // role (KYC revoked since the order was placed), sit this clearing out: one such account
    // must not block the market.
    let mut eligible = Vec::with_capacity(market.orders.len());
    for o in &market.orders {
        let frozen = ctx.exists(&StateKey::Frozen(market.base.clone(), o.owner))?
            || ctx.exists(&StateKey::Frozen(market.quote.clone(), o.owner))?;
        let may_hold =
            may_receive(ctx, &market.base, &o.owner)? && may_receive(ctx, &market.quote, &o.owner)?;
        eligible.push(!frozen && may_hold);
    }
    let Matching {
        fills,
        volume,
        price,
    } = match_orders(&market.orders, &eligible);
    let (base, quote) = (market.base.clone(), market.quote.clone());
    for &(i, q) in &fills {
        let order = &mut market.orders[i];
        let owner: AccountId = order.owner;
        let value = mul(q, price)?;
        let (released, refund) = match order.side {
            Side::Buy => {
                let released = mul(q, order.limit_price.0)?;
                (released, released - value)
            }
            Side::Sell => (q, 0),
        };
        order.quantity = Amount(order.quantity.0 - q);
        order.escrow = Amount(order.escrow.0.checked_sub(released).ok_or_else(|| {
            ExecError::Fatal(format!("order {} escrow below its fill", order.id))
        })?);
        let (id, side) = (order.id.clone(), order.side);
        match side {
            Side::Buy => {
                credit(ctx, &base, &owner, q)?;
                if refund > 0 {
                    credit(ctx, &quote, &owner, refund)?;
                }
            }
            Side::Sell => credit(ctx, &quote, &owner, value)?,
        }
        ctx.emit(
            "market.fill",
            vec![owner],
            vec![
                ("market", op.market.to_string()),
                ("order", id.to_string()),
                ("side", side_name(side).to_owned()),
                ("quantity", q.to_string()),
                ("price", price.to_string()),
                ("value", value.to_string()),
                ("refund", refund.to_string()),
            ],
        );
    }
    market.orders.retain(|o| o.quantity.0 > 0);
    market.last_cleared_at = ctx.height;
    if volume > 0 {
        market.last_price = Some(Amount(price));
        market.traded_volume = Amount(market.traded_volume.0.saturating_add(volume));
    }
    ctx.put(&StateKey::Market(op.market.clone()), &market);
    ctx.emit(
        "market.cleared",
        vec![],
        vec![
            ("market", op.market.to_string()),
            ("volume", volume.to_string()),
            (
                "price",
                if volume > 0 {
                    price.to_string()
                } else {
                    String::new()
                },
            ),
            ("fills", fills.len().to_string()),
            ("open_orders", market.orders.len().to_string()),
        ],
    );
    Ok(())
}
