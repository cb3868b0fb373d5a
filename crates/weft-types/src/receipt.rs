//! Receipts and events: what executing a transaction did.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::{
    error::ErrorCode,
    ids::{AccountId, Hash},
};

/// The outcome of one transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TxStatus {
    /// Every operation applied.
    Success,
    /// Nothing applied (apart from consuming the nonce); `operation` is the failing index.
    Failed {
        code: ErrorCode,
        operation: Option<u32>,
        message: String,
    },
}

/// A typed, indexed fact emitted by an operation.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Event {
    /// Dotted topic, e.g. `token.transfer`.
    pub topic: String,
    /// Accounts this event concerns; each is indexed.
    pub accounts: Vec<AccountId>,
    /// Ordered key/value details.
    pub attributes: Vec<(String, String)>,
}

/// What a transaction did, committed under the block's `receipts_root`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Receipt {
    pub tx_hash: Hash,
    #[serde(flatten)]
    pub status: TxStatus,
    pub events: Vec<Event>,
    /// State keys written; a gas-free measure of the work done.
    pub writes: u32,
}

impl Receipt {
    /// Whether the transaction applied.
    pub const fn is_success(&self) -> bool {
        matches!(self.status, TxStatus::Success)
    }
}
