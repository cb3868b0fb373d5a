//! The key registry (UC-28, UC-29): DNS-like names bound to Ed25519 keys by endorsement of
//! the consortium's endorsers, with every binding event appended to the RFC 9162
//! transparency log (see `crate::registry` for the records, `docs/pki.md` for the model).
//!
//! Rules:
//! - `bind_name`: the first binding of a name makes the signer its owner and fixes the
//!   name's policy `endorsers_required` (1 to 16). After a revocation the owner may propose
//!   again, keeping or raising the policy, never lowering it. At most one binding is pending
//!   and at most one live; a key once bound to the name is never bound to it again.
//! - `endorse_binding`: by an account whose roles grant `registry.endorse` (the standard
//!   `endorser` role), never the name's owner, once per binding; it names the pending key,
//!   so an endorsement cannot count for another proposal. The binding goes live when the
//!   endorsers recorded for it that still hold `registry.endorse` number at least the
//!   policy; a binding it rotates away from is superseded in the same step.
//! - `rotate_binding`: the owner proposes a new key for a live name; the old key stays
//!   live until the new one goes live.
//! - `revoke_binding`: a live or pending binding, by its owner, or by one transaction
//!   signed (signer and co-signers) by at least `endorsers_required` distinct endorsers
//!   other than the owner. Revocation is final for that key.

use std::collections::BTreeSet;

use weft_types::{
    AccountId, BindName, EndorseBinding, ErrorCode, RevokeBinding, RotateBinding,
    registry::{DnsName, MAX_ENDORSERS_REQUIRED},
};

use crate::{
    ExecError,
    context::TxContext,
    keys::StateKey,
    registry::{
        Binding, BindingStatus, LogEntry, LogEvent, LogHead, MAX_BINDINGS_PER_NAME, NameRecord,
    },
};

use super::access;

/// The permission that makes an account an endorser.
const ENDORSE: &str = "registry.endorse";

fn load(ctx: &TxContext<'_, '_>, name: &DnsName) -> Result<NameRecord, ExecError> {
    ctx.get::<NameRecord>(&StateKey::RegistryName(name.clone()))?
        .ok_or_else(|| ExecError::tx(ErrorCode::NotFound, format!("{name} is not registered")))
}

fn check_key(key: &AccountId) -> Result<(), ExecError> {
    if weft_crypto::is_valid_public_key(key) {
        Ok(())
    } else {
        Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!("{key} is not a usable Ed25519 public key"),
        ))
    }
}

fn check_owner(ctx: &TxContext<'_, '_>, record: &NameRecord) -> Result<(), ExecError> {
    if record.owner == ctx.signer {
        Ok(())
    } else {
        Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("{} is owned by {}", record.name, record.owner),
        ))
    }
}

/// Refusals common to every new proposal on an existing name.
fn check_new_key(record: &NameRecord, key: &AccountId) -> Result<(), ExecError> {
    if record.pending().is_some() {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("{} already has a pending binding", record.name),
        ));
    }
    if record.bindings.iter().any(|b| &b.public_key == key) {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!(
                "{key} was already bound to {}; a key is never bound twice",
                record.name
            ),
        ));
    }
    if record.bindings.len() >= MAX_BINDINGS_PER_NAME {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!(
                "{} has {MAX_BINDINGS_PER_NAME} bindings, the most one name keeps",
                record.name
            ),
        ));
    }
    Ok(())
}

fn new_binding(
    ctx: &TxContext<'_, '_>,
    serial: usize,
    key: AccountId,
) -> Result<Binding, ExecError> {
    Ok(Binding {
        serial: u32::try_from(serial)
            .map_err(|_| ExecError::Fatal("binding serial overflows".into()))?,
        public_key: key,
        status: BindingStatus::Pending,
        proposed_at: ctx.height,
        endorsers: Vec::new(),
        live_at: None,
        ended_at: None,
        revocation_reason: None,
        revoked_by: Vec::new(),
        log_leaves: Vec::new(),
    })
}

