//! The key registry and its transparency log (UC-28, UC-29), read from the node's state.
//!
//! - `GET /v1/registry/{name}`: the name's record: owner, policy, the live binding (if
//!   any) and every binding it had, with their endorsers and log leaves.
//! - `GET /v1/registry/log/sth[?height=]`: the signed tree head: the log's size and RFC
//!   9162 root at a height, with the proof bundle (finality certificate and state proof of
//!   `registry/log/head`) that makes it verifiable offline against the validator set.
//! - `GET /v1/registry/log/inclusion?leaf=&size=`: leaf `leaf`'s entry and its audit path
//!   in the tree of the first `size` leaves (default: the current size).
//! - `GET /v1/registry/log/consistency?from=&to=`: the proof that the tree of `to` leaves
//!   extends the tree of `from` leaves.
//! - `GET /v1/registry/log/entries/{index}`: one entry.
//!
//! Proofs are built from the head state (leaves never change once written) and checked by
//! `weft_crypto::verify_log_inclusion` / `verify_log_consistency` against a signed head.

use axum::{
    Json,
    extract::{Path, Query, State},
};
use serde::Deserialize;
use serde_json::{Value, json};
use weft_crypto::{log_consistency_proof, log_inclusion_proof, log_leaf_hash, log_root};
use weft_execution::{
    keys::StateKey,
    registry::{log_entry, log_head, log_leaves, name_record},
};
use weft_types::registry::DnsName;

use crate::{
    ApiResult, AppState,
    auth::Caller,
    error::ApiError,
    identity::{AtHeight, read_height},
};

fn hexes(hashes: &[weft_types::Hash]) -> Vec<String> {
    hashes.iter().map(|h| h.to_hex()).collect()
}

/// `GET /v1/registry/{name}`.
pub(crate) async fn name(
    State(_s): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let name: DnsName = name
        .parse()
        .map_err(|e| ApiError::bad_request(format!("{e}")))?;
    caller.check(&StateKey::RegistryName(name.clone()))?;
    let height = read_height(&caller, None)?;
    let state = AtHeight {
        snapshot: &caller.snapshot,
        height,
    };
    let record = name_record(&state, &name)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("{name} is not registered")))?;
    Ok(Json(json!({
        "name": record.name,
        "height": height,
        "owner": record.owner,
        "endorsers_required": record.endorsers_required,
        "registered_at": record.registered_at,
        "live": record.live(),
        "pending": record.pending(),
        "history": record.bindings,
    })))
}

#[derive(Deserialize)]
pub(crate) struct SthQuery {
    height: Option<u64>,
}

/// `GET /v1/registry/log/sth`.
pub(crate) async fn sth(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<SthQuery>,
) -> ApiResult<Json<Value>> {
    caller.check(&StateKey::RegistryLogHead)?;
    let height = read_height(&caller, q.height)?;
    let state = AtHeight {
        snapshot: &caller.snapshot,
        height,
    };
    let head = log_head(&state).map_err(ApiError::internal)?;
    let mut body = json!({
        "height": height,
        "tree_size": head.size,
        "root_hash": head.root.to_hex(),
        "state_key": StateKey::RegistryLogHead.to_string(),
    });
    // Height 0 is fixed by the genesis file and has no certificate; its log is empty.
    if let Some(proven) = s
        .node
        .chain()
        .prove_state(&StateKey::RegistryLogHead.to_string(), Some(height))?
    {
        body["proof"] = serde_json::to_value(proven.bundle).map_err(ApiError::internal)?;
    }
    Ok(Json(body))
}

fn current_leaves(caller: &Caller) -> ApiResult<Vec<Vec<u8>>> {
    let height = read_height(caller, None)?;
    let state = AtHeight {
        snapshot: &caller.snapshot,
        height,
    };
    let head = log_head(&state).map_err(ApiError::internal)?;
    log_leaves(&state, head.size).map_err(ApiError::internal)
}

#[derive(Deserialize)]
pub(crate) struct InclusionQuery {
    leaf: u64,
    size: Option<u64>,
}

/// `GET /v1/registry/log/inclusion`.
pub(crate) async fn inclusion(
    State(_s): State<AppState>,
    caller: Caller,
    Query(q): Query<InclusionQuery>,
) -> ApiResult<Json<Value>> {
    caller.check(&StateKey::RegistryLogLeaf(q.leaf))?;
    let leaves = current_leaves(&caller)?;
    let size = q.size.unwrap_or(leaves.len() as u64);
    let proof = log_inclusion_proof(&leaves, q.leaf, size)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let leaf = &leaves[q.leaf as usize];
    let entry: weft_execution::registry::LogEntry =
        borsh::from_slice(leaf).map_err(ApiError::internal)?;
    Ok(Json(json!({
        "leaf_index": q.leaf,
        "tree_size": size,
        "entry": entry,
        "leaf_hex": hex::encode(leaf),
        "leaf_hash": log_leaf_hash(leaf).to_hex(),
        "root_hash": log_root(leaves[..size as usize].iter().map(Vec::as_slice)).to_hex(),
        "audit_path": hexes(&proof),
    })))
}

#[derive(Deserialize)]
pub(crate) struct ConsistencyQuery {
    from: u64,
    to: Option<u64>,
}

/// `GET /v1/registry/log/consistency`.
pub(crate) async fn consistency(
    State(_s): State<AppState>,
    caller: Caller,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult<Json<Value>> {
    caller.check(&StateKey::RegistryLogHead)?;
    let leaves = current_leaves(&caller)?;
    let to = q.to.unwrap_or(leaves.len() as u64);
    let proof = log_consistency_proof(&leaves, q.from, to)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let root = |n: u64| log_root(leaves[..n as usize].iter().map(Vec::as_slice)).to_hex();
    Ok(Json(json!({
        "from": q.from,
        "to": to,
        "from_root": root(q.from),
        "to_root": root(to),
        "proof": hexes(&proof),
    })))
}

/// `GET /v1/registry/log/entries/{index}`.
pub(crate) async fn entry(
    State(_s): State<AppState>,
    caller: Caller,
    Path(index): Path<u64>,
) -> ApiResult<Json<Value>> {
    caller.check(&StateKey::RegistryLogLeaf(index))?;
    let height = read_height(&caller, None)?;
    let state = AtHeight {
        snapshot: &caller.snapshot,
        height,
    };
    let entry = log_entry(&state, index)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("the log has no leaf {index}")))?;
    let leaf = entry.to_leaf();
    Ok(Json(json!({
        "entry": entry,
        "leaf_hex": hex::encode(&leaf),
        "leaf_hash": log_leaf_hash(&leaf).to_hex(),
    })))
}
