//! Fungible tokens: define, mint, transfer, burn; escrow holds; freezing; atomic
//! multi-leg transfers.
//!
//! Invariants: no balance is ever negative (amounts are unsigned and every debit is checked),
//! and a token's `supply` always equals the sum of its balances plus the amounts in escrow
//! (mint and burn move supply and a balance together; holds move value between a balance and
//! escrow). A frozen account can neither send nor receive the token.

use std::collections::BTreeSet;

use weft_types::{
    AccountId, Amount, Burn, CancelHold, DefineToken, ErrorCode, Hold, Mint, MultiTransfer, Name,
    ReleaseHold, SetFrozen, Transfer,
};

use super::access;
use crate::{ExecError, context::TxContext, keys::StateKey, model, model::Token};

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

pub(crate) fn credit(
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

pub(crate) fn debit(
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

pub(crate) fn define(ctx: &mut TxContext<'_, '_>, op: &DefineToken) -> Result<(), ExecError> {
    let key = StateKey::Token(op.symbol.clone());
    if ctx.exists(&key)? {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("token {} is already defined", op.symbol),
        ));
    }
    let token = Token {
        display_name: op.display_name.clone(),
        decimals: op.decimals,
        issuer: ctx.signer,
        max_supply: op.max_supply,
        supply: Amount(0),
    };
    ctx.put(&key, &token);
    ctx.emit(
        "token.defined",
        vec![ctx.signer],
        vec![("symbol", op.symbol.to_string())],
    );
    Ok(())
}

pub(crate) fn mint(ctx: &mut TxContext<'_, '_>, op: &Mint) -> Result<(), ExecError> {
    let amount = positive(op.amount)?;
    let mut token = load_token(ctx, &op.symbol)?;
    super::oracle::require_not_metered(ctx, &op.symbol)?;
    if token.issuer != ctx.signer {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("only the issuer {} can mint {}", token.issuer, op.symbol),
        ));
    }
    require_registered(ctx, &op.to)?;
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
    credit(ctx, &op.symbol, &op.to, amount)?;
    ctx.put(&StateKey::Token(op.symbol.clone()), &token);
    ctx.emit(
        "token.minted",
        vec![op.to],
        vec![
            ("symbol", op.symbol.to_string()),
            ("amount", amount.to_string()),
        ],
    );
    Ok(())
}

/// Mints `amount` of `symbol` to `to` for a meter reading (the oracle module checked the
/// reading): the supply cap, freezes and overflow apply as for a mint by the issuer.
pub(crate) fn issue(
    ctx: &mut TxContext<'_, '_>,
    symbol: &Name,
    to: &AccountId,
    amount: u128,
    feed: &Name,
) -> Result<(), ExecError> {
    let mut token = load_token(ctx, symbol)?;
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
    credit(ctx, symbol, to, amount)?;
    ctx.put(&StateKey::Token(symbol.clone()), &token);
    ctx.emit(
        "token.minted",
        vec![*to],
        vec![
            ("symbol", symbol.to_string()),
            ("amount", amount.to_string()),
            ("feed", feed.to_string()),
        ],
    );
    Ok(())
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
    let mut token = load_token(ctx, &op.symbol)?;
    let from = ctx.signer;
    debit(ctx, &op.symbol, &from, amount)?;
    // Supply >= any single balance, so this cannot underflow unless state is corrupt.
    token.supply =
        Amount(
            token.supply.0.checked_sub(amount).ok_or_else(|| {
                ExecError::Fatal(format!("supply of {} below a balance", op.symbol))
            })?,
        );
    ctx.put(&StateKey::Token(op.symbol.clone()), &token);
    ctx.emit(
        "token.burned",
        vec![from],
        vec![
            ("symbol", op.symbol.to_string()),
            ("amount", amount.to_string()),
        ],
    );
    Ok(())
}

pub(crate) fn hold(ctx: &mut TxContext<'_, '_>, op: &Hold) -> Result<(), ExecError> {
    let amount = positive(op.amount)?;
    load_token(ctx, &op.symbol)?;
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
/// operations and workflow effects, so both settle holds the same way.
pub(crate) fn settle_hold(
    ctx: &mut TxContext<'_, '_>,
    id: &Name,
    hold: &model::Hold,
    release: bool,
) -> Result<(), ExecError> {
    let (to, topic) = if release {
        (hold.beneficiary, "token.hold_released")
    } else {
        (hold.holder, "token.hold_cancelled")
    };
    credit(ctx, &hold.symbol, &to, hold.amount.0)?;
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
    settle_hold(ctx, &op.id, &hold, true)
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
    settle_hold(ctx, &op.id, &hold, false)
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
