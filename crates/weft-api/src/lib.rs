//! The client API: REST/JSON over axum, an SSE stream of committed blocks, the OpenAPI
//! document, Prometheus metrics and a health check.
//!
//! Every request body is untrusted: sizes are capped before parsing, transactions are
//! decoded only through the bounded decoder, and every refusal is a typed JSON error.

mod auth;
mod error;
mod identity;
mod openapi;
mod private;
mod registry;
mod views;
mod web;

use std::{net::SocketAddr, sync::OnceLock, time::Duration};

use auth::Caller;
pub use auth::SIGNATURE_WINDOW_SECS;
use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{
        IntoResponse, Response,
        sse::{Event as SseEvent, KeepAlive, Sse},
    },
    routing::{get, post},
};
pub use error::{ApiError, status_for};
use futures::{Stream, StreamExt};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
pub use openapi::openapi_document;
use serde::Deserialize;
use serde_json::{Value, json};
use weft_execution::keys::StateKey;
use weft_node::{Node, TxLookup};
use weft_types::{
    AccountId, DecodeError, ErrorCode, Hash, SignedTransaction, decode_bounded,
    limits::MAX_TX_BYTES,
};

/// Largest request body accepted at all (a batch of transactions).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// Most transactions in one batch request.
pub const MAX_BATCH: usize = 20_000;

#[derive(Clone)]
struct AppState {
    node: Node,
    metrics: Option<PrometheusHandle>,
}

/// Installs the process-wide Prometheus recorder once; later calls reuse it.
pub fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::warn!(error = %e, "metrics recorder not installed");
                None
            }
        })
        .clone()
}

/// The API's routes over `node`.
pub fn router(node: Node) -> Router {
    let state = AppState {
        node,
        metrics: metrics_handle(),
    };
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/status", get(status))
        .route("/v1/consensus", get(consensus))
        .route("/v1/transactions", post(submit))
        .route("/v1/transactions/batch", post(submit_batch))
        .route("/v1/transactions/{hash}", get(transaction))
        .route("/v1/blocks", get(block_headers))
        .route("/v1/blocks/latest", get(latest_block))
        .route("/v1/blocks/{id}", get(block))
        .route("/v1/accounts/{account}", get(account))
        .route("/v1/state", get(state_list))
        .route("/v1/state/{*key}", get(state_value))
        .route("/v1/events", get(events))
        .route("/v1/dids/{did}", get(identity::resolve_did))
        .route(
            "/v1/status-lists/{issuer}/{name}",
            get(identity::status_list),
        )
        .route("/v1/credentials/verify", post(identity::verify_credential))
        .route("/v1/registry/log/sth", get(registry::sth))
        .route("/v1/registry/log/inclusion", get(registry::inclusion))
        .route("/v1/registry/log/consistency", get(registry::consistency))
        .route("/v1/registry/log/entries/{index}", get(registry::entry))
        .route("/v1/registry/{name}", get(registry::name))
        .route("/v1/private/{id}", get(private::record))
        .route(
            "/v1/private/{id}/payload",
            get(private::get_payload).put(private::put_payload),
        )
        .route("/v1/private/{id}/replicate", post(private::replicate))
        .route("/v1/stream/blocks", get(stream_blocks))
        // Everything else is the explorer's assets (or the API's JSON 404).
        .fallback(web::asset)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Serves the API on `addr` until `shutdown` resolves.
pub async fn serve(
    node: Node,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(node))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Binds `addr`, with a clear error if it is taken.
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}

type ApiResult<T> = Result<T, ApiError>;

