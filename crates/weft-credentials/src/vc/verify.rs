//! Verifying a presentation offline.
//!
//! Order of checks (each failure is its own [`VerifyError`]): size and shape; header
//! (`typ`, `alg`, `kid`); the issuer's record (known, live, the key current for
//! assertionMethod); the signature; that nothing a verifier needs is concealed; trust in the
//! issuer; the disclosures' digests; the credential's structure; the validity period; every
//! status entry (a revoked credential never verifies, and an unreachable or missing status
//! list refuses rather than passes); the key binding.

use std::collections::BTreeSet;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use sd_jwt_payload::SdJwt;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::Digest as _;
use weft_types::{AccountId, ErrorCode};

use super::{
    MAX_DISCLOSURES, MAX_PRESENTATION_BYTES, STATUS_ENTRY_TYPE, Sha256Hasher, StatusEntry,
    TYP_KB_JWT, TYP_VC_SD_JWT, VC_CONTEXT_V2, parse_time,
};
use crate::{
    did::{Did, DidUrl, KeyId},
    jose::{JoseError, verify_compact},
    keys::key_from_jwk,
    record::{DidError, Relationship},
    resolve::{DidResolver, IssuerTrust, ResolveError, StatusListLookup},
    status_list::{StatusListError, StatusPurpose},
};

/// What the verifier expects in the key-binding JWT.
#[derive(Clone, Copy, Debug)]
pub struct ExpectedKeyBinding<'a> {
    /// The verifier's own identifier (`aud`).
    pub audience: &'a str,
    /// The challenge the verifier handed out (`nonce`).
    pub nonce: &'a str,
}

/// The verifier's policy for one verification.
#[derive(Clone, Copy, Debug)]
pub struct VerifyOptions<'a> {
    /// Unix seconds "now": validity and key-binding freshness are judged at this time.
    pub now: i64,
    /// `Some`: a key-binding JWT for this audience and nonce is required.
    pub key_binding: Option<ExpectedKeyBinding<'a>>,
    /// Refuse credentials without a status entry (default true): without one, revocation
    /// could never be seen.
    pub require_status: bool,
    /// Oldest acceptable key-binding JWT, in seconds before `now`.
    pub max_key_binding_age: i64,
    /// How far in the future a key-binding `iat` may be, in seconds.
    pub max_clock_skew: i64,
}

impl<'a> VerifyOptions<'a> {
    /// Defaults at time `now`: no key binding required, status required, key-binding JWTs at
    /// most 5 minutes old and 1 minute ahead.
    pub fn at(now: i64) -> Self {
        Self {
            now,
            key_binding: None,
            require_status: true,
            max_key_binding_age: 300,
            max_clock_skew: 60,
        }
    }

    /// Requires a key-binding JWT for `audience` and `nonce`.
    pub fn with_key_binding(mut self, audience: &'a str, nonce: &'a str) -> Self {
        self.key_binding = Some(ExpectedKeyBinding { audience, nonce });
        self
    }
}

/// What a successful verification established.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedCredential {
    /// The issuer DID.
    pub issuer: Did,
    /// The issuer's key that signed (current at verification time).
    pub issuer_key: KeyId,
    /// The subject DID.
    pub subject: Did,
    /// Every type, `VerifiableCredential` included.
    pub types: Vec<String>,
    /// The disclosed `credentialSubject` members other than `id`.
    pub claims: Map<String, Value>,
    /// Unix seconds.
    pub valid_from: i64,
    /// Unix seconds.
    pub valid_until: Option<i64>,
    /// The status entries checked.
    pub status: Vec<StatusEntry>,
    /// Whether a key-binding JWT proved the presenter holds the bound key.
    pub holder_bound: bool,
    /// The credential as disclosed (JOSE-only members `iat`, `cnf`, `_sd_alg` removed).
    pub credential: Value,
}

