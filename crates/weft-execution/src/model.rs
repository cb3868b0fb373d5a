//! The records kept in state, with their canonical encoding and JSON views.

use std::collections::BTreeSet;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use weft_types::{AccountId, Amount, Name};

/// A consortium member.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Organization {
    pub display_name: String,
    /// Height at which it was registered.
    pub registered_at: u64,
}

/// A registered account.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Account {
    pub organization: Name,
    pub roles: BTreeSet<Name>,
    pub registered_at: u64,
}

/// A role: the permissions it grants (`token.transfer`, `token.*`, or `*`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Role {
    pub permissions: BTreeSet<String>,
}

impl Role {
    /// Whether this role grants `permission`.
    pub fn grants(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| {
            p == "*"
                || p == permission
                || p.strip_suffix(".*").is_some_and(|module| {
                    permission
                        .strip_prefix(module)
                        .is_some_and(|rest| rest.starts_with('.'))
                })
        })
    }

    /// Whether this role grants everything (an administrator role).
    pub fn is_admin(&self) -> bool {
        self.permissions.contains("*")
    }
}

/// A fungible token.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Token {
    pub display_name: String,
    pub decimals: u8,
    pub issuer: AccountId,
    pub max_supply: Option<Amount>,
    /// Always equal to the sum of all balances of this token.
    pub supply: Amount,
}

/// The validator set recorded in state.
pub type ValidatorSet = Vec<AccountId>;

/// Whether an asset can still change.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AssetStatus {
    Active,
    /// Final: no operation changes a retired asset again.
    Retired {
        at_height: u64,
        reason: String,
    },
}

/// A unique asset: exactly one owner, its attributes and its lineage.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Asset {
    pub class: Name,
    pub owner: AccountId,
    pub attributes: std::collections::BTreeMap<String, String>,
    pub status: AssetStatus,
    /// Assets this one was split, merged or transformed from.
    pub parents: Vec<Name>,
    /// Assets split, merged or transformed from this one.
    pub children: Vec<Name>,
    pub registered_at: u64,
    pub updated_at: u64,
}

impl Asset {
    /// Whether the asset is still active (not retired).
    pub const fn is_active(&self) -> bool {
        matches!(self.status, AssetStatus::Active)
    }
}

/// Tokens in escrow: debited from the holder, counted in the token's supply, paid out to the
/// beneficiary on release or back to the holder on cancel.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Hold {
    pub holder: AccountId,
    pub symbol: Name,
    pub amount: Amount,
    pub beneficiary: AccountId,
    pub arbiter: Option<AccountId>,
    pub expires_at_height: Option<u64>,
    pub created_at: u64,
}

/// One version of an anchored document and who signed it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct DocumentVersion {
    pub hash: weft_types::Hash,
    pub uri: String,
    pub anchored_at: u64,
    /// Parties who signed this version, with the height of their signature, in signing order.
    pub signatures: Vec<(AccountId, u64)>,
}

/// An anchored document: its owner, parties and every version.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Document {
    pub owner: AccountId,
    pub media_type: String,
    pub parties: Vec<AccountId>,
    pub required_signatures: u8,
    pub versions: Vec<DocumentVersion>,
}

impl Document {
    /// Most versions a document keeps.
    pub const MAX_VERSIONS: usize = 256;
}
