//! The market module: requests for quote settled delivery-versus-payment out of escrow,
//! unique assets offered at a price with a marketplace fee, and periodic double auctions with
//! uniform-price clearing. Each rule, each refusal (with its code and no state change), a
//! hand-computed clearing and fee, and the invariants under random sequences.

use std::collections::BTreeMap;

use proptest::prelude::*;
use weft_crypto::{Keypair, sign_transaction};
use weft_execution::{
    BlockContext, execute_block, genesis_writes,
    keys::StateKey,
    model::{Asset, AssetStatus, Hold as HoldRecord, Market, Rfq, RfqKind, RfqStatus, Token},
};
use weft_types::{
    AcceptQuote, AccountId, Amount, BuyAsset, CancelOrder, ClearMarket, CloseRfq, ErrorCode, Event,
    Genesis, GenesisAccount, GenesisOrganization, GenesisToken, GenesisValidator, MergeAssets,
    Name, NewAsset, OfferAsset, OpenMarket, Operation, PlaceOrder, RegisterAsset, RequestQuote,
    RetireAsset, SetAssetAttributes, SetFrozen, Side, SplitAsset, SubmitQuote, Transaction,
    TransferAsset, TxStatus, state::WriteSet,
};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

const START: u128 = 1000;

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn apply(state: &mut State, writes: &WriteSet) {
    for (k, v) in writes {
        match v {
            Some(v) => state.insert(k.clone(), v.clone()),
            None => state.remove(k),
        };
    }
}

struct World {
    state: State,
    height: u64,
    issuer: Keypair,
    people: Vec<Keypair>,
    nonces: BTreeMap<AccountId, u64>,
}

impl World {
    /// An issuer of `kwh` and `usd` (also the marketplace operator and registrar of assets),
    /// and four traders holding 1000 of each. Traders have `market.*` and `asset.*` but not
    /// `token.*`: market operations move their tokens without `token.transfer`.
    fn new() -> Self {
        let issuer = Keypair::from_seed([1; 32]);
        let people: Vec<Keypair> = (2..=5u8).map(|i| Keypair::from_seed([i; 32])).collect();
        let mut roles = BTreeMap::new();
        roles.insert(
            name("issuer"),
            vec!["token.*".to_owned(), "asset.*".to_owned()],
        );
        roles.insert(
            name("trader"),
            vec![
                "market.*".to_owned(),
                "asset.*".to_owned(),
                "workflow.*".to_owned(),
            ],
        );
        let mut accounts = vec![GenesisAccount {
            account: issuer.account(),
            organization: name("org"),
            roles: vec![name("issuer")],
        }];
        accounts.extend(people.iter().map(|p| GenesisAccount {
            account: p.account(),
            organization: name("org"),
            roles: vec![name("trader")],
        }));
        let token = |symbol: &str| GenesisToken {
            symbol: name(symbol),
            display_name: symbol.into(),
            decimals: 0,
            issuer: issuer.account(),
            max_supply: None,
            balances: people
                .iter()
                .map(|p| (p.account(), Amount(START)))
                .collect(),
        };
        let genesis = Genesis {
            chain_id: name("t"),
            genesis_time_ms: 0,
            validators: vec![GenesisValidator {
                account: issuer.account(),
                organization: name("org"),
            }],
            organizations: vec![GenesisOrganization {
                id: name("org"),
                display_name: "Org".into(),
            }],
            accounts,
            roles,
            tokens: vec![token("kwh"), token("usd")],
            epoch_length: weft_types::DEFAULT_EPOCH_LENGTH,
            governance: None,
        };
        let mut state = State::new();
        apply(&mut state, &genesis_writes(&genesis).unwrap());
        Self {
            state,
            height: 0,
            issuer,
            people,
            nonces: BTreeMap::new(),
        }
    }

    fn p(&self, i: usize) -> Keypair {
        self.people[i].clone()
    }

    /// Runs one transaction by `who` in its own block; returns status and events.
    fn run(&mut self, who: &Keypair, ops: Vec<Operation>) -> (TxStatus, Vec<Event>) {
        let signer = who.account();
        let nonce = *self.nonces.get(&signer).unwrap_or(&0);
        let tx = sign_transaction(
            Transaction {
                chain_id: name("t"),
                signer,
                nonce,
                expiry_height: u64::MAX,
                operations: ops,
                memo: String::new(),
            },
            &[who],
        );
        let ctx = BlockContext {
            chain_id: name("t"),
            height: self.height + 1,
            timestamp_ms: self.height + 1,
        };
        let out = execute_block(&self.state, &ctx, &[tx]).unwrap();
        apply(&mut self.state, &out.writes);
        self.height += 1;
        self.nonces.insert(signer, nonce + 1);
        let receipt = out.receipts.into_iter().next().unwrap();
        (receipt.status, receipt.events)
    }

    /// Runs and expects success.
    fn ok(&mut self, who: &Keypair, ops: Vec<Operation>) -> Vec<Event> {
        let (status, events) = self.run(who, ops);
        assert_eq!(status, TxStatus::Success);
        events
    }