/// Why a presentation does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Larger than [`MAX_PRESENTATION_BYTES`] or more than [`MAX_DISCLOSURES`] disclosures.
    #[error("presentation too large")]
    Oversized,
    /// Not an SD-JWT, or a required member is missing or of the wrong shape.
    #[error("malformed credential: {0}")]
    Malformed(String),
    /// The JOSE `typ` is not `vc+sd-jwt`.
    #[error("unsupported typ {0:?}; expected vc+sd-jwt")]
    UnsupportedType(String),
    /// The JOSE `alg` is not EdDSA.
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// `kid` is missing or is not a `did:weft` key URL.
    #[error("kid must be a did:weft key URL: {0}")]
    BadKeyId(String),
    /// The payload's `issuer` is not the DID of the signing key.
    #[error("issuer {issuer:?} is not the DID of the signing key {kid}")]
    IssuerMismatch { issuer: String, kid: DidUrl },
    /// A lookup failed; nothing was decided.
    #[error(transparent)]
    Resolver(#[from] ResolveError),
    /// The issuer DID does not exist.
    #[error("unknown issuer {0}")]
    UnknownIssuer(Did),
    /// The issuer DID is deactivated.
    #[error("issuer {0} is deactivated")]
    IssuerDeactivated(Did),
    /// The signing key is not (or no longer) a current assertion key of the issuer.
    #[error("{0} is not a current assertion key of the issuer")]
    KeyNotCurrent(DidUrl),
    /// The issuer's signature does not verify.
    #[error("the issuer signature does not verify")]
    BadSignature,
    /// The verifier does not trust the issuer for these credential types.
    #[error("issuer {0} is not trusted for this credential")]
    UntrustedIssuer(Did),
    /// A member that must be in the clear is selectively disclosable.
    #[error("{0} must not be selectively disclosable")]
    ConcealedRequiredClaim(String),
    /// A disclosure does not match a digest the issuer signed, repeats, or is invalid.
    #[error("disclosures do not match the signed digests: {0}")]
    TamperedDisclosure(String),
    /// `validFrom` is after `now`.
    #[error("not valid before {valid_from} (now {now})")]
    NotYetValid { valid_from: i64, now: i64 },
    /// `validUntil` is before `now`.
    #[error("expired at {valid_until} (now {now})")]
    Expired { valid_until: i64, now: i64 },
    /// No status entry, and the policy requires one.
    #[error("the credential has no status entry")]
    MissingStatus,
    /// A status entry of a type or purpose this verifier does not understand.
    #[error("unsupported status entry: {0}")]
    UnsupportedStatus(String),
    /// The status list does not exist.
    #[error("status list {0:?} not found")]
    StatusListNotFound(String),
    /// The list publishes another purpose than the entry names.
    #[error("status list {list:?} is for {found:?}, the entry says {expected:?}")]
    StatusPurposeMismatch {
        list: String,
        expected: StatusPurpose,
        found: StatusPurpose,
    },
    /// The index is past the end of the list.
    #[error("status index out of range: {0}")]
    StatusIndexOutOfRange(StatusListError),
    /// The revocation bit is set.
    #[error("the credential is revoked ({list:?} index {index})")]
    Revoked { list: String, index: u64 },
    /// The suspension bit is set.
    #[error("the credential is suspended ({list:?} index {index})")]
    Suspended { list: String, index: u64 },
    /// A key-binding JWT is required and absent.
    #[error("a key-binding JWT is required")]
    MissingKeyBinding,
    /// Key binding is required but the credential binds no holder.
    #[error("key binding is required but the credential binds no holder")]
    NoHolderBinding,
    /// The key-binding JWT is not valid JSON/JOSE or its `cnf` cannot be used.
    #[error("malformed key-binding JWT: {0}")]
    KeyBindingMalformed(String),
    /// The holder DID does not exist.
    #[error("unknown holder {0}")]
    UnknownHolder(Did),
    /// The holder DID is deactivated.
    #[error("holder {0} is deactivated")]
    HolderDeactivated(Did),
    /// The key-binding key is not a current authentication key of the holder DID.
    #[error("{0} is not a current authentication key of the holder")]
    HolderKeyNotCurrent(String),
    /// The key-binding signature does not verify.
    #[error("the key-binding signature does not verify")]
    KeyBindingSignature,
    /// `sd_hash` does not cover this presentation (the disclosures were changed after
    /// binding, or the binding was lifted from another presentation).
    #[error("the key-binding JWT does not cover this presentation")]
    KeyBindingMismatch,
    /// `iat` is too old or in the future.
    #[error("key-binding JWT issued at {iat}, outside the accepted window around {now}")]
    KeyBindingStale { iat: i64, now: i64 },
    /// `aud` is not the verifier.
    #[error("key-binding JWT is for another audience")]
    WrongAudience,
    /// `nonce` is not the verifier's challenge.
    #[error("key-binding JWT answers another nonce")]
    WrongNonce,
}