async fn health(State(s): State<AppState>) -> Response {
    match (s.node.fatal_error(), s.node.chain().head()) {
        (None, Ok(head)) => Json(json!({"status": "ok", "height": head.height})).into_response(),
        (Some(e), _) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "failed", "error": e})),
        )
            .into_response(),
        (None, Err(e)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "failed", "error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn metrics(State(s): State<AppState>) -> Response {
    let mut body = s
        .metrics
        .as_ref()
        .map(PrometheusHandle::render)
        .unwrap_or_default();
    // The engine's own registry: p2p peers and traffic, votes, marshal (prefixed by the
    // component that registered them).
    if let Some(c) = s.node.consensus() {
        let engine = c
            .engine_metrics
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default();
        body.push_str(&engine);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

async fn openapi() -> Json<Value> {
    Json(openapi_document())
}

async fn status(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let chain = s.node.chain();
    let head = chain.head()?;
    Ok(Json(json!({
        "chain_id": chain.chain_id(),
        "height": head.height,
        "block_hash": head.block_hash,
        "state_root": head.state_root,
        "timestamp_ms": head.timestamp_ms,
        "validators": chain.validators()?,
        "mempool_size": s.node.mempool_len(),
        "consensus": consensus_summary(&s),
    })))
}

fn consensus_summary(s: &AppState) -> Value {
    match s.node.consensus() {
        None => json!(null),
        Some(c) => json!({
            "view": c.evidence.current_view(),
            "finalized_view": c.evidence.finalized_view(),
            "view_changes": c.evidence.nullified_views(),
            "faults": c.evidence.faults().len(),
            "validators": c.validators(),
            "epoch": c.epoch().epoch,
            "voting": c.epoch().voting,
        }),
    }
}

/// The engine's view of things on this node, and every piece of misbehaviour it recorded.
async fn consensus(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let faults = s
        .node
        .consensus()
        .map(|c| c.evidence.faults())
        .unwrap_or_default();
    Ok(Json(json!({
        "validator": s.node.is_validator(),
        "summary": consensus_summary(&s),
        "faults": faults,
    })))
}

fn is_binary(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/octet-stream"))
}

fn decode_error(e: DecodeError) -> ApiError {
    match e {
        DecodeError::Oversized { .. } | DecodeError::LimitExceeded(_) => {
            ApiError::new(ErrorCode::Oversized, e.to_string())
        }
        DecodeError::UnknownOperation(_) => {
            ApiError::new(ErrorCode::UnknownOperation, e.to_string())
        }
        DecodeError::Malformed(_) => ApiError::new(ErrorCode::Malformed, e.to_string()),
    }
}

fn json_error(e: &serde_json::Error) -> ApiError {
    let msg = e.to_string();
    // Inside a transaction the only tagged enum is the operation, so an unknown variant
    // is an unknown operation.
    if msg.contains("unknown variant") {
        ApiError::new(ErrorCode::UnknownOperation, msg)
    } else {
        ApiError::new(ErrorCode::Malformed, msg)
    }
}

/// Parses one transaction from JSON or canonical bytes.
fn parse_tx(headers: &HeaderMap, body: &[u8]) -> ApiResult<SignedTransaction> {
    if is_binary(headers) {
        return decode_bounded::<SignedTransaction>(body).map_err(decode_error);
    }
    // JSON spells bytes as hex, so allow it a few times the binary limit.
    if body.len() > 4 * MAX_TX_BYTES {
        return Err(ApiError::new(
            ErrorCode::Oversized,
            format!("body of {} bytes exceeds {}", body.len(), 4 * MAX_TX_BYTES),
        ));
    }
    serde_json::from_slice(body).map_err(|e| json_error(&e))
}

async fn submit(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    let tx = parse_tx(&headers, &body)?;
    let node = s.node.clone();
    let hash = tokio::task::spawn_blocking(move || node.submit(tx))
        .await
        .map_err(ApiError::internal)??;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"tx_hash": hash, "status": "pending"})),
    )
        .into_response())
}

