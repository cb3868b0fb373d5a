//! Confidential data over HTTP (DESIGN §7): a private record's metadata and log, uploading
//! a payload to the controller's node, reading it once per committed access transaction,
//! and node-to-node replication.
//!
//! - `GET /v1/private/{id}`: the record (commitment, policy, consent, grants, purge) and
//!   its log, for its controller, subject, grantees and `read.private` holders.
//! - `PUT /v1/private/{id}/payload`: the controller or subject hands the payload and salt
//!   to a node that may hold it; refused unless they open the on-chain commitment.
//! - `GET /v1/private/{id}/payload?access=<tx hash>`: the signer of a committed
//!   `access_private_record` transaction gets the payload, once per transaction, if its
//!   right still holds now (a revocation committed after the access wins). A node that
//!   may hold the payload but lacks it fetches it from its peers first.
//! - `POST /v1/private/{id}/replicate?transfer_key=<hex>`: a peer node, signing as its
//!   operator, asks for a copy; it gets one only if the operator's organization may hold
//!   the payload, sealed (HPKE) to the X25519 key named in the signed query, so neither
//!   an eavesdropper nor a replayer learns anything.

use std::time::Duration;

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;
use serde_json::{Value, json};
use weft_execution::{
    keys::StateKey,
    private::{PrivateRecord, load, log, organization_may_hold},
};
use weft_node::{Node, TxLookup};
use weft_private::{Commitment, Envelope, Salt, TransferKey, open_envelope, seal_for};
use weft_storage::Snapshot;
use weft_types::{AccountId, ErrorCode, Hash, Name, Operation};

use crate::{ApiResult, AppState, auth::Caller, error::ApiError};

/// Most log entries in one answer.
const MAX_LOG_PAGE: u64 = 1000;
/// How long a peer may take to answer a replication request.
const PEER_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest replication answer read from a peer: a sealed 16 MiB payload as base64 JSON.
const MAX_PEER_ANSWER_BYTES: usize = 24 * 1024 * 1024;

fn record_id(id: &str) -> Result<Name, ApiError> {
    Name::new(id).map_err(|e| ApiError::new(ErrorCode::InvalidArgument, e.to_string()))
}

/// The signed-in member and its organization.
fn member_of(caller: &Caller) -> Result<(AccountId, Name), ApiError> {
    caller.viewer.member.clone().ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unauthenticated,
            "confidential data is only for members: sign the request",
        )
    })
}

fn member(caller: &Caller) -> Result<AccountId, ApiError> {
    member_of(caller).map(|(account, _)| account)
}

fn load_record(snapshot: &Snapshot, id: &Name) -> Result<PrivateRecord, ApiError> {
    load(snapshot, id)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("no private record {id}")))
}

fn head_time(snapshot: &Snapshot) -> u64 {
    snapshot.head().map_or(0, |h| h.timestamp_ms)
}

fn store_error(e: weft_private::PrivateStoreError) -> ApiError {
    match e.code() {
        // The node's own disk trouble: logged here, never shown (it names local paths).
        ErrorCode::Internal => {
            tracing::error!(error = %e, "private store failed");
            ApiError::new(ErrorCode::Internal, "the node's private store failed")
        }
        code => ApiError::new(code, e.to_string()),
    }
}

fn vault(node: &Node) -> Result<&weft_node::Vault, ApiError> {
    node.vault().ok_or_else(|| {
        ApiError::new(
            ErrorCode::PayloadUnavailable,
            "this node keeps no private payloads",
        )
    })
}

fn not_purged(record: &PrivateRecord) -> Result<(), ApiError> {
    match &record.purged {
        Some(p) => Err(ApiError::new(
            ErrorCode::Purged,
            format!("{} was purged at height {}", record.id, p.height),
        )),
        None => Ok(()),
    }
}

#[derive(Deserialize)]
pub(crate) struct LogQuery {
    #[serde(default)]
    from: u64,
    limit: Option<u64>,
}

