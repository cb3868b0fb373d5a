//! The canonical encoding: borsh, with every decode of untrusted bytes bounded.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::operation::UnknownOperation;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input was longer than allowed before decoding was attempted.
    #[error("input of {len} bytes exceeds the limit of {max}")]
    Oversized { len: usize, max: usize },
    /// The bytes name an operation this node does not know.
    #[error("unknown operation tag {0}")]
    UnknownOperation(u8),
    /// The bytes are not a valid encoding (truncated, trailing bytes, bad tag, bad utf-8...).
    #[error("malformed encoding: {0}")]
    Malformed(String),
    /// The value decoded but breaks a length limit of the protocol.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
}

/// A value whose decoded form must respect protocol limits beyond its byte size.
pub trait Bounded {
    /// Checks every length limit; called after each decode of untrusted bytes.
    fn check_limits(&self) -> Result<(), DecodeError>;
}

/// Per-type byte caps for [`decode_bounded`].
pub trait Limits {
    /// The largest encoding of this type accepted from outside.
    const MAX_BYTES: usize;
}

/// Canonical bytes of a value.
pub fn encode<T: BorshSerialize>(value: &T) -> Vec<u8> {
    // borsh only fails on writer errors, and writing to a Vec never fails.
    borsh::to_vec(value).expect("encoding into a Vec is infallible")
}

/// Decodes untrusted bytes: caps the size first, rejects trailing bytes, then checks limits.
pub fn decode_bounded<T>(bytes: &[u8]) -> Result<T, DecodeError>
where
    T: BorshDeserialize + Bounded + Limits,
{
    if bytes.len() > T::MAX_BYTES {
        return Err(DecodeError::Oversized {
            len: bytes.len(),
            max: T::MAX_BYTES,
        });
    }
    let value: T = borsh::from_slice(bytes).map_err(|e| {
        match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<UnknownOperation>())
        {
            Some(UnknownOperation(tag)) => DecodeError::UnknownOperation(*tag),
            None => DecodeError::Malformed(e.to_string()),
        }
    })?;
    value.check_limits()?;
    Ok(value)
}

/// Returns a [`DecodeError::LimitExceeded`] when `len > max`.
pub(crate) fn check_len(what: &str, len: usize, max: usize) -> Result<(), DecodeError> {
    if len > max {
        Err(DecodeError::LimitExceeded(format!("{what}: {len} > {max}")))
    } else {
        Ok(())
    }
}