/// Appends one event to the transparency log and returns its leaf index.
fn append_log(
    ctx: &mut TxContext<'_, '_>,
    record: &NameRecord,
    binding: &Binding,
    event: LogEvent,
    endorsers: Vec<AccountId>,
) -> Result<u64, ExecError> {
    let head = ctx
        .get::<LogHead>(&StateKey::RegistryLogHead)?
        .unwrap_or_else(LogHead::empty);
    let entry = LogEntry {
        index: head.size,
        height: ctx.height,
        timestamp_ms: ctx.timestamp_ms,
        name: record.name.clone(),
        serial: binding.serial,
        public_key: binding.public_key,
        event,
        owner: record.owner,
        endorsers,
    };
    let mut leaves = Vec::new();
    for i in 0..head.size {
        let leaf = ctx
            .get::<LogEntry>(&StateKey::RegistryLogLeaf(i))?
            .ok_or_else(|| ExecError::Fatal(format!("registry log leaf {i} is missing")))?;
        leaves.push(leaf.to_leaf());
    }
    leaves.push(entry.to_leaf());
    let size = head
        .size
        .checked_add(1)
        .ok_or_else(|| ExecError::Fatal("registry log size overflows".into()))?;
    let next = LogHead {
        size,
        root: weft_crypto::log_root(leaves.iter().map(Vec::as_slice)),
    };
    ctx.put(&StateKey::RegistryLogLeaf(head.size), &entry);
    ctx.put(&StateKey::RegistryLogHead, &next);
    Ok(head.size)
}

fn save(ctx: &mut TxContext<'_, '_>, record: &NameRecord) {
    ctx.put(&StateKey::RegistryName(record.name.clone()), record);
}

fn event_fields(record: &NameRecord, b: &Binding) -> Vec<(&'static str, String)> {
    vec![
        ("name", record.name.to_string()),
        ("public_key", b.public_key.to_hex()),
        ("serial", b.serial.to_string()),
        ("endorsements", b.endorsers.len().to_string()),
        ("endorsers_required", record.endorsers_required.to_string()),
    ]
}

/// Records a new pending binding of `record` and logs it.
fn propose(
    ctx: &mut TxContext<'_, '_>,
    mut record: NameRecord,
    key: AccountId,
) -> Result<(), ExecError> {
    let mut binding = new_binding(ctx, record.bindings.len(), key)?;
    let leaf = append_log(ctx, &record, &binding, LogEvent::Proposed, Vec::new())?;
    binding.log_leaves.push(leaf);
    let fields = event_fields(&record, &binding);
    record.bindings.push(binding);
    save(ctx, &record);
    ctx.emit("registry.binding_proposed", vec![record.owner], fields);
    Ok(())
}

pub(crate) fn bind_name(ctx: &mut TxContext<'_, '_>, op: &BindName) -> Result<(), ExecError> {
    if op.endorsers_required == 0 || op.endorsers_required > MAX_ENDORSERS_REQUIRED {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!("endorsers_required must be 1 to {MAX_ENDORSERS_REQUIRED}"),
        ));
    }
    check_key(&op.public_key)?;
    let key = StateKey::RegistryName(op.name.clone());
    let record = match ctx.get::<NameRecord>(&key)? {
        None => NameRecord {
            name: op.name.clone(),
            owner: ctx.signer,
            endorsers_required: op.endorsers_required,
            registered_at: ctx.height,
            bindings: Vec::new(),
        },
        Some(mut record) => {
            check_owner(ctx, &record)?;
            if record.live().is_some() {
                return Err(ExecError::tx(
                    ErrorCode::AlreadyExists,
                    format!("{} has a live binding; rotate it instead", op.name),
                ));
            }
            check_new_key(&record, &op.public_key)?;
            if op.endorsers_required < record.endorsers_required {
                return Err(ExecError::tx(
                    ErrorCode::InvalidArgument,
                    format!(
                        "{} needs {} endorsements; a rebinding cannot lower that",
                        op.name, record.endorsers_required
                    ),
                ));
            }
            record.endorsers_required = op.endorsers_required;
            record
        }
    };
    propose(ctx, record, op.public_key)
}

pub(crate) fn rotate_binding(
    ctx: &mut TxContext<'_, '_>,
    op: &RotateBinding,
) -> Result<(), ExecError> {
    check_key(&op.public_key)?;
    let record = load(ctx, &op.name)?;
    check_owner(ctx, &record)?;
    if record.live().is_none() {
        return Err(ExecError::tx(
            ErrorCode::NotFound,
            format!("{} has no live binding to rotate; bind it", op.name),
        ));
    }
    check_new_key(&record, &op.public_key)?;
    propose(ctx, record, op.public_key)
}

/// The recorded endorsers of `binding` that are endorsers now.
fn current_endorsers(ctx: &TxContext<'_, '_>, endorsers: &[AccountId]) -> Result<usize, ExecError> {
    let mut n = 0usize;
    for e in endorsers {
        if access::grants(ctx, e, ENDORSE)? {
            n += 1;
        }
    }
    Ok(n)
}

