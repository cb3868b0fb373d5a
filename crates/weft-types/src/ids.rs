//! Fixed-size identifiers and bounded names.

use std::{fmt, str::FromStr};

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

use crate::limits::MAX_NAME_BYTES;

/// Why a textual id could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not valid hex of the right length.
    #[error("expected {expected} hex characters, got {got:?}")]
    BadHex { expected: usize, got: String },
    /// A name was empty, too long or used characters outside `[a-z0-9._-]`.
    #[error("invalid name {0:?}: use 1-64 characters of a-z, 0-9, '.', '_' or '-'")]
    BadName(String),
}

fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N], IdError> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).map_err(|_| IdError::BadHex {
        expected: N * 2,
        got: s.chars().take(80).collect(),
    })?;
    Ok(out)
}

macro_rules! hex_id {
    ($(#[$meta:meta])* $name:ident, $len:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
            /// Lower-case hex without prefix.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), hex::encode(self.0))
            }
        }
        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                parse_hex::<$len>(s).map(Self)
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&hex::encode(self.0))
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(d)?;
                s.parse().map_err(D::Error::custom)
            }
        }
    };
}

hex_id!(
    /// A SHA-256 digest.
    Hash,
    32
);
hex_id!(
    /// An account: the bytes of its Ed25519 public key.
    AccountId,
    32
);
hex_id!(
    /// An Ed25519 signature.
    SignatureBytes,
    64
);

impl Hash {
    /// The all-zero hash, used as the parent of the genesis block.
    pub const ZERO: Self = Self([0; 32]);
}

/// A short machine name: organization ids, roles, token symbols, chain ids.
///
/// Restricted to `[a-z0-9._-]{1,64}` so names sort and compare the same everywhere and
/// can be embedded in storage keys and URLs without escaping.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, Serialize)]
#[serde(transparent)]
pub struct Name(String);

impl BorshDeserialize for Name {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        let s = String::deserialize_reader(reader)?;
        Self::new(s).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }
}

impl Name {
    /// Checks and wraps a name.
    pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
        let s = s.into();
        if Self::is_valid(&s) {
            Ok(Self(s))
        } else {
            Err(IdError::BadName(s))
        }
    }
    /// Whether `s` is an acceptable name.
    pub fn is_valid(s: &str) -> bool {
        !s.is_empty()
            && s.len() <= MAX_NAME_BYTES
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    }
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}
impl FromStr for Name {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::new(s)
    }
}
impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as Deserialize>::deserialize(d)?;
        Self::new(s).map_err(D::Error::custom)
    }
}

/// The chain a transaction is meant for; a signed transaction is valid on one chain only.
pub type ChainId = Name;

/// A token quantity in the token's smallest unit. JSON carries it as a decimal string so
/// that JavaScript clients do not lose precision.
#[derive(
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Debug,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct Amount(pub u128);

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}
impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr<'a> {
            Text(std::borrow::Cow<'a, str>),
            Number(u64),
        }
        match <Repr as Deserialize>::deserialize(d)? {
            Repr::Text(s) => s.parse::<u128>().map(Amount).map_err(D::Error::custom),
            Repr::Number(n) => Ok(Self(u128::from(n))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_restricted() {
        assert!(Name::new("bank-a.eu_1").is_ok());
        for bad in ["", "Bank", "a b", "ü", &"x".repeat(65)] {
            assert!(Name::new(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn ids_round_trip_through_hex_and_json() {
        let id = AccountId([7; 32]);
        assert_eq!(id.to_hex().parse::<AccountId>().unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<AccountId>(&json).unwrap(), id);
        assert!("zz".parse::<AccountId>().is_err());
        assert!(serde_json::from_str::<Name>("\"UPPER\"").is_err());
    }

    #[test]
    fn amounts_are_decimal_strings_in_json() {
        let a = Amount(u128::MAX);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, format!("\"{}\"", u128::MAX));
        assert_eq!(serde_json::from_str::<Amount>(&json).unwrap(), a);
        assert_eq!(serde_json::from_str::<Amount>("12").unwrap(), Amount(12));
        assert!(serde_json::from_str::<Amount>("\"-1\"").is_err());
    }
}
