//! Fungible tokens: define, mint, transfer, burn; escrow holds; freezing; atomic
//! multi-leg transfers; the token policies every credit and debit goes through.
//!
//! Invariants: no balance is ever negative (amounts are unsigned and every debit is checked),
//! and a token's `supply` always equals the sum of its balances plus the amounts in escrow
//! (mint and burn move supply and a balance together; holds move value between a balance and
//! escrow). A frozen account can neither send nor receive the token.
//!
//! Policies, fixed when a token is defined and checked here, in the helpers every path uses
//! (token operations, market escrow and settlement, workflow effects), so none can bypass them:
//! - `controller` (a template id): supply and balances change only through the effects of
//!   instances of that template that the token's issuer created. Anything else — a token or
//!   market operation ([`Via::Direct`]), or an instance of another template or created by
//!   someone else — is `unauthorized`. The issuer must have created the instance because
//!   anyone may create instances (binding accounts of their choosing to the template's roles)
//!   and deploy further versions of a template id: the issuer's instance is its consent.
//! - `holder_role` (a ledger role): every account credited with the token, by any path, must
//!   hold the role at that moment. Revoking it does not take the balance away; it blocks
//!   further credits, refunds of escrow included, exactly like freezing.

use std::collections::BTreeSet;

use weft_types::{
    AccountId, Amount, Burn, CancelHold, DefineToken, ErrorCode, Hold, Mint, MultiTransfer, Name,
    ReleaseHold, SetFrozen, Transfer,
};

use super::access;
use crate::{ExecError, context::TxContext, keys::StateKey, model, model::Token};

/// How many versions of a controller template [`define`] looks for: state has no index of a
/// template id's versions, so the first ones are looked up (template versions start at 0 or 1).
const CONTROLLER_VERSIONS_LOOKED_UP: u32 = 16;

/// On whose authority tokens move.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Via<'a> {
    /// A token or market operation signed by the accounts concerned.
    Direct,
    /// An effect of a transition of workflow instance `id`, of template `template`, created
    /// by `creator`.
    Instance {
        id: &'a Name,
        template: &'a Name,
        creator: AccountId,
    },
    /// Issuance against an accepted reading of meter feed `feed` (the oracle module checked
    /// the reading and that the feed issues this token).
    Meter { feed: &'a Name },
}

fn unauthorized(message: String) -> ExecError {
    ExecError::tx(ErrorCode::Unauthorized, message)
}

/// Whether `via` may change the balances of `token` (`symbol`) at all.
fn require_may_move(token: &Token, symbol: &Name, via: Via<'_>) -> Result<(), ExecError> {
    let Some(controller) = &token.controller else {
        return Ok(());
    };
    match via {
        Via::Direct | Via::Meter { .. } => Err(unauthorized(format!(
            "token {symbol} is controlled by workflow template {controller}: its supply and \
             balances change only through that template's effects, not through token or market \
             operations"
        ))),
        Via::Instance { id, template, .. } if template != controller => Err(unauthorized(format!(
            "token {symbol} is controlled by workflow template {controller}; instance {id} is \
             of template {template}"
        ))),
        Via::Instance { id, creator, .. } if creator != token.issuer => Err(unauthorized(format!(
            "token {symbol} moves only in instances of {controller} created by its issuer {}; \
             instance {id} was created by {creator}",
            token.issuer
        ))),
        Via::Instance { .. } => Ok(()),
    }
}

/// Whether `via` may create or destroy units of `token`: a direct operation only when the
/// token has no controller, an effect only when this template controls it.
fn require_may_change_supply(token: &Token, symbol: &Name, via: Via<'_>) -> Result<(), ExecError> {
    if let Via::Instance { id, template, .. } = via
        && token.controller.as_ref() != Some(template)
    {
        return Err(unauthorized(format!(
            "mint and burn effects change only tokens their template controls; token {symbol} \
             is {}, and instance {id} is of template {template}",
            token.controller.as_ref().map_or_else(
                || "not controlled by any template".to_owned(),
                |c| format!("controlled by {c}")
            )
        )));
    }
    require_may_move(token, symbol, via)
}

