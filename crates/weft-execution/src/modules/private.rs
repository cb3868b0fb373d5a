//! Confidential data (DESIGN §7; UC-09, UC-31): private records, their grants, the subject's
//! consent, logged accesses and purges. See `crate::private` for the records and the access
//! rule; `docs/confidential-data.md` for the model.
//!
//! Rules:
//! - `create_private_record`: the signer becomes the controller. A named subject must
//!   co-sign the transaction; its consent then covers the policy's purposes. Purposes are
//!   distinct, 1 to 16; the size at most 16 MiB; an id is never reused, not even after a purge.
//! - `grant_private_access`: by the controller or the subject, or, when the policy allows
//!   onward grants, by a grantee within its own live grant (purposes a subset, expiry no
//!   later). The grantee is a registered account other than the parties; purposes are a
//!   non-empty subset of the policy's and of the subject's consent; the expiry is in the
//!   future. Granting again replaces the grant.
//! - `revoke_private_access`: by the controller, the subject or the grant's granter; also
//!   withdraws every grant passed on from it, transitively.
//! - `set_private_consent`: the subject only; a subset of the policy's purposes.
//! - `access_private_record`: logs a read after `PrivateRecord::check_access` allows it.
//! - `purge_private_record`: the controller or the subject; drops every grant and the
//!   consent, keeps the commitment and the log; final.
//!
//! Every change appends to the record's log and emits a `private.*` event naming the record,
//! which is how nodes learn to fetch, keep or shred payloads.

use std::collections::BTreeSet;

use weft_types::{
    AccessPrivateRecord, AccountId, CreatePrivateRecord, ErrorCode, GrantPrivateAccess, Name,
    PurgePrivateRecord, RevokePrivateAccess, SetPrivateConsent,
    private::{MAX_GRANTS, MAX_PRIVATE_PAYLOAD_BYTES, MAX_PURPOSES},
};

use crate::{
    ExecError,
    context::TxContext,
    keys::StateKey,
    private::{Grant, PrivateEvent, PrivateLogEntry, PrivateRecord, Purge},
};

fn invalid(msg: String) -> ExecError {
    ExecError::tx(ErrorCode::InvalidArgument, msg)
}

fn load(ctx: &TxContext<'_, '_>, id: &Name) -> Result<PrivateRecord, ExecError> {
    ctx.get::<PrivateRecord>(&StateKey::PrivateRecord(id.clone()))?
        .ok_or_else(|| ExecError::tx(ErrorCode::NotFound, format!("no private record {id}")))
}

fn not_purged(record: &PrivateRecord) -> Result<(), ExecError> {
    match &record.purged {
        Some(p) => Err(ExecError::tx(
            ErrorCode::Purged,
            format!("{} was purged at height {}", record.id, p.height),
        )),
        None => Ok(()),
    }
}

/// Distinct purposes, 1 to 16, each within `allowed`.
fn check_purposes(
    what: &str,
    purposes: &[Name],
    allowed: Option<&[Name]>,
) -> Result<(), ExecError> {
    let distinct: BTreeSet<&Name> = purposes.iter().collect();
    if distinct.len() != purposes.len() {
        return Err(invalid(format!("{what} must be distinct")));
    }
    if purposes.len() > MAX_PURPOSES {
        return Err(invalid(format!("{what}: at most {MAX_PURPOSES}")));
    }
    if let Some(allowed) = allowed
        && let Some(p) = purposes.iter().find(|p| !allowed.contains(p))
    {
        return Err(invalid(format!(
            "{what}: {p} is not a purpose of the policy"
        )));
    }
    Ok(())
}

fn save_and_log(
    ctx: &mut TxContext<'_, '_>,
    mut record: PrivateRecord,
    event: PrivateEvent,
) -> Result<(), ExecError> {
    let index = record.log_size;
    record.log_size = index
        .checked_add(1)
        .ok_or_else(|| ExecError::Fatal("private log size overflows".into()))?;
    let topic = match &event {
        PrivateEvent::Created { .. } => "private.created",
        PrivateEvent::Granted { .. } => "private.granted",
        PrivateEvent::Revoked { .. } => "private.revoked",
        PrivateEvent::Consent { .. } => "private.consent",
        PrivateEvent::Accessed { .. } => "private.accessed",
        PrivateEvent::Purged { .. } => "private.purged",
    };
    let mut accounts: Vec<AccountId> = vec![record.controller];
    accounts.extend(record.subject);
    if ctx.signer != record.controller && Some(ctx.signer) != record.subject {
        accounts.push(ctx.signer);
    }
    let mut fields = vec![
        ("id", record.id.to_string()),
        ("log_index", index.to_string()),
    ];
    match &event {
        PrivateEvent::Granted { grantee, .. } => {
            accounts.push(*grantee);
            fields.push(("grantee", grantee.to_hex()));
        }
        PrivateEvent::Revoked { grantees } => {
            accounts.extend(grantees.iter().copied());
            fields.push(("revoked", grantees.len().to_string()));
        }
        PrivateEvent::Accessed { purpose } => fields.push(("purpose", purpose.to_string())),
        _ => {}
    }
    accounts.sort();
    accounts.dedup();
    ctx.put(
        &StateKey::PrivateLog(record.id.clone(), index),
        &PrivateLogEntry {
            index,
            height: ctx.height,
            timestamp_ms: ctx.timestamp_ms,
            actor: ctx.signer,
            event,
        },
    );
    ctx.put(&StateKey::PrivateRecord(record.id.clone()), &record);
    ctx.emit(topic, accounts, fields);
    Ok(())
}

