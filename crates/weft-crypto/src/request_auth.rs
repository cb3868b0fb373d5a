//! Authenticated API reads: a member signs each HTTP request with its account key, in the
//! shape of HTTP Message Signatures (RFC 9421) with the `ed25519` algorithm.
//!
//! The covered components are fixed — `("@method" "@path" "@query")` plus the `created`
//! time and the `keyid` (the account, hex) — so the server can rebuild the signature base
//! from the request alone. A request is a read (GET); writes are signed transactions and need
//! no request signature. The server bounds `created` against its clock (see
//! [`RequestAuthError::Stale`]) so a captured request cannot be replayed later.
//!
//! Headers: `Signature-Input: sig1=("@method" "@path" "@query");created=1700000000;keyid="<hex>";alg="ed25519"`
//! and `Signature: sig1=:<base64 signature>:`.

use base64::{Engine, engine::general_purpose::STANDARD};
use weft_types::{AccountId, SignatureBytes};

use crate::{Keypair, verify_signature};

/// The label of Weft's one signature in the headers.
const LABEL: &str = "sig1";
const COMPONENTS: &str = r#"("@method" "@path" "@query")"#;
const ALG: &str = "ed25519";
/// Longest accepted `Signature-Input` / `Signature` header value.
const MAX_HEADER: usize = 512;

/// Why a signed request was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestAuthError {
    #[error("Signature-Input and Signature must come together")]
    Incomplete,
    #[error("malformed Signature-Input: {0}")]
    MalformedInput(String),
    #[error("malformed Signature: {0}")]
    MalformedSignature(String),
    #[error("the request was signed at {created}, outside ±{window}s of the node's clock {now}")]
    Stale { created: u64, now: u64, window: u64 },
    #[error("the signature does not verify for account {0}")]
    BadSignature(AccountId),
}

/// Who signed a request, once verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestSigner {
    pub account: AccountId,
    pub created: u64,
}

