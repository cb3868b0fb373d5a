//! The secret bytes both the store and the envelope encrypt: the salt and the payload, each
//! length-prefixed so that the split between them is unambiguous.
//!
//! ```text
//! u8(len(salt)) || salt || u32le(len(payload)) || payload
//! ```

use weft_credentials::commitment::{MAX_SALT_BYTES, MIN_SALT_BYTES, Salt};
use zeroize::Zeroizing;

use crate::MAX_PAYLOAD_BYTES;

/// Room for the AEAD tag, so that sealing in place never reallocates (a reallocation would
/// leave a copy of the plaintext in freed memory).
pub(crate) const TAG_BYTES: usize = 16;
/// Shortest encoding: the smallest salt and an empty payload.
pub(crate) const MIN_BYTES: usize = 1 + MIN_SALT_BYTES + 4;
/// Longest encoding: the largest salt and payload.
pub(crate) const MAX_BYTES: usize = 1 + MAX_SALT_BYTES + 4 + MAX_PAYLOAD_BYTES;

/// Encodes salt and payload into a buffer that is wiped when dropped and has spare capacity
/// for the tag. The caller has checked the payload length.
pub(crate) fn encode(salt: &Salt, payload: &[u8]) -> Zeroizing<Vec<u8>> {
    let salt = salt.as_bytes();
    let mut out = Zeroizing::new(Vec::with_capacity(
        1 + salt.len() + 4 + payload.len() + TAG_BYTES,
    ));
    // `Salt` guarantees 16..=64 bytes and callers bound the payload to 16 MiB, so neither
    // length prefix can truncate.
    out.push(salt.len() as u8);
    out.extend_from_slice(salt);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Splits decrypted bytes into salt and payload; `None` when the encoding is not exact.
pub(crate) fn decode(bytes: &[u8]) -> Option<(Salt, Vec<u8>)> {
    let (&salt_len, rest) = bytes.split_first()?;
    let salt_len = usize::from(salt_len);
    if rest.len() < salt_len {
        return None;
    }
    let (salt, rest) = rest.split_at(salt_len);
    let salt = Salt::from_bytes(salt.to_vec()).ok()?;
    let (len, payload) = rest.split_first_chunk::<4>()?;
    let len = usize::try_from(u32::from_le_bytes(*len)).ok()?;
    if len != payload.len() || len > MAX_PAYLOAD_BYTES {
        return None;
    }
    Some((salt, payload.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_exact_and_round_trips() {
        let salt = Salt::from_bytes(vec![9; 20]).unwrap();
        let bytes = encode(&salt, b"abc");
        let mut expected = vec![20u8];
        expected.extend_from_slice(&[9; 20]);
        expected.extend_from_slice(&3u32.to_le_bytes());
        expected.extend_from_slice(b"abc");
        assert_eq!(bytes.as_slice(), expected.as_slice());
        assert!(bytes.capacity() >= bytes.len() + TAG_BYTES);
        assert_eq!(decode(&bytes), Some((salt, b"abc".to_vec())));
    }

    #[test]
    fn inexact_encodings_are_refused() {
        let salt = Salt::from_bytes(vec![9; 16]).unwrap();
        let good = encode(&salt, b"abc").to_vec();
        // Every truncation, one trailing byte, a salt length outside 16..=64, a payload length
        // that disagrees with the bytes present.
        for cut in 0..good.len() {
            assert_eq!(decode(&good[..cut]), None, "cut at {cut}");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert_eq!(decode(&longer), None);
        let mut short_salt = good.clone();
        short_salt[0] = 15;
        assert_eq!(decode(&short_salt), None);
        let mut wrong_len = good.clone();
        wrong_len[17] = 4;
        assert_eq!(decode(&wrong_len), None);
        assert_eq!(decode(&[]), None);
    }
}
