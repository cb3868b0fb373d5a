//! Issuing a credential.

use sd_jwt_payload::{RequiredKeyBinding, SdJwtBuilder};
use serde_json::{Map, Value, json};
use weft_crypto::Keypair;
use weft_types::AccountId;

use super::{
    EdDsaSigner, MAX_DISCLOSURES, MAX_REFERENCE_BYTES, MAX_TYPES, STATUS_ENTRY_TYPE, Sha256Hasher,
    StatusEntry, TYP_VC_SD_JWT, VC_CONTEXT_V2, format_time, ready,
};
use crate::{
    did::{Did, DidUrl},
    jose::{ALG_EDDSA, JoseError},
    keys::ed25519_jwk,
    record::{DidError, DidRecord, Relationship, usable_key},
};

/// Who may present the credential with a key-binding JWT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HolderBinding {
    /// Anyone holding it may present it (a bearer credential).
    None,
    /// Any current authentication key of the subject DID; survives key rotation.
    SubjectDid,
    /// Exactly this key.
    Key(AccountId),
}

/// Everything an issuer decides about one credential.
#[derive(Clone, Debug)]
pub struct CredentialDraft {
    /// The credential's `id`, if it has one (a URL or `urn:uuid:`).
    pub id: Option<String>,
    /// The issuer's DID and the assertion key that signs.
    pub issuer: DidUrl,
    /// The subject (`credentialSubject.id`).
    pub subject: Did,
    /// Types besides `VerifiableCredential`, e.g. `["IdentityCredential"]`.
    pub types: Vec<String>,
    /// `credentialSubject` members other than `id`.
    pub claims: Map<String, Value>,
    /// JSON pointers, relative to `credentialSubject`, of claims the holder may withhold,
    /// e.g. `/birthDate` or `/address/locality`.
    pub disclosable: Vec<String>,
    /// Unix seconds from which the credential is valid.
    pub valid_from: i64,
    /// Unix seconds after which it is not.
    pub valid_until: Option<i64>,
    /// The status bit that can revoke (or suspend) it.
    pub status: StatusEntry,
    /// Holder binding.
    pub holder_binding: HolderBinding,
    /// Unix seconds of issuance (`iat`).
    pub issued_at: i64,
}