pub(crate) async fn record(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<Value>> {
    let id = record_id(&id)?;
    caller.check(&StateKey::PrivateRecord(id.clone()))?;
    let record = load_record(&caller.snapshot, &id)?;
    let limit = q.limit.unwrap_or(MAX_LOG_PAGE).min(MAX_LOG_PAGE);
    let entries = log(&caller.snapshot, &record, q.from, limit).map_err(ApiError::internal)?;
    let stored_here = s
        .node
        .vault()
        .is_some_and(|v| v.store().contains(id.as_str()));
    Ok(Json(json!({
        "record": record,
        "log": entries,
        "stored_here": stored_here,
        "height": caller.snapshot.head().map_or(0, |h| h.height),
    })))
}

#[derive(Deserialize)]
pub(crate) struct UploadBody {
    salt: Salt,
    /// Base64 (standard alphabet).
    payload: String,
}

pub(crate) async fn put_payload(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<UploadBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = record_id(&id)?;
    let me = member(&caller)?;
    let record = load_record(&caller.snapshot, &id)?;
    if !record.is_party(&me) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("only the controller or the subject of {id} hands its payload over"),
        ));
    }
    not_purged(&record)?;
    let payload = STANDARD
        .decode(body.payload.as_bytes())
        .map_err(|e| ApiError::new(ErrorCode::Malformed, format!("payload is not base64: {e}")))?;
    if payload.len() as u64 != record.size {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!(
                "the record says {} bytes, the payload has {}",
                record.size,
                payload.len()
            ),
        ));
    }
    let v = vault(&s.node)?;
    if !v
        .may_hold(&caller.snapshot, &record, head_time(&caller.snapshot))
        .map_err(ApiError::internal)?
    {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("this node serves no organization that may hold {id}"),
        ));
    }
    let node = s.node.clone();
    let commitment = Commitment(record.commitment);
    tokio::task::spawn_blocking(move || {
        vault(&node)?
            .store()
            .put(id.as_str(), &commitment, &body.salt, &payload)
            .map_err(store_error)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok((StatusCode::CREATED, Json(json!({"stored": true}))))
}

#[derive(Deserialize)]
pub(crate) struct AccessQuery {
    access: String,
}

/// The purpose of a committed access transaction by `reader` on `id`.
fn access_purpose(node: &Node, access: &Hash, reader: &AccountId, id: &Name) -> ApiResult<Name> {
    let TxLookup::Committed {
        height,
        index,
        receipt,
    } = node.lookup(access)?
    else {
        return Err(ApiError::not_found(format!(
            "access transaction {access} is not committed"
        )));
    };
    if !receipt.is_success() {
        return Err(ApiError::new(
            ErrorCode::Unauthorized,
            format!("access transaction {access} was refused by the ledger"),
        ));
    }
    let stx = node
        .chain()
        .store()
        .block(height)?
        .and_then(|b| b.transactions.into_iter().nth(index as usize))
        .ok_or_else(|| ApiError::internal(format!("transaction {height}/{index} missing")))?;
    if stx.tx.signer != *reader {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("access transaction {access} was signed by another account"),
        ));
    }
    stx.tx
        .operations
        .iter()
        .find_map(|op| match op {
            Operation::AccessPrivateRecord(a) if a.id == *id => Some(a.purpose.clone()),
            _ => None,
        })
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidArgument,
                format!("transaction {access} is no access to {id}"),
            )
        })
}

pub(crate) async fn get_payload(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<AccessQuery>,
) -> ApiResult<Json<Value>> {
    let id = record_id(&id)?;
    let me = member(&caller)?;
    let access = crate::parse_hash(&q.access)?;
    let purpose = access_purpose(&s.node, &access, &me, &id)?;
    let record = load_record(&caller.snapshot, &id)?;
    let now = head_time(&caller.snapshot);
    // The right is checked again now: a revocation committed after the access wins.
    record
        .check_access(&me, &purpose, now)
        .map_err(|r| ApiError::new(r.code, r.reason))?;
    let v = vault(&s.node)?;
    if !v
        .may_hold(&caller.snapshot, &record, now)
        .map_err(ApiError::internal)?
    {
        return Err(ApiError::new(
            ErrorCode::PayloadUnavailable,
            format!("this node serves no organization that may hold {id}; ask a node of yours"),
        ));
    }
    let commitment = Commitment(record.commitment);
    let local = {
        let node = s.node.clone();
        let (id, c) = (id.clone(), commitment);
        tokio::task::spawn_blocking(move || {
            vault(&node)?
                .store()
                .get(id.as_str(), &c)
                .map_err(store_error)
        })
        .await
        .map_err(ApiError::internal)??
    };
    let (salt, payload) = match local {
        Some(found) => found,
        None => fetch_from_peers(&s.node, &id, &commitment).await?,
    };
    let node = s.node.clone();
    let first = tokio::task::spawn_blocking(move || {
        vault(&node)?.store().redeem(&access).map_err(store_error)
    })
    .await
    .map_err(ApiError::internal)??;
    if !first {
        return Err(ApiError::new(
            ErrorCode::AccessUsed,
            format!("access {access} already delivered {id}; submit a new access"),
        ));
    }
    metrics::counter!("weft_private_reads_total").increment(1);
    tracing::info!(record = %id, reader = %me, purpose = %purpose, access = %access, "private payload read");
    Ok(Json(json!({
        "id": id,
        "commitment": record.commitment,
        "purpose": purpose,
        "access_tx": access,
        "salt": salt,
        "payload": STANDARD.encode(&payload),
    })))
}

