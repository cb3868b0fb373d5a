//! Identity and credentials on the ledger: `did:weft` updates, the trusted-issuer registry,
//! Bitstring Status Lists and UC-27 commitments. The rules for DID records and status bits
//! are `weft_credentials`'s pure functions; this module decides who may apply them and
//! stores the results (see `crate::credentials` for the records and `docs/did-weft.md`).
//!
//! Rules:
//! - `update_did`: the DID must be of this chain and exist (a registered account); one of
//!   the transaction's signatures (the signer's or a co-signer's) must be by a current
//!   authentication key of the DID or of one of its listed controllers
//!   (`DidRecord::may_be_updated_by`), so a key rotated out can no longer update it, and the
//!   submitting account needs only the `identity.did_update` permission. Added controllers
//!   must be DIDs of this chain that exist. The batch applies atomically.
//! - `register_issuer` / `remove_issuer`: a consortium decision, gated by the
//!   `credential.register_issuer` / `credential.remove_issuer` permissions (the standard
//!   `registrar` role and administrators). The issuer's DID must exist and be live.
//! - `create_status_list` / `set_credential_status`: a list lives under its issuer's account
//!   (`status-list/<issuer>/<name>`), so only its issuer can address it; 131,072 to 2^20
//!   entries, a multiple of 8; a set revocation bit cannot be cleared.
//! - `publish_commitment` / `withdraw_commitment`: ids are unique for good; only the
//!   publisher withdraws, once.

use std::collections::BTreeSet;

use weft_credentials::{
    DidError, DidRecord, DidResolver, ResolveError, StatusListRecord, status_list::StatusListError,
};
use weft_types::{
    ChainId, CreateStatusList, ErrorCode, PublishCommitment, RegisterIssuer, RemoveIssuer,
    SetCredentialStatus, UpdateDid, WithdrawCommitment,
    did::{Did, DidUpdate},
};

use crate::{
    ExecError,
    context::TxContext,
    credentials::{
        CommitmentRecord, MAX_LEDGER_STATUS_LIST_BITS, StoredStatusList, TrustedIssuer,
        status_list_reference,
    },
    keys::StateKey,
    model::Account,
};

fn chain_id(ctx: &TxContext<'_, '_>) -> Result<ChainId, ExecError> {
    ctx.get::<ChainId>(&StateKey::ChainId)?
        .ok_or_else(|| ExecError::Fatal("the chain id is missing from state".into()))
}

fn did_error(e: &DidError) -> ExecError {
    ExecError::tx(e.code(), e.to_string())
}

fn status_error(e: &StatusListError) -> ExecError {
    ExecError::tx(e.code(), e.to_string())
}

/// DID lookups inside a transaction: the stored record, or the one a registered account
/// implies (see `crate::credentials`).
struct CtxResolver<'c, 'o, 'a> {
    ctx: &'c TxContext<'o, 'a>,
    chain: ChainId,
}

impl CtxResolver<'_, '_, '_> {
    fn record(&self, did: &Did) -> Result<Option<DidRecord>, ExecError> {
        if did.chain() != &self.chain {
            return Ok(None);
        }
        let account = did.account();
        if let Some(record) = self.ctx.get::<DidRecord>(&StateKey::Did(*account))? {
            return Ok(Some(record));
        }
        Ok(self
            .ctx
            .get::<Account>(&StateKey::Account(*account))?
            .map(|a| DidRecord::new(did.clone(), a.registered_at)))
    }
}

impl DidResolver for CtxResolver<'_, '_, '_> {
    fn resolve(&self, did: &Did) -> Result<Option<DidRecord>, ResolveError> {
        self.record(did).map_err(|e| ResolveError(e.to_string()))
    }
}

/// The live DID record of `did`, which must be of this chain.
fn load_did(resolver: &CtxResolver<'_, '_, '_>, did: &Did) -> Result<DidRecord, ExecError> {
    if did.chain() != &resolver.chain {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!("{did} is not a DID of chain {}", resolver.chain),
        ));
    }
    resolver.record(did)?.ok_or_else(|| {
        ExecError::tx(
            ErrorCode::NotFound,
            format!("{did} does not exist: its account is not registered"),
        )
    })
}