/// Why a credential could not be issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueError {
    /// The issuer record is not the draft's issuer DID.
    #[error("the issuer record is for {record}, the draft names {draft}")]
    IssuerMismatch { record: Did, draft: Did },
    /// The signing key is not current, or the issuer is deactivated.
    #[error(transparent)]
    Did(#[from] DidError),
    /// The keypair is not the key the DID record lists under that id.
    #[error("the signing key is not the key listed as {0}")]
    KeyMismatch(DidUrl),
    /// A type is empty, too long, repeated, or there are too many.
    #[error("invalid credential types: {0}")]
    InvalidTypes(String),
    /// `claims` names `id` (the subject's id is set from `subject`).
    #[error("claims must not contain \"id\"; it is the subject DID")]
    ReservedClaim,
    /// A disclosable pointer names nothing, or names the subject id.
    #[error("cannot make {0:?} selectively disclosable")]
    BadPointer(String),
    /// Too many disclosable claims.
    #[error("at most {MAX_DISCLOSURES} disclosable claims")]
    TooManyDisclosures,
    /// Dates out of range or `validUntil` before `validFrom`.
    #[error("invalid validity period: {0}")]
    InvalidPeriod(String),
    /// The status reference is not `weft://` or `https://`.
    #[error("invalid statusListCredential {0:?}")]
    InvalidStatus(String),
    /// The id is too long or not printable.
    #[error("invalid credential id")]
    InvalidId,
    /// The holder key is not a usable Ed25519 key.
    #[error("holder key {0} is not a usable Ed25519 key")]
    InvalidHolderKey(AccountId),
    /// Signing failed.
    #[error(transparent)]
    Jose(#[from] JoseError),
    /// The SD-JWT library refused the payload.
    #[error("SD-JWT: {0}")]
    SdJwt(String),
}

fn check_types(types: &[String]) -> Result<(), IssueError> {
    if types.len() > MAX_TYPES {
        return Err(IssueError::InvalidTypes(format!("at most {MAX_TYPES}")));
    }
    let mut seen = std::collections::BTreeSet::new();
    for t in types {
        if t.is_empty()
            || t.len() > 128
            || t == "VerifiableCredential"
            || t.chars().any(|c| c.is_whitespace() || c.is_control())
            || !seen.insert(t)
        {
            return Err(IssueError::InvalidTypes(format!("{t:?}")));
        }
    }
    Ok(())
}

/// Issues `draft` as a `vc+sd-jwt` credential, signed by `keypair`, which must be the current
/// assertion key `draft.issuer` names in `issuer_record`. Returns the compact SD-JWT with
/// every disclosure (`<jwt>~<d1>~...~<dn>~`); the holder keeps it and presents subsets.
///
/// Checking the key against the record here means an issuer cannot produce a credential
/// that no verifier would accept.
pub fn issue(
    draft: &CredentialDraft,
    issuer_record: &DidRecord,
    keypair: &Keypair,
) -> Result<String, IssueError> {
    if issuer_record.did() != draft.issuer.did() {
        return Err(IssueError::IssuerMismatch {
            record: issuer_record.did().clone(),
            draft: draft.issuer.did().clone(),
        });
    }
    let method = issuer_record.current_key(draft.issuer.key(), Relationship::AssertionMethod)?;
    if method.public_key != keypair.account() {
        return Err(IssueError::KeyMismatch(draft.issuer.clone()));
    }
    check_types(&draft.types)?;
    if draft.claims.contains_key("id") {
        return Err(IssueError::ReservedClaim);
    }
    if draft.disclosable.len() > MAX_DISCLOSURES {
        return Err(IssueError::TooManyDisclosures);
    }
    if !StatusEntry::reference_ok(&draft.status.list) {
        return Err(IssueError::InvalidStatus(draft.status.list.clone()));
    }
    if let Some(id) = &draft.id
        && (id.is_empty()
            || id.len() > MAX_REFERENCE_BYTES
            || id.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        return Err(IssueError::InvalidId);
    }
    let valid_from = format_time(draft.valid_from)
        .ok_or_else(|| IssueError::InvalidPeriod("validFrom out of range".into()))?;
    let valid_until = match draft.valid_until {
        Some(until) if until < draft.valid_from => {
            return Err(IssueError::InvalidPeriod(
                "validUntil precedes validFrom".into(),
            ));
        }
        Some(until) => Some(
            format_time(until)
                .ok_or_else(|| IssueError::InvalidPeriod("validUntil out of range".into()))?,
        ),
        None => None,
    };

    let mut subject = Map::new();
    subject.insert("id".into(), Value::String(draft.subject.to_string()));
    subject.extend(draft.claims.clone());
    let mut types = vec![Value::String("VerifiableCredential".into())];
    types.extend(draft.types.iter().cloned().map(Value::String));
    let issuer = draft.issuer.did().to_string();

    let mut vc = Map::new();
    vc.insert("@context".into(), json!([VC_CONTEXT_V2]));
    if let Some(id) = &draft.id {
        vc.insert("id".into(), Value::String(id.clone()));
    }
    vc.insert("type".into(), Value::Array(types));
    vc.insert("issuer".into(), Value::String(issuer));
    vc.insert("validFrom".into(), Value::String(valid_from));
    if let Some(until) = valid_until {
        vc.insert("validUntil".into(), Value::String(until));
    }
    vc.insert("credentialSubject".into(), Value::Object(subject));
    vc.insert(
        "credentialStatus".into(),
        json!({
            "id": format!("{}#{}", draft.status.list, draft.status.index),
            "type": STATUS_ENTRY_TYPE,
            "statusPurpose": draft.status.purpose.as_str(),
            // The spec writes the index as a decimal string.
            "statusListIndex": draft.status.index.to_string(),
            "statusListCredential": draft.status.list,
        }),
    );
    vc.insert("iat".into(), Value::from(draft.issued_at));

    let sd = |e: sd_jwt_payload::Error| IssueError::SdJwt(e.to_string());
    let mut builder = SdJwtBuilder::new_with_hasher(Value::Object(vc), Sha256Hasher).map_err(sd)?;
    // Children before parents: concealing a parent first would move the child into a
    // disclosure where its pointer no longer resolves.
    let mut pointers = draft.disclosable.clone();
    pointers.sort_by_key(|p| std::cmp::Reverse(p.matches('/').count()));
    for pointer in &pointers {
        if !pointer.starts_with('/') || pointer == "/id" {
            return Err(IssueError::BadPointer(pointer.clone()));
        }
        builder = builder
            .make_concealable(&format!("/credentialSubject{pointer}"))
            .map_err(|_| IssueError::BadPointer(pointer.clone()))?;
    }
    builder = builder
        .header("typ", TYP_VC_SD_JWT)
        .header("cty", "vc")
        .header("kid", draft.issuer.to_string());
    builder = match &draft.holder_binding {
        HolderBinding::None => builder,
        HolderBinding::SubjectDid => {
            builder.require_key_binding(RequiredKeyBinding::Kid(draft.subject.to_string()))
        }
        HolderBinding::Key(key) => {
            if !usable_key(key) {
                return Err(IssueError::InvalidHolderKey(*key));
            }
            builder.require_key_binding(RequiredKeyBinding::Jwk(ed25519_jwk(key)))
        }
    };
    let sd_jwt = ready(builder.finish(&EdDsaSigner(keypair), ALG_EDDSA))
        .ok_or_else(|| IssueError::SdJwt("the signer did not complete".into()))?
        .map_err(sd)?;
    Ok(sd_jwt.presentation())
}