async fn submit_batch(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let txs: Vec<SignedTransaction> = if is_binary(&headers) {
        // A batch is a borsh vector of length-prefixed encoded transactions, each bounded.
        let items: Vec<Vec<u8>> = borsh::from_slice(&body)
            .map_err(|e| ApiError::new(ErrorCode::Malformed, e.to_string()))?;
        if items.len() > MAX_BATCH {
            return Err(ApiError::new(
                ErrorCode::Oversized,
                format!("batch of {} > {MAX_BATCH}", items.len()),
            ));
        }
        items
            .iter()
            .map(|b| decode_bounded::<SignedTransaction>(b).map_err(decode_error))
            .collect::<Result<_, _>>()?
    } else {
        let txs: Vec<SignedTransaction> =
            serde_json::from_slice(&body).map_err(|e| json_error(&e))?;
        if txs.len() > MAX_BATCH {
            return Err(ApiError::new(
                ErrorCode::Oversized,
                format!("batch of {} > {MAX_BATCH}", txs.len()),
            ));
        }
        txs
    };
    let node = s.node.clone();
    let results = tokio::task::spawn_blocking(move || node.submit_many(txs))
        .await
        .map_err(ApiError::internal)?;
    let accepted = results.iter().filter(|r| r.is_ok()).count();
    let results: Vec<Value> = results
        .into_iter()
        .map(|r| match r {
            Ok(h) => json!({"tx_hash": h}),
            Err(e) => json!({"code": e.code, "number": e.code.number(), "message": e.message}),
        })
        .collect();
    Ok(Json(json!({"accepted": accepted, "results": results})))
}

#[derive(Deserialize)]
struct ProveQuery {
    #[serde(default)]
    prove: bool,
    height: Option<u64>,
}

fn parse_hash(text: &str) -> ApiResult<Hash> {
    text.parse()
        .map_err(|e| ApiError::bad_request(format!("bad hash: {e}")))
}

async fn transaction(
    State(s): State<AppState>,
    caller: Caller,
    Path(hash): Path<String>,
    Query(q): Query<ProveQuery>,
) -> ApiResult<Json<Value>> {
    let hash = parse_hash(&hash)?;
    let lookup = s.node.lookup(&hash)?;
    // Whoever knows a hash learns whether and where it committed (the submitter polls
    // this); the receipt's events, which say what it did and to whom, only those who may
    // see the transaction.
    let mut redact = false;
    if let TxLookup::Committed {
        height,
        index,
        receipt,
    } = &lookup
    {
        let concerned = receipt.events.iter().flat_map(|e| &e.accounts);
        // The events usually name the caller; only otherwise read the block for its signers.
        if !caller.sees_transaction([], concerned.clone())? {
            let block = s.node.chain().store().block(*height)?;
            let signers: Vec<AccountId> = block
                .as_ref()
                .and_then(|b| b.transactions.get(*index as usize))
                .map(|stx| stx.signatures.iter().map(|sig| sig.account).collect())
                .unwrap_or_default();
            redact = !caller.sees_transaction(&signers, concerned)?;
        }
    }
    if redact && q.prove {
        return Err(caller.refuse(format!("transaction {hash} is not visible to this caller")));
    }
    let mut body = serde_json::to_value(&lookup).map_err(ApiError::internal)?;
    body["tx_hash"] = json!(hash);
    if redact {
        body["receipt"]["events"] = json!([]);
        body["events_redacted"] = json!(true);
    }
    match lookup {
        TxLookup::Unknown => {
            return Err(ApiError::not_found(format!(
                "transaction {hash} is unknown"
            )));
        }
        TxLookup::Committed { height, index, .. } => {
            let chain_id = s.node.chain().chain_id();
            body["reference"] = json!(format!("weft://{chain_id}/{height}/{index}"));
            if q.prove {
                let bundle = s
                    .node
                    .chain()
                    .prove_tx(height, index)?
                    .ok_or_else(|| ApiError::internal("proof unavailable"))?;
                body["proof"] = serde_json::to_value(bundle).map_err(ApiError::internal)?;
            }
        }
        TxLookup::Pending => {}
    }
    Ok(Json(body))
}