/// Whether `who` may be credited with `token` now: it holds the token's `holder_role`.
fn require_may_hold(
    ctx: &TxContext<'_, '_>,
    token: &Token,
    symbol: &Name,
    who: &AccountId,
) -> Result<(), ExecError> {
    let Some(role) = &token.holder_role else {
        return Ok(());
    };
    let holds = ctx
        .get::<model::Account>(&StateKey::Account(*who))?
        .is_some_and(|a| a.roles.contains(role));
    if holds {
        Ok(())
    } else {
        Err(unauthorized(format!(
            "only accounts holding ledger role {role} may receive {symbol}; {who} does not"
        )))
    }
}

fn load_token(ctx: &TxContext<'_, '_>, symbol: &Name) -> Result<Token, ExecError> {
    ctx.get::<Token>(&StateKey::Token(symbol.clone()))?
        .ok_or_else(|| {
            ExecError::tx(
                ErrorCode::UnknownToken,
                format!("token {symbol} is not defined"),
            )
        })
}

fn positive(amount: Amount) -> Result<u128, ExecError> {
    if amount.0 == 0 {
        Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            "amount must be positive",
        ))
    } else {
        Ok(amount.0)
    }
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

/// The balance of `who` in `symbol`.
pub(crate) fn balance(
    ctx: &TxContext<'_, '_>,
    symbol: &Name,
    who: &AccountId,
) -> Result<u128, ExecError> {
    Ok(ctx
        .get::<Amount>(&StateKey::Balance(symbol.clone(), *who))?
        .unwrap_or_default()
        .0)
}

fn set_balance(
    ctx: &mut TxContext<'_, '_>,
    symbol: &Name,
    who: &AccountId,
    old: u128,
    new: u128,
) -> Result<(), ExecError> {
    let key = StateKey::Balance(symbol.clone(), *who);
    if new == 0 {
        ctx.delete(&key);
    } else {
        ctx.put(&key, &Amount(new));
    }
    // Keep the holdings index exact, but only write it when membership changes.
    if (old == 0) != (new == 0) {
        let hkey = StateKey::Holdings(*who);
        let mut held: BTreeSet<Name> = ctx.get(&hkey)?.unwrap_or_default();
        if new == 0 {
            held.remove(symbol);
        } else {
            held.insert(symbol.clone());
        }
        if held.is_empty() {
            ctx.delete(&hkey)
        } else {
            ctx.put(&hkey, &held)
        }
    }
    Ok(())
}

fn require_not_frozen(
    ctx: &TxContext<'_, '_>,
    symbol: &Name,
    who: &AccountId,
) -> Result<(), ExecError> {
    if ctx.exists(&StateKey::Frozen(symbol.clone(), *who))? {
        Err(ExecError::tx(
            ErrorCode::Frozen,
            format!("{who} is frozen for {symbol}"),
        ))
    } else {
        Ok(())
    }
}

/// Whether `who` may be credited with `symbol` now (its `holder_role`): for escrow that
/// could otherwise only go back.
pub(crate) fn require_may_receive(
    ctx: &TxContext<'_, '_>,
    symbol: &Name,
    who: &AccountId,
) -> Result<(), ExecError> {
    let token = load_token(ctx, symbol)?;
    require_may_hold(ctx, &token, symbol, who)
}

/// Whether `via` may create or destroy units of `symbol` (see [`issue`] and [`retire`]), for
/// callers that check it before anything else.
pub(crate) fn require_supply_authority(
    ctx: &TxContext<'_, '_>,
    symbol: &Name,
    via: Via<'_>,
) -> Result<(), ExecError> {
    let token = load_token(ctx, symbol)?;
    require_may_change_supply(&token, symbol, via)
}

/// Credits `amount` of `symbol` to `who` on the authority of a token or market operation.
pub(crate) fn credit(
    ctx: &mut TxContext<'_, '_>,
    symbol: &Name,
    who: &AccountId,
    amount: u128,
) -> Result<(), ExecError> {
    credit_via(ctx, symbol, who, amount, Via::Direct)
}

