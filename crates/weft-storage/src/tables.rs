//! The on-disk layout: table definitions and key encodings.
//!
//! Every integer inside a key is **big-endian**, so that redb's byte-wise key order is numeric
//! order and a range scan walks heights (and indexes within a height) in ascending order.
//! Values are borsh (`weft_types::encode`) unless said otherwise.
//!
//! | table | key | value |
//! |---|---|---|
//! | `meta` | name | `format` → u32 BE; `head` → borsh [`ChainHead`](crate::ChainHead) |
//! | `blocks` | height | borsh `Block` |
//! | `block_hashes` | block hash (32) | height |
//! | `finalizations` | height | borsh `Finalization` |
//! | `receipts` | height ‖ tx index (u32) | borsh `Receipt` |
//! | `tx_index` | tx hash (32) | height ‖ tx index |
//! | `events_by_account` | account (32) ‖ height ‖ tx index ‖ event index (u32) | () |
//! | `events_by_topic` | SHA-256(topic) (32) ‖ height ‖ tx index ‖ event index | () |
//! | `jmt_nodes` | version ‖ borsh `NibblePath` | borsh `jmt::storage::Node` |
//! | `jmt_values` | key hash (32) ‖ version | borsh `Option<Vec<u8>>` (None: deleted) |
//! | `jmt_stale` | stale-since version ‖ version ‖ borsh `NibblePath` | () |
//! | `state_roots` | version | root hash (32) |
//! | `state_keys` | state key | key hash (32): the keys with a value at the head, in key order (listing by prefix) |
//!
//! Format 1 had `preimages` (key hash → state key, never deleted) instead of `state_keys`;
//! opening a format-1 store migrates it.

use jmt::storage::NodeKey;
use redb::TableDefinition;

use crate::StorageError;

type Bytes = &'static [u8];

pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
pub(crate) const BLOCKS: TableDefinition<Bytes, Bytes> = TableDefinition::new("blocks");
pub(crate) const BLOCK_HASHES: TableDefinition<Bytes, Bytes> = TableDefinition::new("block_hashes");
pub(crate) const FINALIZATIONS: TableDefinition<Bytes, Bytes> =
    TableDefinition::new("finalizations");
pub(crate) const RECEIPTS: TableDefinition<Bytes, Bytes> = TableDefinition::new("receipts");
pub(crate) const TX_INDEX: TableDefinition<Bytes, Bytes> = TableDefinition::new("tx_index");
pub(crate) const EVENTS_BY_ACCOUNT: TableDefinition<Bytes, ()> =
    TableDefinition::new("events_by_account");
pub(crate) const EVENTS_BY_TOPIC: TableDefinition<Bytes, ()> =
    TableDefinition::new("events_by_topic");
pub(crate) const JMT_NODES: TableDefinition<Bytes, Bytes> = TableDefinition::new("jmt_nodes");
pub(crate) const JMT_VALUES: TableDefinition<Bytes, Bytes> = TableDefinition::new("jmt_values");
pub(crate) const JMT_STALE: TableDefinition<Bytes, ()> = TableDefinition::new("jmt_stale");
pub(crate) const STATE_ROOTS: TableDefinition<Bytes, Bytes> = TableDefinition::new("state_roots");
pub(crate) const STATE_KEYS: TableDefinition<Bytes, Bytes> = TableDefinition::new("state_keys");
/// Format 1's key-hash → key table, read once by the migration to format 2.
pub(crate) const PREIMAGES_V1: TableDefinition<Bytes, Bytes> = TableDefinition::new("preimages");

/// Version of the layout above; bump it on any incompatible change.
pub(crate) const FORMAT: u32 = 2;
pub(crate) const META_FORMAT: &str = "format";
pub(crate) const META_HEAD: &str = "head";

/// `height` as a key.
pub(crate) fn height_key(height: u64) -> [u8; 8] {
    height.to_be_bytes()
}

/// `height ‖ index`: receipts and tx locations.
pub(crate) fn location_key(height: u64, index: u32) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..8].copy_from_slice(&height.to_be_bytes());
    k[8..].copy_from_slice(&index.to_be_bytes());
    k
}

/// Decodes [`location_key`].
pub(crate) fn parse_location(bytes: &[u8]) -> Result<(u64, u32), StorageError> {
    let h: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| corrupt_key("location", bytes))?;
    let i: [u8; 4] = bytes
        .get(8..12)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| corrupt_key("location", bytes))?;
    if bytes.len() != 12 {
        return Err(corrupt_key("location", bytes));
    }
    Ok((u64::from_be_bytes(h), u32::from_be_bytes(i)))
}

/// `prefix(32) ‖ height ‖ tx index ‖ event index`: both event indexes.
pub(crate) fn event_key(prefix: &[u8; 32], height: u64, tx: u32, event: u32) -> [u8; 48] {
    let mut k = [0u8; 48];
    k[..32].copy_from_slice(prefix);
    k[32..40].copy_from_slice(&height.to_be_bytes());
    k[40..44].copy_from_slice(&tx.to_be_bytes());
    k[44..].copy_from_slice(&event.to_be_bytes());
    k
}

