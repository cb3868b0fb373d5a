//! Salted-hash commitments to personal data (UC-27, "Digital identity as a service").
//!
//! A mobile operator checks a customer's data, then publishes only a commitment to it. Later
//! the customer hands the data and the salt to a service provider, who recomputes the
//! commitment and compares it with the one on the ledger: "no actual transfer of personal
//! information ... between organizations" (paper L3097), and the ledger holds nothing that
//! identifies the person.
//!
//! The commitment is SHA-256 over a canonical encoding:
//!
//! ```text
//! "weft/commitment/v1\0" || u32le(len(salt)) || salt || u64le(len(value)) || value
//! ```
//!
//! The domain tag keeps a commitment from colliding with any other Weft hash; the length
//! prefixes make the split between salt and value unambiguous. The salt (at least 16 random
//! bytes, 32 by default) is what stops a reader of the ledger from confirming a guess such
//! as a birth date by hashing candidates; it must travel only with the data.
//!
//! Structured data is committed per attribute ([`AttributeCommitments`]), each with its own
//! salt, so that the customer can open one attribute (say, "over 18" or a phone number)
//! without opening the others. An attribute's value bytes are the borsh encoding of
//! `(name, value)`, so a commitment to one attribute cannot be passed off as another's.

use std::collections::BTreeMap;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use weft_types::Hash;

const DOMAIN: &[u8] = b"weft/commitment/v1\0";
/// Shortest salt accepted: 128 bits.
pub const MIN_SALT_BYTES: usize = 16;
/// Longest salt accepted.
pub const MAX_SALT_BYTES: usize = 64;
/// Length of a freshly generated salt.
pub const DEFAULT_SALT_BYTES: usize = 32;

/// Why a commitment could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitmentError {
    /// The salt is shorter than 16 or longer than 64 bytes.
    #[error("a salt has {MIN_SALT_BYTES}-{MAX_SALT_BYTES} bytes, not {0}")]
    BadSalt(usize),
    /// The operating system's random source failed.
    #[error("no randomness available: {0}")]
    Entropy(String),
}

/// A random salt; keep it with the data, never on the ledger.
#[derive(Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Salt(#[serde(with = "hex_bytes")] Vec<u8>);

impl std::fmt::Debug for Salt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Salts are secrets in the sense that they protect guessable data; do not log them.
        write!(f, "Salt({} bytes)", self.0.len())
    }
}

impl Salt {
    /// 32 bytes from the operating system's random source.
    pub fn generate() -> Result<Self, CommitmentError> {
        let mut bytes = vec![0u8; DEFAULT_SALT_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| CommitmentError::Entropy(e.to_string()))?;
        Ok(Self(bytes))
    }

    /// A salt from given bytes (16 to 64 of them).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, CommitmentError> {
        if !(MIN_SALT_BYTES..=MAX_SALT_BYTES).contains(&bytes.len()) {
            return Err(CommitmentError::BadSalt(bytes.len()));
        }
        Ok(Self(bytes))
    }

    /// The salt bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A published commitment.
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
pub struct Commitment(pub weft_types::Hash);

/// The bytes that are hashed; exposed so that other implementations can test against them.
pub fn canonical_encoding(value: &[u8], salt: &Salt) -> Vec<u8> {
    let mut out = Vec::with_capacity(DOMAIN.len() + 4 + salt.0.len() + 8 + value.len());
    out.extend_from_slice(DOMAIN);
    // Salts are at most 64 bytes, so the length always fits.
    out.extend_from_slice(&(salt.0.len() as u32).to_le_bytes());
    out.extend_from_slice(&salt.0);
    out.extend_from_slice(&(value.len() as u64).to_le_bytes());
    out.extend_from_slice(value);
    out
}

/// Commits to `value` under `salt`.
pub fn commit(value: &[u8], salt: &Salt) -> Commitment {
    Commitment(weft_crypto::sha256(&canonical_encoding(value, salt)))
}

/// Whether `value` and `salt` open `commitment`.
pub fn verify(value: &[u8], salt: &Salt, commitment: &Commitment) -> bool {
    commit(value, salt) == *commitment
}

fn attribute_bytes(name: &str, value: &str) -> Vec<u8> {
    weft_types::encode(&(name, value))
}

/// Commits to one named attribute.
pub fn commit_attribute(name: &str, value: &str, salt: &Salt) -> Commitment {
    commit(&attribute_bytes(name, value), salt)
}

/// Whether `(name, value, salt)` opens `commitment`.
pub fn verify_attribute(name: &str, value: &str, salt: &Salt, commitment: &Commitment) -> bool {
    verify(&attribute_bytes(name, value), salt, commitment)
}