pub(crate) fn update_did(ctx: &mut TxContext<'_, '_>, op: &UpdateDid) -> Result<(), ExecError> {
    let resolver = CtxResolver {
        ctx,
        chain: chain_id(ctx)?,
    };
    let record = load_did(&resolver, &op.did)?;
    if record.is_deactivated() {
        return Err(did_error(&DidError::Deactivated(op.did.clone())));
    }
    let mut authorized_by = None;
    for signer in &ctx.signers {
        let allowed = record
            .may_be_updated_by(signer, &resolver)
            .map_err(|e| ExecError::Fatal(e.0))?;
        if allowed {
            authorized_by = Some(*signer);
            break;
        }
    }
    let Some(authorized_by) = authorized_by else {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!(
                "no signature by a current authentication key of {} or of its controllers",
                op.did
            ),
        ));
    };
    for update in &op.updates {
        if let DidUpdate::AddController { controller } = update
            && controller != &op.did
        {
            load_did(&resolver, controller)?;
        }
    }
    let next = record
        .apply_all(&op.updates, ctx.height)
        .map_err(|e| did_error(&e))?;
    let subject = *op.did.account();
    ctx.put(&StateKey::Did(subject), &next);
    let mut accounts = vec![subject];
    for a in [ctx.signer, authorized_by] {
        if !accounts.contains(&a) {
            accounts.push(a);
        }
    }
    ctx.emit(
        "identity.did_updated",
        accounts,
        vec![
            ("did", op.did.to_string()),
            ("version", next.version().to_string()),
            ("deactivated", next.is_deactivated().to_string()),
        ],
    );
    Ok(())
}

fn check_credential_types(types: &[String]) -> Result<BTreeSet<String>, ExecError> {
    let mut set = BTreeSet::new();
    for t in types {
        if t.is_empty()
            || t.len() > weft_types::MAX_CREDENTIAL_TYPE_BYTES
            || t.chars().any(|c| c.is_whitespace() || c.is_control())
            || !set.insert(t.clone())
        {
            return Err(ExecError::tx(
                ErrorCode::InvalidArgument,
                format!("invalid or repeated credential type {t:?}"),
            ));
        }
    }
    Ok(set)
}

pub(crate) fn register_issuer(
    ctx: &mut TxContext<'_, '_>,
    op: &RegisterIssuer,
) -> Result<(), ExecError> {
    let resolver = CtxResolver {
        ctx,
        chain: chain_id(ctx)?,
    };
    let record = load_did(&resolver, &op.did)?;
    if record.is_deactivated() {
        return Err(did_error(&DidError::Deactivated(op.did.clone())));
    }
    let credential_types = check_credential_types(&op.credential_types)?;
    let key = StateKey::Issuer(*op.did.account());
    if ctx.exists(&key)? {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("{} is already a trusted issuer", op.did),
        ));
    }
    let entry = TrustedIssuer {
        did: op.did.clone(),
        credential_types,
        registered_by: ctx.signer,
        registered_at: ctx.height,
    };
    ctx.put(&key, &entry);
    ctx.emit(
        "credential.issuer_registered",
        vec![*op.did.account(), ctx.signer],
        vec![
            ("did", op.did.to_string()),
            ("credential_types", op.credential_types.join(",")),
        ],
    );
    Ok(())
}

pub(crate) fn remove_issuer(
    ctx: &mut TxContext<'_, '_>,
    op: &RemoveIssuer,
) -> Result<(), ExecError> {
    let key = StateKey::Issuer(*op.did.account());
    let registered = ctx
        .get::<TrustedIssuer>(&key)?
        .is_some_and(|entry| entry.did == op.did);
    if !registered {
        return Err(ExecError::tx(
            ErrorCode::NotFound,
            format!("{} is not a trusted issuer", op.did),
        ));
    }
    ctx.delete(&key);
    ctx.emit(
        "credential.issuer_removed",
        vec![*op.did.account(), ctx.signer],
        vec![("did", op.did.to_string())],
    );
    Ok(())
}

