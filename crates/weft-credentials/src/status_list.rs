//! W3C Bitstring Status List v1.0: one bit per credential, published as a GZIP-compressed,
//! multibase base64url `encodedList`.
//!
//! Bit `i` is the `i`-th bit counting from the most significant bit of the first byte (the
//! spec's "leftmost bit is index 0"). A list has at least 131,072 entries (16 KiB), the
//! spec's minimum, so one revocation does not single out a small group of holders.
//! Decoding is bounded: a compressed list that inflates past [`MAX_STATUS_LIST_BITS`] is
//! refused, whatever its compressed size.

use std::io::{Read, Write};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use borsh::{BorshDeserialize, BorshSerialize};
use flate2::{Compression, read::GzDecoder, write::GzEncoder};
use serde_json::{Value, json};
pub use weft_types::did::StatusPurpose;
use weft_types::{Bounded, DecodeError, Limits};

/// The spec's minimum list length, in entries.
pub const MIN_STATUS_LIST_BITS: usize = 131_072;
/// Largest list accepted: 16,777,216 entries (2 MiB uncompressed).
pub const MAX_STATUS_LIST_BITS: usize = 1 << 24;
/// Longest `encodedList` text accepted for decoding.
pub const MAX_ENCODED_LIST_CHARS: usize = 4 * 1024 * 1024;

/// Why a status list operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusListError {
    /// The length is below the minimum, above the maximum or not a multiple of 8.
    #[error(
        "a status list has a multiple of 8 entries between {MIN_STATUS_LIST_BITS} and {MAX_STATUS_LIST_BITS}, not {0}"
    )]
    BadLength(usize),
    /// The index is past the end of the list.
    #[error("index {index} is outside a list of {len} entries")]
    OutOfRange { index: u64, len: usize },
    /// `encodedList` is not multibase base64url of a GZIP stream, or inflates too far.
    #[error("invalid encodedList: {0}")]
    BadEncoding(String),
    /// A revocation bit, once set, stays set.
    #[error("revocation is final: index {0} cannot be cleared")]
    RevocationIsFinal(u64),
}

impl StatusListError {
    /// The ledger error code a refused status change reports.
    pub fn code(&self) -> weft_types::ErrorCode {
        match self {
            Self::BadLength(_) | Self::OutOfRange { .. } | Self::RevocationIsFinal(_) => {
                weft_types::ErrorCode::InvalidArgument
            }
            Self::BadEncoding(_) => weft_types::ErrorCode::Malformed,
        }
    }
}

/// A bitstring status list.
#[derive(Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BitstringStatusList {
    bytes: Vec<u8>,
}

impl std::fmt::Debug for BitstringStatusList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "BitstringStatusList({} entries, {} set)",
            self.len(),
            self.count_set()
        )
    }
}

impl BitstringStatusList {
    /// A list of `entries` clear bits.
    pub fn new(entries: usize) -> Result<Self, StatusListError> {
        check_len(entries)?;
        Ok(Self {
            bytes: vec![0; entries / 8],
        })
    }

    /// A list of the spec's minimum length.
    pub fn with_minimum_length() -> Self {
        Self {
            bytes: vec![0; MIN_STATUS_LIST_BITS / 8],
        }
    }

