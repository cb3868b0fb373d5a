//! DID resolution, status lists and credential verification over the node's state.
//!
//! - `GET /v1/dids/{did}` resolves a `did:weft` DID (optionally `?height=`) to the W3C DID
//!   resolution result: document, document metadata and resolution metadata.
//! - `GET /v1/status-lists/{issuer}/{name}` serves a status list as the W3C
//!   `BitstringStatusListCredential` with its `encodedList`; its authenticity comes from the
//!   ledger (`/v1/state/status-list/...?prove=true` proves the bits).
//! - `POST /v1/credentials/verify` verifies an SD-JWT presentation against the head state:
//!   the issuer's and holder's DID records, the trusted-issuer registry and the status
//!   lists. A presentation that does not verify is an answer, not a failed request: `200`
//!   with `verified: false` and a typed `error` (`reason`, `code`); malformed requests get
//!   the usual error responses.
//!
//! Every record read goes through the caller's read policy, like any other read.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
};
use serde::Deserialize;
use serde_json::{Value, json};
use weft_credentials::{
    Did, Verifier, VerifyError, VerifyOptions,
    status_list::status_list_credential,
    vc::{MAX_PRESENTATION_BYTES, format_time},
};
use weft_execution::{
    credentials::{LedgerView, did_record, status_list_reference},
    keys::StateKey,
};
use weft_storage::Snapshot;
use weft_types::{
    AccountId, ErrorCode, Name,
    state::{StateReadError, StateReader},
};

use crate::{ApiResult, AppState, auth::Caller, error::ApiError};

/// Largest verification request body: a presentation plus audience and nonce.
const MAX_VERIFY_BODY_BYTES: usize = MAX_PRESENTATION_BYTES + 4096;

/// The state as it was after block `height`.
pub(crate) struct AtHeight<'a> {
    pub(crate) snapshot: &'a Snapshot,
    pub(crate) height: u64,
}

impl StateReader for AtHeight<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateReadError> {
        self.snapshot
            .get_at(key, self.height)
            .map_err(|e| StateReadError(e.to_string()))
    }
}

#[derive(Deserialize)]
pub(crate) struct HeightQuery {
    height: Option<u64>,
}

pub(crate) fn read_height(caller: &Caller, requested: Option<u64>) -> ApiResult<u64> {
    let head = caller
        .snapshot
        .version()
        .ok_or_else(|| ApiError::not_found("the chain has no state yet"))?;
    match requested {
        Some(h) if h > head => Err(ApiError::not_found(format!(
            "height {h} is above the head {head}"
        ))),
        Some(h) => Ok(h),
        None => Ok(head),
    }
}

/// `GET /v1/dids/{did}`.
pub(crate) async fn resolve_did(
    State(s): State<AppState>,
    caller: Caller,
    Path(did): Path<String>,
    Query(q): Query<HeightQuery>,
) -> ApiResult<Json<Value>> {
    let did: Did = did
        .parse()
        .map_err(|e| ApiError::new(ErrorCode::Malformed, format!("invalidDid: {e}")))?;
    let chain = s.node.chain().chain_id().clone();
    if did.chain() != &chain {
        return Err(ApiError::not_found(format!(
            "notFound: {did} is not a DID of chain {chain}"
        )));
    }
    caller.check(&StateKey::Did(*did.account()))?;
    let height = read_height(&caller, q.height)?;
    let state = AtHeight {
        snapshot: &caller.snapshot,
        height,
    };
    let record = did_record(&state, &chain, did.account())
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::not_found(format!("notFound: {did} has no account at height {height}"))
        })?;
    let mut body = serde_json::to_value(record.resolution()).map_err(ApiError::internal)?;
    body["didResolutionMetadata"]["height"] = json!(height);
    Ok(Json(body))
}

/// The issuer account in a status-list path: account hex or its DID on this chain.
fn issuer_account(text: &str, chain: &Name) -> ApiResult<AccountId> {
    if let Ok(did) = text.parse::<Did>() {
        if did.chain() != chain {
            return Err(ApiError::not_found(format!(
                "{did} is not a DID of chain {chain}"
            )));
        }
        return Ok(*did.account());
    }
    text.parse()
        .map_err(|e| ApiError::bad_request(format!("bad issuer (account hex or DID): {e}")))
}