/// A block with the transactions the caller may see in full; the others show only their
/// index and hash (headers and certificates are public: light clients verify with them).
fn block_json(s: &AppState, caller: &Caller, height: u64) -> ApiResult<Json<Value>> {
    let store = s.node.chain().store();
    let block = store
        .block(height)?
        .ok_or_else(|| ApiError::not_found(format!("no block at height {height}")))?;
    let receipts = store.receipts(height)?;
    let finalization = store.finalization(height)?;
    let mut visible = Vec::with_capacity(block.transactions.len());
    for (i, stx) in block.transactions.iter().enumerate() {
        let concerned = receipts
            .get(i)
            .into_iter()
            .flat_map(|r| r.events.iter().flat_map(|e| &e.accounts));
        let signers: Vec<AccountId> = stx.signatures.iter().map(|sig| sig.account).collect();
        visible.push(caller.sees_transaction(&signers, concerned)?);
    }
    Ok(Json(views::block(
        &block,
        &receipts,
        finalization.as_ref(),
        &visible,
    )))
}

/// Most headers in one answer.
const MAX_HEADERS: u64 = 200;

#[derive(Deserialize)]
struct HeaderRange {
    from: Option<u64>,
    to: Option<u64>,
}

/// Block headers from `from` to `to` (inclusive, at most 200, default the latest 50), oldest
/// first: public metadata, for lists and charts that need no transactions.
async fn block_headers(
    State(s): State<AppState>,
    Query(q): Query<HeaderRange>,
) -> ApiResult<Json<Value>> {
    let head = s.node.chain().head()?.height;
    let to = q.to.unwrap_or(head).min(head);
    let from = q
        .from
        .unwrap_or_else(|| to.saturating_sub(49))
        .max(to.saturating_sub(MAX_HEADERS - 1));
    let store = s.node.chain().store();
    let mut headers = Vec::new();
    for height in from..=to {
        if let Some(block) = store.block(height)? {
            headers.push(json!({
                "hash": weft_crypto::block_hash(&block.header),
                "header": block.header,
            }));
        }
    }
    Ok(Json(json!({ "head": head, "blocks": headers })))
}

async fn latest_block(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let head = s.node.chain().head()?;
    block_json(&s, &caller, head.height)
}

async fn block(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let height = if let Ok(h) = id.parse::<u64>() {
        h
    } else {
        let hash = parse_hash(&id)?;
        let block = s
            .node
            .chain()
            .store()
            .block_by_hash(&hash)?
            .ok_or_else(|| ApiError::not_found(format!("no block {hash}")))?;
        block.header.height
    };
    block_json(&s, &caller, height)
}

async fn account(
    State(s): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
) -> ApiResult<Json<Value>> {
    let account: AccountId = account
        .parse()
        .map_err(|e| ApiError::bad_request(format!("bad account: {e}")))?;
    caller.check(&StateKey::Account(account))?;
    Ok(Json(views::account(
        &caller.snapshot,
        s.node.chain().chain_id(),
        &account,
    )?))
}

/// Most entries in one listing page, and most keys one request scans to fill it.
const MAX_LIST: usize = 200;
const MAX_LIST_SCAN: usize = 5_000;

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    prefix: String,
    after: Option<String>,
    limit: Option<usize>,
}

/// The records at the head whose keys start with `prefix`, in key order, that the caller
/// may read (the others are skipped, not counted); `next` resumes after the last key looked
/// at, `null` at the end.
async fn state_list(caller: Caller, Query(q): Query<ListQuery>) -> ApiResult<Json<Value>> {
    if q.prefix.len() > 256 || q.after.as_ref().is_some_and(|a| a.len() > 512) {
        return Err(ApiError::new(
            ErrorCode::Oversized,
            "prefix or after too long",
        ));
    }
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_LIST);
    let keys = caller.snapshot.keys_with_prefix(
        q.prefix.as_bytes(),
        q.after.as_deref().map(str::as_bytes),
        MAX_LIST_SCAN,
    )?;
    let mut entries = Vec::new();
    let mut last = None;
    for raw in &keys {
        last = Some(raw);
        let Ok(text) = std::str::from_utf8(raw) else {
            continue;
        };
        // Keys are written by execution, so they parse; anything else is not listed.
        let Ok(key) = text.parse::<StateKey>() else {
            continue;
        };
        if !caller
            .viewer
            .may_read(&caller.snapshot, &key)
            .map_err(ApiError::internal)?
            .is_allowed()
        {
            continue;
        }
        let value = caller.snapshot.get(raw)?;
        entries.push(json!({
            "key": text,
            "value": value.as_ref().and_then(|v| views::decode_state_value(&key, v)),
        }));
        if entries.len() >= limit {
            break;
        }
    }
    // More may follow if the page filled up or the scan stopped at its bound.
    let more = entries.len() >= limit || keys.len() >= MAX_LIST_SCAN;
    let next = if more {
        last.map(|k| String::from_utf8_lossy(k).into_owned())
    } else {
        None
    };
    Ok(Json(json!({
        "prefix": q.prefix,
        "height": caller.snapshot.head().map_or(0, |h| h.height),
        "entries": entries,
        "next": next,
    })))
}