    /// The list over raw bytes (MSB-first), e.g. as stored on chain.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, StatusListError> {
        check_len(bytes.len().saturating_mul(8))?;
        Ok(Self { bytes })
    }

    /// The raw bytes, MSB-first.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.bytes.len() * 8
    }

    /// Always false: a list is never shorter than the minimum.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn locate(&self, index: u64) -> Result<(usize, u8), StatusListError> {
        let out = || StatusListError::OutOfRange {
            index,
            len: self.len(),
        };
        let i = usize::try_from(index).map_err(|_| out())?;
        if i >= self.len() {
            return Err(out());
        }
        Ok((i / 8, 0x80 >> (i % 8)))
    }

    /// The bit at `index`.
    pub fn get(&self, index: u64) -> Result<bool, StatusListError> {
        let (byte, mask) = self.locate(index)?;
        Ok(self.bytes[byte] & mask != 0)
    }

    /// Sets the bit at `index` to `value` and returns its previous value.
    pub fn set(&mut self, index: u64, value: bool) -> Result<bool, StatusListError> {
        let (byte, mask) = self.locate(index)?;
        let previous = self.bytes[byte] & mask != 0;
        if value {
            self.bytes[byte] |= mask;
        } else {
            self.bytes[byte] &= !mask;
        }
        Ok(previous)
    }

    /// How many bits are set.
    pub fn count_set(&self) -> u64 {
        self.bytes.iter().map(|b| u64::from(b.count_ones())).sum()
    }

    /// The spec's `encodedList`: `u` + base64url (no padding) of the GZIP-compressed bits.
    ///
    /// The GZIP header carries no timestamp or file name, so the same bits always encode to
    /// the same text with the same `flate2` version.
    pub fn encode(&self) -> String {
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        let compressed = gz
            .write_all(&self.bytes)
            .and_then(|()| gz.finish())
            .expect("compressing into a Vec is infallible");
        format!("u{}", URL_SAFE_NO_PAD.encode(compressed))
    }

    /// Parses an `encodedList`, refusing anything that inflates past the maximum length.
    pub fn decode(encoded: &str) -> Result<Self, StatusListError> {
        let bad = |m: &str| StatusListError::BadEncoding(m.to_string());
        if encoded.len() > MAX_ENCODED_LIST_CHARS {
            return Err(bad("encodedList is too long"));
        }
        let body = encoded
            .strip_prefix('u')
            .ok_or_else(|| bad("missing multibase base64url prefix 'u'"))?;
        let compressed = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| bad("not base64url without padding"))?;
        let mut bytes = Vec::new();
        let limit = (MAX_STATUS_LIST_BITS / 8) as u64;
        GzDecoder::new(compressed.as_slice())
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| StatusListError::BadEncoding(format!("not a GZIP stream: {e}")))?;
        if bytes.len() as u64 > limit {
            return Err(bad("the list inflates past the maximum length"));
        }
        Self::from_bytes(bytes)
    }
}

fn check_len(entries: usize) -> Result<(), StatusListError> {
    if !(MIN_STATUS_LIST_BITS..=MAX_STATUS_LIST_BITS).contains(&entries)
        || !entries.is_multiple_of(8)
    {
        return Err(StatusListError::BadLength(entries));
    }
    Ok(())
}

/// A published status list: its purpose and its bits, as the ledger stores it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct StatusListRecord {
    /// What a set bit means.
    pub purpose: StatusPurpose,
    /// The bits.
    pub list: BitstringStatusList,
}

impl StatusListRecord {
    /// A list of `entries` clear bits serving `purpose`.
    pub fn new(purpose: StatusPurpose, entries: usize) -> Result<Self, StatusListError> {
        Ok(Self {
            purpose,
            list: BitstringStatusList::new(entries)?,
        })
    }

    /// Sets the status at `index` and returns whether anything changed. Revocation is final:
    /// clearing a set revocation bit is refused, so a revoked credential can never verify
    /// again. Suspension bits may be cleared.
    pub fn set_status(&mut self, index: u64, value: bool) -> Result<bool, StatusListError> {
        let current = self.list.get(index)?;
        if current && !value && self.purpose == StatusPurpose::Revocation {
            return Err(StatusListError::RevocationIsFinal(index));
        }
        self.list.set(index, value)?;
        Ok(current != value)
    }
}

impl Bounded for StatusListRecord {
    fn check_limits(&self) -> Result<(), DecodeError> {
        self.list.check_limits()
    }
}

