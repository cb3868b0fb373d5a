//! Ed25519 public keys as the DID and JOSE worlds write them: OKP JWK (RFC 8037) and
//! multibase `publicKeyMultibase` (base58btc of the multicodec `ed25519-pub` key).

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Map, Value};
use weft_types::AccountId;

/// Multicodec prefix of an Ed25519 public key (`ed25519-pub`, varint 0xed).
const ED25519_MULTICODEC: [u8; 2] = [0xed, 0x01];

/// The public JWK (RFC 8037 OKP) of an Ed25519 key.
pub fn ed25519_jwk(key: &AccountId) -> Map<String, Value> {
    let mut jwk = Map::new();
    jwk.insert("kty".into(), "OKP".into());
    jwk.insert("crv".into(), "Ed25519".into());
    jwk.insert("x".into(), URL_SAFE_NO_PAD.encode(key.as_bytes()).into());
    jwk
}

/// The Ed25519 key of an OKP JWK, if it is one (private members are ignored).
pub fn key_from_jwk(jwk: &Value) -> Option<AccountId> {
    if jwk.get("kty")?.as_str()? != "OKP" || jwk.get("crv")?.as_str()? != "Ed25519" {
        return None;
    }
    let x = URL_SAFE_NO_PAD.decode(jwk.get("x")?.as_str()?).ok()?;
    Some(AccountId(x.try_into().ok()?))
}

/// `publicKeyMultibase` of an Ed25519 key: base58btc of the multicodec-prefixed key (`z6Mk...`).
pub fn ed25519_multibase(key: &AccountId) -> String {
    let mut bytes = ED25519_MULTICODEC.to_vec();
    bytes.extend_from_slice(key.as_bytes());
    multibase::encode(multibase::Base::Base58Btc, bytes)
}

/// The Ed25519 key in a `publicKeyMultibase` value, if it is one.
pub fn key_from_multibase(text: &str) -> Option<AccountId> {
    let (base, bytes) = multibase::decode(text).ok()?;
    if base != multibase::Base::Base58Btc {
        return None;
    }
    let key = bytes.strip_prefix(&ED25519_MULTICODEC)?;
    Some(AccountId(key.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use weft_crypto::Keypair;

    use super::*;

    #[test]
    fn key_encodings_round_trip() {
        let key = Keypair::from_seed([9; 32]).account();
        let mb = ed25519_multibase(&key);
        assert!(mb.starts_with("z6Mk"), "{mb}");
        assert_eq!(key_from_multibase(&mb), Some(key));
        assert_eq!(key_from_jwk(&Value::Object(ed25519_jwk(&key))), Some(key));
        assert_eq!(
            key_from_jwk(&json!({"kty": "EC", "crv": "P-256", "x": "AA"})),
            None
        );
        assert_eq!(key_from_multibase("uAAAA"), None);
    }
}