    /// State without the entries every transaction touches (nonces, height).
    fn business_state(&self) -> State {
        self.state
            .iter()
            .filter(|(k, _)| !k.starts_with(b"nonce/") && !k.starts_with(b"meta/height"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Runs and expects a refusal with `code` that leaves the state as it was.
    fn refused(&mut self, who: &Keypair, ops: Vec<Operation>, code: ErrorCode) {
        let before = self.business_state();
        let (status, events) = self.run(who, ops);
        match status {
            TxStatus::Failed { code: got, .. } => assert_eq!(got, code, "{status:?}"),
            TxStatus::Success => panic!("expected {code}, succeeded"),
        }
        assert!(events.is_empty());
        assert_eq!(
            self.business_state(),
            before,
            "a refused transaction changed state"
        );
    }

    fn balance(&self, symbol: &str, who: &Keypair) -> u128 {
        let key = StateKey::Balance(name(symbol), who.account()).to_bytes();
        self.state
            .get(&key)
            .map_or(0, |v| borsh::from_slice::<Amount>(v).unwrap().0)
    }

    fn supply(&self, symbol: &str) -> u128 {
        borsh::from_slice::<Token>(&self.state[&StateKey::Token(name(symbol)).to_bytes()])
            .unwrap()
            .supply
            .0
    }

    fn rfq(&self, id: &str) -> Rfq {
        borsh::from_slice(&self.state[&StateKey::Rfq(name(id)).to_bytes()]).unwrap()
    }

    fn asset(&self, id: &str) -> Asset {
        borsh::from_slice(&self.state[&StateKey::Asset(name(id)).to_bytes()]).unwrap()
    }

    fn market(&self, id: &str) -> Market {
        borsh::from_slice(&self.state[&StateKey::Market(name(id)).to_bytes()]).unwrap()
    }

    fn records<T: borsh::BorshDeserialize>(&self, prefix: &[u8]) -> Vec<T> {
        self.state
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| borsh::from_slice::<T>(v).unwrap())
            .collect()
    }

    /// Everything in escrow for `symbol`: token holds, quotes, and market orders.
    fn escrow(&self, symbol: &str) -> u128 {
        let s = name(symbol);
        let holds: u128 = self
            .records::<HoldRecord>(b"hold/")
            .iter()
            .filter(|h| h.symbol == s)
            .map(|h| h.amount.0)
            .sum();
        let rfqs: u128 = self
            .records::<Rfq>(b"rfq/")
            .iter()
            .map(|r| r.escrow_of(&s))
            .sum();
        let markets: u128 = self
            .records::<Market>(b"market/")
            .iter()
            .map(|m| m.escrow_of(&s))
            .sum();
        holds + rfqs + markets
    }

    fn balances(&self, symbol: &str) -> u128 {
        let prefix = format!("balance/{symbol}/");
        self.records::<Amount>(prefix.as_bytes())
            .iter()
            .map(|a| a.0)
            .sum()
    }

    fn conserved(&self, symbol: &str) -> bool {
        self.balances(symbol) + self.escrow(symbol) == self.supply(symbol)
    }
}

fn attr<'e>(event: &'e Event, key: &str) -> &'e str {
    event
        .attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("event {} has no {key}", event.topic))
}

fn request(id: &str, quantity: u128, deadline: u64) -> Operation {
    Operation::RequestQuote(RequestQuote {
        id: name(id),
        want_symbol: name("kwh"),
        want_quantity: Amount(quantity),
        pay_symbol: name("usd"),
        deadline_height: deadline,
    })
}

fn quote(rfq: &str, id: &str, unit_price: u128) -> Operation {
    Operation::SubmitQuote(SubmitQuote {
        rfq: name(rfq),
        quote: name(id),
        unit_price: Amount(unit_price),
    })
}

fn accept(rfq: &str, id: &str) -> Operation {
    Operation::AcceptQuote(AcceptQuote {
        rfq: name(rfq),
        quote: name(id),
    })
}

fn close(rfq: &str) -> Operation {
    Operation::CloseRfq(CloseRfq { rfq: name(rfq) })
}

fn open_market(id: &str, interval: u64) -> Operation {
    Operation::OpenMarket(OpenMarket {
        id: name(id),
        base: name("kwh"),
        quote: name("usd"),
        interval_blocks: interval,
    })
}

fn order(id: &str, side: Side, quantity: u128, limit: u128) -> Operation {
    Operation::PlaceOrder(PlaceOrder {
        market: name("energy"),
        order: name(id),
        side,
        quantity: Amount(quantity),
        limit_price: Amount(limit),
    })
}

fn cancel(id: &str) -> Operation {
    Operation::CancelOrder(CancelOrder {
        market: name("energy"),
        order: name(id),
    })
}

fn clear() -> Operation {
    Operation::ClearMarket(ClearMarket {
        market: name("energy"),
    })
}

/// A carbon removal certificate registered to `owner`.
fn certificate(id: &str, owner: &Keypair) -> Operation {
    Operation::RegisterAsset(RegisterAsset {
        id: name(id),
        class: name("crc"),
        owner: owner.account(),
        attributes: vec![
            ("tonnes".into(), "1".into()),
            ("vintage".into(), "2024".into()),
        ],
    })
}

/// An offer of `asset` for `price` usd, with `fee_bps` to `fee_account`, open to anyone.
fn offer(
    asset: &str,
    price: u128,
    fee_bps: u16,
    fee_account: Option<&Keypair>,
    deadline: u64,
) -> Operation {
    Operation::OfferAsset(OfferAsset {
        asset: name(asset),
        pay_symbol: name("usd"),
        price: Amount(price),
        fee_bps,
        fee_account: fee_account.map(Keypair::account),
        buyer: None,
        deadline_height: deadline,
    })
}

fn offer_to(asset: &str, price: u128, buyer: &Keypair, deadline: u64) -> Operation {
    match offer(asset, price, 0, None, deadline) {
        Operation::OfferAsset(mut o) => {
            o.buyer = Some(buyer.account());
            Operation::OfferAsset(o)
        }
        _ => unreachable!(),
    }
}

fn buy(asset: &str, price: u128) -> Operation {
    Operation::BuyAsset(BuyAsset {
        asset: name(asset),
        price: Amount(price),
    })
}

fn transfer_asset(asset: &str, to: &Keypair) -> Operation {
    Operation::TransferAsset(TransferAsset {
        id: name(asset),
        to: to.account(),
    })
}

fn retire(asset: &str) -> Operation {
    Operation::RetireAsset(RetireAsset {
        id: name(asset),
        reason: "claimed against 2024 emissions".into(),
    })
}

#[test]
fn rfq_settles_delivery_versus_payment_out_of_escrow() {
    let mut w = World::new();
    let [alice, bob, carol] = [w.p(0), w.p(1), w.p(2)];
    let deadline = w.height + 4;
    w.ok(&alice, vec![request("r1", 100, deadline)]);

    // Quoting escrows the quoter's delivery.
    w.ok(&bob, vec![quote("r1", "bob-q", 7)]);
    w.ok(&carol, vec![quote("r1", "carol-q", 6)]);
    assert_eq!(w.balance("kwh", &bob), 900);
    assert_eq!(w.balance("kwh", &carol), 900);
    assert_eq!(w.rfq("r1").escrow_of(&name("kwh")), 200);
    assert!(w.conserved("kwh") && w.conserved("usd"));

    // Acceptance: alice pays 6 * 100 to carol and receives carol's 100 kwh from escrow.
    let events = w.ok(&alice, vec![accept("r1", "carol-q")]);
    let settled = events
        .iter()
        .find(|e| e.topic == "market.rfq_settled")
        .unwrap();
    assert_eq!(attr(settled, "paid"), "600");
    assert_eq!(attr(settled, "delivered"), "100");
    assert_eq!(w.balance("usd", &alice), 400);
    assert_eq!(w.balance("kwh", &alice), 1100);
    assert_eq!(w.balance("usd", &carol), 1600);
    assert_eq!(w.balance("kwh", &carol), 900);
    // Bob's quote stays in escrow until the request closes.
    assert_eq!(w.balance("kwh", &bob), 900);
    assert_eq!(w.rfq("r1").escrow_of(&name("kwh")), 100);
    assert!(w.conserved("kwh") && w.conserved("usd"));

    // Closing refunds the quotes that were not accepted.
    let events = w.ok(&alice, vec![close("r1")]);
    assert_eq!(attr(&events[0], "refunded"), "100");
    assert_eq!(w.balance("kwh", &bob), 1000);
    assert_eq!(w.balance("usd", &bob), 1000);
    assert_eq!(w.rfq("r1").escrow_of(&name("kwh")), 0);
    assert!(matches!(w.rfq("r1").status, RfqStatus::Closed { .. }));
    assert!(w.conserved("kwh") && w.conserved("usd"));
    assert_eq!(w.supply("kwh"), 4 * START);
    assert_eq!(w.supply("usd"), 4 * START);
}