impl Limits for StatusListRecord {
    const MAX_BYTES: usize = BitstringStatusList::MAX_BYTES + 1;
}

impl Bounded for BitstringStatusList {
    fn check_limits(&self) -> Result<(), DecodeError> {
        check_len(self.bytes.len().saturating_mul(8))
            .map_err(|e| DecodeError::LimitExceeded(e.to_string()))
    }
}

impl Limits for BitstringStatusList {
    const MAX_BYTES: usize = MAX_STATUS_LIST_BITS / 8 + 4;
}

/// The unsigned `BitstringStatusListCredential` publishing `list` at `id`.
///
/// On Weft the list's authenticity comes from the ledger (a state proof of the list record),
/// so the credential is served without an embedded proof; an issuer that publishes over
/// plain HTTPS should sign it like any other credential.
pub fn status_list_credential(
    id: &str,
    issuer: &str,
    purpose: StatusPurpose,
    valid_from: &str,
    list: &BitstringStatusList,
) -> Value {
    json!({
        "@context": [crate::VC_CONTEXT_V2],
        "id": id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": format!("{id}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose.as_str(),
            "encodedList": list.encode(),
        }
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn bits_are_msb_first() {
        let mut list = BitstringStatusList::with_minimum_length();
        assert_eq!(list.len(), MIN_STATUS_LIST_BITS);
        assert_eq!(list.set(0, true), Ok(false));
        assert_eq!(list.set(9, true), Ok(false));
        assert_eq!(list.as_bytes()[0], 0b1000_0000);
        assert_eq!(list.as_bytes()[1], 0b0100_0000);
        assert_eq!(list.set(9, false), Ok(true));
        assert_eq!(list.get(9), Ok(false));
        assert_eq!(list.count_set(), 1);
    }

    #[test]
    fn lengths_and_indexes_are_bounded() {
        assert_eq!(
            BitstringStatusList::new(1024),
            Err(StatusListError::BadLength(1024))
        );
        assert_eq!(
            BitstringStatusList::new(MIN_STATUS_LIST_BITS + 1),
            Err(StatusListError::BadLength(MIN_STATUS_LIST_BITS + 1))
        );
        assert!(BitstringStatusList::new(MAX_STATUS_LIST_BITS + 8).is_err());
        let list = BitstringStatusList::with_minimum_length();
        let last = (MIN_STATUS_LIST_BITS - 1) as u64;
        assert_eq!(list.get(last), Ok(false));
        assert_eq!(
            list.get(last + 1),
            Err(StatusListError::OutOfRange {
                index: last + 1,
                len: MIN_STATUS_LIST_BITS
            })
        );
        assert!(list.clone().set(u64::MAX, true).is_err());
    }

    #[test]
    fn encoded_list_is_multibase_base64url_gzip() {
        let mut list = BitstringStatusList::with_minimum_length();
        list.set(94_567, true).unwrap();
        let encoded = list.encode();
        assert!(
            encoded.starts_with("uH4sI"),
            "gzip magic after 'u': {encoded}"
        );
        assert!(!encoded.contains('='));
        // An empty 16 KiB list compresses to a short text.
        assert!(BitstringStatusList::with_minimum_length().encode().len() < 200);
        assert_eq!(BitstringStatusList::decode(&encoded).unwrap(), list);
        assert_eq!(list.encode(), encoded, "encoding is deterministic");
    }

    #[test]
    fn bad_encodings_are_refused() {
        let good = BitstringStatusList::with_minimum_length().encode();
        for bad in [
            good[1..].to_string(),
            format!("z{}", &good[1..]),
            format!("{good}="),
            "u!!!!".to_string(),
            format!("u{}", URL_SAFE_NO_PAD.encode(b"not gzip at all")),
        ] {
            assert!(
                matches!(
                    BitstringStatusList::decode(&bad),
                    Err(StatusListError::BadEncoding(_))
                ),
                "{bad:.20} accepted"
            );
        }
        // Too short once inflated.
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(&[0u8; 64]).unwrap();
        let short = format!("u{}", URL_SAFE_NO_PAD.encode(gz.finish().unwrap()));
        assert_eq!(
            BitstringStatusList::decode(&short),
            Err(StatusListError::BadLength(512))
        );
    }

    #[test]
    fn a_compression_bomb_is_cut_off() {
        // 8 MiB of zeros compresses to a few KiB but would inflate past the maximum.
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(&vec![0u8; 8 * 1024 * 1024]).unwrap();
        let bomb = format!("u{}", URL_SAFE_NO_PAD.encode(gz.finish().unwrap()));
        assert!(bomb.len() < 64 * 1024);
        assert!(matches!(
            BitstringStatusList::decode(&bomb),
            Err(StatusListError::BadEncoding(m)) if m.contains("maximum")
        ));
    }

    #[test]
    fn revocation_is_final_suspension_is_not() {
        let mut revocations =
            StatusListRecord::new(StatusPurpose::Revocation, MIN_STATUS_LIST_BITS).unwrap();
        assert_eq!(revocations.set_status(5, true), Ok(true));
        assert_eq!(revocations.set_status(5, true), Ok(false), "idempotent");
        assert_eq!(
            revocations.set_status(5, false),
            Err(StatusListError::RevocationIsFinal(5))
        );
        assert_eq!(revocations.list.get(5), Ok(true));
        assert_eq!(
            StatusListError::RevocationIsFinal(5).code(),
            weft_types::ErrorCode::InvalidArgument
        );

        let mut suspensions =
            StatusListRecord::new(StatusPurpose::Suspension, MIN_STATUS_LIST_BITS).unwrap();
        assert_eq!(suspensions.set_status(5, true), Ok(true));
        assert_eq!(suspensions.set_status(5, false), Ok(true));
        assert!(
            suspensions
                .set_status(MIN_STATUS_LIST_BITS as u64, true)
                .is_err()
        );

        let bytes = weft_types::encode(&revocations);
        assert_eq!(
            weft_types::decode_bounded::<StatusListRecord>(&bytes).unwrap(),
            revocations
        );
    }

    #[test]
    fn status_list_credential_carries_the_encoded_list() {
        let mut list = BitstringStatusList::with_minimum_length();
        list.set(7, true).unwrap();
        let vc = status_list_credential(
            "weft://weft-test/status/issuer/1",
            "did:weft:weft-test:00",
            StatusPurpose::Revocation,
            "2026-01-01T00:00:00Z",
            &list,
        );
        assert_eq!(vc["credentialSubject"]["statusPurpose"], "revocation");
        let encoded = vc["credentialSubject"]["encodedList"].as_str().unwrap();
        assert_eq!(
            BitstringStatusList::decode(encoded).unwrap().get(7),
            Ok(true)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn revocations_survive_encode_decode(
            indexes in proptest::collection::btree_set(0u64..(MIN_STATUS_LIST_BITS as u64 * 2), 0..64),
        ) {
            let mut list = BitstringStatusList::new(MIN_STATUS_LIST_BITS * 2).unwrap();
            for &i in &indexes {
                prop_assert_eq!(list.set(i, true), Ok(false));
            }
            let decoded = BitstringStatusList::decode(&list.encode()).unwrap();
            prop_assert_eq!(&decoded, &list);
            prop_assert_eq!(decoded.count_set(), indexes.len() as u64);
            for &i in &indexes {
                prop_assert_eq!(decoded.get(i), Ok(true));
            }
            // A few neighbours that were not revoked stay clear.
            for &i in &indexes {
                for n in [i.wrapping_sub(1), i + 1] {
                    if n < decoded.len() as u64 && !indexes.contains(&n) {
                        prop_assert_eq!(decoded.get(n), Ok(false));
                    }
                }
            }
        }
    }
}
