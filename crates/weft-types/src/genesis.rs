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

/// Blocks per epoch when a genesis file does not say: the validator set changes only at
/// epoch boundaries.
pub const DEFAULT_EPOCH_LENGTH: u64 = 100;
/// Shortest epoch a genesis may set, in blocks.
pub const MIN_EPOCH_LENGTH: u64 = 4;
/// Longest epoch a genesis may set, in blocks.
pub const MAX_EPOCH_LENGTH: u64 = 1_000_000;

const fn default_epoch_length() -> u64 {
    DEFAULT_EPOCH_LENGTH
}

/// Who approves changes of the validator set (and of this governance itself): `threshold`
/// distinct admins among `admins` must sign the governance transaction (signer and
/// co-signers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisGovernance {
    pub admins: Vec<AccountId>,
    pub threshold: u32,
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
    /// Blocks per consensus epoch; a scheduled validator set takes effect after the last
    /// block of an epoch. Between [`MIN_EPOCH_LENGTH`] and [`MAX_EPOCH_LENGTH`].
    #[serde(default = "default_epoch_length")]
    pub epoch_length: u64,
    /// The admins who approve validator-set changes, and how many must; when absent, the
    /// genesis accounts holding an administrator role (`*`), a majority of them.
    #[serde(default)]
    pub governance: Option<GenesisGovernance>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = r#"{
        "chain_id": "old-chain",
        "genesis_time_ms": 1,
        "validators": [{"account": "0101010101010101010101010101010101010101010101010101010101010101", "organization": "ops"}],
        "organizations": [{"id": "ops", "display_name": "Ops"}],
        "accounts": [],
        "roles": {}
    }"#;

    #[test]
    fn a_genesis_file_without_epochs_or_governance_still_loads() {
        let g: Genesis = serde_json::from_str(OLD).unwrap();
        assert_eq!(g.epoch_length, DEFAULT_EPOCH_LENGTH);
        assert_eq!(g.governance, None);
        // And the new fields round-trip.
        let mut g2 = g.clone();
        g2.epoch_length = 16;
        g2.governance = Some(GenesisGovernance {
            admins: vec![AccountId([2; 32])],
            threshold: 1,
        });
        let text = serde_json::to_string(&g2).unwrap();
        assert!(text.contains(r#""epoch_length":16"#), "{text}");
        assert!(text.contains(r#""governance":{"admins":["#), "{text}");
        assert_eq!(serde_json::from_str::<Genesis>(&text).unwrap(), g2);
    }
}