async fn state_value(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Query(q): Query<ProveQuery>,
) -> ApiResult<Json<Value>> {
    let parsed: StateKey = key
        .parse()
        .map_err(|e: weft_execution::keys::BadStateKey| ApiError::bad_request(e.to_string()))?;
    caller.check(&parsed)?;
    let chain = s.node.chain();
    let head = chain.head()?;
    let height = q.height.unwrap_or(head.height);
    if height > head.height {
        return Err(ApiError::not_found(format!(
            "height {height} is above the head {}",
            head.height
        )));
    }
    let snapshot = chain.store().snapshot()?;
    let value = snapshot.get_at(key.as_bytes(), height)?;
    let mut body = json!({
        "key": key,
        "height": height,
        "value_hex": value.as_ref().map(hex::encode),
        "value": value.as_ref().and_then(|v| views::decode_state_value(&parsed, v)),
    });
    if q.prove {
        let Some(weft_node::ProvenValue {
            value: proven,
            bundle,
        }) = chain.prove_state(&key, Some(height))?
        else {
            return Err(ApiError::not_found(
                "height 0 is fixed by the genesis file and has no certificate; ask for a later height",
            ));
        };
        if proven != value {
            return Err(ApiError::internal("proof and value disagree"));
        }
        body["proof"] = serde_json::to_value(bundle).map_err(ApiError::internal)?;
    }
    Ok(Json(body))
}

#[derive(Deserialize)]
struct EventsQuery {
    account: Option<String>,
    topic: Option<String>,
    #[serde(default)]
    from_height: u64,
    limit: Option<usize>,
}

async fn events(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<EventsQuery>,
) -> ApiResult<Json<Value>> {
    let limit = q.limit.unwrap_or(100).min(1000);
    let store = s.node.chain().store();
    let records = match (&q.account, &q.topic) {
        (Some(a), topic) => {
            let account: AccountId = a
                .parse()
                .map_err(|e| ApiError::bad_request(format!("bad account: {e}")))?;
            caller.check(&StateKey::Account(account))?;
            let mut r = store.events_by_account(&account, q.from_height, limit)?;
            if let Some(t) = topic {
                r.retain(|e| e.event.topic == *t);
            }
            r
        }
        (None, Some(t)) => {
            if t.len() > 128 {
                return Err(ApiError::new(ErrorCode::Oversized, "topic too long"));
            }
            // A topic spans everyone's events: keep those that concern the caller.
            let mut r = store.events_by_topic(t, q.from_height, limit)?;
            let mut kept = Vec::with_capacity(r.len());
            for record in r.drain(..) {
                if caller.sees_transaction([], &record.event.accounts)? {
                    kept.push(record);
                }
            }
            kept
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "give account=<hex> and/or topic=<topic>",
            ));
        }
    };
    Ok(Json(json!({ "events": records })))
}

async fn stream_blocks(
    State(s): State<AppState>,
) -> Sse<impl Stream<Item = Result<SseEvent, std::convert::Infallible>>> {
    let stream = tokio_stream::wrappers::BroadcastStream::new(s.node.subscribe()).filter_map(
        |item| async move {
            match item {
                Ok(block) => SseEvent::default()
                    .event("block")
                    .json_data(&*block)
                    .ok()
                    .map(Ok),
                // A slow client skips blocks rather than holding the node back; tell it so.
                Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => {
                    Some(Ok(SseEvent::default().event("lagged").data(n.to_string())))
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
