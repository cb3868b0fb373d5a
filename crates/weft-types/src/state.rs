//! The interface between execution and the state store.
//!
//! Execution reads through [`StateReader`] and returns a [`WriteSet`]; the store turns the
//! write set into a new authenticated state root. Neither side knows the other's internals.

use std::collections::BTreeMap;

/// Ordered state changes: key → new value, or `None` to delete. Ordered so that every node
/// applies and hashes them in the same order.
pub type WriteSet = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A failure of the store underneath a read; fatal for the node, never a transaction error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state read failed: {0}")]
pub struct StateReadError(pub String);

/// Read access to one consistent version of the state.
pub trait StateReader {
    /// The value under `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateReadError>;
}

/// An empty state, e.g. before genesis.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyState;

impl StateReader for EmptyState {
    fn get(&self, _key: &[u8]) -> Result<Option<Vec<u8>>, StateReadError> {
        Ok(None)
    }
}

impl StateReader for BTreeMap<Vec<u8>, Vec<u8>> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateReadError> {
        Ok(BTreeMap::get(self, key).cloned())
    }
}