#[derive(Deserialize)]
pub(crate) struct ReplicateQuery {
    transfer_key: String,
}

pub(crate) async fn replicate(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<ReplicateQuery>,
) -> ApiResult<Json<Value>> {
    let id = record_id(&id)?;
    let (requester, organization) = member_of(&caller)?;
    let key: [u8; 32] = hex::decode(&q.transfer_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Malformed,
                "transfer_key must be 64 hex characters",
            )
        })?;
    let record = load_record(&caller.snapshot, &id)?;
    not_purged(&record)?;
    if !organization_may_hold(
        &caller.snapshot,
        &record,
        &organization,
        head_time(&caller.snapshot),
    )
    .map_err(ApiError::internal)?
    {
        tracing::warn!(record = %id, requester = %requester, %organization, "replication refused: organization may not hold the payload");
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("organization {organization} may not hold {id}"),
        ));
    }
    let node = s.node.clone();
    let (rid, commitment) = (id.clone(), Commitment(record.commitment));
    let envelope = tokio::task::spawn_blocking(move || -> ApiResult<Envelope> {
        let (salt, payload) = vault(&node)?
            .store()
            .get(rid.as_str(), &commitment)
            .map_err(store_error)?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::PayloadUnavailable,
                    format!("{rid} is not kept here"),
                )
            })?;
        seal_for(&key, rid.as_str(), &commitment, &salt, &payload)
            .map_err(|e| ApiError::new(e.code(), e.to_string()))
    })
    .await
    .map_err(ApiError::internal)??;
    metrics::counter!("weft_private_replications_total").increment(1);
    tracing::info!(record = %id, %organization, "private payload replicated to a peer");
    Ok(Json(json!({ "id": id, "envelope": envelope })))
}

/// Fetches a payload from the configured peers, checks it against the commitment and keeps
/// it. Signs as the node's operator, so a peer hands over only what the operator's
/// organization may hold.
async fn fetch_from_peers(
    node: &Node,
    id: &Name,
    commitment: &Commitment,
) -> ApiResult<(Salt, Vec<u8>)> {
    let v = vault(node)?;
    let Some(operator) = v.operator().cloned() else {
        return Err(ApiError::new(
            ErrorCode::PayloadUnavailable,
            format!("{id} is not kept here and this node has no operator key to fetch it"),
        ));
    };
    let client = reqwest::Client::builder()
        .timeout(PEER_TIMEOUT)
        .build()
        .map_err(ApiError::internal)?;
    let mut failures = Vec::new();
    for peer in v.peers() {
        match fetch_one(&client, peer, &operator, id, commitment).await {
            Ok((salt, payload)) => {
                let node = node.clone();
                let (rid, c, s2, p2) = (id.clone(), *commitment, salt.clone(), payload.clone());
                tokio::task::spawn_blocking(move || {
                    vault(&node)?
                        .store()
                        .put(rid.as_str(), &c, &s2, &p2)
                        .map_err(store_error)
                })
                .await
                .map_err(ApiError::internal)??;
                tracing::info!(record = %id, %peer, "private payload fetched from a peer");
                return Ok((salt, payload));
            }
            Err(e) => {
                tracing::warn!(record = %id, %peer, error = %e, "peer did not deliver the payload");
                failures.push(format!("{peer}: {e}"));
            }
        }
    }
    Err(ApiError::new(
        ErrorCode::PayloadUnavailable,
        if failures.is_empty() {
            format!("{id} is not kept here and no peer is configured")
        } else {
            format!("no peer delivered {id}: {}", failures.join("; "))
        },
    ))
}

async fn fetch_one(
    client: &reqwest::Client,
    peer: &str,
    operator: &weft_crypto::Keypair,
    id: &Name,
    commitment: &Commitment,
) -> Result<(Salt, Vec<u8>), String> {
    let key = TransferKey::generate();
    let path = format!("/v1/private/{id}/replicate");
    let query = format!("transfer_key={}", hex::encode(key.public()));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (input, signature) = weft_crypto::sign_request(operator, "POST", &path, Some(&query), now);
    let mut response = client
        .post(format!("{}{path}?{query}", peer.trim_end_matches('/')))
        .header("signature-input", input)
        .header("signature", signature)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > MAX_PEER_ANSWER_BYTES {
            return Err("answer above the size limit".into());
        }
        body.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        return Err(format!(
            "{status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        ));
    }
    #[derive(Deserialize)]
    struct Answer {
        envelope: Envelope,
    }
    let answer: Answer = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    open_envelope(&key, id.as_str(), commitment, &answer.envelope).map_err(|e| e.to_string())
}