#[test]
fn rfq_refusals_carry_their_code_and_change_nothing() {
    let mut w = World::new();
    let [alice, bob, carol, dave] = [w.p(0), w.p(1), w.p(2), w.p(3)];
    let deadline = w.height + 2;
    w.ok(&alice, vec![request("r1", 100, deadline)]);
    w.ok(&bob, vec![quote("r1", "bob-q", 20)]); // at the deadline: still in time
    assert_eq!(w.height, deadline);
    // After the deadline no more quotes.
    w.refused(
        &carol,
        vec![quote("r1", "carol-q", 5)],
        ErrorCode::InvalidArgument,
    );

    // Invalid requests.
    w.refused(
        &alice,
        vec![request("r1", 5, 100)],
        ErrorCode::AlreadyExists,
    );
    w.refused(
        &alice,
        vec![request("r2", 0, 100)],
        ErrorCode::InvalidArgument,
    );
    w.refused(
        &alice,
        vec![request("r2", 5, 0)],
        ErrorCode::InvalidArgument,
    );
    // Quotes: the requester cannot quote; prices are positive; ids are unique per request.
    w.ok(&alice, vec![request("r2", 5, 1000)]);
    w.refused(
        &alice,
        vec![quote("r2", "q", 5)],
        ErrorCode::InvalidArgument,
    );
    w.refused(&bob, vec![quote("nope", "q", 5)], ErrorCode::NotFound);
    w.refused(&bob, vec![quote("r2", "q", 0)], ErrorCode::InvalidArgument);
    w.ok(&carol, vec![quote("r2", "q", 5)]);
    w.refused(&dave, vec![quote("r2", "q", 4)], ErrorCode::AlreadyExists);

    // A quoter without the delivery in hand cannot quote.
    w.ok(&alice, vec![request("big", 2000, w.height + 5)]);
    w.refused(
        &dave,
        vec![quote("big", "q", 1)],
        ErrorCode::InsufficientBalance,
    );

    // Acceptance: only the requester, only a known quote, only with the payment in hand.
    w.refused(&bob, vec![accept("r1", "bob-q")], ErrorCode::Unauthorized);
    w.refused(&carol, vec![accept("r1", "bob-q")], ErrorCode::Unauthorized);
    w.refused(&alice, vec![accept("r1", "nobody")], ErrorCode::NotFound);
    // 20 * 100 = 2000 usd > 1000.
    w.refused(
        &alice,
        vec![accept("r1", "bob-q")],
        ErrorCode::InsufficientBalance,
    );

    // All or nothing: a later failing operation undoes a settled acceptance.
    w.ok(&alice, vec![request("r3", 10, w.height + 50)]);
    w.ok(&carol, vec![quote("r3", "c", 3)]);
    w.refused(
        &alice,
        vec![accept("r3", "c"), accept("r3", "c")],
        ErrorCode::InvalidArgument,
    );
    w.ok(&alice, vec![accept("r3", "c")]);
    assert_eq!(w.balance("usd", &carol), 1030);
    assert_eq!(w.balance("kwh", &carol), 1000 - 5 - 10); // r2's quote is still in escrow
    assert_eq!(w.balance("kwh", &alice), 1010);
    // Double acceptance, and quoting on an accepted request.
    w.refused(&alice, vec![accept("r3", "c")], ErrorCode::InvalidArgument);
    w.refused(&dave, vec![quote("r3", "d", 1)], ErrorCode::InvalidArgument);

    // Closing: only the requester before the deadline, anyone after; once.
    w.refused(&carol, vec![close("r3")], ErrorCode::Unauthorized);
    w.ok(&bob, vec![close("r1")]); // past r1's deadline: the quoter recovers its escrow
    assert_eq!(w.balance("kwh", &bob), 1000);
    w.refused(&alice, vec![close("r1")], ErrorCode::InvalidArgument);
    w.refused(
        &alice,
        vec![accept("r1", "bob-q")],
        ErrorCode::InvalidArgument,
    );
    assert!(w.conserved("kwh") && w.conserved("usd"));
}

