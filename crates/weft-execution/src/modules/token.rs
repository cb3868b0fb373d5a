//! Fungible tokens: define, mint, transfer, burn.
//!
//! Invariants: no balance is ever negative (amounts are unsigned and every debit is checked),
//! and a token's `supply` always equals the sum of its balances (mint and burn move both).

use std::collections::BTreeSet;

use weft_types::{AccountId, Amount, Burn, DefineToken, ErrorCode, Mint, Name, Transfer};

use crate::{ExecError, context::TxContext, keys::StateKey, model::Token};

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

pub(crate) fn credit(
    ctx: &mut TxContext<'_, '_>,
    symbol: &Name,
    who: &AccountId,
    amount: u128,
) -> Result<(), ExecError> {
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
