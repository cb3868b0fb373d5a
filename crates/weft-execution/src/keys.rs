//! The state's key space.
//!
//! A key is a readable path (`balance/usd/<account hex>`), so the API, the CLI and proofs name
//! state the same way people do. Names cannot contain `/`, so every path parses one way only.

use std::{fmt, str::FromStr};

use weft_types::{AccountId, Name, registry::DnsName};

/// Every kind of state entry.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StateKey {
    /// The chain's height; written by every block so each height has its own state root.
    Height,
    /// The chain id fixed at genesis.
    ChainId,
    /// The active validator set: the set that finalizes the next block.
    Validators,
    /// Blocks per consensus epoch, fixed at genesis.
    EpochLength,
    /// Who approves validator-set and governance changes, and how many must.
    Governance,
    /// A validator set scheduled to replace [`StateKey::Validators`] after the last block of
    /// the current epoch.
    PendingValidators,
    /// An organization record.
    Organization(Name),
    /// A role's permission list.
    Role(Name),
    /// An account record (organization, roles).
    Account(AccountId),
    /// An account's next nonce.
    Nonce(AccountId),
    /// A token definition and its supply.
    Token(Name),
    /// Present when a token is meter-backed: how many feeds issue it (their readings are its
    /// only source; direct mints are refused).
    TokenMeters(Name),
    /// One account's balance of one token.
    Balance(Name, AccountId),
    /// The set of tokens an account holds a non-zero balance of.
    Holdings(AccountId),
    /// A unique asset and its lineage.
    Asset(Name),
    /// An escrow hold.
    Hold(Name),
    /// Present when an account is frozen for a token.
    Frozen(Name, AccountId),
    /// An anchored document and its versions.
    Document(Name),
    /// A request for quote, its quotes and their escrow.
    Rfq(Name),
    /// A double-auction market with its open orders and their escrow.
    Market(Name),
    /// An oracle feed: its device, latest readings and thresholds.
    Feed(Name),
    /// The unfinished workflow instances that watch a feed (an `on_breach` transition names
    /// it), sorted by id: whom a breach of the feed may move.
    FeedWatchers(Name),
    /// A captured EPCIS event.
    EpcisEvent(Name),
    /// The EPCIS events naming an asset, oldest first.
    EpcisTrail(Name),
    /// The parent an asset is currently packed in (EPCIS aggregation).
    ContainedIn(Name),
    /// A deployed workflow template version (immutable).
    Template(Name, u32),
    /// A workflow instance: its template version, bindings, state and history.
    Instance(Name),
    /// The `did:weft` record of an account, once it has been updated (before that, the
    /// account's record implies it).
    Did(AccountId),
    /// A trusted-issuer registry entry, by the issuer DID's account.
    Issuer(AccountId),
    /// A Bitstring Status List, by its issuer's account and its name.
    StatusList(AccountId, Name),
    /// A salted-hash commitment to one attribute of personal data (UC-27).
    Commitment(Name),
    /// A key-registry name: its owner, policy and bindings (UC-28/29).
    RegistryName(DnsName),
    /// The registry transparency log's head (size and root).
    RegistryLogHead,
    /// One leaf of the registry transparency log.
    RegistryLogLeaf(u64),
    /// A private record: commitment, policy, consent and grants (never the payload).
    PrivateRecord(Name),
    /// One entry of a private record's log.
    PrivateLog(Name, u64),
}

impl StateKey {
    /// The record's kind, the first segment of its path (`balance`, `instance`, …): what a
    /// `read.<kind>` permission lets a role read.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Height
            | Self::ChainId
            | Self::Validators
            | Self::EpochLength
            | Self::Governance
            | Self::PendingValidators => "meta",
            Self::Organization(_) => "organization",
            Self::Role(_) => "role",
            Self::Account(_) => "account",
            Self::Nonce(_) => "nonce",
            Self::Token(_) | Self::TokenMeters(_) => "token",
            Self::Balance(..) => "balance",
            Self::Holdings(_) => "holdings",
            Self::Asset(_) => "asset",
            Self::Hold(_) => "hold",
            Self::Frozen(..) => "frozen",
            Self::Document(_) => "document",
            Self::Rfq(_) => "rfq",
            Self::Market(_) => "market",
            Self::Feed(_) => "feed",
            Self::FeedWatchers(_) => "feed-watchers",
            Self::EpcisEvent(_) | Self::EpcisTrail(_) | Self::ContainedIn(_) => "epcis",
            Self::Template(..) => "template",
            Self::Instance(_) => "instance",
            Self::Did(_) => "did",
            Self::Issuer(_) => "issuer",
            Self::StatusList(..) => "status-list",
            Self::Commitment(_) => "commitment",
            Self::RegistryName(_) | Self::RegistryLogHead | Self::RegistryLogLeaf(_) => "registry",
            Self::PrivateRecord(_) | Self::PrivateLog(..) => "private",
        }
    }

    /// The key's bytes in the state tree.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