/// A hand-computed clearing.
///
/// Bids: p0 20 @ 10, p1 35 @ 7, p2 30 @ 5. Asks: p3 30 @ 4, p1 40 @ 6, p3 10 @ 6 (placed
/// later than p1's ask at the same price), p2 50 @ 9.
///
/// Greedy matching: 10×4 for 20; 7×4 for 10 (the 4-ask is done); 7×6 (p1's ask, earlier)
/// for 25; then the 5-bid is below every remaining ask. Volume 55; marginal bid 7, marginal
/// ask 6; price = 6 + (7 - 6) / 2 = 6.
#[test]
fn double_auction_clears_at_a_uniform_price_with_exact_fills_and_refunds() {
    let mut w = World::new();
    let p: Vec<Keypair> = (0..4).map(|i| w.p(i)).collect();
    w.ok(&p[0], vec![open_market("energy", 3)]);
    let opened = w.height;
    // Too early: the first clearing is due interval blocks after opening.
    w.refused(&p[1], vec![clear()], ErrorCode::InvalidArgument);

    w.ok(&p[0], vec![order("b-p0", Side::Buy, 20, 10)]);
    w.ok(&p[1], vec![order("b-p1", Side::Buy, 35, 7)]);
    w.ok(&p[2], vec![order("b-p2", Side::Buy, 30, 5)]);
    w.ok(&p[3], vec![order("a-p3", Side::Sell, 30, 4)]);
    w.ok(&p[1], vec![order("a-p1", Side::Sell, 40, 6)]);
    w.ok(&p[3], vec![order("a-p3b", Side::Sell, 10, 6)]);
    w.ok(&p[2], vec![order("a-p2", Side::Sell, 50, 9)]);
    assert_eq!(w.balance("usd", &p[0]), 800); // 20 * 10 in escrow
    assert_eq!(w.balance("usd", &p[1]), 755); // 35 * 7
    assert_eq!(w.market("energy").escrow_of(&name("usd")), 200 + 245 + 150);
    assert_eq!(
        w.market("energy").escrow_of(&name("kwh")),
        30 + 40 + 10 + 50
    );
    w.refused(
        &p[0],
        vec![order("b-p0", Side::Buy, 1, 1)],
        ErrorCode::AlreadyExists,
    );
    w.refused(
        &p[0],
        vec![order("x", Side::Buy, 200, 10)],
        ErrorCode::InsufficientBalance,
    );
    w.refused(
        &p[0],
        vec![order("x", Side::Buy, 0, 10)],
        ErrorCode::InvalidArgument,
    );
    assert!(w.height >= opened + 3);

    let events = w.ok(&p[2], vec![clear()]);
    let cleared = events.iter().find(|e| e.topic == "market.cleared").unwrap();
    assert_eq!(attr(cleared, "price"), "6");
    assert_eq!(attr(cleared, "volume"), "55");
    let fills: Vec<(String, String, String, String)> = events
        .iter()
        .filter(|e| e.topic == "market.fill")
        .map(|e| {
            (
                attr(e, "order").to_owned(),
                attr(e, "quantity").to_owned(),
                attr(e, "value").to_owned(),
                attr(e, "refund").to_owned(),
            )
        })
        .collect();
    let s = |a: &str, b: &str, c: &str, d: &str| (a.into(), b.into(), c.into(), d.into());
    assert_eq!(
        fills,
        vec![
            s("b-p0", "20", "120", "80"),
            s("b-p1", "35", "210", "35"),
            s("a-p3", "30", "180", "0"),
            s("a-p1", "25", "150", "0"),
        ]
    );
    // Exact balances: buyers pay 6 per unit and get the rest of their escrow back.
    assert_eq!(
        [0, 1, 2, 3].map(|i| (w.balance("usd", &p[i]), w.balance("kwh", &p[i]))),
        [(880, 1020), (940, 995), (850, 950), (1180, 960)]
    );
    let market = w.market("energy");
    assert_eq!(market.last_price, Some(Amount(6)));
    assert_eq!(market.traded_volume, Amount(55));
    assert_eq!(market.last_cleared_at, w.height);
    let open: Vec<(&str, u128, u128)> = market
        .orders
        .iter()
        .map(|o| (o.id.as_str(), o.quantity.0, o.escrow.0))
        .collect();
    assert_eq!(
        open,
        vec![
            ("b-p2", 30, 150),
            ("a-p1", 15, 15),
            ("a-p3b", 10, 10),
            ("a-p2", 50, 50)
        ]
    );
    assert!(w.conserved("kwh") && w.conserved("usd"));

    // The next clearing waits a full interval.
    w.refused(&p[0], vec![clear()], ErrorCode::InvalidArgument);

    // Cancelling: owner only; refunds the escrow.
    w.refused(&p[0], vec![cancel("b-p2")], ErrorCode::Unauthorized);
    w.refused(&p[2], vec![cancel("b-p0")], ErrorCode::NotFound);
    w.ok(&p[2], vec![cancel("b-p2")]);
    assert_eq!(w.balance("usd", &p[2]), 1000);

    // Nothing crosses now: a clearing trades nothing and leaves the book as it is.
    let events = w.ok(&p[0], vec![clear()]);
    assert_eq!(attr(&events[0], "volume"), "0");
    assert_eq!(w.market("energy").orders.len(), 3);
    assert!(w.conserved("kwh") && w.conserved("usd"));
}

#[test]
fn market_book_is_bounded_and_frozen_accounts_sit_out() {
    let mut w = World::new();
    let [a, b] = [w.p(0), w.p(1)];
    w.ok(&a, vec![open_market("energy", 1)]);
    w.refused(&a, vec![open_market("energy", 1)], ErrorCode::AlreadyExists);
    w.refused(
        &a,
        vec![Operation::OpenMarket(OpenMarket {
            id: name("m2"),
            base: name("kwh"),
            quote: name("kwh"),
            interval_blocks: 1,
        })],
        ErrorCode::InvalidArgument,
    );
    w.refused(&a, vec![open_market("m3", 0)], ErrorCode::InvalidArgument);

    // A frozen seller's order does not trade, and does not block the others.
    w.ok(&a, vec![order("sell-a", Side::Sell, 5, 1)]);
    w.ok(&b, vec![order("sell-b", Side::Sell, 5, 2)]);
    w.ok(&b, vec![order("buy-b", Side::Buy, 5, 2)]);
    let issuer = w.issuer.clone();
    w.ok(
        &issuer,
        vec![Operation::SetFrozen(SetFrozen {
            symbol: name("usd"),
            account: a.account(),
            frozen: true,
        })],
    );
    let events = w.ok(&b, vec![clear()]);
    let cleared = events.iter().find(|e| e.topic == "market.cleared").unwrap();
    assert_eq!(attr(cleared, "volume"), "5");
    assert_eq!(attr(cleared, "price"), "2");
    let left: Vec<String> = w
        .market("energy")
        .orders
        .iter()
        .map(|o| o.id.to_string())
        .collect();
    assert_eq!(left, vec!["sell-a"]);

    // The book holds at most Market::MAX_ORDERS open orders.
    let mut n = 1;
    while n < Market::MAX_ORDERS {
        let batch: Vec<Operation> = (n..(n + 60).min(Market::MAX_ORDERS))
            .map(|i| order(&format!("o{i}"), Side::Sell, 1, 100))
            .collect();
        n += batch.len();
        w.ok(&b, batch);
    }
    assert_eq!(w.market("energy").orders.len(), Market::MAX_ORDERS);
    w.refused(
        &b,
        vec![order("one-more", Side::Sell, 1, 100)],
        ErrorCode::InvalidArgument,
    );
    assert!(w.conserved("kwh") && w.conserved("usd"));
}