/// Debits `amount` of `symbol` from `who` on the authority of a token or market operation.
pub(crate) fn debit(
    ctx: &mut TxContext<'_, '_>,
    symbol: &Name,
    who: &AccountId,
    amount: u128,
) -> Result<(), ExecError> {
    debit_via(ctx, symbol, who, amount, Via::Direct)
}

/// Credits `amount` of `symbol` to `who`: the token's policies, then freezing, then overflow.
pub(crate) fn credit_via(
    ctx: &mut TxContext<'_, '_>,
    symbol: &Name,
    who: &AccountId,
    amount: u128,
    via: Via<'_>,
) -> Result<(), ExecError> {
    let token = load_token(ctx, symbol)?;
    require_may_move(&token, symbol, via)?;
    require_may_hold(ctx, &token, symbol, who)?;
    add_to_balance(ctx, symbol, who, amount)
}

/// Debits `amount` of `symbol` from `who`: the token's controller, then freezing, then the
/// balance.
pub(crate) fn debit_via(
    ctx: &mut TxContext<'_, '_>,
    symbol: &Name,
    who: &AccountId,
    amount: u128,
    via: Via<'_>,
) -> Result<(), ExecError> {
    let token = load_token(ctx, symbol)?;
    require_may_move(&token, symbol, via)?;
    take_from_balance(ctx, symbol, who, amount)
}

/// Credits a balance once the policies allowed it.
fn add_to_balance(
    ctx: &mut TxContext<'_, '_>,
    symbol: &Name,
    who: &AccountId,
    amount: u128,
) -> Result<(), ExecError> {
    require_not_frozen(ctx, symbol, who)?;
    let old = balance(ctx, symbol, who)?;
    let new = old
        .checked_add(amount)
        .ok_or_else(|| ExecError::tx(ErrorCode::Overflow, "balance would overflow"))?;
    set_balance(ctx, symbol, who, old, new)
}

/// Debits a balance once the policies allowed it.
fn take_from_balance(
    ctx: &mut TxContext<'_, '_>,
    symbol: &Name,
    who: &AccountId,
    amount: u128,
) -> Result<(), ExecError> {
    require_not_frozen(ctx, symbol, who)?;
    let old = balance(ctx, symbol, who)?;
    let new = old.checked_sub(amount).ok_or_else(|| {
        ExecError::tx(
            ErrorCode::InsufficientBalance,
            format!("{who} holds {old} {symbol}, needs {amount}"),
        )
    })?;
    set_balance(ctx, symbol, who, old, new)
}

/// The attributes of a supply event, naming the instance when an effect caused it.
fn supply_event(symbol: &Name, amount: u128, via: Via<'_>) -> Vec<(&'static str, String)> {
    let mut attributes = vec![
        ("symbol", symbol.to_string()),
        ("amount", amount.to_string()),
    ];
    match via {
        Via::Instance { id, .. } => attributes.push(("instance", id.to_string())),
        Via::Meter { feed } => attributes.push(("feed", feed.to_string())),
        Via::Direct => {}
    }
    attributes
}

/// Creates `amount` units of `symbol` on `to`'s balance. The caller checked who may mint a
/// token without a controller (its issuer); the policies and the cap are checked here.
pub(crate) fn issue(
    ctx: &mut TxContext<'_, '_>,
    symbol: &Name,
    to: &AccountId,
    amount: u128,
    via: Via<'_>,
) -> Result<(), ExecError> {
    let mut token = load_token(ctx, symbol)?;
    // A meter-backed token comes into being only against its meters' readings: no mint by
    // its issuer, no mint effect.
    if !matches!(via, Via::Meter { .. }) {
        super::oracle::require_not_metered(ctx, symbol)?;
    }
    require_may_change_supply(&token, symbol, via)?;
    require_registered(ctx, to)?;
    require_may_hold(ctx, &token, symbol, to)?;
    let supply = token
        .supply
        .0
        .checked_add(amount)
        .ok_or_else(|| ExecError::tx(ErrorCode::Overflow, "supply would overflow"))?;
    if let Some(max) = token.max_supply
        && supply > max.0
    {
        return Err(ExecError::tx(
            ErrorCode::SupplyExceeded,
            format!("supply would reach {supply}, cap is {max}"),
        ));
    }
    token.supply = Amount(supply);
    add_to_balance(ctx, symbol, to, amount)?;
    ctx.put(&StateKey::Token(symbol.clone()), &token);
    ctx.emit("token.minted", vec![*to], supply_event(symbol, amount, via));
    Ok(())
}

