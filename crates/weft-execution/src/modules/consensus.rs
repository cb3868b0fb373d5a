//! Validator-set governance: `consensus.set_validators` schedules a new set for the next
//! epoch, `consensus.set_governance` replaces who approves that. Both need, besides the
//! signer's permission, `threshold` distinct admins of the current governance among the
//! transaction's signers (signer and co-signers).

use std::collections::BTreeSet;

use weft_types::{
    AccountId, ErrorCode, SetGovernance, SetValidators,
    limits::{MAX_GOVERNANCE_ADMINS, MAX_VALIDATORS},
};

use crate::{
    ExecError,
    consensus::{epoch_of, governance_or_default, stored_epoch_length},
    context::TxContext,
    keys::StateKey,
    model::{Governance, PendingValidators, ValidatorSet},
};

fn invalid(message: impl Into<String>) -> ExecError {
    ExecError::tx(ErrorCode::InvalidArgument, message)
}

fn list(accounts: &[AccountId]) -> String {
    accounts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The current governance, after checking that enough of its admins signed; returns the
/// approving admins, sorted.
fn approve(ctx: &TxContext<'_, '_>) -> Result<(Governance, Vec<AccountId>), ExecError> {
    let gov = governance_or_default(ctx.get::<Governance>(&StateKey::Governance)?);
    let admins: BTreeSet<&AccountId> = gov.admins.iter().collect();
    let approvals: Vec<AccountId> = ctx
        .signers
        .iter()
        .filter(|s| admins.contains(s))
        .copied()
        .collect();
    if (approvals.len() as u64) < u64::from(gov.threshold) {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!(
                "needs {} admin approvals, has {} (admins: {})",
                gov.threshold,
                approvals.len(),
                if gov.admins.is_empty() {
                    "none".to_owned()
                } else {
                    list(&gov.admins)
                }
            ),
        ));
    }
    Ok((gov, approvals))
}

/// Sorts `accounts`, refusing duplicates.
fn sorted_distinct(what: &str, accounts: &[AccountId]) -> Result<Vec<AccountId>, ExecError> {
    let mut sorted = accounts.to_vec();
    sorted.sort();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(invalid(format!("{what} {} is listed twice", w[0])));
    }
    Ok(sorted)
}

/// Checks a proposed validator set: 1 to [`MAX_VALIDATORS`] distinct, valid Ed25519 keys
/// (an invalid point in the set would halt consensus). Returns it sorted.
pub(crate) fn check_validator_set(validators: &[AccountId]) -> Result<Vec<AccountId>, String> {
    if validators.is_empty() || validators.len() > MAX_VALIDATORS {
        return Err(format!(
            "a validator set needs 1 to {MAX_VALIDATORS} validators, got {}",
            validators.len()
        ));
    }
    if let Some(bad) = validators
        .iter()
        .find(|v| !weft_crypto::is_valid_public_key(v))
    {
        return Err(format!("validator {bad} is not a valid Ed25519 public key"));
    }
    let mut sorted = validators.to_vec();
    sorted.sort();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("validator {} is listed twice", w[0]));
    }
    Ok(sorted)
}

pub(crate) fn set_validators(
    ctx: &mut TxContext<'_, '_>,
    op: &SetValidators,
) -> Result<(), ExecError> {
    let (_, approvals) = approve(ctx)?;
    let validators = check_validator_set(&op.validators).map_err(invalid)?;
    let active = ctx
        .get::<ValidatorSet>(&StateKey::Validators)?
        .ok_or_else(|| ExecError::Fatal("no validator set in state".into()))?;
    let pending = ctx.get::<PendingValidators>(&StateKey::PendingValidators)?;
    // The set that would finalize the next epoch without this operation. Proposing the
    // active set while another is pending reverts that schedule; it is a change.
    let next = pending.as_ref().map_or(&active, |p| &p.validators);
    if validators == *next {
        return Err(invalid(if pending.is_some() {
            "no change: this validator set is already scheduled"
        } else {
            "no change: this is the current validator set"
        }));
    }
    let epoch_length = stored_epoch_length(ctx.get::<u64>(&StateKey::EpochLength)?)?;
    let effective_epoch = epoch_of(ctx.height, epoch_length) + 1;
    let record = PendingValidators {
        validators,
        effective_epoch,
        proposed_at: ctx.height,
    };
    ctx.put(&StateKey::PendingValidators, &record);
    let mut accounts = record.validators.clone();
    accounts.extend(approvals.iter().filter(|a| !record.validators.contains(a)));
    ctx.emit(
        "consensus.validators_scheduled",
        accounts,
        vec![
            ("effective_epoch", effective_epoch.to_string()),
            (
                "effective_after_height",
                effective_epoch
                    .saturating_mul(epoch_length)
                    .saturating_sub(1)
                    .to_string(),
            ),
            ("validators", record.validators.len().to_string()),
            ("replaced_pending", pending.is_some().to_string()),
            ("approvals", list(&approvals)),
        ],
    );
    Ok(())
}

pub(crate) fn set_governance(
    ctx: &mut TxContext<'_, '_>,
    op: &SetGovernance,
) -> Result<(), ExecError> {
    let (current, approvals) = approve(ctx)?;
    if op.admins.is_empty() || op.admins.len() > MAX_GOVERNANCE_ADMINS {
        return Err(invalid(format!(
            "governance needs 1 to {MAX_GOVERNANCE_ADMINS} admins, got {}",
            op.admins.len()
        )));
    }
    let admins = sorted_distinct("admin", &op.admins)?;
    for admin in &admins {
        if !ctx.exists(&StateKey::Account(*admin))? {
            return Err(ExecError::tx(
                ErrorCode::UnknownAccount,
                format!("admin {admin} is not a registered account"),
            ));
        }
    }
    if op.threshold == 0 || op.threshold as usize > admins.len() {
        return Err(invalid(format!(
            "threshold must be 1 to {} (the number of admins), got {}",
            admins.len(),
            op.threshold
        )));
    }
    let governance = Governance {
        admins,
        threshold: op.threshold,
    };
    if governance == current {
        return Err(invalid("no change: this is the current governance"));
    }
    ctx.put(&StateKey::Governance, &governance);
    let mut accounts = governance.admins.clone();
    accounts.extend(approvals.iter().filter(|a| !governance.admins.contains(a)));
    ctx.emit(
        "consensus.governance_changed",
        accounts,
        vec![
            ("threshold", governance.threshold.to_string()),
            ("admins", governance.admins.len().to_string()),
            ("approvals", list(&approvals)),
        ],
    );
    Ok(())
}
