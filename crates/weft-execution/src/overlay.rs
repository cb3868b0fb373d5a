//! Layered writes over a read-only state: the block's accepted writes, and the current
//! transaction's tentative writes on top, so a failed transaction is dropped whole.

use borsh::{BorshDeserialize, BorshSerialize};
use weft_types::{
    encode,
    state::{StateReader, WriteSet},
};

use crate::{ExecError, keys::StateKey};

pub(crate) struct Overlay<'a> {
    base: &'a dyn StateReader,
    block: WriteSet,
    tx: WriteSet,
}

impl<'a> Overlay<'a> {
    pub(crate) fn new(base: &'a dyn StateReader) -> Self {
        Self {
            base,
            block: WriteSet::new(),
            tx: WriteSet::new(),
        }
    }

    pub(crate) fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ExecError> {
        if let Some(v) = self.tx.get(key) {
            return Ok(v.clone());
        }
        if let Some(v) = self.block.get(key) {
            return Ok(v.clone());
        }
        self.base
            .get(key)
            .map_err(|e| ExecError::Fatal(e.to_string()))
    }

    pub(crate) fn get<T: BorshDeserialize>(&self, key: &StateKey) -> Result<Option<T>, ExecError> {
        match self.get_raw(&key.to_bytes())? {
            None => Ok(None),
            Some(bytes) => borsh::from_slice(&bytes)
                .map(Some)
                .map_err(|e| ExecError::Fatal(format!("corrupt state under {key}: {e}"))),
        }
    }

    pub(crate) fn put<T: BorshSerialize>(&mut self, key: &StateKey, value: &T) {
        self.tx.insert(key.to_bytes(), Some(encode(value)));
    }

    pub(crate) fn delete(&mut self, key: &StateKey) {
        self.tx.insert(key.to_bytes(), None);
    }

    pub(crate) fn tx_write_count(&self) -> usize {
        self.tx.len()
    }

    pub(crate) fn commit_tx(&mut self) {
        let tx = std::mem::take(&mut self.tx);
        self.block.extend(tx);
    }

    /// The transaction's writes so far, to go back to with [`Overlay::restore_tx`].
    pub(crate) fn tx_writes(&self) -> WriteSet {
        self.tx.clone()
    }

    /// Drops the transaction's writes made since `saved` was taken.
    pub(crate) fn restore_tx(&mut self, saved: WriteSet) {
        self.tx = saved;
    }

    pub(crate) fn rollback_tx(&mut self) {
        self.tx.clear();
    }

    pub(crate) fn into_writes(mut self) -> WriteSet {
        self.commit_tx();
        self.block
    }
}