pub(crate) fn create_status_list(
    ctx: &mut TxContext<'_, '_>,
    op: &CreateStatusList,
) -> Result<(), ExecError> {
    let chain = chain_id(ctx)?;
    let resolver = CtxResolver {
        ctx,
        chain: chain.clone(),
    };
    let issuer = load_did(&resolver, &Did::new(chain.clone(), ctx.signer))?;
    if issuer.is_deactivated() {
        return Err(did_error(&DidError::Deactivated(issuer.did().clone())));
    }
    if op.entries > MAX_LEDGER_STATUS_LIST_BITS {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!(
                "a status list on the ledger has at most {MAX_LEDGER_STATUS_LIST_BITS} entries"
            ),
        ));
    }
    let entries = usize::try_from(op.entries)
        .map_err(|_| ExecError::tx(ErrorCode::InvalidArgument, "too many entries"))?;
    let status = StatusListRecord::new(op.purpose, entries).map_err(|e| status_error(&e))?;
    let key = StateKey::StatusList(ctx.signer, op.name.clone());
    if ctx.exists(&key)? {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("status list {} exists", op.name),
        ));
    }
    let stored = StoredStatusList {
        status,
        created_at: ctx.height,
        updated_at: ctx.height,
        updated_at_ms: ctx.timestamp_ms,
    };
    ctx.put(&key, &stored);
    ctx.emit(
        "credential.status_list_created",
        vec![ctx.signer],
        vec![
            ("list", op.name.to_string()),
            ("purpose", op.purpose.as_str().to_string()),
            ("entries", op.entries.to_string()),
            (
                "reference",
                status_list_reference(&chain, &ctx.signer, &op.name),
            ),
        ],
    );
    Ok(())
}

pub(crate) fn set_credential_status(
    ctx: &mut TxContext<'_, '_>,
    op: &SetCredentialStatus,
) -> Result<(), ExecError> {
    // Lists are addressed under the signer's own account: only the issuer can reach its
    // lists, and another account naming the same list name finds none of its own.
    let key = StateKey::StatusList(ctx.signer, op.list.clone());
    let mut stored = ctx.get::<StoredStatusList>(&key)?.ok_or_else(|| {
        ExecError::tx(
            ErrorCode::NotFound,
            format!("the signer has no status list {}", op.list),
        )
    })?;
    let changed = stored
        .status
        .set_status(op.index, op.value)
        .map_err(|e| status_error(&e))?;
    stored.updated_at = ctx.height;
    stored.updated_at_ms = ctx.timestamp_ms;
    ctx.put(&key, &stored);
    ctx.emit(
        "credential.status_set",
        vec![ctx.signer],
        vec![
            ("list", op.list.to_string()),
            ("purpose", stored.status.purpose.as_str().to_string()),
            ("index", op.index.to_string()),
            ("value", op.value.to_string()),
            ("changed", changed.to_string()),
        ],
    );
    Ok(())
}

fn check_attribute(attribute: &str) -> Result<(), ExecError> {
    if attribute.is_empty()
        || attribute.len() > weft_types::MAX_ATTRIBUTE_KEY_BYTES
        || attribute
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            "an attribute name has 1-64 printable bytes without spaces",
        ));
    }
    Ok(())
}

pub(crate) fn publish_commitment(
    ctx: &mut TxContext<'_, '_>,
    op: &PublishCommitment,
) -> Result<(), ExecError> {
    check_attribute(&op.attribute)?;
    let key = StateKey::Commitment(op.id.clone());
    if ctx.exists(&key)? {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("commitment {} exists", op.id),
        ));
    }
    let record = CommitmentRecord {
        publisher: ctx.signer,
        commitment: op.commitment,
        attribute: op.attribute.clone(),
        published_at: ctx.height,
        withdrawn_at: None,
    };
    ctx.put(&key, &record);
    ctx.emit(
        "credential.commitment_published",
        vec![ctx.signer],
        vec![
            ("commitment", op.id.to_string()),
            ("attribute", op.attribute.clone()),
            ("hash", op.commitment.to_hex()),
        ],
    );
    Ok(())
}

pub(crate) fn withdraw_commitment(
    ctx: &mut TxContext<'_, '_>,
    op: &WithdrawCommitment,
) -> Result<(), ExecError> {
    let key = StateKey::Commitment(op.id.clone());
    let mut record = ctx.get::<CommitmentRecord>(&key)?.ok_or_else(|| {
        ExecError::tx(
            ErrorCode::NotFound,
            format!("commitment {} does not exist", op.id),
        )
    })?;
    if record.publisher != ctx.signer {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("only its publisher can withdraw commitment {}", op.id),
        ));
    }
    if record.withdrawn_at.is_some() {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!("commitment {} is already withdrawn", op.id),
        ));
    }
    record.withdrawn_at = Some(ctx.height);
    ctx.put(&key, &record);
    ctx.emit(
        "credential.commitment_withdrawn",
        vec![ctx.signer],
        vec![("commitment", op.id.to_string())],
    );
    Ok(())
}