fn signature_params(account: &AccountId, created: u64) -> String {
    format!(r#"{COMPONENTS};created={created};keyid="{account}";alg="{ALG}""#)
}

/// RFC 9421 §2.5: one line per covered component, then `@signature-params`. `@query` of a
/// request without a query is `?`.
fn signature_base(method: &str, path: &str, query: Option<&str>, params: &str) -> String {
    let query = query.unwrap_or("");
    format!(
        "\"@method\": {}\n\"@path\": {path}\n\"@query\": ?{query}\n\"@signature-params\": {params}",
        method.to_ascii_uppercase()
    )
}

/// The two header values (`Signature-Input`, `Signature`) that authenticate a request to
/// `path?query` by `key` at `created` (Unix seconds).
pub fn sign_request(
    key: &Keypair,
    method: &str,
    path: &str,
    query: Option<&str>,
    created: u64,
) -> (String, String) {
    let params = signature_params(&key.account(), created);
    let base = signature_base(method, path, query, &params);
    let signature = key.sign(base.as_bytes());
    (
        format!("{LABEL}={params}"),
        format!("{LABEL}=:{}:", STANDARD.encode(signature.0)),
    )
}

fn parse_input(header: &str) -> Result<(AccountId, u64), RequestAuthError> {
    let bad = |why: &str| RequestAuthError::MalformedInput(why.to_owned());
    if header.len() > MAX_HEADER {
        return Err(bad("too long"));
    }
    let rest = header
        .strip_prefix(LABEL)
        .and_then(|r| r.strip_prefix('='))
        .ok_or_else(|| bad("expected the label sig1"))?;
    let rest = rest
        .strip_prefix(COMPONENTS)
        .ok_or_else(|| bad(r#"the covered components must be ("@method" "@path" "@query")"#))?;
    let mut created = None;
    let mut keyid = None;
    let mut alg = None;
    for param in rest.split(';').skip(1) {
        let (name, value) = param
            .split_once('=')
            .ok_or_else(|| bad("parameter without value"))?;
        let slot = match name {
            "created" => &mut created,
            "keyid" => &mut keyid,
            "alg" => &mut alg,
            _ => return Err(bad(&format!("unexpected parameter {name:?}"))),
        };
        if slot.replace(value).is_some() {
            return Err(bad(&format!("parameter {name:?} given twice")));
        }
    }
    if !rest.is_empty() && !rest.starts_with(';') {
        return Err(bad("trailing text after the components"));
    }
    if alg != Some(r#""ed25519""#) {
        return Err(bad(r#"alg must be "ed25519""#));
    }
    let created = created
        .filter(|c| !c.is_empty() && c.len() <= 12 && c.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|c| c.parse::<u64>().ok())
        .ok_or_else(|| bad("created must be Unix seconds"))?;
    let account = keyid
        .and_then(|k| k.strip_prefix('"'))
        .and_then(|k| k.strip_suffix('"'))
        .and_then(|k| k.parse::<AccountId>().ok())
        .ok_or_else(|| bad("keyid must be the account's key in hex"))?;
    Ok((account, created))
}

fn parse_signature(header: &str) -> Result<SignatureBytes, RequestAuthError> {
    let bad = |why: &str| RequestAuthError::MalformedSignature(why.to_owned());
    if header.len() > MAX_HEADER {
        return Err(bad("too long"));
    }
    let encoded = header
        .strip_prefix(LABEL)
        .and_then(|r| r.strip_prefix("=:"))
        .and_then(|r| r.strip_suffix(':'))
        .ok_or_else(|| bad("expected sig1=:<base64>:"))?;
    let bytes = STANDARD.decode(encoded).map_err(|_| bad("not base64"))?;
    let bytes: [u8; 64] = bytes
        .try_into()
        .map_err(|_| bad("an Ed25519 signature is 64 bytes"))?;
    Ok(SignatureBytes(bytes))
}

/// Checks a request's signature headers. `now` is the server's clock (Unix seconds) and
/// `window` how far `created` may be from it either way.
pub fn verify_request(
    method: &str,
    path: &str,
    query: Option<&str>,
    signature_input: &str,
    signature: &str,
    now: u64,
    window: u64,
) -> Result<RequestSigner, RequestAuthError> {
    let (account, created) = parse_input(signature_input)?;
    let signature = parse_signature(signature)?;
    if created.abs_diff(now) > window {
        return Err(RequestAuthError::Stale {
            created,
            now,
            window,
        });
    }
    let params = signature_params(&account, created);
    let base = signature_base(method, path, query, &params);
    if !verify_signature(&account, base.as_bytes(), &signature) {
        return Err(RequestAuthError::BadSignature(account));
    }
    Ok(RequestSigner { account, created })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Keypair {
        Keypair::from_seed([7; 32])
    }

    #[test]
    fn a_signed_request_verifies_and_names_its_signer() {
        let (input, sig) = sign_request(&key(), "get", "/v1/state/a", Some("prove=true"), 1_000);
        let signer = verify_request(
            "GET",
            "/v1/state/a",
            Some("prove=true"),
            &input,
            &sig,
            1_010,
            300,
        )
        .unwrap();
        assert_eq!(signer.account, key().account());
        assert_eq!(signer.created, 1_000);
        assert!(input.starts_with(r#"sig1=("@method" "@path" "@query");created=1000;keyid=""#));
    }

    #[test]
    fn any_change_to_the_request_breaks_the_signature() {
        let (input, sig) = sign_request(&key(), "GET", "/v1/state/a", Some("prove=true"), 1_000);
        for (method, path, query) in [
            ("POST", "/v1/state/a", Some("prove=true")),
            ("GET", "/v1/state/b", Some("prove=true")),
            ("GET", "/v1/state/a", Some("prove=false")),
            ("GET", "/v1/state/a", None),
        ] {
            let err = verify_request(method, path, query, &input, &sig, 1_000, 300).unwrap_err();
            assert_eq!(err, RequestAuthError::BadSignature(key().account()));
        }
        // Claiming another key id with the same signature fails too.
        let other = Keypair::from_seed([8; 32]).account();
        let forged = input.replace(&key().account().to_string(), &other.to_string());
        assert_eq!(
            verify_request(
                "GET",
                "/v1/state/a",
                Some("prove=true"),
                &forged,
                &sig,
                1_000,
                300
            ),
            Err(RequestAuthError::BadSignature(other))
        );
    }

    #[test]
    fn stale_and_future_requests_are_refused() {
        let (input, sig) = sign_request(&key(), "GET", "/p", None, 1_000);
        for now in [1_301, 699] {
            assert!(matches!(
                verify_request("GET", "/p", None, &input, &sig, now, 300),
                Err(RequestAuthError::Stale { .. })
            ));
        }
        assert!(verify_request("GET", "/p", None, &input, &sig, 1_300, 300).is_ok());
    }

    #[test]
    fn malformed_headers_are_refused_without_panicking() {
        let (input, sig) = sign_request(&key(), "GET", "/p", None, 1_000);
        let long = "x".repeat(MAX_HEADER + 1);
        for bad_input in [
            "",
            "sig2=(\"@method\")",
            &input.replace("\"@query\"", ""),
            &input.replace("ed25519", "rsa"),
            &input.replace("created=1000", "created=-1"),
            &input.replace("created=1000", "created=1000;created=1000"),
            &input.replace("keyid=\"", "keyid=\"zz"),
            &format!("{input};nonce=\"x\""),
            &long,
        ] {
            assert!(
                matches!(
                    verify_request("GET", "/p", None, bad_input, &sig, 1_000, 300),
                    Err(RequestAuthError::MalformedInput(_))
                ),
                "{bad_input}"
            );
        }
        for bad_sig in ["", "sig1=:!!:", "sig1=:AAAA:", "sig1=abc", &long] {
            assert!(matches!(
                verify_request("GET", "/p", None, &input, bad_sig, 1_000, 300),
                Err(RequestAuthError::MalformedSignature(_))
            ));
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_headers_never_panic(input in ".{0,600}", sig in ".{0,200}") {
            let _ = verify_request("GET", "/p", None, &input, &sig, 1_000, 300);
        }
    }
}
