//! Genesis: turns the genesis document into the state of height 0, after checking it.

use std::collections::{BTreeMap, BTreeSet};

use weft_types::{
    AccountId, Amount, Genesis, MAX_EPOCH_LENGTH, MIN_EPOCH_LENGTH, Name, Operation, encode,
    limits::{MAX_GOVERNANCE_ADMINS, MAX_TEXT_BYTES, MAX_VALIDATORS},
    state::WriteSet,
};

use crate::{
    keys::StateKey,
    model::{Account, Governance, Organization, Role, Token, ValidatorSet},
};

/// Why a genesis document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid genesis: {0}")]
pub struct GenesisError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, GenesisError> {
    Err(GenesisError(msg.into()))
}

fn check_permission(role: &Name, p: &str) -> Result<(), GenesisError> {
    let known = p == "*"
        || crate::read_policy::is_read_permission(p)
        || Operation::ALL_PERMISSIONS.contains(&p)
        || p.strip_suffix(".*").is_some_and(|m| {
            Operation::ALL_PERMISSIONS
                .iter()
                .any(|k| k.split('.').next() == Some(m))
        });
    if known {
        Ok(())
    } else {
        err(format!("role {role}: unknown permission {p:?}"))
    }
}

/// The consensus governance the genesis sets: its `governance` section, checked, or else the
/// genesis accounts holding an administrator role (`*`), a majority of them.
fn governance(
    genesis: &Genesis,
    accounts: &BTreeSet<AccountId>,
) -> Result<Governance, GenesisError> {
    let Some(gov) = &genesis.governance else {
        let admin_roles: BTreeSet<&Name> = genesis
            .roles
            .iter()
            .filter(|(_, permissions)| permissions.iter().any(|p| p == "*"))
            .map(|(name, _)| name)
            .collect();
        let admins: Vec<AccountId> = genesis
            .accounts
            .iter()
            .filter(|a| a.roles.iter().any(|r| admin_roles.contains(r)))
            .map(|a| a.account)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if admins.len() > MAX_GOVERNANCE_ADMINS {
            return err(format!(
                "{} accounts hold an admin role, more than the {MAX_GOVERNANCE_ADMINS} a \
                 governance may have; set a governance section",
                admins.len()
            ));
        }
        let threshold = u32::try_from(admins.len() / 2 + 1).unwrap_or(u32::MAX);
        return Ok(Governance { admins, threshold });
    };
    if gov.admins.len() > MAX_GOVERNANCE_ADMINS {
        return err(format!(
            "governance: {} admins, at most {MAX_GOVERNANCE_ADMINS}",
            gov.admins.len()
        ));
    }
    let mut admins = BTreeSet::new();
    for admin in &gov.admins {
        if !accounts.contains(admin) {
            return err(format!(
                "governance: admin {admin} is not a genesis account"
            ));
        }
        if !admins.insert(*admin) {
            return err(format!("governance: admin {admin} listed twice"));
        }
    }
    // With no admins the set can never change; the threshold is then 1 by convention.
    let max = admins.len().max(1);
    if gov.threshold == 0 || gov.threshold as usize > max {
        return err(format!(
            "governance: threshold must be 1 to {max}, got {}",
            gov.threshold
        ));
    }
    Ok(Governance {
        admins: admins.into_iter().collect(),
        threshold: gov.threshold,
    })
}