pub(crate) fn create(
    ctx: &mut TxContext<'_, '_>,
    op: &CreatePrivateRecord,
) -> Result<(), ExecError> {
    if ctx.exists(&StateKey::PrivateRecord(op.id.clone()))? {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("private record {} exists (ids are never reused)", op.id),
        ));
    }
    if op.policy.purposes.is_empty() {
        return Err(invalid("a policy names at least one purpose".into()));
    }
    check_purposes("policy purposes", &op.policy.purposes, None)?;
    if op.size > MAX_PRIVATE_PAYLOAD_BYTES {
        return Err(ExecError::tx(
            ErrorCode::Oversized,
            format!(
                "payload of {} bytes above {MAX_PRIVATE_PAYLOAD_BYTES}",
                op.size
            ),
        ));
    }
    if let Some(t) = op.policy.retain_until_ms
        && t <= ctx.timestamp_ms
    {
        return Err(invalid("retain_until_ms is not in the future".into()));
    }
    if let Some(subject) = op.subject {
        if subject == ctx.signer {
            return Err(invalid(
                "the subject is the controller; leave subject empty for own data".into(),
            ));
        }
        if !ctx.exists(&StateKey::Account(subject))? {
            return Err(ExecError::tx(
                ErrorCode::UnknownAccount,
                format!("subject {subject} is not registered"),
            ));
        }
        if !ctx.signers.contains(&subject) {
            return Err(ExecError::tx(
                ErrorCode::MissingSignature,
                format!("the subject {subject} must co-sign the record and its policy"),
            ));
        }
    }
    let record = PrivateRecord {
        id: op.id.clone(),
        data_type: op.data_type.clone(),
        controller: ctx.signer,
        subject: op.subject,
        commitment: op.commitment,
        size: op.size,
        policy: op.policy.clone(),
        consent: op.policy.purposes.clone(),
        grants: Default::default(),
        created_at: ctx.height,
        created_ms: ctx.timestamp_ms,
        purged: None,
        log_size: 0,
    };
    save_and_log(
        ctx,
        record,
        PrivateEvent::Created {
            commitment: op.commitment,
        },
    )
}

pub(crate) fn grant(ctx: &mut TxContext<'_, '_>, op: &GrantPrivateAccess) -> Result<(), ExecError> {
    let mut record = load(ctx, &op.id)?;
    not_purged(&record)?;
    // What the signer may pass on: everything for a party, its own grant for a grantee.
    let (ceiling, expiry_ceiling): (Vec<Name>, Option<u64>) = if record.is_party(&ctx.signer) {
        (record.policy.purposes.clone(), None)
    } else {
        let own = record
            .live_grant(&ctx.signer, ctx.timestamp_ms)
            .filter(|_| record.policy.onward_grants)
            .ok_or_else(|| {
                ExecError::tx(
                    ErrorCode::Unauthorized,
                    format!(
                        "{} may not grant access to {}: not its controller or subject{}",
                        ctx.signer,
                        op.id,
                        if record.policy.onward_grants {
                            ", and holds no live grant"
                        } else {
                            ", and its policy allows no onward grants"
                        }
                    ),
                )
            })?;
        (own.purposes.clone(), own.expires_at_ms)
    };
    if op.purposes.is_empty() {
        return Err(invalid("a grant names at least one purpose".into()));
    }
    check_purposes("purposes", &op.purposes, Some(&record.policy.purposes))?;
    if let Some(p) = op.purposes.iter().find(|p| !ceiling.contains(p)) {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("{} may not pass on purpose {p}", ctx.signer),
        ));
    }
    if let Some(p) = op.purposes.iter().find(|p| !record.consent.contains(p)) {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("the subject of {} does not consent to {p}", op.id),
        ));
    }
    if let Some(t) = op.expires_at_ms
        && t <= ctx.timestamp_ms
    {
        return Err(invalid("expires_at_ms is not in the future".into()));
    }
    if let Some(limit) = expiry_ceiling
        && op.expires_at_ms.is_none_or(|t| t > limit)
    {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("an onward grant cannot outlive its source (expires at {limit} ms)"),
        ));
    }
    if record.is_party(&op.grantee) {
        return Err(invalid(format!(
            "{} is a party of {}; parties need no grant",
            op.grantee, op.id
        )));
    }
    if !ctx.exists(&StateKey::Account(op.grantee))? {
        return Err(ExecError::tx(
            ErrorCode::UnknownAccount,
            format!("grantee {} is not registered", op.grantee),
        ));
    }
    if !record.grants.contains_key(&op.grantee) && record.grants.len() >= MAX_GRANTS {
        return Err(ExecError::tx(
            ErrorCode::Oversized,
            format!("{} already has {MAX_GRANTS} grants", op.id),
        ));
    }
    record.grants.insert(
        op.grantee,
        Grant {
            purposes: op.purposes.clone(),
            expires_at_ms: op.expires_at_ms,
            granted_by: ctx.signer,
            granted_at: ctx.height,
        },
    );
    save_and_log(
        ctx,
        record,
        PrivateEvent::Granted {
            grantee: op.grantee,
            purposes: op.purposes.clone(),
            expires_at_ms: op.expires_at_ms,
        },
    )
}

