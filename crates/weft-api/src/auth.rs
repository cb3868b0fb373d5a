//! Who is calling: reads are authenticated by an HTTP Message Signature (RFC 9421 shape,
//! see `weft_crypto::verify_request`) made with a member's account key. No signature means
//! an anonymous client, who sees only what the consortium declared public (the `public`
//! role); a bad, stale or half-present signature is refused with 401, a key that is not a
//! registered member with 403. What a signed-in member may read is decided by
//! `weft_execution::read_policy`.

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, request::Parts},
};
use weft_execution::{
    keys::StateKey,
    read_policy::{ReadDecision, Viewer},
};
use weft_storage::Snapshot;
use weft_types::ErrorCode;

use crate::{AppState, error::ApiError};

/// How far a request's `created` time may be from the node's clock, either way.
pub const SIGNATURE_WINDOW_SECS: u64 = 300;

/// The caller of a request, with the snapshot its access was decided on.
pub(crate) struct Caller {
    pub viewer: Viewer,
    pub snapshot: Snapshot,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(Some)
            .map_err(|_| ApiError::new(ErrorCode::Unauthenticated, format!("{name} is not ASCII"))),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let snapshot = state.node.chain().store().snapshot()?;
        let input = header(&parts.headers, "signature-input")?;
        let signature = header(&parts.headers, "signature")?;
        let viewer = match (input, signature) {
            (None, None) => Viewer::anonymous(&snapshot).map_err(ApiError::internal)?,
            (Some(input), Some(signature)) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let signer = weft_crypto::verify_request(
                    parts.method.as_str(),
                    parts.uri.path(),
                    parts.uri.query(),
                    input,
                    signature,
                    now,
                    SIGNATURE_WINDOW_SECS,
                )
                .map_err(|e| ApiError::new(ErrorCode::Unauthenticated, e.to_string()))?;
                Viewer::member(&snapshot, signer.account)
                    .map_err(ApiError::internal)?
                    .ok_or_else(|| {
                        ApiError::new(
                            ErrorCode::UnknownAccount,
                            format!("{} is not a member of this chain", signer.account),
                        )
                    })?
            }
            _ => {
                return Err(ApiError::new(
                    ErrorCode::Unauthenticated,
                    weft_crypto::RequestAuthError::Incomplete.to_string(),
                ));
            }
        };
        Ok(Self { viewer, snapshot })
    }
}

impl Caller {
    /// The refusal for a record this caller may not read: 401 for a client that did not
    /// sign in (signing in may help), 403 for a member.
    pub fn refuse(&self, why: String) -> ApiError {
        if self.viewer.member.is_some() {
            ApiError::new(ErrorCode::Forbidden, why)
        } else {
            ApiError::new(ErrorCode::Unauthenticated, why)
        }
    }

    /// Fails unless the caller may read the record under `key`.
    pub fn check(&self, key: &StateKey) -> Result<(), ApiError> {
        match self
            .viewer
            .may_read(&self.snapshot, key)
            .map_err(ApiError::internal)?
        {
            ReadDecision::Allowed => Ok(()),
            ReadDecision::Denied(why) => Err(self.refuse(why)),
        }
    }

    /// Whether the caller may see a transaction with these signers and event accounts.
    pub fn sees_transaction<'a>(
        &self,
        signers: impl IntoIterator<Item = &'a weft_types::AccountId>,
        concerned: impl IntoIterator<Item = &'a weft_types::AccountId>,
    ) -> Result<bool, ApiError> {
        self.viewer
            .may_read_transaction(&self.snapshot, signers, concerned)
            .map_err(ApiError::internal)
    }
}