impl VerifyError {
    /// A stable snake_case name for the refusal (`revoked`, `untrusted_issuer`, ...), finer
    /// than [`code`](Self::code): what an API answers so that clients can tell refusals
    /// apart.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Oversized => "oversized",
            Self::Malformed(_) => "malformed",
            Self::UnsupportedType(_) => "unsupported_type",
            Self::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Self::BadKeyId(_) => "bad_key_id",
            Self::IssuerMismatch { .. } => "issuer_mismatch",
            Self::Resolver(_) => "lookup_failed",
            Self::UnknownIssuer(_) => "unknown_issuer",
            Self::IssuerDeactivated(_) => "issuer_deactivated",
            Self::KeyNotCurrent(_) => "issuer_key_not_current",
            Self::BadSignature => "bad_signature",
            Self::UntrustedIssuer(_) => "untrusted_issuer",
            Self::ConcealedRequiredClaim(_) => "concealed_required_claim",
            Self::TamperedDisclosure(_) => "tampered_disclosure",
            Self::NotYetValid { .. } => "not_yet_valid",
            Self::Expired { .. } => "expired",
            Self::MissingStatus => "missing_status",
            Self::UnsupportedStatus(_) => "unsupported_status",
            Self::StatusListNotFound(_) => "status_list_not_found",
            Self::StatusPurposeMismatch { .. } => "status_purpose_mismatch",
            Self::StatusIndexOutOfRange(_) => "status_index_out_of_range",
            Self::Revoked { .. } => "revoked",
            Self::Suspended { .. } => "suspended",
            Self::MissingKeyBinding => "missing_key_binding",
            Self::NoHolderBinding => "no_holder_binding",
            Self::KeyBindingMalformed(_) => "key_binding_malformed",
            Self::UnknownHolder(_) => "unknown_holder",
            Self::HolderDeactivated(_) => "holder_deactivated",
            Self::HolderKeyNotCurrent(_) => "holder_key_not_current",
            Self::KeyBindingSignature => "key_binding_signature",
            Self::KeyBindingMismatch => "key_binding_mismatch",
            Self::KeyBindingStale { .. } => "key_binding_stale",
            Self::WrongAudience => "wrong_audience",
            Self::WrongNonce => "wrong_nonce",
        }
    }

    /// The error code an API reports for this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Oversized => ErrorCode::Oversized,
            Self::Malformed(_)
            | Self::UnsupportedType(_)
            | Self::BadKeyId(_)
            | Self::KeyBindingMalformed(_)
            | Self::TamperedDisclosure(_) => ErrorCode::Malformed,
            Self::BadSignature | Self::KeyBindingSignature | Self::KeyBindingMismatch => {
                ErrorCode::BadSignature
            }
            Self::MissingKeyBinding => ErrorCode::MissingSignature,
            Self::UnknownIssuer(_) | Self::UnknownHolder(_) | Self::StatusListNotFound(_) => {
                ErrorCode::NotFound
            }
            Self::Resolver(_) => ErrorCode::Internal,
            Self::KeyNotCurrent(_)
            | Self::HolderKeyNotCurrent(_)
            | Self::UntrustedIssuer(_)
            | Self::IssuerDeactivated(_)
            | Self::HolderDeactivated(_)
            | Self::Revoked { .. }
            | Self::Suspended { .. } => ErrorCode::Unauthorized,
            Self::UnsupportedAlgorithm(_)
            | Self::IssuerMismatch { .. }
            | Self::ConcealedRequiredClaim(_)
            | Self::NotYetValid { .. }
            | Self::Expired { .. }
            | Self::MissingStatus
            | Self::UnsupportedStatus(_)
            | Self::StatusPurposeMismatch { .. }
            | Self::StatusIndexOutOfRange(_)
            | Self::NoHolderBinding
            | Self::KeyBindingStale { .. }
            | Self::WrongAudience
            | Self::WrongNonce => ErrorCode::InvalidArgument,
        }
    }
}