pub(crate) fn revoke(
    ctx: &mut TxContext<'_, '_>,
    op: &RevokePrivateAccess,
) -> Result<(), ExecError> {
    let mut record = load(ctx, &op.id)?;
    not_purged(&record)?;
    let Some(grant) = record.grants.get(&op.grantee) else {
        return Err(ExecError::tx(
            ErrorCode::NotFound,
            format!("{} holds no grant on {}", op.grantee, op.id),
        ));
    };
    if !record.is_party(&ctx.signer) && grant.granted_by != ctx.signer {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!(
                "only the controller, the subject or the granter may revoke {}'s grant",
                op.grantee
            ),
        ));
    }
    // The revoked grant and, transitively, every grant passed on from it.
    let mut revoked = vec![op.grantee];
    let mut i = 0;
    while i < revoked.len() {
        let from = revoked[i];
        for (grantee, g) in &record.grants {
            if g.granted_by == from && !revoked.contains(grantee) {
                revoked.push(*grantee);
            }
        }
        i += 1;
    }
    for grantee in &revoked {
        record.grants.remove(grantee);
    }
    save_and_log(ctx, record, PrivateEvent::Revoked { grantees: revoked })
}

pub(crate) fn set_consent(
    ctx: &mut TxContext<'_, '_>,
    op: &SetPrivateConsent,
) -> Result<(), ExecError> {
    let mut record = load(ctx, &op.id)?;
    not_purged(&record)?;
    if record.subject != Some(ctx.signer) {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("only the subject of {} sets its consent", op.id),
        ));
    }
    check_purposes("purposes", &op.purposes, Some(&record.policy.purposes))?;
    // Kept in the policy's order so equal consents are stored equally.
    record.consent = record
        .policy
        .purposes
        .iter()
        .filter(|p| op.purposes.contains(p))
        .cloned()
        .collect();
    let purposes = record.consent.clone();
    save_and_log(ctx, record, PrivateEvent::Consent { purposes })
}

pub(crate) fn access(
    ctx: &mut TxContext<'_, '_>,
    op: &AccessPrivateRecord,
) -> Result<(), ExecError> {
    let record = load(ctx, &op.id)?;
    record
        .check_access(&ctx.signer, &op.purpose, ctx.timestamp_ms)
        .map_err(|r| ExecError::tx(r.code, r.reason))?;
    save_and_log(
        ctx,
        record,
        PrivateEvent::Accessed {
            purpose: op.purpose.clone(),
        },
    )
}

pub(crate) fn purge(ctx: &mut TxContext<'_, '_>, op: &PurgePrivateRecord) -> Result<(), ExecError> {
    let mut record = load(ctx, &op.id)?;
    not_purged(&record)?;
    if !record.is_party(&ctx.signer) {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("only the controller or the subject may purge {}", op.id),
        ));
    }
    record.grants.clear();
    record.consent.clear();
    record.purged = Some(Purge {
        height: ctx.height,
        timestamp_ms: ctx.timestamp_ms,
        by: ctx.signer,
        reason: op.reason.clone(),
    });
    save_and_log(
        ctx,
        record,
        PrivateEvent::Purged {
            reason: op.reason.clone(),
        },
    )
}
