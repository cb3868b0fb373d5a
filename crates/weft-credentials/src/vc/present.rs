//! Presenting a credential: the holder chooses what to disclose and proves possession.

use sd_jwt_payload::{KeyBindingJwtBuilder, RequiredKeyBinding, SdJwt};
use weft_crypto::Keypair;

use super::{EdDsaSigner, Sha256Hasher, TYP_KB_JWT, ready};
use crate::{
    did::{Did, KeyId},
    jose::{ALG_EDDSA, JoseError},
    keys::key_from_jwk,
};

/// What the holder's key-binding JWT says.
#[derive(Clone, Debug)]
pub struct KeyBindingParams<'a> {
    /// The verifier the presentation is meant for (`aud`).
    pub audience: &'a str,
    /// The verifier's challenge (`nonce`), so the presentation cannot be replayed.
    pub nonce: &'a str,
    /// Unix seconds now (`iat`).
    pub issued_at: i64,
    /// For a credential bound to the subject DID: which of its authentication keys signs.
    pub holder_key: Option<KeyId>,
}

/// Why a presentation could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresentError {
    /// The credential text is not an SD-JWT.
    #[error("not an SD-JWT credential: {0}")]
    Malformed(String),
    /// The credential already carries a key-binding JWT.
    #[error("the credential already carries a key-binding JWT")]
    AlreadyBound,
    /// No disclosable claim at that pointer.
    #[error("no disclosable claim at {0:?}")]
    UnknownClaim(String),
    /// Key binding was asked for, but the credential binds no holder.
    #[error("the credential is not bound to a holder key")]
    NotHolderBound,
    /// The credential is bound to a DID; name the authentication key that signs.
    #[error("name the holder's key id (the credential is bound to {0})")]
    HolderKeyIdRequired(Did),
    /// The keypair is not the key the credential is bound to.
    #[error("the signing key is not the bound holder key")]
    KeyMismatch,
    /// Signing failed.
    #[error(transparent)]
    Jose(#[from] JoseError),
    /// The SD-JWT library refused.
    #[error("SD-JWT: {0}")]
    SdJwt(String),
}

/// Presents `credential` (as issued) disclosing only the claims at `disclose` (JSON pointers
/// relative to `credentialSubject`; disclosing a nested claim discloses its parents too).
/// With `key_binding`, appends a key-binding JWT signed by `holder`.
///
/// Whether the holder key is still current for a DID-bound credential is for the verifier
/// to decide against the ledger; here only a pinned JWK can be checked.
pub fn present(
    credential: &str,
    disclose: &[&str],
    key_binding: Option<(&KeyBindingParams<'_>, &Keypair)>,
) -> Result<String, PresentError> {
    let sd = |e: sd_jwt_payload::Error| PresentError::SdJwt(e.to_string());
    let parsed = SdJwt::parse(credential).map_err(|e| PresentError::Malformed(e.to_string()))?;
    if parsed.key_binding_jwt().is_some() {
        return Err(PresentError::AlreadyBound);
    }
    let mut builder = parsed
        .into_presentation(&Sha256Hasher)
        .map_err(sd)?
        .conceal_all();
    for pointer in disclose {
        if !pointer.starts_with('/') {
            return Err(PresentError::UnknownClaim(pointer.to_string()));
        }
        builder = builder
            .disclose(&format!("/credentialSubject{pointer}"))
            .map_err(|_| PresentError::UnknownClaim(pointer.to_string()))?;
    }
    let (mut presentation, _withheld) = builder.finish();

    if let Some((params, holder)) = key_binding {
        let mut kb = KeyBindingJwtBuilder::new()
            .header("typ", TYP_KB_JWT)
            .iat(params.issued_at)
            .aud(params.audience)
            .nonce(params.nonce);
        match presentation.required_key_bind() {
            None => return Err(PresentError::NotHolderBound),
            Some(RequiredKeyBinding::Kid(did)) => {
                let did: Did = did.parse().map_err(|e: crate::did::DidParseError| {
                    PresentError::Malformed(e.to_string())
                })?;
                let key = params
                    .holder_key
                    .ok_or_else(|| PresentError::HolderKeyIdRequired(did.clone()))?;
                kb = kb.header("kid", did.key_url(key).to_string());
            }
            Some(RequiredKeyBinding::Jwk(jwk)) => {
                let bound = key_from_jwk(&serde_json::Value::Object(jwk.clone()));
                if bound != Some(holder.account()) {
                    return Err(PresentError::KeyMismatch);
                }
            }
            Some(_) => {
                return Err(PresentError::Malformed(
                    "unsupported cnf (only kid with a DID, or an Ed25519 jwk)".into(),
                ));
            }
        }
        let jwt = ready(kb.finish(
            &presentation,
            &Sha256Hasher,
            ALG_EDDSA,
            &EdDsaSigner(holder),
        ))
        .ok_or_else(|| PresentError::SdJwt("the signer did not complete".into()))?
        .map_err(sd)?;
        presentation.attach_key_binding_jwt(jwt);
    }
    Ok(presentation.presentation())
}