/// Destroys `amount` units of `symbol` from `from`'s balance. The caller checked that `from`
/// agreed (it signed).
pub(crate) fn retire(
    ctx: &mut TxContext<'_, '_>,
    symbol: &Name,
    from: &AccountId,
    amount: u128,
    via: Via<'_>,
) -> Result<(), ExecError> {
    let mut token = load_token(ctx, symbol)?;
    require_may_change_supply(&token, symbol, via)?;
    take_from_balance(ctx, symbol, from, amount)?;
    // Supply >= any single balance, so this cannot underflow unless state is corrupt.
    token.supply = Amount(
        token
            .supply
            .0
            .checked_sub(amount)
            .ok_or_else(|| ExecError::Fatal(format!("supply of {symbol} below a balance")))?,
    );
    ctx.put(&StateKey::Token(symbol.clone()), &token);
    ctx.emit(
        "token.burned",
        vec![*from],
        supply_event(symbol, amount, via),
    );
    Ok(())
}

/// Whether some version of template `id` is deployed (see [`CONTROLLER_VERSIONS_LOOKED_UP`]).
fn template_deployed(ctx: &TxContext<'_, '_>, id: &Name) -> Result<bool, ExecError> {
    for version in 0..CONTROLLER_VERSIONS_LOOKED_UP {
        if ctx.exists(&StateKey::Template(id.clone(), version))? {
            return Ok(true);
        }
    }
    Ok(false)
}

pub(crate) fn define(ctx: &mut TxContext<'_, '_>, op: &DefineToken) -> Result<(), ExecError> {
    let key = StateKey::Token(op.symbol.clone());
    if ctx.exists(&key)? {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("token {} is already defined", op.symbol),
        ));
    }
    // A typo in a policy would lock the token for good: nothing could ever mint it, or
    // nobody could ever hold it.
    if let Some(template) = &op.controller
        && !template_deployed(ctx, template)?
    {
        return Err(ExecError::tx(
            ErrorCode::NotFound,
            format!(
                "controller template {template} is not deployed (none of its versions 0 to {} \
                 exists)",
                CONTROLLER_VERSIONS_LOOKED_UP - 1
            ),
        ));
    }
    if let Some(role) = &op.holder_role
        && !ctx.exists(&StateKey::Role(role.clone()))?
    {
        return Err(ExecError::tx(
            ErrorCode::NotFound,
            format!("holder role {role} is not defined on this chain"),
        ));
    }
    let token = Token {
        display_name: op.display_name.clone(),
        decimals: op.decimals,
        issuer: ctx.signer,
        max_supply: op.max_supply,
        supply: Amount(0),
        controller: op.controller.clone(),
        holder_role: op.holder_role.clone(),
    };
    ctx.put(&key, &token);
    let mut attributes = vec![("symbol", op.symbol.to_string())];
    if let Some(template) = &op.controller {
        attributes.push(("controller", template.to_string()));
    }
    if let Some(role) = &op.holder_role {
        attributes.push(("holder_role", role.to_string()));
    }
    ctx.emit("token.defined", vec![ctx.signer], attributes);
    Ok(())
}