pub(crate) fn endorse_binding(
    ctx: &mut TxContext<'_, '_>,
    op: &EndorseBinding,
) -> Result<(), ExecError> {
    let mut record = load(ctx, &op.name)?;
    let Some(pos) = record
        .bindings
        .iter()
        .position(|b| b.status == BindingStatus::Pending)
    else {
        return Err(ExecError::tx(
            ErrorCode::NotFound,
            format!("{} has no pending binding", op.name),
        ));
    };
    if record.bindings[pos].public_key != op.public_key {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!(
                "the pending binding of {} is to {}, not {}",
                op.name, record.bindings[pos].public_key, op.public_key
            ),
        ));
    }
    if ctx.signer == record.owner {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            "an owner cannot endorse its own binding",
        ));
    }
    if record.bindings[pos].endorsers.contains(&ctx.signer) {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("{} already endorsed this binding", ctx.signer),
        ));
    }
    record.bindings[pos].endorsers.push(ctx.signer);
    let endorsed = current_endorsers(ctx, &record.bindings[pos].endorsers)?;
    let fields = event_fields(&record, &record.bindings[pos]);
    ctx.emit(
        "registry.binding_endorsed",
        vec![record.owner, ctx.signer],
        fields,
    );
    if endorsed >= usize::from(record.endorsers_required) {
        if let Some(old) = record
            .bindings
            .iter()
            .position(|b| b.status == BindingStatus::Live)
        {
            record.bindings[old].status = BindingStatus::Superseded;
            record.bindings[old].ended_at = Some(ctx.height);
            let leaf = append_log(
                ctx,
                &record,
                &record.bindings[old],
                LogEvent::Superseded,
                Vec::new(),
            )?;
            record.bindings[old].log_leaves.push(leaf);
        }
        record.bindings[pos].status = BindingStatus::Live;
        record.bindings[pos].live_at = Some(ctx.height);
        let endorsers = record.bindings[pos].endorsers.clone();
        let leaf = append_log(
            ctx,
            &record,
            &record.bindings[pos],
            LogEvent::Live,
            endorsers.clone(),
        )?;
        record.bindings[pos].log_leaves.push(leaf);
        let mut accounts = vec![record.owner];
        accounts.extend(endorsers);
        let fields = event_fields(&record, &record.bindings[pos]);
        ctx.emit("registry.binding_live", accounts, fields);
    }
    save(ctx, &record);
    Ok(())
}

pub(crate) fn revoke_binding(
    ctx: &mut TxContext<'_, '_>,
    op: &RevokeBinding,
) -> Result<(), ExecError> {
    let mut record = load(ctx, &op.name)?;
    let Some(pos) = record.bindings.iter().position(|b| {
        b.public_key == op.public_key
            && matches!(b.status, BindingStatus::Live | BindingStatus::Pending)
    }) else {
        return Err(ExecError::tx(
            ErrorCode::NotFound,
            format!(
                "{} has no live or pending binding to {}",
                op.name, op.public_key
            ),
        ));
    };
    let (revoked_by, log_endorsers) = if ctx.signer == record.owner {
        (vec![record.owner], Vec::new())
    } else {
        let mut endorsers = BTreeSet::new();
        for s in &ctx.signers {
            if *s != record.owner && access::grants(ctx, s, ENDORSE)? {
                endorsers.insert(*s);
            }
        }
        if endorsers.len() < usize::from(record.endorsers_required) {
            return Err(ExecError::tx(
                ErrorCode::Unauthorized,
                format!(
                    "revoking {} takes its owner or {} distinct endorsers' signatures; {} endorsers signed",
                    op.name,
                    record.endorsers_required,
                    endorsers.len()
                ),
            ));
        }
        let list: Vec<AccountId> = endorsers.into_iter().collect();
        (list.clone(), list)
    };
    record.bindings[pos].status = BindingStatus::Revoked;
    record.bindings[pos].ended_at = Some(ctx.height);
    record.bindings[pos].revocation_reason = Some(op.reason.clone());
    record.bindings[pos].revoked_by = revoked_by.clone();
    let leaf = append_log(
        ctx,
        &record,
        &record.bindings[pos],
        LogEvent::Revoked,
        log_endorsers,
    )?;
    record.bindings[pos].log_leaves.push(leaf);
    let mut fields = event_fields(&record, &record.bindings[pos]);
    fields.push(("reason", op.reason.clone()));
    let mut accounts = vec![record.owner];
    accounts.extend(revoked_by.into_iter().filter(|a| *a != record.owner));
    ctx.emit("registry.binding_revoked", accounts, fields);
    save(ctx, &record);
    Ok(())
}
