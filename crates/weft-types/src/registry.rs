//! Decentralized PKI (UC-28, UC-29): the DNS-like names the key registry binds to Ed25519
//! public keys, and the operations that propose, endorse, rotate and revoke a binding.
//!
//! A [`DnsName`] is the canonical, lower-case form of a host name (RFC 1035 preferred name
//! syntax, as RFC 5280 asks of a `dNSName`): 1 to 253 bytes, labels of 1 to 63 letters,
//! digits and hyphens, no label starting or ending with a hyphen, at least two labels.
//! Upper case is refused rather than folded so that every name has one spelling on chain
//! and in the state key that stores it.

use std::{fmt, str::FromStr};

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

use crate::ids::AccountId;

/// Longest name, in bytes (RFC 1035 §2.3.4 less the root's dot).
pub const MAX_DNS_NAME_BYTES: usize = 253;
/// Longest label, in bytes.
pub const MAX_DNS_LABEL_BYTES: usize = 63;
/// Most endorsements a binding may require: a bound on the endorser list stored with it.
pub const MAX_ENDORSERS_REQUIRED: u8 = 16;
/// Longest revocation reason, in bytes.
pub const MAX_REVOCATION_REASON_BYTES: usize = 256;

/// Why a DNS name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid DNS name {0:?}: expected lower-case labels of [a-z0-9-] (1-63 bytes, no leading or trailing hyphen) joined by dots, at least two labels, at most 253 bytes"
)]
pub struct BadDnsName(pub String);

/// A validated host name, e.g. `www.example.com`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize)]
pub struct DnsName(String);

impl DnsName {
    /// Checks and wraps a name.
    pub fn new(s: impl Into<String>) -> Result<Self, BadDnsName> {
        let s = s.into();
        if Self::is_valid(&s) {
            Ok(Self(s))
        } else {
            Err(BadDnsName(s.chars().take(80).collect()))
        }
    }

    /// Whether `s` is a canonical DNS name.
    pub fn is_valid(s: &str) -> bool {
        if s.is_empty() || s.len() > MAX_DNS_NAME_BYTES {
            return false;
        }
        let mut labels = 0usize;
        for label in s.split('.') {
            labels += 1;
            let bytes = label.as_bytes();
            let ok = !bytes.is_empty()
                && bytes.len() <= MAX_DNS_LABEL_BYTES
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
                && bytes.first() != Some(&b'-')
                && bytes.last() != Some(&b'-');
            if !ok {
                return false;
            }
        }
        labels >= 2
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl BorshDeserialize for DnsName {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        let s = String::deserialize_reader(reader)?;
        Self::new(s).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }
}

impl fmt::Display for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DnsName({})", self.0)
    }
}

impl FromStr for DnsName {
    type Err = BadDnsName;
    fn from_str(s: &str) -> Result<Self, BadDnsName> {
        Self::new(s)
    }
}

impl Serialize for DnsName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DnsName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as Deserialize>::deserialize(d)?;
        Self::new(s).map_err(D::Error::custom)
    }
}

/// Proposes binding `name` to `public_key`. The first binding of a name makes the signer
/// its owner and fixes how many distinct endorsers a binding of it needs; later proposals
/// (after a revocation) are the owner's and may raise that number, never lower it. The
/// binding is pending until enough endorsers endorse it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct BindName {
    pub name: DnsName,
    /// The Ed25519 public key to bind.
    pub public_key: AccountId,
    /// Distinct endorsements a binding of this name needs to go live (1 to 16).
    pub endorsers_required: u8,
}

/// An endorser's attestation that it verified `name` is controlled by `public_key` (the
/// "nodes verify domains' public keys" step of UC-28). Names the key so an endorsement
/// can never count for another proposal.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct EndorseBinding {
    pub name: DnsName,
    pub public_key: AccountId,
}

/// The owner proposes a new key for a live name; the current binding stays live until the
/// new one collects its endorsements, then it is superseded.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RotateBinding {
    pub name: DnsName,
    pub public_key: AccountId,
}

/// Revokes the binding of `name` to `public_key` (live or pending): by the name's owner, or
/// by a transaction signed by as many distinct endorsers as the name requires.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RevokeBinding {
    pub name: DnsName,
    pub public_key: AccountId,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_are_validated() {
        for ok in [
            "example.com",
            "www.example.com",
            "a-b.c0",
            "x.y",
            "1.example",
        ] {
            assert!(DnsName::new(ok).is_ok(), "{ok}");
        }
        let long_label = format!("{}.com", "a".repeat(64));
        let long_name = format!("{}.com", vec!["a".repeat(60); 5].join("."));
        for bad in [
            "",
            "com",
            "Example.com",
            "-a.com",
            "a-.com",
            "a..com",
            ".a.com",
            "a.com.",
            "a_b.com",
            "a/b.com",
            "*.example.com",
            long_label.as_str(),
            long_name.as_str(),
        ] {
            assert!(DnsName::new(bad).is_err(), "{bad}");
        }
        let name = DnsName::new("www.example.com").unwrap();
        let bytes = borsh::to_vec(&name).unwrap();
        assert_eq!(borsh::from_slice::<DnsName>(&bytes).unwrap(), name);
        let bad = borsh::to_vec(&"Www.example.com".to_owned()).unwrap();
        assert!(borsh::from_slice::<DnsName>(&bad).is_err());
        assert!(serde_json::from_str::<DnsName>("\"a..b\"").is_err());
    }
}
