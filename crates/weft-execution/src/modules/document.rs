//! Documents: a hash anchored on the ledger (the payload stays off-ledger with the parties),
//! its versions, and signatures by named parties on a specific version.
//!
//! Rules: only the owner amends; an amendment starts a new version whose signatures start
//! over; a party signs a version by naming its hash, so nobody signs a text that changed
//! under them; each party signs a version once; a version is complete when the required
//! number of distinct parties signed it.

use std::collections::BTreeSet;

use weft_types::{
    AmendDocument, AnchorDocument, ErrorCode, MAX_PARTIES, SignDocument, limits::MAX_TEXT_BYTES,
};

use crate::{
    ExecError,
    context::TxContext,
    keys::StateKey,
    model::{Document, DocumentVersion},
};

fn load(ctx: &TxContext<'_, '_>, id: &weft_types::Name) -> Result<Document, ExecError> {
    ctx.get::<Document>(&StateKey::Document(id.clone()))?
        .ok_or_else(|| ExecError::tx(ErrorCode::NotFound, format!("document {id} does not exist")))
}

pub(crate) fn anchor(ctx: &mut TxContext<'_, '_>, op: &AnchorDocument) -> Result<(), ExecError> {
    let key = StateKey::Document(op.id.clone());
    if ctx.exists(&key)? {
        return Err(ExecError::tx(
            ErrorCode::AlreadyExists,
            format!("document {} exists", op.id),
        ));
    }
    let distinct: BTreeSet<_> = op.parties.iter().collect();
    if distinct.len() != op.parties.len() || op.parties.len() > MAX_PARTIES {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            "parties must be distinct (at most 32)",
        ));
    }
    if usize::from(op.required_signatures) > op.parties.len() {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!(
                "{} signatures required but only {} parties",
                op.required_signatures,
                op.parties.len()
            ),
        ));
    }
    for party in &op.parties {
        if !ctx.exists(&StateKey::Account(*party))? {
            return Err(ExecError::tx(
                ErrorCode::UnknownAccount,
                format!("party {party} is not registered"),
            ));
        }
    }
    if op.media_type.len() > MAX_TEXT_BYTES || op.uri.len() > MAX_TEXT_BYTES {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            "media type or uri too long",
        ));
    }
    let document = Document {
        owner: ctx.signer,
        media_type: op.media_type.clone(),
        parties: op.parties.clone(),
        required_signatures: op.required_signatures,
        versions: vec![DocumentVersion {
            hash: op.hash,
            uri: op.uri.clone(),
            anchored_at: ctx.height,
            signatures: vec![],
        }],
    };
    ctx.put(&key, &document);
    let mut accounts = vec![ctx.signer];
    accounts.extend(op.parties.iter().copied().filter(|p| *p != ctx.signer));
    ctx.emit(
        "document.anchored",
        accounts,
        vec![
            ("document", op.id.to_string()),
            ("version", "1".into()),
            ("hash", op.hash.to_hex()),
        ],
    );
    Ok(())
}

pub(crate) fn amend(ctx: &mut TxContext<'_, '_>, op: &AmendDocument) -> Result<(), ExecError> {
    let mut document = load(ctx, &op.id)?;
    if document.owner != ctx.signer {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("only the owner can amend {}", op.id),
        ));
    }
    if document.versions.len() >= Document::MAX_VERSIONS {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            "document has too many versions",
        ));
    }
    if op.uri.len() > MAX_TEXT_BYTES {
        return Err(ExecError::tx(ErrorCode::InvalidArgument, "uri too long"));
    }
    if document.versions.last().is_some_and(|v| v.hash == op.hash) {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            "the new version has the same hash",
        ));
    }
    document.versions.push(DocumentVersion {
        hash: op.hash,
        uri: op.uri.clone(),
        anchored_at: ctx.height,
        signatures: vec![],
    });
    let version = document.versions.len();
    let mut accounts = vec![ctx.signer];
    accounts.extend(
        document
            .parties
            .iter()
            .copied()
            .filter(|p| *p != ctx.signer),
    );
    ctx.put(&StateKey::Document(op.id.clone()), &document);
    ctx.emit(
        "document.amended",
        accounts,
        vec![
            ("document", op.id.to_string()),
            ("version", version.to_string()),
            ("hash", op.hash.to_hex()),
        ],
    );
    Ok(())
}

/// Records the signature of every party that signed the transaction (so both hands of a
/// two-party rule can sign in one transaction); at least one signer must be a party.
pub(crate) fn sign(ctx: &mut TxContext<'_, '_>, op: &SignDocument) -> Result<(), ExecError> {
    let mut document = load(ctx, &op.id)?;
    let parties: BTreeSet<_> = document.parties.iter().copied().collect();
    let signing: Vec<_> = ctx
        .signers
        .iter()
        .copied()
        .filter(|s| parties.contains(s))
        .collect();
    if signing.is_empty() {
        return Err(ExecError::tx(
            ErrorCode::Unauthorized,
            format!("no signer is a party of {}", op.id),
        ));
    }
    let required = usize::from(document.required_signatures);
    let index = (op.version as usize)
        .checked_sub(1)
        .filter(|i| *i < document.versions.len())
        .ok_or_else(|| {
            ExecError::tx(
                ErrorCode::NotFound,
                format!("document {} has no version {}", op.id, op.version),
            )
        })?;
    let latest = document.versions.len() - 1;
    let version = &mut document.versions[index];
    if index != latest {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            format!("version {} was superseded", op.version),
        ));
    }
    if version.hash != op.hash {
        return Err(ExecError::tx(
            ErrorCode::InvalidArgument,
            "the hash does not match this version",
        ));
    }
    let before = version.signatures.len();
    for party in &signing {
        if version.signatures.iter().any(|(p, _)| p == party) {
            return Err(ExecError::tx(
                ErrorCode::AlreadyExists,
                format!("{party} already signed version {}", op.version),
            ));
        }
        version.signatures.push((*party, ctx.height));
    }
    let after = version.signatures.len();
    ctx.put(&StateKey::Document(op.id.clone()), &document);
    ctx.emit(
        "document.signed",
        signing,
        vec![
            ("document", op.id.to_string()),
            ("version", op.version.to_string()),
        ],
    );
    if before < required && after >= required {
        let parties = document.parties.clone();
        ctx.emit(
            "document.completed",
            parties,
            vec![
                ("document", op.id.to_string()),
                ("version", op.version.to_string()),
            ],
        );
    }
    Ok(())
}