/// `GET /v1/status-lists/{issuer}/{name}`.
pub(crate) async fn status_list(
    State(s): State<AppState>,
    caller: Caller,
    Path((issuer, name)): Path<(String, String)>,
    Query(q): Query<HeightQuery>,
) -> ApiResult<Json<Value>> {
    let chain = s.node.chain().chain_id().clone();
    let issuer = issuer_account(&issuer, &chain)?;
    let name = Name::new(&name).map_err(|e| ApiError::bad_request(format!("bad name: {e}")))?;
    caller.check(&StateKey::StatusList(issuer, name.clone()))?;
    let height = read_height(&caller, q.height)?;
    let state = AtHeight {
        snapshot: &caller.snapshot,
        height,
    };
    let view = LedgerView::new(&state, chain.clone());
    let stored = view
        .status_list_of(&issuer, &name)
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::not_found(format!("status list {issuer}/{name} does not exist"))
        })?;
    let seconds = i64::try_from(stored.updated_at_ms / 1000).unwrap_or(i64::MAX);
    let valid_from =
        format_time(seconds).ok_or_else(|| ApiError::internal("block time out of range"))?;
    let mut body = status_list_credential(
        &status_list_reference(&chain, &issuer, &name),
        &Did::new(chain, issuer).to_string(),
        stored.status.purpose,
        &valid_from,
        &stored.status.list,
    );
    body["credentialSubject"]["entries"] = json!(stored.status.list.len());
    body["weft"] = json!({
        "height": height,
        "created_height": stored.created_at,
        "updated_height": stored.updated_at,
        "state_key": StateKey::StatusList(issuer, name).to_string(),
    });
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyRequest {
    /// The SD-JWT presentation (`<jwt>~<disclosure>~...~<kb-jwt>`).
    presentation: String,
    /// The verifier's identifier the key-binding JWT must name; with `nonce`, key binding is
    /// required.
    audience: Option<String>,
    /// The challenge the key-binding JWT must answer.
    nonce: Option<String>,
}

/// A stable snake_case name for each refusal, so clients can tell them apart.
pub(crate) fn verify_error_json(e: &VerifyError) -> Value {
    json!({
        "reason": e.reason(),
        "code": e.code(),
        "number": e.code().number(),
        "message": e.to_string(),
    })
}

/// `POST /v1/credentials/verify`.
pub(crate) async fn verify_credential(
    State(s): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    if body.len() > MAX_VERIFY_BODY_BYTES {
        return Err(ApiError::new(
            ErrorCode::Oversized,
            format!(
                "body of {} bytes exceeds {MAX_VERIFY_BODY_BYTES}",
                body.len()
            ),
        ));
    }
    let request: VerifyRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(ErrorCode::Malformed, e.to_string()))?;
    // The read policy for these kinds does not depend on the record, so one check per kind
    // decides every lookup the verification will make.
    let any = AccountId([0; 32]);
    let any_name = Name::new("any").map_err(ApiError::internal)?;
    for key in [
        StateKey::Did(any),
        StateKey::Issuer(any),
        StateKey::StatusList(any, any_name),
    ] {
        caller.check(&key)?;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let now = i64::try_from(now).map_err(ApiError::internal)?;
    let mut options = VerifyOptions::at(now);
    match (&request.audience, &request.nonce) {
        (Some(audience), Some(nonce)) => options = options.with_key_binding(audience, nonce),
        (None, None) => {}
        _ => {
            return Err(ApiError::bad_request(
                "give both audience and nonce (key binding), or neither",
            ));
        }
    }
    let height = read_height(&caller, None)?;
    let chain = s.node.chain().chain_id().clone();
    let view = LedgerView::new(&caller.snapshot, chain);
    let verifier = Verifier {
        resolver: &view,
        status_lists: &view,
        trust: &view,
    };
    Ok(Json(
        match verifier.verify(&request.presentation, &options) {
            Ok(v) => json!({
                "verified": true,
                "height": height,
                "checked_at": now,
                "issuer": v.issuer,
                "issuer_key": v.issuer_key.fragment(),
                "subject": v.subject,
                "types": v.types,
                "claims": v.claims,
                "valid_from": v.valid_from,
                "valid_until": v.valid_until,
                "status": v.status,
                "holder_bound": v.holder_bound,
                "credential": v.credential,
            }),
            Err(e) => json!({
                "verified": false,
                "height": height,
                "checked_at": now,
                "error": verify_error_json(&e),
            }),
        },
    ))
}
