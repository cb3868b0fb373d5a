//! Stable error codes: the same code reaches the API, the CLI and receipts.

use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($( $num:literal => $variant:ident, $text:literal, $doc:literal; )*) => {
        /// Why a transaction or request was refused. Numbers and names are part of the API.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize)]
        #[borsh(use_discriminant = true)]
        #[repr(u16)]
        pub enum ErrorCode {
            $( #[doc = $doc] $variant = $num, )*
        }

        impl ErrorCode {
            /// Every code, for documentation and tests.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant),*];
            /// The stable snake_case name.
            pub const fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $text, )* }
            }
            /// The stable number.
            pub const fn number(self) -> u16 {
                self as u16
            }
            /// One-line explanation.
            pub const fn description(self) -> &'static str {
                match self { $( Self::$variant => $doc, )* }
            }
            /// Parses the snake_case name.
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $( $text => Some(Self::$variant), )* _ => None }
            }
        }
    };
}

error_codes! {
    1 => Malformed, "malformed", "The bytes or JSON are not a valid encoding.";
    2 => Oversized, "oversized", "The input exceeds a size or count limit.";
    3 => UnknownOperation, "unknown_operation", "The transaction carries an operation this chain does not know.";
    4 => WrongChainId, "wrong_chain_id", "The transaction was signed for another chain.";
    5 => MissingSignature, "missing_signature", "A required signature is absent.";
    6 => BadSignature, "bad_signature", "A signature does not verify.";
    7 => ReplayedNonce, "replayed_nonce", "The nonce was already used by this account.";
    8 => NonceGap, "nonce_gap", "The nonce is too far ahead of the account's next nonce.";
    9 => Expired, "expired", "The transaction's expiry height has passed.";
    10 => Duplicate, "duplicate", "The same transaction is already pending or committed.";
    11 => MempoolFull, "mempool_full", "The node's mempool is full; retry later.";
    12 => AccountQueueFull, "account_queue_full", "Too many pending transactions from this account.";
    13 => ReadOnly, "read_only", "This node does not accept transactions (it follows a peer); submit to a validator.";
    20 => UnknownAccount, "unknown_account", "The account is not registered on this chain.";
    21 => Unauthorized, "unauthorized", "The signer's roles do not permit this operation.";
    22 => AlreadyExists, "already_exists", "The object being created already exists.";
    23 => NotFound, "not_found", "The object does not exist.";
    24 => InvalidArgument, "invalid_argument", "An argument is out of range or inconsistent.";
    25 => Unauthenticated, "unauthenticated", "The request is not signed by a member key, or its signature is invalid or stale.";
    26 => Forbidden, "forbidden", "The caller may not read this record.";
    30 => UnknownToken, "unknown_token", "The token is not defined.";
    31 => InsufficientBalance, "insufficient_balance", "The balance is lower than the amount.";
    32 => SupplyExceeded, "supply_exceeded", "Minting would exceed the token's maximum supply.";
    33 => Overflow, "overflow", "An amount would overflow.";
    34 => Frozen, "frozen", "The account is frozen for this token.";
    35 => Purged, "purged", "The private record's payload was erased; only its commitment and log remain.";
    36 => PayloadUnavailable, "payload_unavailable", "No node reachable from here holds the private payload.";
    37 => AccessUsed, "access_used", "This access transaction already delivered the payload once; submit a new access.";
    40 => Internal, "internal", "The node failed internally; the request changed nothing.";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as Deserialize>::deserialize(d)?;
        Self::from_name(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code {s:?}")))
    }
}

/// An error code with a human message, as returned for a refused transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct TxError {
    pub code: ErrorCode,
    pub message: String,
}

impl TxError {
    /// Builds an error from a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut names = std::collections::BTreeSet::new();
        let mut numbers = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            assert!(names.insert(code.as_str()));
            assert!(numbers.insert(code.number()));
            assert_eq!(ErrorCode::from_name(code.as_str()), Some(*code));
            let bytes = borsh::to_vec(code).unwrap();
            assert_eq!(borsh::from_slice::<ErrorCode>(&bytes).unwrap(), *code);
        }
    }
}