/// Decodes the `(height, tx index, event index)` of an [`event_key`].
pub(crate) fn parse_event_key(bytes: &[u8]) -> Result<(u64, u32, u32), StorageError> {
    if bytes.len() != 48 {
        return Err(corrupt_key("event index", bytes));
    }
    let (height, tx) = parse_location(&bytes[32..44])?;
    let mut ev = [0u8; 4];
    ev.copy_from_slice(&bytes[44..]);
    Ok((height, tx, u32::from_be_bytes(ev)))
}

/// `version ‖ nibble path`: nodes of one version sit together, so a commit appends its new
/// nodes at the right edge of the B-tree instead of scattering them.
pub(crate) fn node_key(key: &NodeKey) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + 12 + 32);
    k.extend_from_slice(&key.version().to_be_bytes());
    k.extend_from_slice(&weft_types::encode(key.nibble_path()));
    k
}

/// `stale-since version ‖ node key`: pruning walks this table in version order.
pub(crate) fn stale_key(stale_since: u64, key: &NodeKey) -> Vec<u8> {
    let node = node_key(key);
    let mut k = Vec::with_capacity(8 + node.len());
    k.extend_from_slice(&stale_since.to_be_bytes());
    k.extend_from_slice(&node);
    k
}

/// `key hash ‖ version`: the versions of one key sit together, newest last.
pub(crate) fn value_key(key_hash: &[u8; 32], version: u64) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..32].copy_from_slice(key_hash);
    k[32..].copy_from_slice(&version.to_be_bytes());
    k
}

/// Decodes the big-endian u64 stored as a height or version.
pub(crate) fn parse_u64(bytes: &[u8]) -> Result<u64, StorageError> {
    let b: [u8; 8] = bytes.try_into().map_err(|_| corrupt_key("u64", bytes))?;
    Ok(u64::from_be_bytes(b))
}

/// Decodes a stored 32-byte hash.
pub(crate) fn parse_hash(bytes: &[u8]) -> Result<weft_types::Hash, StorageError> {
    let b: [u8; 32] = bytes.try_into().map_err(|_| corrupt_key("hash", bytes))?;
    Ok(weft_types::Hash(b))
}

/// Decodes stored borsh, reporting a failure as corruption (stored bytes are ours, so a
/// decode failure means the disk or a bug damaged them).
pub(crate) fn decode<T: borsh::BorshDeserialize>(
    what: &str,
    bytes: &[u8],
) -> Result<T, StorageError> {
    borsh::from_slice(bytes).map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))
}

fn corrupt_key(what: &str, bytes: &[u8]) -> StorageError {
    StorageError::Corrupt(format!(
        "malformed {what} key or value of {} bytes",
        bytes.len()
    ))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn key_order_is_numeric_order(a in any::<(u64, u32, u32)>(), b in any::<(u64, u32, u32)>()) {
            let p = [5u8; 32];
            prop_assert_eq!(
                event_key(&p, a.0, a.1, a.2).cmp(&event_key(&p, b.0, b.1, b.2)),
                a.cmp(&b)
            );
            prop_assert_eq!(
                location_key(a.0, a.1).cmp(&location_key(b.0, b.1)),
                (a.0, a.1).cmp(&(b.0, b.1))
            );
            prop_assert_eq!(height_key(a.0).cmp(&height_key(b.0)), a.0.cmp(&b.0));
            prop_assert_eq!(
                value_key(&p, a.0).cmp(&value_key(&p, b.0)),
                a.0.cmp(&b.0)
            );
        }

        #[test]
        fn keys_parse_back(h in any::<u64>(), t in any::<u32>(), e in any::<u32>()) {
            prop_assert_eq!(parse_location(&location_key(h, t)).unwrap(), (h, t));
            prop_assert_eq!(parse_event_key(&event_key(&[1; 32], h, t, e)).unwrap(), (h, t, e));
            prop_assert_eq!(parse_u64(&height_key(h)).unwrap(), h);
        }
    }

    #[test]
    fn malformed_keys_are_corruption() {
        assert!(matches!(
            parse_location(&[0; 11]),
            Err(StorageError::Corrupt(_))
        ));
        assert!(matches!(
            parse_location(&[0; 13]),
            Err(StorageError::Corrupt(_))
        ));
        assert!(matches!(
            parse_event_key(&[0; 47]),
            Err(StorageError::Corrupt(_))
        ));
        assert!(matches!(parse_u64(&[0; 7]), Err(StorageError::Corrupt(_))));
        assert!(matches!(
            parse_hash(&[0; 31]),
            Err(StorageError::Corrupt(_))
        ));
        assert!(matches!(
            decode::<weft_types::Block>("block", &[1, 2, 3]),
            Err(StorageError::Corrupt(_))
        ));
    }

    #[test]
    fn node_keys_group_by_version_and_stay_distinct() {
        // Root nodes of two versions, as jmt encodes them (version, empty nibble path).
        let root = |v: u64| -> NodeKey {
            let mut bytes = v.to_le_bytes().to_vec();
            bytes.extend_from_slice(&[0u8; 12]);
            borsh::from_slice(&bytes).unwrap()
        };
        assert!(node_key(&root(1)) < node_key(&root(2)));
        assert!(
            node_key(&root(255)) < node_key(&root(256)),
            "big-endian version"
        );
        assert_ne!(node_key(&root(1)), node_key(&root(2)));
        assert!(stale_key(3, &root(1)) < stale_key(4, &root(0)));
    }
}