pub(crate) fn mint(ctx: &mut TxContext<'_, '_>, op: &Mint) -> Result<(), ExecError> {
    let amount = positive(op.amount)?;
    let token = load_token(ctx, &op.symbol)?;
    // The controller's refusal first: for a controlled token not even the issuer mints.
    require_may_change_supply(&token, &op.symbol, Via::Direct)?;
    if token.issuer != ctx.signer {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("only the issuer {} can mint {}", token.issuer, op.symbol),
        ));
    }
    issue(ctx, &op.symbol, &op.to, amount, Via::Direct)
}

pub(crate) fn transfer(ctx: &mut TxContext<'_, '_>, op: &Transfer) -> Result<(), ExecError> {
    let amount = positive(op.amount)?;
    load_token(ctx, &op.symbol)?;
    require_registered(ctx, &op.to)?;
    let from = ctx.signer;
    debit(ctx, &op.symbol, &from, amount)?;
    credit(ctx, &op.symbol, &op.to, amount)?;
    ctx.emit(
        "token.transfer",
        vec![from, op.to],
        vec![
            ("symbol", op.symbol.to_string()),
            ("amount", amount.to_string()),
        ],
    );
    Ok(())
}

pub(crate) fn burn(ctx: &mut TxContext<'_, '_>, op: &Burn) -> Result<(), ExecError> {
    let amount = positive(op.amount)?;
    let from = ctx.signer;
    retire(ctx, &op.symbol, &from, amount, Via::Direct)
}

pub(crate) fn hold(ctx: &mut TxContext<'_, '_>, op: &Hold) -> Result<(), ExecError> {
    let amount = positive(op.amount)?;
    let token = load_token(ctx, &op.symbol)?;
    require_registered(ctx, &op.beneficiary)?;
    if let Some(arbiter) = &op.arbiter {
        require_registered(ctx, arbiter)?;
    }
    if op.expires_at_height.is_some_and(|h| h <= ctx.height) {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            "hold would expire immediately",
        ));
    }
    let key = StateKey::Hold(op.id.clone());
    if ctx.exists(&key)? {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("hold {} exists", op.id),
        ));
    }
    let holder = ctx.signer;
    debit(ctx, &op.symbol, &holder, amount)?;
    // Fail now rather than leave escrow that could only go back.
    require_may_hold(ctx, &token, &op.symbol, &op.beneficiary)?;
    let record = model::Hold {
        holder,
        symbol: op.symbol.clone(),
        amount: Amount(amount),
        beneficiary: op.beneficiary,
        arbiter: op.arbiter,
        expires_at_height: op.expires_at_height,
        created_at: ctx.height,
        controlled_by: None,
    };
    ctx.put(&key, &record);
    ctx.emit(
        "token.held",
        vec![holder, op.beneficiary],
        vec![
            ("hold", op.id.to_string()),
            ("symbol", op.symbol.to_string()),
            ("amount", amount.to_string()),
        ],
    );
    Ok(())
}

/// A hold the token operations may settle: it exists and no workflow instance controls it.
fn load_hold(ctx: &TxContext<'_, '_>, id: &Name) -> Result<model::Hold, ExecError> {
    let hold = ctx
        .get::<model::Hold>(&StateKey::Hold(id.clone()))?
        .ok_or_else(|| ExecError::tx(ErrorCode::NotFound, format!("hold {id} does not exist")))?;
    if let Some(instance) = &hold.controlled_by {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("hold {id} is settled only by the transitions of workflow instance {instance}"),
        ));
    }
    Ok(hold)
}

/// Ends a hold whose settlement was authorized by the caller: pays it to the beneficiary
/// (`release`) or back to the holder, deletes it and emits the event. Shared by the token
/// operations and workflow effects, so both settle holds the same way (and under the same
/// token policies).
pub(crate) fn settle_hold(
    ctx: &mut TxContext<'_, '_>,
    id: &Name,
    hold: &model::Hold,
    release: bool,
    via: Via<'_>,
) -> Result<(), ExecError> {
    let (to, topic) = if release {
        (hold.beneficiary, "token.hold_released")
    } else {
        (hold.holder, "token.hold_cancelled")
    };
    credit_via(ctx, &hold.symbol, &to, hold.amount.0, via)?;
    ctx.delete(&StateKey::Hold(id.clone()));
    ctx.emit(
        topic,
        vec![hold.holder, hold.beneficiary],
        vec![
            ("hold", id.to_string()),
            ("symbol", hold.symbol.to_string()),
            ("amount", hold.amount.to_string()),
        ],
    );
    Ok(())
}

