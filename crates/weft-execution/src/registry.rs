//! The decentralized PKI's records in the ledger state (UC-28, UC-29), and read access to
//! them for the API and for verifiers.
//!
//! Owns: a name's record ([`NameRecord`]: owner, endorsement threshold, every binding it
//! ever had, oldest first), the transparency log's entries ([`LogEntry`], one state entry
//! per leaf under `registry/log/leaf/<index>`) and its head ([`LogHead`]: size and RFC 9162
//! root under `registry/log/head`). The head is chain state, so the state root every
//! block's finality certificate signs commits to it: the head at a height is that height's
//! signed tree head.
//!
//! Invariants kept by `modules::registry`: a name has at most one live and at most one
//! pending binding; a binding is live only with at least `endorsers_required` distinct
//! endorsers recorded; the log only grows, one leaf per binding event.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use weft_types::{
    AccountId, Hash,
    registry::DnsName,
    state::{StateReadError, StateReader},
};

use crate::keys::StateKey;

/// Most bindings one name keeps in its history; after that it cannot be rebound or rotated.
pub const MAX_BINDINGS_PER_NAME: usize = 256;

/// Where a binding is in its life.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum BindingStatus {
    /// Proposed; collecting endorsements.
    Pending,
    /// Endorsed by enough endorsers: the name's current key.
    Live,
    /// Replaced by a rotation that went live.
    Superseded,
    /// Revoked (live or still pending).
    Revoked,
}

/// One binding of a name to a key.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Binding {
    /// Position in the name's history, from 0.
    pub serial: u32,
    pub public_key: AccountId,
    pub status: BindingStatus,
    pub proposed_at: u64,
    /// Distinct endorsers, in endorsement order.
    pub endorsers: Vec<AccountId>,
    pub live_at: Option<u64>,
    /// When it was superseded or revoked.
    pub ended_at: Option<u64>,
    pub revocation_reason: Option<String>,
    /// Who revoked it: the owner, or the endorsers who co-signed the revocation.
    pub revoked_by: Vec<AccountId>,
    /// The log leaves recording its events, in order.
    pub log_leaves: Vec<u64>,
}

/// A registered name.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct NameRecord {
    pub name: DnsName,
    pub owner: AccountId,
    /// Distinct endorsements every binding of the name needs (the name's policy).
    pub endorsers_required: u8,
    pub registered_at: u64,
    /// Every binding, oldest first.
    pub bindings: Vec<Binding>,
}

impl NameRecord {
    /// The live binding, if any.
    pub fn live(&self) -> Option<&Binding> {
        self.bindings
            .iter()
            .find(|b| b.status == BindingStatus::Live)
    }

    /// The pending binding, if any.
    pub fn pending(&self) -> Option<&Binding> {
        self.bindings
            .iter()
            .find(|b| b.status == BindingStatus::Pending)
    }
}

/// What happened to a binding.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum LogEvent {
    /// Proposed by the owner (a first binding, a rebinding or a rotation).
    Proposed,
    /// Went live; `endorsers` are those who endorsed it.
    Live,
    /// Replaced by the rotation that went live in the same transaction.
    Superseded,
    /// Revoked; `endorsers` are the revoking endorsers (empty when the owner revoked).
    Revoked,
}

/// One leaf of the transparency log. Its borsh bytes are the leaf's `entry`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct LogEntry {
    pub index: u64,
    pub height: u64,
    pub timestamp_ms: u64,
    pub name: DnsName,
    pub serial: u32,
    pub public_key: AccountId,
    pub event: LogEvent,
    pub owner: AccountId,
    pub endorsers: Vec<AccountId>,
}

impl LogEntry {
    /// The leaf's bytes, as hashed into the tree.
    pub fn to_leaf(&self) -> Vec<u8> {
        borsh::to_vec(self).unwrap_or_default()
    }
}

/// The log's head: its size and RFC 9162 root. Empty log: size 0, root `SHA-256("")`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct LogHead {
    pub size: u64,
    pub root: Hash,
}

impl LogHead {
    /// The head of the empty log.
    pub fn empty() -> Self {
        Self {
            size: 0,
            root: weft_crypto::log_root(std::iter::empty()),
        }
    }
}

fn get<T: BorshDeserialize>(
    state: &dyn StateReader,
    key: &StateKey,
) -> Result<Option<T>, StateReadError> {
    match state.get(&key.to_bytes())? {
        None => Ok(None),
        Some(bytes) => borsh::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StateReadError(format!("corrupt state under {key}: {e}"))),
    }
}

/// The record of `name`, if it was ever bound.
pub fn name_record(
    state: &dyn StateReader,
    name: &DnsName,
) -> Result<Option<NameRecord>, StateReadError> {
    get(state, &StateKey::RegistryName(name.clone()))
}

/// The log's head in `state`.
pub fn log_head(state: &dyn StateReader) -> Result<LogHead, StateReadError> {
    Ok(get(state, &StateKey::RegistryLogHead)?.unwrap_or_else(LogHead::empty))
}

/// Log entry `index`.
pub fn log_entry(state: &dyn StateReader, index: u64) -> Result<Option<LogEntry>, StateReadError> {
    get(state, &StateKey::RegistryLogLeaf(index))
}

/// The leaf bytes of the first `size` entries, in order.
pub fn log_leaves(state: &dyn StateReader, size: u64) -> Result<Vec<Vec<u8>>, StateReadError> {
    let mut leaves = Vec::new();
    for i in 0..size {
        let entry = log_entry(state, i)?
            .ok_or_else(|| StateReadError(format!("registry log leaf {i} is missing")))?;
        leaves.push(entry.to_leaf());
    }
    Ok(leaves)
}