/// The most volume any single price could trade: max over p of min(demand(p), supply(p)).
fn best_volume(market: &Market, eligible: impl Fn(&AccountId) -> bool) -> u128 {
    let orders: Vec<_> = market
        .orders
        .iter()
        .filter(|o| eligible(&o.owner))
        .collect();
    orders
        .iter()
        .map(|o| o.limit_price.0)
        .map(|p| {
            let demand: u128 = orders
                .iter()
                .filter(|o| o.side == Side::Buy && o.limit_price.0 >= p)
                .map(|o| o.quantity.0)
                .sum();
            let supply: u128 = orders
                .iter()
                .filter(|o| o.side == Side::Sell && o.limit_price.0 <= p)
                .map(|o| o.quantity.0)
                .sum();
            demand.min(supply)
        })
        .max()
        .unwrap_or(0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random orders, cancellations, clearings, freezes and RFQ steps. At every step the supply
    /// of each token equals balances plus all escrow, order escrow matches what is left of each
    /// order; at each clearing no order is over-filled, no buyer pays above its limit, no seller
    /// receives below its own, base and quote are conserved, and the volume is the maximum.
    #[test]
    fn market_invariants_hold_under_random_sequences(
        steps in prop::collection::vec((0u8..10, 0usize..4, 1u128..60, 1u128..25, 0u8..6), 1..60)
    ) {
        let mut w = World::new();
        let people: Vec<Keypair> = (0..4).map(|i| w.p(i)).collect();
        let issuer = w.issuer.clone();
        w.ok(&people[0], vec![open_market("energy", 2)]);
        let mut frozen: BTreeMap<AccountId, bool> = BTreeMap::new();
        for (kind, who, qty, price, slot) in steps {
            let p = &people[who];
            match kind {
                0..=3 => {
                    let side = if kind % 2 == 0 { Side::Buy } else { Side::Sell };
                    w.run(p, vec![order(&format!("o{who}-{slot}"), side, qty, price)]);
                }
                4 => { w.run(p, vec![cancel(&format!("o{who}-{slot}"))]); }
                5 | 6 => {
                    let before = w.market("energy");
                    let is_frozen = |a: &AccountId| frozen.get(a).copied().unwrap_or(false);
                    let best = best_volume(&before, |a| !is_frozen(a));
                    let (status, events) = w.run(p, vec![clear()]);
                    if status != TxStatus::Success {
                        prop_assert!(w.height < before.last_cleared_at + before.interval_blocks);
                        continue;
                    }
                    let cleared = events.iter().find(|e| e.topic == "market.cleared").unwrap();
                    let volume: u128 = attr(cleared, "volume").parse().unwrap();
                    prop_assert_eq!(volume, best);
                    let (mut bought, mut sold, mut paid, mut received) = (0u128, 0u128, 0u128, 0u128);
                    for e in events.iter().filter(|e| e.topic == "market.fill") {
                        let id = attr(e, "order");
                        let o = before.orders.iter().find(|o| o.id.as_str() == id).unwrap();
                        prop_assert!(!is_frozen(&o.owner));
                        let q: u128 = attr(e, "quantity").parse().unwrap();
                        let fill_price: u128 = attr(e, "price").parse().unwrap();
                        let value: u128 = attr(e, "value").parse().unwrap();
                        prop_assert!(q > 0 && q <= o.quantity.0, "over-filled {}", id);
                        prop_assert_eq!(value, q * fill_price);
                        match o.side {
                            Side::Buy => {
                                prop_assert!(fill_price <= o.limit_price.0);
                                bought += q;
                                paid += value;
                            }
                            Side::Sell => {
                                prop_assert!(fill_price >= o.limit_price.0);
                                sold += q;
                                received += value;
                            }
                        }
                    }
                    prop_assert_eq!(bought, volume);
                    prop_assert_eq!(sold, volume);
                    prop_assert_eq!(paid, received);
                }
                7 => {
                    let account = p.account();
                    let now = !frozen.get(&account).copied().unwrap_or(false);
                    let symbol = if slot % 2 == 0 { "usd" } else { "kwh" };
                    let op = Operation::SetFrozen(SetFrozen { symbol: name(symbol), account, frozen: now });
                    let (status, _) = w.run(&issuer, vec![op]);
                    if status == TxStatus::Success {
                        // An order sits out when its owner is frozen for either token.
                        let f = |s: &str| w.state.contains_key(&StateKey::Frozen(name(s), account).to_bytes());
                        frozen.insert(account, f("usd") || f("kwh"));
                    }
                }
                8 => {
                    let id = format!("r{}", slot % 3);
                    if slot < 3 {
                        w.run(p, vec![request(&id, qty, w.height + 3)]);
                    } else {
                        w.run(p, vec![quote(&id, &format!("q{who}"), price)]);
                    }
                }
                _ => {
                    let id = format!("r{}", slot % 3);
                    if slot < 3 {
                        w.run(p, vec![accept(&id, &format!("q{}", qty % 4))]);
                    } else {
                        w.run(p, vec![close(&id)]);
                    }
                }
            }
            prop_assert!(w.conserved("kwh"));
            prop_assert!(w.conserved("usd"));
            prop_assert_eq!(w.supply("kwh"), 4 * START);
            prop_assert_eq!(w.supply("usd"), 4 * START);
            for o in &w.market("energy").orders {
                let expect = match o.side {
                    Side::Buy => o.quantity.0 * o.limit_price.0,
                    Side::Sell => o.quantity.0,
                };
                prop_assert_eq!(o.escrow.0, expect);
                prop_assert!(o.quantity.0 > 0);
            }
        }
    }
}

// ---- asset offers: unique assets against a token, with a marketplace fee ----

#[test]
fn asset_offer_settles_payment_fee_and_ownership_in_one_step() {
    let mut w = World::new();
    let [alice, bob, carol] = [w.p(0), w.p(1), w.p(2)];
    let operator = w.issuer.clone();
    w.ok(&operator, vec![certificate("crc-1", &alice)]);
    let deadline = w.height + 10;
    let events = w.ok(
        &alice,
        vec![offer("crc-1", 600, 250, Some(&operator), deadline)],
    );
    assert_eq!(attr(&events[0], "fee"), "15");
    let offered = w.rfq("crc-1");
    assert_eq!(offered.status, RfqStatus::Open);
    assert!(offered.locks(&name("crc-1")));
    // Offering locks, it does not move: alice still owns the certificate.
    assert_eq!(w.asset("crc-1").owner, alice.account());

    // 250 bps of 600 = 15 to the operator; alice receives 585; bob pays 600.
    let events = w.ok(&bob, vec![buy("crc-1", 600)]);
    let sold = events
        .iter()
        .find(|e| e.topic == "market.asset_sold")
        .unwrap();
    assert_eq!(
        ["price", "fee", "proceeds"].map(|k| attr(sold, k)),
        ["600", "15", "585"]
    );
    let moved = events
        .iter()
        .find(|e| e.topic == "asset.transferred")
        .unwrap();
    assert_eq!(attr(moved, "to"), bob.account().to_string());
    assert_eq!(w.balance("usd", &bob), 400);
    assert_eq!(w.balance("usd", &alice), 1585);
    assert_eq!(w.balance("usd", &operator), 15);
    assert_eq!(w.asset("crc-1").owner, bob.account());
    assert_eq!(
        w.rfq("crc-1").status,
        RfqStatus::Sold {
            buyer: bob.account(),
            at_height: w.height
        }
    );
    assert!(w.conserved("usd"));
    assert_eq!(w.supply("usd"), 4 * START);

    // The new owner may offer it again (the finished offer gives way); the fee rounds
    // down: 250 bps of 333 is 8.325, so 8 to the operator and 325 to bob.
    w.ok(
        &bob,
        vec![offer("crc-1", 333, 250, Some(&operator), w.height + 5)],
    );
    w.ok(&carol, vec![buy("crc-1", 333)]);
    assert_eq!(w.balance("usd", &carol), 1000 - 333);
    assert_eq!(w.balance("usd", &bob), 400 + 325);
    assert_eq!(w.balance("usd", &operator), 15 + 8);
    assert_eq!(w.asset("crc-1").owner, carol.account());

    // The whole price as fee is allowed (10 000 bps): the seller receives nothing.
    w.ok(
        &carol,
        vec![offer("crc-1", 100, 10_000, Some(&operator), w.height + 5)],
    );
    w.ok(&alice, vec![buy("crc-1", 100)]);
    assert_eq!(w.balance("usd", &carol), 1000 - 333);
    assert_eq!(w.balance("usd", &operator), 15 + 8 + 100);
    // No fee: the seller receives the whole price, no fee account needed.
    w.ok(&alice, vec![offer("crc-1", 50, 0, None, w.height + 5)]);
    w.ok(&bob, vec![buy("crc-1", 50)]);
    assert_eq!(w.balance("usd", &alice), 1585 - 100 + 50);
    assert_eq!(w.asset("crc-1").owner, bob.account());
    // Sold, the certificate is the buyer's to retire: retirement is final.
    w.ok(&bob, vec![retire("crc-1")]);
    assert!(!w.asset("crc-1").is_active());
    assert!(w.conserved("usd") && w.conserved("kwh"));
    assert_eq!(w.supply("usd"), 4 * START);
}

#[test]
fn offered_asset_is_locked_until_bought_or_closed() {
    let mut w = World::new();
    let [alice, bob, carol] = [w.p(0), w.p(1), w.p(2)];
    let operator = w.issuer.clone();
    w.ok(
        &operator,
        vec![certificate("crc-1", &alice), certificate("crc-2", &alice)],
    );
    let deadline = w.height + 20;
    w.ok(&alice, vec![offer("crc-1", 100, 0, None, deadline)]);

    // While offered, the owner can do nothing to it.
    let part = |id: &str| NewAsset {
        id: name(id),
        class: name("crc"),
        attributes: vec![],
    };
    for op in [
        transfer_asset("crc-1", &carol),
        retire("crc-1"),
        Operation::SplitAsset(SplitAsset {
            id: name("crc-1"),
            parts: vec![part("crc-1a"), part("crc-1b")],
        }),
        Operation::MergeAssets(MergeAssets {
            inputs: vec![name("crc-2"), name("crc-1")],
            output: part("crc-12"),
        }),
        Operation::SetAssetAttributes(SetAssetAttributes {
            id: name("crc-1"),
            set: vec![("tonnes".into(), "100".into())],
            remove: vec![],
        }),
        offer("crc-1", 90, 0, None, deadline),
    ] {
        w.refused(&alice, vec![op], ErrorCode::InvalidArgument);
    }
    assert_eq!(w.asset("crc-1").owner, alice.account());
    assert!(w.asset("crc-1").is_active());
    // Other assets of the same owner are not locked.
    w.ok(&alice, vec![transfer_asset("crc-2", &carol)]);

    // Only the seller closes before the deadline; closing releases the lock.
    w.refused(&bob, vec![close("crc-1")], ErrorCode::Unauthorized);
    let events = w.ok(&alice, vec![close("crc-1")]);
    assert_eq!(events[0].topic, "market.offer_closed");
    assert!(matches!(w.rfq("crc-1").status, RfqStatus::Closed { .. }));
    assert!(!w.rfq("crc-1").locks(&name("crc-1")));
    // Closed: no purchase, no second close.
    w.refused(&bob, vec![buy("crc-1", 100)], ErrorCode::InvalidArgument);
    w.refused(&alice, vec![close("crc-1")], ErrorCode::InvalidArgument);
    w.ok(&alice, vec![transfer_asset("crc-1", &bob)]);
    assert_eq!(w.asset("crc-1").owner, bob.account());

    // An offer lapses at its deadline: no purchase after it, and anyone may then close it.
    w.ok(&bob, vec![offer("crc-1", 100, 0, None, w.height + 1)]);
    w.ok(&carol, vec![request("other", 1, w.height + 10)]); // a block passes
    w.refused(&carol, vec![buy("crc-1", 100)], ErrorCode::InvalidArgument);
    w.refused(&bob, vec![retire("crc-1")], ErrorCode::InvalidArgument);
    w.ok(&carol, vec![close("crc-1")]);
    w.ok(&bob, vec![retire("crc-1")]);

    // A retired asset can never be offered, so never sold.
    w.refused(
        &bob,
        vec![offer("crc-1", 100, 0, None, w.height + 5)],
        ErrorCode::InvalidArgument,
    );
    assert!(w.conserved("usd"));
}

#[test]
fn asset_offer_refusals_carry_their_code_and_change_nothing() {
    let mut w = World::new();
    let [alice, bob, carol, dave] = [w.p(0), w.p(1), w.p(2), w.p(3)];
    let operator = w.issuer.clone();
    w.ok(
        &operator,
        vec![certificate("crc-1", &alice), certificate("crc-2", &alice)],
    );
    let later = w.height + 50;

    // Offering: only the owner, only an existing active asset, a defined token, a positive
    // price, a fee of at most 10 000 bps with an account to pay it to, a registered fee
    // account and buyer other than the seller, a deadline not past.
    w.refused(
        &bob,
        vec![offer("crc-1", 100, 0, None, later)],
        ErrorCode::Unauthorized,
    );
    w.refused(
        &alice,
        vec![offer("nope", 100, 0, None, later)],
        ErrorCode::NotFound,
    );
    let mut bad_token = offer("crc-1", 100, 0, None, later);
    if let Operation::OfferAsset(o) = &mut bad_token {
        o.pay_symbol = name("eur");
    }
    w.refused(&alice, vec![bad_token], ErrorCode::UnknownToken);
    w.refused(
        &alice,
        vec![offer("crc-1", 0, 0, None, later)],
        ErrorCode::InvalidArgument,
    );
    w.refused(
        &alice,
        vec![offer("crc-1", 100, 10_001, Some(&operator), later)],
        ErrorCode::InvalidArgument,
    );
    w.refused(
        &alice,
        vec![offer("crc-1", 100, 100, None, later)],
        ErrorCode::InvalidArgument,
    );
    let stranger = Keypair::from_seed([99; 32]);
    w.refused(
        &alice,
        vec![offer("crc-1", 100, 100, Some(&stranger), later)],
        ErrorCode::UnknownAccount,
    );
    w.refused(
        &alice,
        vec![offer_to("crc-1", 100, &stranger, later)],
        ErrorCode::UnknownAccount,
    );
    w.refused(
        &alice,
        vec![offer_to("crc-1", 100, &alice, later)],
        ErrorCode::InvalidArgument,
    );
    w.refused(
        &alice,
        vec![offer("crc-1", 100, 0, None, w.height)],
        ErrorCode::InvalidArgument,
    );
    w.refused(
        &alice,
        vec![offer("crc-1", u128::MAX, 2, Some(&operator), later)],
        ErrorCode::Overflow,
    );
    // An asset offer lives under the asset's id: a request for quote there blocks it.
    w.ok(&bob, vec![request("crc-2", 5, later)]);
    w.refused(
        &alice,
        vec![offer("crc-2", 100, 0, None, later)],
        ErrorCode::AlreadyExists,
    );
    w.refused(&carol, vec![buy("crc-2", 100)], ErrorCode::NotFound);

    // Buying: an existing offer, by someone else, the one it is reserved for, at its price,
    // with the funds in hand, with no party frozen.
    w.refused(&bob, vec![buy("crc-1", 100)], ErrorCode::NotFound);
    w.ok(
        &alice,
        vec![offer("crc-1", 700, 500, Some(&operator), later)],
    );
    w.refused(&alice, vec![buy("crc-1", 700)], ErrorCode::InvalidArgument);
    w.refused(&bob, vec![buy("crc-1", 699)], ErrorCode::InvalidArgument);
    w.refused(&bob, vec![buy("crc-1", 701)], ErrorCode::InvalidArgument);
    // An offer takes no quotes; it is bought.
    w.refused(
        &bob,
        vec![quote("crc-1", "q", 5)],
        ErrorCode::InvalidArgument,
    );
    w.refused(
        &alice,
        vec![accept("crc-1", "q")],
        ErrorCode::InvalidArgument,
    );
    // Insufficient funds.
    // dave has 1000 usd and spends 400 of it on another certificate; the offer is 700.
    w.ok(&operator, vec![certificate("crc-3", &carol)]);
    w.ok(&carol, vec![offer("crc-3", 400, 0, None, later)]);
    w.ok(&dave, vec![buy("crc-3", 400)]);
    assert_eq!(w.balance("usd", &dave), 600);
    w.refused(
        &dave,
        vec![buy("crc-1", 700)],
        ErrorCode::InsufficientBalance,
    );
    // A frozen fee account fails the fee leg: the payment and delivery are undone too.
    let freeze = |who: &Keypair, frozen: bool| {
        Operation::SetFrozen(SetFrozen {
            symbol: name("usd"),
            account: who.account(),
            frozen,
        })
    };
    w.ok(&operator, vec![freeze(&operator, true)]);
    w.refused(&bob, vec![buy("crc-1", 700)], ErrorCode::Frozen);
    w.ok(&operator, vec![freeze(&operator, false)]);
    w.ok(&operator, vec![freeze(&bob, true)]);
    w.refused(&bob, vec![buy("crc-1", 700)], ErrorCode::Frozen);
    w.ok(&operator, vec![freeze(&bob, false)]);
    // A later failing operation undoes a settled purchase.
    w.refused(
        &bob,
        vec![buy("crc-1", 700), transfer_asset("nope", &carol)],
        ErrorCode::NotFound,
    );
    assert_eq!(w.asset("crc-1").owner, alice.account());

    // Reserved offers: only the named buyer.
    w.ok(&operator, vec![certificate("crc-4", &alice)]);
    w.ok(&alice, vec![offer_to("crc-4", 50, &bob, later)]);
    w.refused(&carol, vec![buy("crc-4", 50)], ErrorCode::Unauthorized);
    w.ok(&bob, vec![buy("crc-4", 50)]);
    assert_eq!(w.asset("crc-4").owner, bob.account());

    // The sale, then double acceptance and closing a sold offer are refused.
    w.ok(&bob, vec![buy("crc-1", 700)]);
    assert_eq!(w.balance("usd", &operator), 35);
    w.refused(&carol, vec![buy("crc-1", 700)], ErrorCode::InvalidArgument);
    w.refused(&alice, vec![close("crc-1")], ErrorCode::InvalidArgument);
    // The buyer owns it now; the former owner can no longer offer it.
    w.refused(
        &alice,
        vec![offer("crc-1", 700, 0, None, later)],
        ErrorCode::Unauthorized,
    );
    assert!(w.conserved("usd") && w.conserved("kwh"));
    assert_eq!(w.supply("usd"), 4 * START);
}

/// Balances of usd of every account the asset proptest touches.
fn usd_balances(w: &World, accounts: &[Keypair]) -> Vec<u128> {
    accounts.iter().map(|k| w.balance("usd", k)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random offers (valid or not), purchases at the right or a wrong price, closes, transfers,
    /// retirements, freezes and buy requests over four certificates. After every step: usd and
    /// kwh supply equal balances plus escrow; each certificate has exactly one owner, a known
    /// account; an open offer's asset is active and owned by the offer's seller; a retired
    /// certificate never changes again; a refused step changes nothing. A purchase either moves
    /// every leg (price from the buyer, price - fee to the seller, fee to the fee account, the
    /// certificate to the buyer) or none.
    #[test]
    fn asset_offer_invariants_hold_under_random_sequences(
        steps in prop::collection::vec(
            (0u8..9, 0usize..4, 0usize..4, 1u128..700, 0u16..12_000, 0u8..4),
            1..50,
        )
    ) {
        let mut w = World::new();
        let people: Vec<Keypair> = (0..4).map(|i| w.p(i)).collect();
        let operator = w.issuer.clone();
        let mut everyone = people.clone();
        everyone.push(operator.clone());
        let ids = ["c0", "c1", "c2", "c3"];
        let registrations = ids.iter().zip(&people).map(|(id, p)| certificate(id, p)).collect();
        w.ok(&operator, registrations);
        let mut retired: BTreeMap<&str, Asset> = BTreeMap::new();
        let mut frozen: BTreeMap<AccountId, bool> = BTreeMap::new();
        for (kind, who, which, price, fee_bps, flag) in steps {
            let p = &people[who];
            let id = ids[which];
            let before = w.business_state();
            let before_usd = usd_balances(&w, &everyone);
            let before_asset = w.asset(id);
            let offered = w.state.get(&StateKey::Rfq(name(id)).to_bytes())
                .map(|v| borsh::from_slice::<Rfq>(v).unwrap());
            let (status, _) = match kind {
                0 | 1 => {
                    let fee_account = (flag != 0).then_some(&operator);
                    // Kind 1 also tries fees above 10 000 bps, which are refused.
                    let fee = if kind == 0 { fee_bps % 10_001 } else { fee_bps };
                    let mut op = offer(id, price, fee, fee_account, w.height + u64::from(flag) + 1);
                    if flag == 3 && let Operation::OfferAsset(o) = &mut op {
                        o.buyer = Some(people[(who + 1) % 4].account());
                    }
                    w.run(p, vec![op])
                }
                2 | 3 => {
                    // The offer's own price most of the time, a wrong one otherwise.
                    let at = match &offered {
                        Some(Rfq { kind: RfqKind::AssetOffer { price: listed, .. }, .. })
                            if kind == 2 => listed.0,
                        _ => price,
                    };
                    w.run(p, vec![buy(id, at)])
                }
                4 => w.run(p, vec![close(id)]),
                5 => w.run(p, vec![transfer_asset(id, &people[(who + 1) % 4])]),
                6 if flag == 0 => w.run(p, vec![retire(id)]),
                6 => w.run(p, vec![request(id, price, w.height + 2)]),
                7 => {
                    let account = p.account();
                    let now = !frozen.get(&account).copied().unwrap_or(false);
                    let op = Operation::SetFrozen(SetFrozen { symbol: name("usd"), account, frozen: now });
                    let out = w.run(&operator, vec![op]);
                    frozen.insert(account, now);
                    out
                }
                // A purchase followed by an operation that always fails (the signer transfers
                // an asset to itself, or one it does not own): the purchase is undone.
                _ => w.run(p, vec![buy(id, price), transfer_asset(ids[(which + 1) % 4], p)]),
            };
            if status != TxStatus::Success {
                prop_assert_eq!(w.business_state(), before, "a refused step changed state");
            }
            if matches!(kind, 2 | 3 | 8) {
                let after_usd = usd_balances(&w, &everyone);
                if status == TxStatus::Success {
                    let Some(Rfq { requester: seller, kind: RfqKind::AssetOffer { price: listed, fee_bps, fee_account, .. }, .. }) = offered
                    else { panic!("bought without an offer") };
                    let fee = listed.0 * u128::from(fee_bps) / 10_000;
                    let mut expect = before_usd.clone();
                    let idx = |a: AccountId| everyone.iter().position(|k| k.account() == a).unwrap();
                    expect[who] -= listed.0;
                    expect[idx(seller)] += listed.0 - fee;
                    if let Some(f) = fee_account { expect[idx(f)] += fee; }
                    if kind != 8 {
                        prop_assert_eq!(after_usd, expect);
                    }
                    prop_assert_eq!(before_asset.owner, seller);
                    prop_assert_eq!(w.asset(id).owner, p.account());
                    let sold = matches!(w.rfq(id).status, RfqStatus::Sold { buyer, .. } if buyer == p.account());
                    prop_assert!(sold);
                } else {
                    prop_assert_eq!(after_usd, before_usd);
                    prop_assert_eq!(w.asset(id), before_asset);
                }
            }
            // Invariants after every step.
            prop_assert!(w.conserved("usd") && w.conserved("kwh"));
            prop_assert_eq!(w.supply("usd"), 4 * START);
            for cid in ids {
                let asset = w.asset(cid);
                prop_assert!(everyone.iter().any(|k| k.account() == asset.owner));
                if let Some(v) = w.state.get(&StateKey::Rfq(name(cid)).to_bytes()) {
                    let rfq: Rfq = borsh::from_slice(v).unwrap();
                    if rfq.locks(&name(cid)) {
                        prop_assert!(asset.is_active());
                        prop_assert_eq!(asset.owner, rfq.requester);
                    }
                }
                if let Some(was) = retired.get(cid) {
                    prop_assert_eq!(&asset, was);
                } else if let AssetStatus::Retired { .. } = asset.status {
                    retired.insert(cid, asset);
                }
            }
        }
    }
}

/// A workflow effect moving an asset is an owner's operation too: the market's lock holds
/// against it, so a buyer can never pay for an asset that left through a workflow.
#[test]
fn a_workflow_effect_cannot_move_an_offered_asset() {
    let mut w = World::new();
    let [alice, bob] = [w.p(0), w.p(1)];
    let operator = w.issuer.clone();
    w.ok(&operator, vec![certificate("crc-1", &alice)]);
    let template = "id: handover\nversion: 1\ntitle: Hand over\nroles:\n  owner: Owner\n  receiver: Receiver\nparameters:\n  item: asset\nstates:\n  - name: open\n    initial: true\n  - name: done\n    final: true\ntransitions:\n  - name: hand_over\n    from: open\n    to: done\n    by: owner\n    effects:\n      - transfer_asset: { asset: $item, to: receiver }\nvisibility:\n  roles: [owner, receiver]\n";
    w.ok(
        &alice,
        vec![
            Operation::DeployTemplate(weft_types::DeployTemplate {
                source: template.into(),
            }),
            Operation::CreateInstance(weft_types::CreateInstance {
                instance: name("h-1"),
                template: name("handover"),
                version: 1,
                parties: vec![
                    (name("owner"), alice.account()),
                    (name("receiver"), bob.account()),
                ],
                params: vec![(name("item"), "crc-1".into())],
            }),
        ],
    );
    let deadline = w.height + 20;
    w.ok(&alice, vec![offer("crc-1", 100, 0, None, deadline)]);
    let hand_over = || {
        Operation::Transition(weft_types::Transition {
            instance: name("h-1"),
            transition: name("hand_over"),
            args: vec![],
        })
    };
    w.refused(&alice, vec![hand_over()], ErrorCode::InvalidArgument);
    assert_eq!(w.asset("crc-1").owner, alice.account());
    // Once the offer is closed the workflow may move it.
    w.ok(&alice, vec![close("crc-1")]);
    w.ok(&alice, vec![hand_over()]);
    assert_eq!(w.asset("crc-1").owner, bob.account());
}
