//! `did:weft` identifiers, the DID URLs that name one verification method, and the plain
//! data that identity and credential operations carry (DID updates, services, key formats,
//! status purposes).
//!
//! `did:weft:<chain_id>:<account hex>`: the chain id is a [`Name`] (`[a-z0-9._-]`, never a
//! colon) and the account is the 64-hex-character Ed25519 key the account was registered
//! with. The account id stays the DID's subject after that key is rotated out.
//!
//! These types live here, not in `weft-credentials`, because operations carry them and
//! `weft-credentials` depends on this crate; the rules that apply them are there.

use std::{fmt, str::FromStr};

use crate::ids::{AccountId, ChainId, Name};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

/// The method prefix every Weft DID starts with.
pub const DID_PREFIX: &str = "did:weft:";

/// Longest DID URL accepted from outside; a `did:weft` URL is far shorter.
const MAX_DID_URL_BYTES: usize = 256;

/// Why a DID or DID URL could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DidParseError {
    /// The text is not a `did:weft:` identifier.
    #[error("not a did:weft identifier: {0:?}")]
    NotWeft(String),
    /// The chain id part is not a valid name.
    #[error("invalid chain id in DID: {0:?}")]
    BadChain(String),
    /// The account part is not 64 lower-case hex characters.
    #[error("invalid account in DID: {0:?}")]
    BadAccount(String),
    /// The fragment does not name a verification method (`key-N`).
    #[error("invalid verification method fragment: {0:?}")]
    BadFragment(String),
}

fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

/// A `did:weft` decentralized identifier: one per account, on one chain.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Did {
    chain: ChainId,
    account: AccountId,
}

impl Did {
    /// The DID of `account` on `chain`.
    pub fn new(chain: ChainId, account: AccountId) -> Self {
        Self { chain, account }
    }

    /// The chain the DID lives on.
    pub fn chain(&self) -> &ChainId {
        &self.chain
    }

    /// The account that is the DID's subject.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The DID URL of verification method `key`.
    pub fn key_url(&self, key: KeyId) -> DidUrl {
        DidUrl {
            did: self.clone(),
            key,
        }
    }
}

impl fmt::Display for Did {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{DID_PREFIX}{}:{}", self.chain, self.account)
    }
}

impl fmt::Debug for Did {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Did({self})")
    }
}

impl FromStr for Did {
    type Err = DidParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() > MAX_DID_URL_BYTES {
            return Err(DidParseError::NotWeft(clip(s)));
        }
        let rest = s
            .strip_prefix(DID_PREFIX)
            .ok_or_else(|| DidParseError::NotWeft(clip(s)))?;
        let (chain, account) = rest
            .split_once(':')
            .ok_or_else(|| DidParseError::NotWeft(clip(s)))?;
        let chain = Name::new(chain).map_err(|_| DidParseError::BadChain(clip(chain)))?;
        // One spelling per DID: upper-case hex or a 0x prefix would make two strings name the
        // same subject, and DIDs are compared as strings by other software.
        let canonical = account.len() == 64
            && account
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !canonical {
            return Err(DidParseError::BadAccount(clip(account)));
        }
        let account = account
            .parse::<AccountId>()
            .map_err(|_| DidParseError::BadAccount(clip(account)))?;
        Ok(Self { chain, account })
    }
}

impl Serialize for Did {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Did {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(d)?;
        s.parse().map_err(D::Error::custom)
    }
}

/// The number of a verification method within one DID record: fragment `#key-N`.
///
/// Numbers are handed out in increasing order and never reused, so a DID URL that once named
/// a rotated-out key can never come to name a different key.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Debug,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct KeyId(pub u32);

impl KeyId {
    /// The fragment without `#`: `key-N`.
    pub fn fragment(self) -> String {
        format!("key-{}", self.0)
    }

    /// Parses `key-N` where N is a canonical decimal (no sign, no leading zeros).
    pub fn from_fragment(fragment: &str) -> Result<Self, DidParseError> {
        let bad = || DidParseError::BadFragment(clip(fragment));
        let digits = fragment.strip_prefix("key-").ok_or_else(bad)?;
        let canonical = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        if !canonical {
            return Err(bad());
        }
        digits.parse().map(KeyId).map_err(|_| bad())
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key-{}", self.0)
    }
}

/// A DID URL naming one verification method: `did:weft:<chain>:<account>#key-N`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DidUrl {
    did: Did,
    key: KeyId,
}

impl DidUrl {
    /// The URL of `key` in `did`'s document.
    pub fn new(did: Did, key: KeyId) -> Self {
        Self { did, key }
    }

