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
