//! W3C Verifiable Credentials (Data Model 2.0) secured as SD-JWT (`vc+sd-jwt`).
//!
//! The profile, after W3C "Securing Verifiable Credentials using JOSE and COSE" and
//! RFC 9901 (SD-JWT):
//!
//! - header `{"typ": "vc+sd-jwt", "cty": "vc", "alg": "EdDSA", "kid": "<issuer DID URL>"}`;
//! - payload = the credential itself (`@context`, `type`, `issuer`, `validFrom`,
//!   `validUntil`, `credentialSubject`, `credentialStatus`) plus `iat`, `_sd_alg` and, when
//!   the credential is bound to a holder, `cnf`;
//! - only members of `credentialSubject` (other than its `id`) may be selectively disclosable.
//!   Everything a verifier needs to decide validity (issuer, dates, status, subject) stays in
//!   the clear, so a holder cannot hide an expiry date or a status entry by withholding a
//!   disclosure; [`verify`](Verifier::verify) refuses credentials that conceal them.
//! - holder binding: `cnf: {"kid": "<subject DID>"}` means "any current authentication key of
//!   the subject DID", so the credential survives the holder rotating keys; `cnf: {"jwk":
//!   ...}` pins one key.
//!
//! [`issue`] makes the credential, [`present`] lets the holder choose disclosures and add a
//! key-binding JWT, and [`Verifier::verify`] checks everything offline.

mod issue;
mod present;
mod verify;

use std::{
    future::Future,
    pin::pin,
    task::{Context, Poll, Waker},
};

use sd_jwt_payload::{JsonObject, JwsSigner};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use weft_crypto::Keypair;

pub use issue::{CredentialDraft, HolderBinding, IssueError, issue};
pub use present::{KeyBindingParams, PresentError, present};
pub use verify::{ExpectedKeyBinding, VerifiedCredential, Verifier, VerifyError, VerifyOptions};

use crate::{jose::JoseError, status_list::StatusPurpose};

pub use crate::VC_CONTEXT_V2;
/// The JOSE `typ` of an SD-JWT-secured credential.
pub const TYP_VC_SD_JWT: &str = "vc+sd-jwt";
/// The JOSE `typ` of a key-binding JWT.
pub const TYP_KB_JWT: &str = "kb+jwt";
/// The status entry type of W3C Bitstring Status List.
pub const STATUS_ENTRY_TYPE: &str = "BitstringStatusListEntry";
/// Largest presentation accepted for verification, in bytes.
pub const MAX_PRESENTATION_BYTES: usize = 64 * 1024;
/// Most disclosures in one credential.
pub const MAX_DISCLOSURES: usize = 128;
/// Most extra credential types.
pub const MAX_TYPES: usize = 8;
/// Longest credential type, status reference or credential id, in bytes.
pub const MAX_REFERENCE_BYTES: usize = 512;

/// A `BitstringStatusListEntry`: where the credential's status bit lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEntry {
    /// What the bit means.
    pub purpose: StatusPurpose,
    /// `statusListCredential`: a `weft://` reference or an `https://` URL.
    pub list: String,
    /// `statusListIndex`.
    pub index: u64,
}

impl StatusEntry {
    /// Whether `list` is an acceptable reference: `weft://` or `https://`, bounded, printable.
    pub(crate) fn reference_ok(list: &str) -> bool {
        (list.starts_with("weft://") || list.starts_with("https://"))
            && list.len() <= MAX_REFERENCE_BYTES
            && !list.chars().any(|c| c.is_whitespace() || c.is_control())
    }
}

/// SHA-256 for SD-JWT digests (`_sd_alg: "sha-256"`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Sha256Hasher;

impl sd_jwt_payload::Hasher for Sha256Hasher {
    fn digest(&self, input: &[u8]) -> Vec<u8> {
        sha2::Sha256::digest(input).to_vec()
    }

    fn alg_name(&self) -> &str {
        "sha-256"
    }
}

/// Signs the JWTs `sd-jwt-payload` builds with a Weft key, through [`crate::jose`].
pub(crate) struct EdDsaSigner<'a>(pub &'a Keypair);

#[async_trait::async_trait]
impl JwsSigner for EdDsaSigner<'_> {
    type Error = JoseError;

    async fn sign(&self, header: &JsonObject, payload: &JsonObject) -> Result<Vec<u8>, JoseError> {
        crate::jose::sign_compact(header, payload, self.0).map(String::into_bytes)
    }
}

/// Runs a future that never waits. `sd-jwt-payload` makes signing async so that remote
/// signers fit; ours signs in place, so the future is ready on its first poll and no
/// executor is needed. `None` would mean it did wait, which our signer never does.
pub(crate) fn ready<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// Unix seconds as an XML Schema `dateTimeStamp` in UTC (`2026-01-01T00:00:00Z`).
pub fn format_time(unix: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

/// Parses an RFC 3339 date-time with an explicit offset into Unix seconds.
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    if text.len() > 64 {
        return None;
    }
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_in_utc() {
        assert_eq!(format_time(0).unwrap(), "1970-01-01T00:00:00Z");
        let t = 1_798_761_600; // 2027-01-01T00:00:00Z
        assert_eq!(parse_time(&format_time(t).unwrap()), Some(t));
        assert_eq!(parse_time("2027-01-01T01:00:00+01:00"), Some(t));
        assert_eq!(
            parse_time("2027-01-01"),
            None,
            "a date without time is refused"
        );
        assert_eq!(
            parse_time("2027-01-01T00:00:00"),
            None,
            "an offset is required"
        );
    }

    #[test]
    fn status_references_are_checked() {
        assert!(StatusEntry::reference_ok("weft://weft-test/status/a"));
        assert!(StatusEntry::reference_ok("https://issuer.example/status/1"));
        assert!(!StatusEntry::reference_ok("http://issuer.example/status/1"));
        assert!(!StatusEntry::reference_ok("weft://a b"));
        assert!(!StatusEntry::reference_ok(&format!(
            "weft://{}",
            "a".repeat(600)
        )));
    }
}