/// The validated genesis state, ordered by key.
pub fn genesis_writes(genesis: &Genesis) -> Result<WriteSet, GenesisError> {
    let mut w = WriteSet::new();
    let mut put = |key: StateKey, bytes: Vec<u8>| w.insert(key.to_bytes(), Some(bytes));

    if genesis.validators.is_empty() || genesis.validators.len() > MAX_VALIDATORS {
        return err(format!("needs 1 to {MAX_VALIDATORS} validators"));
    }
    if !(MIN_EPOCH_LENGTH..=MAX_EPOCH_LENGTH).contains(&genesis.epoch_length) {
        return err(format!(
            "epoch_length must be {MIN_EPOCH_LENGTH} to {MAX_EPOCH_LENGTH} blocks, got {}",
            genesis.epoch_length
        ));
    }
    let mut orgs = BTreeSet::new();
    for org in &genesis.organizations {
        if org.display_name.len() > MAX_TEXT_BYTES {
            return err(format!("organization {}: display name too long", org.id));
        }
        if !orgs.insert(org.id.clone()) {
            return err(format!("organization {} listed twice", org.id));
        }
        let record = Organization {
            display_name: org.display_name.clone(),
            registered_at: 0,
        };
        put(StateKey::Organization(org.id.clone()), encode(&record));
    }
    for (name, permissions) in &genesis.roles {
        for p in permissions {
            check_permission(name, p)?;
        }
        let role = Role {
            permissions: permissions.iter().cloned().collect(),
        };
        put(StateKey::Role(name.clone()), encode(&role));
    }
    let mut accounts = BTreeSet::new();
    for acct in &genesis.accounts {
        if !orgs.contains(&acct.organization) {
            return err(format!(
                "account {}: unknown organization {}",
                acct.account, acct.organization
            ));
        }
        if let Some(role) = acct.roles.iter().find(|r| !genesis.roles.contains_key(*r)) {
            return err(format!("account {}: unknown role {role}", acct.account));
        }
        if !accounts.insert(acct.account) {
            return err(format!("account {} listed twice", acct.account));
        }
        let record = Account {
            organization: acct.organization.clone(),
            roles: acct.roles.iter().cloned().collect(),
            registered_at: 0,
        };
        put(StateKey::Account(acct.account), encode(&record));
    }
    let mut validators: ValidatorSet = Vec::new();
    for v in &genesis.validators {
        // An invalid point in the set would halt consensus.
        if !weft_crypto::is_valid_public_key(&v.account) {
            return err(format!(
                "validator {} is not a valid Ed25519 public key",
                v.account
            ));
        }
        if !orgs.contains(&v.organization) {
            return err(format!(
                "validator {}: unknown organization {}",
                v.account, v.organization
            ));
        }
        validators.push(v.account);
    }
    validators.sort();
    let before = validators.len();
    validators.dedup();
    if validators.len() != before {
        return err("a validator is listed twice");
    }
    put(StateKey::Validators, encode(&validators));
    put(StateKey::EpochLength, encode(&genesis.epoch_length));
    put(
        StateKey::Governance,
        encode(&governance(genesis, &accounts)?),
    );

    let mut holdings: BTreeMap<AccountId, BTreeSet<Name>> = BTreeMap::new();
    let mut symbols = BTreeSet::new();
    for t in &genesis.tokens {
        if !symbols.insert(t.symbol.clone()) {
            return err(format!("token {} defined twice", t.symbol));
        }
        if !accounts.contains(&t.issuer) {
            return err(format!(
                "token {}: issuer {} is not a genesis account",
                t.symbol, t.issuer
            ));
        }
        let mut supply: u128 = 0;
        for (who, amount) in &t.balances {
            if !accounts.contains(who) {
                return err(format!(
                    "token {}: holder {who} is not a genesis account",
                    t.symbol
                ));
            }
            supply = supply
                .checked_add(amount.0)
                .ok_or_else(|| GenesisError(format!("token {}: supply overflows", t.symbol)))?;
            if amount.0 > 0 {
                put(StateKey::Balance(t.symbol.clone(), *who), encode(amount));
                holdings.entry(*who).or_default().insert(t.symbol.clone());
            }
        }
        if t.max_supply.is_some_and(|max| supply > max.0) {
            return err(format!("token {}: balances exceed max supply", t.symbol));
        }
        let token = Token {
            display_name: t.display_name.clone(),
            decimals: t.decimals,
            issuer: t.issuer,
            max_supply: t.max_supply,
            supply: Amount(supply),
            controller: None,
            holder_role: None,
        };
        put(StateKey::Token(t.symbol.clone()), encode(&token));
    }
    for (who, held) in holdings {
        put(StateKey::Holdings(who), encode(&held));
    }
    put(StateKey::ChainId, encode(&genesis.chain_id));
    put(StateKey::Height, encode(&0u64));
    Ok(w)
}