pub(crate) fn release_hold(ctx: &mut TxContext<'_, '_>, op: &ReleaseHold) -> Result<(), ExecError> {
    let hold = load_hold(ctx, &op.id)?;
    if ctx.signer != hold.holder && Some(ctx.signer) != hold.arbiter {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("only the holder or the arbiter can release hold {}", op.id),
        ));
    }
    settle_hold(ctx, &op.id, &hold, true, Via::Direct)
}

pub(crate) fn cancel_hold(ctx: &mut TxContext<'_, '_>, op: &CancelHold) -> Result<(), ExecError> {
    let hold = load_hold(ctx, &op.id)?;
    let expired = hold.expires_at_height.is_some_and(|h| ctx.height >= h);
    let allowed = ctx.signer == hold.beneficiary
        || Some(ctx.signer) == hold.arbiter
        || (ctx.signer == hold.holder && expired);
    if !allowed {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!(
                "hold {} can be cancelled by its beneficiary or arbiter, or by its holder once expired",
                op.id
            ),
        ));
    }
    settle_hold(ctx, &op.id, &hold, false, Via::Direct)
}

pub(crate) fn set_frozen(ctx: &mut TxContext<'_, '_>, op: &SetFrozen) -> Result<(), ExecError> {
    let token = load_token(ctx, &op.symbol)?;
    if token.issuer != ctx.signer {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("only the issuer {} can freeze {}", token.issuer, op.symbol),
        ));
    }
    require_registered(ctx, &op.account)?;
    let key = StateKey::Frozen(op.symbol.clone(), op.account);
    let (topic, was) = (
        if op.frozen {
            "token.frozen"
        } else {
            "token.unfrozen"
        },
        ctx.exists(&key)?,
    );
    if was == op.frozen {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!(
                "{} is already {} for {}",
                op.account,
                if op.frozen { "frozen" } else { "not frozen" },
                op.symbol
            ),
        ));
    }
    if op.frozen {
        ctx.put(&key, &true)
    } else {
        ctx.delete(&key)
    }
    ctx.emit(
        topic,
        vec![op.account],
        vec![("symbol", op.symbol.to_string())],
    );
    Ok(())
}

pub(crate) fn multi_transfer(
    ctx: &mut TxContext<'_, '_>,
    op: &MultiTransfer,
) -> Result<(), ExecError> {
    if op.legs.is_empty() {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            "a multi-transfer needs at least one leg",
        ));
    }
    for (i, leg) in op.legs.iter().enumerate() {
        let amount = positive(leg.amount)?;
        if !ctx.signers.contains(&leg.from) {
            return Err(ExecError::tx(
                ErrorCode::MissingSignature,
                format!("leg {i}: {} must sign to send", leg.from),
            ));
        }
        // The transaction's signer was authorized for token.transfer; every other sender
        // needs the same right of its own.
        if leg.from != ctx.signer && !access::grants(ctx, &leg.from, "token.transfer")? {
            return Err(ExecError::tx(
                ErrorCode::Unauthorized,
                format!("leg {i}: no role of {} grants token.transfer", leg.from),
            ));
        }
        load_token(ctx, &leg.symbol)?;
        require_registered(ctx, &leg.to)?;
        debit(ctx, &leg.symbol, &leg.from, amount)?;
        credit(ctx, &leg.symbol, &leg.to, amount)?;
        ctx.emit(
            "token.transfer",
            vec![leg.from, leg.to],
            vec![
                ("symbol", leg.symbol.to_string()),
                ("amount", amount.to_string()),
                ("leg", i.to_string()),
            ],
        );
    }
    Ok(())
}
