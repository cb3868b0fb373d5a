//! Operations: the instructions a transaction carries.
//!
//! Each operation has a stable one-byte tag in the canonical encoding and a permission name
//! checked against the signer's roles. New operations get new tags; tags are never reused.

use std::io::{self, Read, Write};

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::{
    encoding::{DecodeError, check_len},
    ids::{AccountId, Amount, Name},
    limits::MAX_TEXT_BYTES,
};

/// Raised inside borsh decoding when an operation tag is not known; surfaced as
/// [`DecodeError::UnknownOperation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown operation tag {0}")]
pub struct UnknownOperation(pub u8);

/// Registers a consortium member organization.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RegisterOrganization {
    pub id: Name,
    pub display_name: String,
}

/// Registers an account (a public key) inside an organization, with initial roles.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RegisterAccount {
    pub account: AccountId,
    pub organization: Name,
    pub roles: Vec<Name>,
}

/// Grants a role to an account.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct AssignRole {
    pub account: AccountId,
    pub role: Name,
}

/// Withdraws a role from an account.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RevokeRole {
    pub account: AccountId,
    pub role: Name,
}

/// Defines a fungible token; the signer becomes its issuer.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct DefineToken {
    pub symbol: Name,
    pub display_name: String,
    pub decimals: u8,
    /// Upper bound on total supply; `None` for no cap.
    pub max_supply: Option<Amount>,
}

/// Creates new units of a token; issuer only.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Mint {
    pub symbol: Name,
    pub to: AccountId,
    pub amount: Amount,
}

/// Moves units from the signer to another account.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Transfer {
    pub symbol: Name,
    pub to: AccountId,
    pub amount: Amount,
}

/// Destroys units held by the signer.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Burn {
    pub symbol: Name,
    pub amount: Amount,
}

macro_rules! operations {
    ($( $tag:literal => $variant:ident($ty:ident), $perm:literal; )*) => {
        /// One instruction of a transaction.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        pub enum Operation {
            $( #[doc = concat!("See [`", stringify!($ty), "`].")] $variant($ty), )*
        }

        impl Operation {
            /// The stable encoding tag.
            pub const fn tag(&self) -> u8 {
                match self { $( Self::$variant(_) => $tag, )* }
            }
            /// The permission a signer's roles must grant to run this operation.
            pub const fn permission(&self) -> &'static str {
                match self { $( Self::$variant(_) => $perm, )* }
            }
            /// Every permission name an operation can require, for role definitions.
            pub const ALL_PERMISSIONS: &'static [&'static str] = &[$($perm),*];
        }

        impl BorshSerialize for Operation {
            fn serialize<W: Write>(&self, writer: &mut W) -> io::Result<()> {
                BorshSerialize::serialize(&self.tag(), writer)?;
                match self { $( Self::$variant(op) => BorshSerialize::serialize(op, writer), )* }
            }
        }

        impl BorshDeserialize for Operation {
            fn deserialize_reader<R: Read>(reader: &mut R) -> io::Result<Self> {
                let tag = u8::deserialize_reader(reader)?;
                match tag {
                    $( $tag => Ok(Self::$variant($ty::deserialize_reader(reader)?)), )*
                    other => Err(io::Error::new(io::ErrorKind::InvalidData, UnknownOperation(other))),
                }
            }
        }
    };
}

operations! {
    1 => RegisterOrganization(RegisterOrganization), "identity.register_organization";
    2 => RegisterAccount(RegisterAccount), "identity.register_account";
    3 => AssignRole(AssignRole), "access.assign_role";
    4 => RevokeRole(RevokeRole), "access.revoke_role";
    10 => DefineToken(DefineToken), "token.define";
    11 => Mint(Mint), "token.mint";
    12 => Transfer(Transfer), "token.transfer";
    13 => Burn(Burn), "token.burn";
}

impl Operation {
    /// Checks the free-form lengths inside the operation (names are checked when decoded).
    pub fn check_limits(&self) -> Result<(), DecodeError> {
        match self {
            Self::RegisterOrganization(op) => {
                check_len("display_name", op.display_name.len(), MAX_TEXT_BYTES)
            }
            Self::RegisterAccount(op) => check_len("roles", op.roles.len(), 16),
            Self::DefineToken(op) => {
                check_len("display_name", op.display_name.len(), MAX_TEXT_BYTES)?;
                if op.decimals > 36 {
                    return Err(DecodeError::LimitExceeded(format!(
                        "decimals: {} > 36",
                        op.decimals
                    )));
                }
                Ok(())
            }
            Self::AssignRole(_)
            | Self::RevokeRole(_)
            | Self::Mint(_)
            | Self::Transfer(_)
            | Self::Burn(_) => Ok(()),
        }
    }
}
