//! The genesis document: the consortium a chain starts with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{AccountId, Amount, ChainId, Name};

/// A validator of the initial set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisValidator {
    pub account: AccountId,
    /// Organization operating this validator.
    pub organization: Name,
}

/// A founding organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisOrganization {
    pub id: Name,
    pub display_name: String,
}

/// A founding account and its roles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisAccount {
    pub account: AccountId,
    pub organization: Name,
    pub roles: Vec<Name>,
}

/// A token that exists from the start, with initial balances.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisToken {
    pub symbol: Name,
    pub display_name: String,
    pub decimals: u8,
    pub issuer: AccountId,
    pub max_supply: Option<Amount>,
    #[serde(default)]
    pub balances: BTreeMap<AccountId, Amount>,
}

/// The genesis file. Maps are ordered so every node derives the same genesis state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    pub chain_id: ChainId,
    /// Timestamp of block 0, milliseconds since the Unix epoch.
    pub genesis_time_ms: u64,
    pub validators: Vec<GenesisValidator>,
    pub organizations: Vec<GenesisOrganization>,
    pub accounts: Vec<GenesisAccount>,
    /// Role name → permission names (`token.transfer`, `identity.*`, or `*`).
    pub roles: BTreeMap<Name, Vec<String>>,
    #[serde(default)]
    pub tokens: Vec<GenesisToken>,
}
