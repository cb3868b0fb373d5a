//! EdDSA JWS over Weft's Ed25519 keys, through the `jsonwebtoken` crate.
//!
//! `jsonwebtoken` formats and parses the compact JWS and checks the EdDSA signature. Two
//! things it does not do are done here: it accepts weak (small-order) Ed25519 keys, which
//! Weft refuses everywhere, so every key is screened first; and its `exp`/`nbf` checks read
//! the system clock, so they are turned off and validity is checked against the caller's
//! time instead.

use std::collections::HashSet;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};
use weft_crypto::Keypair;
use weft_types::AccountId;

use crate::record::usable_key;

/// The JOSE algorithm name of Ed25519 signatures.
pub const ALG_EDDSA: &str = "EdDSA";

/// DER prefix of a PKCS#8 v1 Ed25519 private key (RFC 8410); the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Why a JWS could not be made or was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    /// Not a compact JWS, or its header or payload is not valid JSON.
    #[error("malformed JWS: {0}")]
    Malformed(String),
    /// The header names an algorithm other than EdDSA.
    #[error("algorithm {0:?} is not accepted; only EdDSA")]
    Algorithm(String),
    /// The key is not a usable Ed25519 public key.
    #[error("unusable Ed25519 key {0}")]
    BadKey(AccountId),
    /// The signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// Signing failed inside the JOSE library.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// `jsonwebtoken`'s signing key for `keypair`. The seed is wrapped in PKCS#8 because that is
/// the only Ed25519 private-key form the library takes.
fn encoding_key(keypair: &Keypair) -> Result<EncodingKey, JoseError> {
    let seed = hex::decode(keypair.secret_hex()).map_err(|e| JoseError::Signing(e.to_string()))?;
    let mut der = Vec::with_capacity(PKCS8_ED25519_PREFIX.len() + seed.len());
    der.extend_from_slice(&PKCS8_ED25519_PREFIX);
    der.extend_from_slice(&seed);
    Ok(EncodingKey::from_ed_der(&der))
}

/// Signs `payload` as a compact JWS with `header` (its `alg` is forced to EdDSA).
pub fn sign_compact(
    header: &Map<String, Value>,
    payload: &impl Serialize,
    keypair: &Keypair,
) -> Result<String, JoseError> {
    let mut header = Value::Object(header.clone());
    header["alg"] = Value::String(ALG_EDDSA.into());
    let header: Header =
        serde_json::from_value(header).map_err(|e| JoseError::Signing(e.to_string()))?;
    jsonwebtoken::encode(&header, payload, &encoding_key(keypair)?)
        .map_err(|e| JoseError::Signing(e.to_string()))
}

/// Verifies a compact EdDSA JWS under `key` and returns its header and payload.
///
/// No registered claim (`exp`, `nbf`, `aud`, ...) is checked here: callers check them
/// against their own notion of time and audience.
pub fn verify_compact<T: DeserializeOwned>(
    jws: &str,
    key: &AccountId,
) -> Result<(Header, T), JoseError> {
    // Read `alg` before handing the token over, so that "none", HS256 and friends are
    // refused by name rather than as a generic parse failure.
    match header_alg(jws) {
        Some(alg) if alg == ALG_EDDSA => {}
        Some(alg) => return Err(JoseError::Algorithm(alg)),
        None => return Err(JoseError::Malformed("no readable alg in the header".into())),
    }
    if !usable_key(key) {
        return Err(JoseError::BadKey(*key));
    }
    let decoding = DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(key.as_bytes()))
        .map_err(|_| JoseError::BadKey(*key))?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.required_spec_claims = HashSet::new();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    match jsonwebtoken::decode::<T>(jws, &decoding, &validation) {
        // No JOSE extension is understood here, so any critical one must be refused (RFC 7515
        // section 4.1.11).
        Ok(data) if data.header.crit.is_some() => Err(JoseError::Malformed(
            "critical header extensions are not supported".into(),
        )),
        Ok(data) => Ok((data.header, data.claims)),
        Err(e) => Err(match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => JoseError::BadSignature,
            jsonwebtoken::errors::ErrorKind::InvalidEddsaKey => JoseError::BadKey(*key),
            _ => JoseError::Malformed(e.to_string()),
        }),
    }
}

/// The raw `alg` text of a JWS header, for error messages about unknown algorithms.
fn header_alg(jws: &str) -> Option<String> {
    let header = jws.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(header).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value
        .get("alg")?
        .as_str()
        .map(|s| s.chars().take(32).collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn eddsa_jws_round_trips_and_detects_tampering() {
        let kp = Keypair::from_seed([5; 32]);
        let mut header = Map::new();
        header.insert("typ".into(), "JWT".into());
        header.insert("kid".into(), "k".into());
        let jws = sign_compact(&header, &json!({"a": 1}), &kp).unwrap();
        let (h, payload): (Header, Value) = verify_compact(&jws, &kp.account()).unwrap();
        assert_eq!(h.alg, Algorithm::EdDSA);
        assert_eq!(h.kid.as_deref(), Some("k"));
        assert_eq!(payload, json!({"a": 1}));

        // The signature comes from the same Ed25519 key weft-crypto signs with.
        let (signing_input, sig) = jws.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        assert_eq!(
            kp.sign(signing_input.as_bytes()).0.to_vec(),
            sig,
            "Ed25519 is deterministic: both libraries must produce the same signature"
        );

        let other = Keypair::from_seed([6; 32]);
        assert_eq!(
            verify_compact::<Value>(&jws, &other.account()).unwrap_err(),
            JoseError::BadSignature
        );
        let tampered_payload = URL_SAFE_NO_PAD.encode(br#"{"a":2}"#);
        let parts: Vec<&str> = jws.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], tampered_payload, parts[2]);
        assert_eq!(
            verify_compact::<Value>(&tampered, &kp.account()).unwrap_err(),
            JoseError::BadSignature
        );
    }

    #[test]
    fn other_algorithms_and_weak_keys_are_refused() {
        let kp = Keypair::from_seed([5; 32]);
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let payload = URL_SAFE_NO_PAD.encode(br#"{}"#);
        assert!(matches!(
            verify_compact::<Value>(&format!("{header}.{payload}."), &kp.account()),
            Err(JoseError::Algorithm(a)) if a == "none"
        ));
        let hs = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#);
        assert!(matches!(
            verify_compact::<Value>(&format!("{hs}.{payload}.AAAA"), &kp.account()),
            Err(JoseError::Algorithm(_))
        ));
        let jws = sign_compact(&Map::new(), &json!({}), &kp).unwrap();
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            verify_compact::<Value>(&jws, &AccountId(identity)).unwrap_err(),
            JoseError::BadKey(AccountId(identity))
        );
        assert!(matches!(
            verify_compact::<Value>("not a jws", &kp.account()),
            Err(JoseError::Malformed(_))
        ));
    }
}
