//! JSON views of stored records.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use weft_crypto::{block_hash, tx_hash};
use weft_execution::{
    keys::StateKey,
    model::{Account, Document, EpcisRecord, Hold, Organization, Role, Token},
};
use weft_storage::Snapshot;
use weft_types::{AccountId, Amount, Block, ChainId, Finalization, Name, Receipt};

use crate::error::ApiError;

/// A block; transactions whose `visible` flag is false show only their index and hash.
pub(crate) fn block(
    block: &Block,
    receipts: &[Receipt],
    finalization: Option<&Finalization>,
    visible: &[bool],
) -> Value {
    let hash = block_hash(&block.header);
    let txs: Vec<Value> = block
        .transactions
        .iter()
        .enumerate()
        .map(|(i, stx)| {
            if visible.get(i).copied().unwrap_or(false) {
                json!({
                    "index": i,
                    "tx_hash": tx_hash(&stx.tx),
                    "transaction": stx,
                    "receipt": receipts.get(i),
                })
            } else {
                json!({"index": i, "tx_hash": tx_hash(&stx.tx), "redacted": true})
            }
        })
        .collect();
    json!({
        "hash": hash,
        "header": block.header,
        "transactions": txs,
        "finalization": finalization,
    })
}

fn decode<T: borsh::BorshDeserialize + serde::Serialize>(bytes: &[u8]) -> Option<Value> {
    borsh::from_slice::<T>(bytes)
        .ok()
        .and_then(|v| serde_json::to_value(v).ok())
}

/// The JSON form of a state value, when its key's type is known.
pub(crate) fn decode_state_value(key: &StateKey, bytes: &[u8]) -> Option<Value> {
    match key {
        StateKey::Height
        | StateKey::EpochLength
        | StateKey::Nonce(_)
        | StateKey::TokenMeters(_) => decode::<u64>(bytes),
        StateKey::ChainId => decode::<Name>(bytes),
        StateKey::Validators => decode::<Vec<AccountId>>(bytes),
        StateKey::Governance => decode::<weft_execution::model::Governance>(bytes),
        StateKey::PendingValidators => decode::<weft_execution::model::PendingValidators>(bytes),
        StateKey::Organization(_) => decode::<Organization>(bytes),
        StateKey::Role(_) => decode::<Role>(bytes),
        StateKey::Account(_) => decode::<Account>(bytes),
        StateKey::Token(_) => decode::<Token>(bytes),
        StateKey::Balance(..) => decode::<Amount>(bytes),
        StateKey::Holdings(_) | StateKey::FeedWatchers(_) => decode::<BTreeSet<Name>>(bytes),
        StateKey::Asset(_) => decode::<weft_execution::model::Asset>(bytes),
        StateKey::Hold(_) => decode::<Hold>(bytes),
        StateKey::Frozen(..) => decode::<bool>(bytes),
        StateKey::Document(_) => decode::<Document>(bytes),
        StateKey::Rfq(_) => decode::<weft_execution::model::Rfq>(bytes),
        StateKey::Market(_) => decode::<weft_execution::model::Market>(bytes),
        StateKey::Feed(_) => decode::<weft_execution::model::Feed>(bytes),
        StateKey::EpcisEvent(_) => decode::<EpcisRecord>(bytes),
        StateKey::EpcisTrail(_) => decode::<Vec<Name>>(bytes),
        StateKey::ContainedIn(_) => decode::<Name>(bytes),
        StateKey::Template(..) => decode::<weft_execution::model::TemplateRecord>(bytes),
        StateKey::Instance(_) => decode::<weft_execution::model::Instance>(bytes),
        StateKey::Did(_) => decode::<weft_credentials::DidRecord>(bytes),
        StateKey::Issuer(_) => decode::<weft_execution::credentials::TrustedIssuer>(bytes),
        StateKey::StatusList(..) => status_list_value(bytes),
        StateKey::Commitment(_) => decode::<weft_execution::credentials::CommitmentRecord>(bytes),
        StateKey::RegistryName(_) => decode::<weft_execution::registry::NameRecord>(bytes),
        StateKey::RegistryLogHead => decode::<weft_execution::registry::LogHead>(bytes),
        StateKey::RegistryLogLeaf(_) => decode::<weft_execution::registry::LogEntry>(bytes),
        StateKey::PrivateRecord(_) => decode::<weft_execution::private::PrivateRecord>(bytes),
        StateKey::PrivateLog(..) => decode::<weft_execution::private::PrivateLogEntry>(bytes),
    }
}

/// A status list as JSON: its bits as the W3C `encodedList` rather than 16 KiB of numbers.
fn status_list_value(bytes: &[u8]) -> Option<Value> {
    let stored: weft_execution::credentials::StoredStatusList = borsh::from_slice(bytes).ok()?;
    Some(json!({
        "purpose": stored.status.purpose,
        "entries": stored.status.list.len(),
        "set": stored.status.list.count_set(),
        "encoded_list": stored.status.list.encode(),
        "created_at": stored.created_at,
        "updated_at": stored.updated_at,
        "updated_at_ms": stored.updated_at_ms,
    }))
}

fn get<T: borsh::BorshDeserialize>(
    snapshot: &Snapshot,
    key: &StateKey,
) -> Result<Option<T>, ApiError> {
    match snapshot.get(&key.to_bytes())? {
        None => Ok(None),
        Some(bytes) => borsh::from_slice(&bytes)
            .map(Some)
            .map_err(ApiError::internal),
    }
}

pub(crate) fn account(
    snapshot: &Snapshot,
    chain_id: &ChainId,
    who: &AccountId,
) -> Result<Value, ApiError> {
    let record: Option<Account> = get(snapshot, &StateKey::Account(*who))?;
    let nonce: u64 = get(snapshot, &StateKey::Nonce(*who))?.unwrap_or(0);
    let held: BTreeSet<Name> = get(snapshot, &StateKey::Holdings(*who))?.unwrap_or_default();
    let mut balances = serde_json::Map::new();
    for symbol in held {
        let amount: Amount =
            get(snapshot, &StateKey::Balance(symbol.clone(), *who))?.unwrap_or_default();
        balances.insert(symbol.to_string(), json!(amount));
    }
    Ok(json!({
        "account": who,
        "did": format!("did:weft:{chain_id}:{who}"),
        "registered": record.is_some(),
        "organization": record.as_ref().map(|r| &r.organization),
        "roles": record.as_ref().map(|r| &r.roles),
        "registered_at": record.as_ref().map(|r| r.registered_at),
        "next_nonce": nonce,
        "balances": balances,
    }))
}