/// The verifier's view of the world: DID records, status lists and whom it trusts.
#[derive(Clone, Copy)]
pub struct Verifier<'a> {
    /// DID → current record.
    pub resolver: &'a dyn DidResolver,
    /// Status list reference → current bits.
    pub status_lists: &'a dyn StatusListLookup,
    /// Trusted issuers.
    pub trust: &'a dyn IssuerTrust,
}

impl std::fmt::Debug for Verifier<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verifier")
    }
}

#[derive(Deserialize)]
struct KeyBindingClaims {
    iat: i64,
    aud: String,
    nonce: String,
    sd_hash: String,
}

fn malformed(what: impl Into<String>) -> VerifyError {
    VerifyError::Malformed(what.into())
}

fn jose_issuer_error(e: JoseError) -> VerifyError {
    match e {
        JoseError::BadSignature | JoseError::BadKey(_) => VerifyError::BadSignature,
        JoseError::Algorithm(a) => VerifyError::UnsupportedAlgorithm(a),
        JoseError::Malformed(m) | JoseError::Signing(m) => VerifyError::Malformed(m),
    }
}

/// Removes what remains of undisclosed claims: `_sd` digest lists and `{"...": digest}`
/// array elements.
fn strip_undisclosed(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("_sd");
            map.values_mut().for_each(strip_undisclosed);
        }
        Value::Array(items) => {
            items.retain(|item| {
                !item
                    .as_object()
                    .is_some_and(|o| o.len() == 1 && o.contains_key("..."))
            });
            items.iter_mut().for_each(strip_undisclosed);
        }
        _ => {}
    }
}