impl fmt::Display for StateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Height => f.write_str("meta/height"),
            Self::ChainId => f.write_str("meta/chain_id"),
            Self::Validators => f.write_str("meta/validators"),
            Self::EpochLength => f.write_str("meta/epoch_length"),
            Self::Governance => f.write_str("meta/governance"),
            Self::PendingValidators => f.write_str("meta/pending_validators"),
            Self::Organization(n) => write!(f, "organization/{n}"),
            Self::Role(n) => write!(f, "role/{n}"),
            Self::Account(a) => write!(f, "account/{a}"),
            Self::Nonce(a) => write!(f, "nonce/{a}"),
            Self::Token(n) => write!(f, "token/{n}"),
            Self::TokenMeters(n) => write!(f, "token/{n}/meters"),
            Self::Balance(n, a) => write!(f, "balance/{n}/{a}"),
            Self::Holdings(a) => write!(f, "holdings/{a}"),
            Self::Asset(n) => write!(f, "asset/{n}"),
            Self::Hold(n) => write!(f, "hold/{n}"),
            Self::Frozen(n, a) => write!(f, "frozen/{n}/{a}"),
            Self::Document(n) => write!(f, "document/{n}"),
            Self::Rfq(n) => write!(f, "rfq/{n}"),
            Self::Market(n) => write!(f, "market/{n}"),
            Self::Feed(n) => write!(f, "feed/{n}"),
            Self::FeedWatchers(n) => write!(f, "feed-watchers/{n}"),
            Self::EpcisEvent(n) => write!(f, "epcis/event/{n}"),
            Self::EpcisTrail(n) => write!(f, "epcis/trail/{n}"),
            Self::ContainedIn(n) => write!(f, "epcis/contained-in/{n}"),
            Self::Template(n, v) => write!(f, "template/{n}/{v}"),
            Self::Instance(n) => write!(f, "instance/{n}"),
            Self::Did(a) => write!(f, "did/{a}"),
            Self::Issuer(a) => write!(f, "issuer/{a}"),
            Self::StatusList(a, n) => write!(f, "status-list/{a}/{n}"),
            Self::Commitment(n) => write!(f, "commitment/{n}"),
            Self::RegistryName(n) => write!(f, "registry/name/{n}"),
            Self::RegistryLogHead => f.write_str("registry/log/head"),
            Self::RegistryLogLeaf(i) => write!(f, "registry/log/leaf/{i}"),
            Self::PrivateRecord(n) => write!(f, "private/record/{n}"),
            Self::PrivateLog(n, i) => write!(f, "private/log/{n}/{i}"),
        }
    }
}

/// Why a key path did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown state key {0:?}; expected e.g. account/<hex>, balance/<symbol>/<hex>, token/<symbol>, hold/<id>, template/<id>/<version>, instance/<id>, did/<hex>, issuer/<hex>, status-list/<hex>/<name>, commitment/<id>, registry/name/<dns name>, registry/log/head, registry/log/leaf/<n>, private/record/<id>, private/log/<id>/<n>, asset/<id>, document/<id>, feed/<id>, organization/<id>, role/<name>, nonce/<hex>, meta/height, meta/validators, meta/pending_validators, meta/governance, meta/epoch_length"
)]
pub struct BadStateKey(pub String);