    /// The DID the URL points into.
    pub fn did(&self) -> &Did {
        &self.did
    }

    /// The verification method it names.
    pub fn key(&self) -> KeyId {
        self.key
    }
}

impl fmt::Display for DidUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.did, self.key)
    }
}

impl fmt::Debug for DidUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DidUrl({self})")
    }
}

impl FromStr for DidUrl {
    type Err = DidParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (did, fragment) = s
            .split_once('#')
            .ok_or_else(|| DidParseError::BadFragment(clip(s)))?;
        Ok(Self {
            did: did.parse()?,
            key: KeyId::from_fragment(fragment)?,
        })
    }
}

impl Serialize for DidUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DidUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(d)?;
        s.parse().map_err(D::Error::custom)
    }
}

/// How a verification method's key is written in the DID document.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Debug,
    Default,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum KeyFormat {
    /// `Ed25519VerificationKey2020` with `publicKeyMultibase` (Data Integrity suites).
    #[default]
    Ed25519VerificationKey2020 = 0,
    /// `JsonWebKey` with an OKP `publicKeyJwk` (JOSE verifiers).
    JsonWebKey = 1,
}

/// A service endpoint published in the DID document.
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Service {
    /// Fragment of the service id (`#<id>`).
    pub id: Name,
    /// The service type, e.g. `LinkedDomains` or `CredentialRegistry`.
    pub service_type: String,
    /// An absolute URI (`https://...`, `weft://...`).
    pub endpoint: String,
}

/// One change to a DID record.
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum DidUpdate {
    /// Adds a key under the next unused `#key-N`.
    AddKey {
        public_key: AccountId,
        #[serde(default)]
        format: KeyFormat,
        authentication: bool,
        assertion_method: bool,
    },
    /// Removes a key; refused for the last authentication key.
    RemoveKey { id: KeyId },
    /// Changes what a current key serves, keeping its id (e.g. demoting a retiring key to
    /// assertionMethod only, so credentials it signed keep verifying while it can no longer
    /// update the DID); refused if no authentication key would remain.
    SetRelationships {
        id: KeyId,
        authentication: bool,
        assertion_method: bool,
    },
    /// Lets another DID's authentication keys update this record.
    AddController { controller: Did },
    /// Withdraws that permission.
    RemoveController { controller: Did },
    /// Publishes a service endpoint.
    AddService { service: Service },
    /// Withdraws a service endpoint.
    RemoveService { id: Name },
    /// Ends the DID for good: keys and services are dropped and nothing can sign for it.
    Deactivate,
}

/// What a status bit means (`statusPurpose`).
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Debug,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum StatusPurpose {
    /// A set bit revokes the credential for good.
    Revocation = 0,
    /// A set bit suspends it; clearing the bit lifts the suspension.
    Suspension = 1,
}

impl StatusPurpose {
    /// The spec's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revocation => "revocation",
            Self::Suspension => "suspension",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn did() -> Did {
        Did::new(Name::new("weft-test").unwrap(), AccountId([0xab; 32]))
    }

    #[test]
    fn did_round_trips_through_text_and_json() {
        let d = did();
        let text = d.to_string();
        assert_eq!(text, format!("did:weft:weft-test:{}", "ab".repeat(32)));
        assert_eq!(text.parse::<Did>().unwrap(), d);
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Did>(&json).unwrap(), d);
        let bytes = borsh::to_vec(&d).unwrap();
        assert_eq!(borsh::from_slice::<Did>(&bytes).unwrap(), d);
    }

    #[test]
    fn non_canonical_spellings_are_refused() {
        let hex = "ab".repeat(32);
        for bad in [
            format!("did:weft:weft-test:{}", hex.to_uppercase()),
            format!("did:weft:weft-test:0x{hex}"),
            format!("did:weft:Weft:{hex}"),
            format!("did:web:weft-test:{hex}"),
            format!("did:weft:weft-test:{}", &hex[2..]),
            "did:weft:weft-test".to_string(),
        ] {
            assert!(bad.parse::<Did>().is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn key_fragments_are_canonical() {
        assert_eq!(KeyId::from_fragment("key-7").unwrap(), KeyId(7));
        assert_eq!(KeyId::from_fragment("key-0").unwrap(), KeyId(0));
        for bad in [
            "key-07",
            "key-",
            "key-+1",
            "key-1a",
            "k-1",
            "key-99999999999",
        ] {
            assert!(KeyId::from_fragment(bad).is_err(), "{bad} parsed");
        }
        let url = did().key_url(KeyId(3));
        assert_eq!(url.to_string().parse::<DidUrl>().unwrap(), url);
        assert!(url.to_string().ends_with("#key-3"));
    }
}