/// One commitment per attribute, each under its own salt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeCommitments {
    /// What goes on the ledger: attribute name → commitment.
    pub public: BTreeMap<String, Commitment>,
    /// What stays with the customer: attribute name → salt.
    pub openings: BTreeMap<String, Salt>,
}

impl AttributeCommitments {
    /// Commits to every attribute with a fresh random salt.
    pub fn commit(attributes: &BTreeMap<String, String>) -> Result<Self, CommitmentError> {
        let mut public = BTreeMap::new();
        let mut openings = BTreeMap::new();
        for (name, value) in attributes {
            let salt = Salt::generate()?;
            public.insert(name.clone(), commit_attribute(name, value, &salt));
            openings.insert(name.clone(), salt);
        }
        Ok(Self { public, openings })
    }
}

/// Checks disclosed attributes against published commitments: every disclosed attribute must
/// have a commitment and open it. Returns the names that failed (empty means all opened).
pub fn verify_disclosed(
    public: &BTreeMap<String, Commitment>,
    disclosed: &BTreeMap<String, (String, Salt)>,
) -> Vec<String> {
    disclosed
        .iter()
        .filter(|(name, (value, salt))| {
            public
                .get(*name)
                .is_none_or(|c| !verify_attribute(name, value, salt, c))
        })
        .map(|(name, _)| name.clone())
        .collect()
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(&text).map_err(D::Error::custom)?;
        if !(super::MIN_SALT_BYTES..=super::MAX_SALT_BYTES).contains(&bytes.len()) {
            return Err(D::Error::custom("salt length out of range"));
        }
        Ok(bytes)
    }
}

impl From<Commitment> for Hash {
    fn from(c: Commitment) -> Self {
        c.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn salt(b: u8) -> Salt {
        Salt::from_bytes(vec![b; 32]).unwrap()
    }

    #[test]
    fn commitment_is_sha256_of_the_documented_encoding() {
        let s = salt(7);
        let mut expected = b"weft/commitment/v1\0".to_vec();
        expected.extend_from_slice(&32u32.to_le_bytes());
        expected.extend_from_slice(&[7; 32]);
        expected.extend_from_slice(&5u64.to_le_bytes());
        expected.extend_from_slice(b"alice");
        assert_eq!(canonical_encoding(b"alice", &s), expected);
        assert_eq!(commit(b"alice", &s).0, weft_crypto::sha256(&expected));
        assert!(verify(b"alice", &s, &commit(b"alice", &s)));
    }

    #[test]
    fn wrong_value_or_salt_does_not_open() {
        let c = commit(b"1990-04-01", &salt(1));
        assert!(!verify(b"1990-04-02", &salt(1), &c));
        assert!(!verify(b"1990-04-01", &salt(2), &c));
        // Moving bytes between salt and value changes the commitment (length prefixes).
        let mut longer = vec![1u8; 32];
        longer.push(b'1');
        let shifted = Salt::from_bytes(longer).unwrap();
        assert!(!verify(b"990-04-01", &shifted, &c));
    }

    #[test]
    fn salts_are_bounded_and_random() {
        assert_eq!(
            Salt::from_bytes(vec![0; 15]),
            Err(CommitmentError::BadSalt(15))
        );
        assert_eq!(
            Salt::from_bytes(vec![0; 65]),
            Err(CommitmentError::BadSalt(65))
        );
        let a = Salt::generate().unwrap();
        let b = Salt::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.as_bytes().len(), DEFAULT_SALT_BYTES);
        assert_eq!(format!("{a:?}"), "Salt(32 bytes)");
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Salt>(&json).unwrap(), a);
        assert!(serde_json::from_str::<Salt>("\"00\"").is_err());
    }

    #[test]
    fn attributes_open_one_at_a_time_and_cannot_be_swapped() {
        let attrs: BTreeMap<String, String> = [
            ("name", "Alice Example"),
            ("birth_date", "1990-04-01"),
            ("msisdn", "+3725550100"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let c = AttributeCommitments::commit(&attrs).unwrap();
        assert_eq!(c.public.len(), 3);

        let mut disclosed = BTreeMap::new();
        disclosed.insert(
            "msisdn".to_string(),
            ("+3725550100".to_string(), c.openings["msisdn"].clone()),
        );
        assert!(verify_disclosed(&c.public, &disclosed).is_empty());

        // A value opened under another attribute's name fails.
        disclosed.insert(
            "name".to_string(),
            ("+3725550100".to_string(), c.openings["msisdn"].clone()),
        );
        // A wrong value fails; an attribute with no commitment fails.
        disclosed.insert(
            "birth_date".to_string(),
            ("1990-04-02".to_string(), c.openings["birth_date"].clone()),
        );
        disclosed.insert("email".to_string(), ("a@example.org".to_string(), salt(3)));
        assert_eq!(
            verify_disclosed(&c.public, &disclosed),
            ["birth_date", "email", "name"]
        );
    }
}