impl FromStr for StateKey {
    type Err = BadStateKey;
    fn from_str(s: &str) -> Result<Self, BadStateKey> {
        let bad = || BadStateKey(s.chars().take(200).collect());
        let parts: Vec<&str> = s.split('/').collect();
        let name = |t: &str| Name::new(t).map_err(|_| bad());
        let account = |t: &str| t.parse::<AccountId>().map_err(|_| bad());
        // Canonical decimal only (no sign, no leading zeros), so each key has one spelling.
        let version = |t: &str| match t.parse::<u32>() {
            Ok(v) if v.to_string() == t => Ok(v),
            _ => Err(bad()),
        };
        Ok(match parts.as_slice() {
            ["meta", "height"] => Self::Height,
            ["meta", "chain_id"] => Self::ChainId,
            ["meta", "validators"] => Self::Validators,
            ["meta", "epoch_length"] => Self::EpochLength,
            ["meta", "governance"] => Self::Governance,
            ["meta", "pending_validators"] => Self::PendingValidators,
            ["organization", n] => Self::Organization(name(n)?),
            ["role", n] => Self::Role(name(n)?),
            ["account", a] => Self::Account(account(a)?),
            ["nonce", a] => Self::Nonce(account(a)?),
            ["token", n] => Self::Token(name(n)?),
            ["token", n, "meters"] => Self::TokenMeters(name(n)?),
            ["balance", n, a] => Self::Balance(name(n)?, account(a)?),
            ["holdings", a] => Self::Holdings(account(a)?),
            ["asset", n] => Self::Asset(name(n)?),
            ["hold", n] => Self::Hold(name(n)?),
            ["frozen", n, a] => Self::Frozen(name(n)?, account(a)?),
            ["document", n] => Self::Document(name(n)?),
            ["rfq", n] => Self::Rfq(name(n)?),
            ["market", n] => Self::Market(name(n)?),
            ["feed", n] => Self::Feed(name(n)?),
            ["feed-watchers", n] => Self::FeedWatchers(name(n)?),
            ["epcis", "event", n] => Self::EpcisEvent(name(n)?),
            ["epcis", "trail", n] => Self::EpcisTrail(name(n)?),
            ["epcis", "contained-in", n] => Self::ContainedIn(name(n)?),
            ["template", n, v] => Self::Template(name(n)?, version(v)?),
            ["instance", n] => Self::Instance(name(n)?),
            ["did", a] => Self::Did(account(a)?),
            ["issuer", a] => Self::Issuer(account(a)?),
            ["status-list", a, n] => Self::StatusList(account(a)?, name(n)?),
            ["commitment", n] => Self::Commitment(name(n)?),
            ["registry", "name", n] => Self::RegistryName(n.parse().map_err(|_| bad())?),
            ["registry", "log", "head"] => Self::RegistryLogHead,
            ["registry", "log", "leaf", i] => Self::RegistryLogLeaf(match i.parse::<u64>() {
                Ok(v) if v.to_string() == *i => v,
                _ => return Err(bad()),
            }),
            ["private", "record", n] => Self::PrivateRecord(name(n)?),
            ["private", "log", n, i] => Self::PrivateLog(
                name(n)?,
                match i.parse::<u64>() {
                    Ok(v) if v.to_string() == *i => v,
                    _ => return Err(bad()),
                },
            ),
            _ => return Err(bad()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Offline verifiers follow validator-set changes through proofs of this key; weft-crypto
    /// names it without depending on execution.
    #[test]
    fn the_validator_set_key_is_the_one_verifiers_prove() {
        assert_eq!(
            StateKey::Validators.to_bytes(),
            weft_crypto::VALIDATORS_STATE_KEY.as_bytes()
        );
    }

    #[test]
    fn keys_round_trip_through_text() {
        let a = AccountId([0xab; 32]);
        let usd = Name::new("usd").unwrap();
        for key in [
            StateKey::Height,
            StateKey::ChainId,
            StateKey::Validators,
            StateKey::EpochLength,
            StateKey::Governance,
            StateKey::PendingValidators,
            StateKey::Organization(usd.clone()),
            StateKey::Role(usd.clone()),
            StateKey::Account(a),
            StateKey::Nonce(a),
            StateKey::Token(usd.clone()),
            StateKey::TokenMeters(usd.clone()),
            StateKey::Balance(usd.clone(), a),
            StateKey::Holdings(a),
            StateKey::Asset(usd.clone()),
            StateKey::Hold(usd.clone()),
            StateKey::Frozen(usd.clone(), a),
            StateKey::Document(usd.clone()),
            StateKey::Rfq(usd.clone()),
            StateKey::Market(usd.clone()),
            StateKey::Feed(usd.clone()),
            StateKey::FeedWatchers(usd.clone()),
            StateKey::EpcisEvent(usd.clone()),
            StateKey::EpcisTrail(usd.clone()),
            StateKey::ContainedIn(usd.clone()),
            StateKey::Template(usd.clone(), 0),
            StateKey::Template(usd.clone(), u32::MAX),
            StateKey::Instance(usd.clone()),
            StateKey::Did(a),
            StateKey::Issuer(a),
            StateKey::StatusList(a, usd.clone()),
            StateKey::Commitment(usd.clone()),
            StateKey::RegistryName("www.example.com".parse().unwrap()),
            StateKey::RegistryLogHead,
            StateKey::RegistryLogLeaf(0),
            StateKey::RegistryLogLeaf(u64::MAX),
            StateKey::PrivateRecord(usd.clone()),
            StateKey::PrivateLog(usd.clone(), 0),
            StateKey::PrivateLog(usd.clone(), u64::MAX),
        ] {
            assert_eq!(key.to_string().parse::<StateKey>().unwrap(), key);
        }
        for bad in [
            "",
            "balance/usd",
            "account/xyz",
            "role/A",
            "meta/other",
            "meta/governance/x",
            "meta/pending-validators",
            "token/usd/extra",
            "asset/usd/extra",
            "asset/USD",
            "feed/usd/extra",
            "token/usd/meter",
            "feed-watchers/usd/extra",
            "feed-watchers/USD",
            "template/usd",
            "template/usd/01",
            "template/usd/+1",
            "template/usd/-1",
            "template/usd/4294967296",
            "instance/usd/1",
            "did/xyz",
            "issuer/did:weft:t:ab",
            "status-list/usd",
            "commitment/a/b",
            "registry/name/Example.com",
            "registry/name/com",
            "registry/log/leaf/01",
            "registry/log/leaf/-1",
            "registry/log",
            "private/record/A",
            "private/record",
            "private/log/a",
            "private/log/a/01",
            "private/log/a/x",
        ] {
            assert!(bad.parse::<StateKey>().is_err(), "{bad}");
        }
    }
}