fn parse_index(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.len() <= 20
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

fn status_entry(entry: &Value) -> Result<StatusEntry, VerifyError> {
    let field = |name: &str| entry.get(name).and_then(Value::as_str);
    let kind = field("type").unwrap_or_default();
    if kind != STATUS_ENTRY_TYPE {
        return Err(VerifyError::UnsupportedStatus(format!("type {kind:?}")));
    }
    let purpose = match field("statusPurpose") {
        Some("revocation") => StatusPurpose::Revocation,
        Some("suspension") => StatusPurpose::Suspension,
        other => return Err(VerifyError::UnsupportedStatus(format!("purpose {other:?}"))),
    };
    let index = field("statusListIndex")
        .and_then(parse_index)
        .ok_or_else(|| malformed("statusListIndex must be a decimal string"))?;
    let list = field("statusListCredential")
        .filter(|l| StatusEntry::reference_ok(l))
        .ok_or_else(|| malformed("statusListCredential must be a weft:// or https:// reference"))?;
    Ok(StatusEntry {
        purpose,
        list: list.to_string(),
        index,
    })
}

impl Verifier<'_> {
    /// Verifies `presentation` (`<jwt>~<disclosures>~[<kb-jwt>]`) under `options`.
    pub fn verify(
        &self,
        presentation: &str,
        options: &VerifyOptions<'_>,
    ) -> Result<VerifiedCredential, VerifyError> {
        if presentation.len() > MAX_PRESENTATION_BYTES {
            return Err(VerifyError::Oversized);
        }
        // Everything up to the last '~' is what a key-binding JWT's sd_hash covers.
        let split = presentation
            .rfind('~')
            .ok_or_else(|| malformed("not an SD-JWT (no '~')"))?;
        let (sd_part, kb_jwt) = (&presentation[..=split], &presentation[split + 1..]);
        let segments: Vec<&str> = sd_part.split('~').collect();
        let issuer_jwt = segments[0];
        let disclosures = &segments[1..segments.len() - 1];
        if disclosures.len() > MAX_DISCLOSURES {
            return Err(VerifyError::Oversized);
        }
        if disclosures.iter().any(|d| d.is_empty()) {
            return Err(malformed("empty disclosure"));
        }
        let mut seen = BTreeSet::new();
        if !disclosures.iter().all(|d| seen.insert(*d)) {
            return Err(VerifyError::TamperedDisclosure(
                "a disclosure repeats".into(),
            ));
        }
        let sd_jwt = SdJwt::parse(sd_part).map_err(|e| match e {
            sd_jwt_payload::Error::InvalidDisclosure(m) => VerifyError::TamperedDisclosure(m),
            other => malformed(other.to_string()),
        })?;

        // Header.
        let header = sd_jwt.headers();
        let typ = header
            .get("typ")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if typ != TYP_VC_SD_JWT {
            return Err(VerifyError::UnsupportedType(typ.to_string()));
        }
        let kid: DidUrl = header
            .get("kid")
            .and_then(Value::as_str)
            .ok_or_else(|| VerifyError::BadKeyId("missing".into()))?
            .parse()
            .map_err(|e: crate::did::DidParseError| VerifyError::BadKeyId(e.to_string()))?;

        // Issuer record and key.
        let issuer = kid.did().clone();
        let record = self
            .resolver
            .resolve(&issuer)?
            .ok_or_else(|| VerifyError::UnknownIssuer(issuer.clone()))?;
        if record.did() != &issuer {
            return Err(VerifyError::Resolver(ResolveError(format!(
                "asked for {issuer}, got the record of {}",
                record.did()
            ))));
        }
        let method = record
            .current_key(kid.key(), Relationship::AssertionMethod)
            .map_err(|e| match e {
                DidError::Deactivated(did) => VerifyError::IssuerDeactivated(did),
                _ => VerifyError::KeyNotCurrent(kid.clone()),
            })?;
        let (_, payload): (_, Map<String, Value>) =
            verify_compact(issuer_jwt, &method.public_key).map_err(jose_issuer_error)?;

        // What must be in the clear.
        if payload
            .get("_sd")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            return Err(VerifyError::ConcealedRequiredClaim(
                "a top-level credential member".into(),
            ));
        }
        match payload.get("_sd_alg") {
            None => {}
            Some(Value::String(alg)) if alg == "sha-256" => {}
            Some(other) => return Err(malformed(format!("unsupported _sd_alg {other}"))),
        }
        let issuer_claim = payload
            .get("issuer")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if issuer_claim != issuer.to_string() {
            return Err(VerifyError::IssuerMismatch {
                issuer: issuer_claim.chars().take(120).collect(),
                kid,
            });
        }
        let subject_in_clear = payload
            .get("credentialSubject")
            .and_then(Value::as_object)
            .is_some_and(|s| s.get("id").is_some_and(Value::is_string));
        if !subject_in_clear {
            return Err(VerifyError::ConcealedRequiredClaim(
                "credentialSubject.id".into(),
            ));
        }
        let types: Vec<String> = payload
            .get("type")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed("type must be an array"))?
            .iter()
            .map(|t| t.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| malformed("type must hold strings"))?;
        if !types.iter().any(|t| t == "VerifiableCredential") {
            return Err(malformed("type must include VerifiableCredential"));
        }

        if !self.trust.is_trusted(&issuer, &types) {
            return Err(VerifyError::UntrustedIssuer(issuer));
        }

        // Disclosures.
        for disclosure in sd_jwt.disclosures() {
            if matches!(disclosure.claim_name.as_deref(), Some("_sd" | "...")) {
                return Err(VerifyError::TamperedDisclosure(
                    "a disclosure uses a reserved claim name".into(),
                ));
            }
        }
        let disclosed = sd_jwt
            .clone()
            .into_disclosed_object(&Sha256Hasher)
            .map_err(|e| VerifyError::TamperedDisclosure(e.to_string()))?;
        let mut credential = Value::Object(disclosed);
        strip_undisclosed(&mut credential);
        if let Value::Object(map) = &mut credential {
            for jose_only in ["iat", "cnf", "_sd_alg"] {
                map.remove(jose_only);
            }
        }

        // Structure and validity.
        let context_ok = credential
            .get("@context")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
            .and_then(Value::as_str)
            == Some(VC_CONTEXT_V2);
        if !context_ok {
            return Err(malformed(format!(
                "@context must start with {VC_CONTEXT_V2}"
            )));
        }
        let time = |name: &str| -> Result<Option<i64>, VerifyError> {
            match credential.get(name) {
                None => Ok(None),
                Some(v) => v
                    .as_str()
                    .and_then(parse_time)
                    .map(Some)
                    .ok_or_else(|| malformed(format!("{name} must be an RFC 3339 date-time"))),
            }
        };
        let valid_from = time("validFrom")?.ok_or_else(|| malformed("validFrom is required"))?;
        let valid_until = time("validUntil")?;
        if options.now < valid_from {
            return Err(VerifyError::NotYetValid {
                valid_from,
                now: options.now,
            });
        }
        if let Some(valid_until) = valid_until.filter(|u| options.now > *u) {
            return Err(VerifyError::Expired {
                valid_until,
                now: options.now,
            });
        }
        let mut claims = credential
            .get("credentialSubject")
            .and_then(Value::as_object)
            .cloned()
            .ok_or_else(|| malformed("credentialSubject must be an object"))?;
        let subject: Did = claims
            .remove("id")
            .and_then(|id| id.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| malformed("credentialSubject.id must be a did:weft DID"))?;

        // Status: read from the signed payload, which the checks above proved is in the clear.
        let entries: Vec<&Value> = match payload.get("credentialStatus") {
            None => Vec::new(),
            Some(Value::Array(items)) if !items.is_empty() => items.iter().collect(),
            Some(entry @ Value::Object(_)) => vec![entry],
            Some(_) => return Err(malformed("credentialStatus must be an object or array")),
        };
        if entries.is_empty() && options.require_status {
            return Err(VerifyError::MissingStatus);
        }
        let mut status = Vec::with_capacity(entries.len());
        for entry in entries {
            let entry = status_entry(entry)?;
            let snapshot = self
                .status_lists
                .status_list(&entry.list)?
                .ok_or_else(|| VerifyError::StatusListNotFound(entry.list.clone()))?;
            if snapshot.purpose != entry.purpose {
                return Err(VerifyError::StatusPurposeMismatch {
                    list: entry.list.clone(),
                    expected: entry.purpose,
                    found: snapshot.purpose,
                });
            }
            let set = snapshot
                .list
                .get(entry.index)
                .map_err(VerifyError::StatusIndexOutOfRange)?;
            if set {
                let (list, index) = (entry.list.clone(), entry.index);
                return Err(match entry.purpose {
                    StatusPurpose::Revocation => VerifyError::Revoked { list, index },
                    StatusPurpose::Suspension => VerifyError::Suspended { list, index },
                });
            }
            status.push(entry);
        }

        // Key binding.
        let cnf = payload.get("cnf");
        let holder_bound = match (kb_jwt.is_empty(), options.key_binding) {
            (_, Some(_)) if cnf.is_none() => return Err(VerifyError::NoHolderBinding),
            (true, Some(_)) => return Err(VerifyError::MissingKeyBinding),
            (true, None) => false,
            (false, expected) => {
                self.verify_key_binding(kb_jwt, cnf, sd_part, options, expected)?;
                true
            }
        };

        Ok(VerifiedCredential {
            issuer,
            issuer_key: kid.key(),
            subject,
            types,
            claims,
            valid_from,
            valid_until,
            status,
            holder_bound,
            credential,
        })
    }

    fn verify_key_binding(
        &self,
        kb_jwt: &str,
        cnf: Option<&Value>,
        sd_part: &str,
        options: &VerifyOptions<'_>,
        expected: Option<ExpectedKeyBinding<'_>>,
    ) -> Result<(), VerifyError> {
        let kb_malformed = |m: &str| VerifyError::KeyBindingMalformed(m.to_string());
        let cnf = cnf.ok_or_else(|| kb_malformed("the credential has no cnf"))?;
        let key: AccountId = if let Some(jwk) = cnf.get("jwk") {
            key_from_jwk(jwk).ok_or_else(|| kb_malformed("cnf.jwk is not an Ed25519 key"))?
        } else if let Some(holder) = cnf.get("kid").and_then(Value::as_str) {
            let holder: Did = holder
                .parse()
                .map_err(|_| kb_malformed("cnf.kid is not a did:weft DID"))?;
            let header = jsonwebtoken::decode_header(kb_jwt)
                .map_err(|e| VerifyError::KeyBindingMalformed(e.to_string()))?;
            let kid: DidUrl = header
                .kid
                .as_deref()
                .ok_or_else(|| kb_malformed("the key-binding JWT has no kid"))?
                .parse()
                .map_err(|_| kb_malformed("the key-binding kid is not a did:weft key URL"))?;
            if kid.did() != &holder {
                return Err(VerifyError::HolderKeyNotCurrent(kid.to_string()));
            }
            let record = self
                .resolver
                .resolve(&holder)?
                .ok_or_else(|| VerifyError::UnknownHolder(holder.clone()))?;
            if record.did() != &holder {
                return Err(VerifyError::Resolver(ResolveError(format!(
                    "asked for {holder}, got the record of {}",
                    record.did()
                ))));
            }
            record
                .current_key(kid.key(), Relationship::Authentication)
                .map_err(|e| match e {
                    DidError::Deactivated(did) => VerifyError::HolderDeactivated(did),
                    _ => VerifyError::HolderKeyNotCurrent(kid.to_string()),
                })?
                .public_key
        } else {
            return Err(kb_malformed("cnf has neither jwk nor kid"));
        };

        let (header, claims): (_, KeyBindingClaims) =
            verify_compact(kb_jwt, &key).map_err(|e| match e {
                JoseError::BadSignature | JoseError::BadKey(_) => VerifyError::KeyBindingSignature,
                JoseError::Algorithm(a) => VerifyError::UnsupportedAlgorithm(a),
                JoseError::Malformed(m) | JoseError::Signing(m) => {
                    VerifyError::KeyBindingMalformed(m)
                }
            })?;
        if header.typ.as_deref() != Some(TYP_KB_JWT) {
            return Err(kb_malformed("typ must be kb+jwt"));
        }
        let digest = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(sd_part.as_bytes()));
        if claims.sd_hash != digest {
            return Err(VerifyError::KeyBindingMismatch);
        }
        let too_old = claims.iat < options.now.saturating_sub(options.max_key_binding_age);
        let too_new = claims.iat > options.now.saturating_add(options.max_clock_skew);
        if too_old || too_new {
            return Err(VerifyError::KeyBindingStale {
                iat: claims.iat,
                now: options.now,
            });
        }
        if let Some(expected) = expected {
            if claims.aud != expected.audience {
                return Err(VerifyError::WrongAudience);
            }
            if claims.nonce != expected.nonce {
                return Err(VerifyError::WrongNonce);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn undisclosed_leftovers_are_removed() {
        let mut v = json!({
            "_sd": ["x"],
            "a": {"_sd": ["y"], "b": 1},
            "list": [{"...": "z"}, 2, {"c": [{"...": "w"}]}]
        });
        strip_undisclosed(&mut v);
        assert_eq!(v, json!({"a": {"b": 1}, "list": [2, {"c": []}]}));
    }

    #[test]
    fn status_indexes_are_canonical_decimal_strings() {
        assert_eq!(parse_index("0"), Some(0));
        assert_eq!(parse_index("94567"), Some(94_567));
        for bad in ["", "01", "-1", "1e3", " 1", "99999999999999999999999"] {
            assert_eq!(parse_index(bad), None, "{bad:?}");
        }
    }
}
