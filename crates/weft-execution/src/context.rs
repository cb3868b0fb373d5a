//! What an operation sees while it runs: the signer(s), the block's height and time, typed
//! state access and an event sink.

use std::collections::BTreeSet;

use borsh::{BorshDeserialize, BorshSerialize};
use weft_types::{AccountId, Event};

use crate::{ExecError, keys::StateKey, overlay::Overlay};

/// The transaction's writes and event count at one point (see [`TxContext::savepoint`]).
pub(crate) struct Savepoint {
    writes: weft_types::state::WriteSet,
    events: usize,
}

pub(crate) struct TxContext<'o, 'a> {
    state: &'o mut Overlay<'a>,
    pub(crate) signer: AccountId,
    /// Everyone who signed, the signer included; for multi-party rules.
    pub(crate) signers: BTreeSet<AccountId>,
    pub(crate) height: u64,
    pub(crate) timestamp_ms: u64,
    events: Vec<Event>,
}

impl<'o, 'a> TxContext<'o, 'a> {
    pub(crate) fn new(
        state: &'o mut Overlay<'a>,
        signer: AccountId,
        signers: BTreeSet<AccountId>,
        height: u64,
        timestamp_ms: u64,
    ) -> Self {
        Self {
            state,
            signer,
            signers,
            height,
            timestamp_ms,
            events: Vec::new(),
        }
    }

    pub(crate) fn get<T: BorshDeserialize>(&self, key: &StateKey) -> Result<Option<T>, ExecError> {
        self.state.get(key)
    }

    pub(crate) fn exists(&self, key: &StateKey) -> Result<bool, ExecError> {
        Ok(self.state.get_raw(&key.to_bytes())?.is_some())
    }

    pub(crate) fn put<T: BorshSerialize>(&mut self, key: &StateKey, value: &T) {
        self.state.put(key, value);
    }

    pub(crate) fn delete(&mut self, key: &StateKey) {
        self.state.delete(key);
    }

    pub(crate) fn emit(
        &mut self,
        topic: &str,
        accounts: Vec<AccountId>,
        attributes: Vec<(&str, String)>,
    ) {
        self.events.push(Event {
            topic: topic.to_owned(),
            accounts,
            attributes: attributes
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        });
    }

    /// How many events the transaction emitted so far.
    pub(crate) fn event_count(&self) -> usize {
        self.events.len()
    }

    /// A point to come back to: a step the ledger takes on its own (an `on_breach`
    /// transition) may fail without failing the operation that triggered it.
    pub(crate) fn savepoint(&self) -> Savepoint {
        Savepoint {
            writes: self.state.tx_writes(),
            events: self.events.len(),
        }
    }

    /// Undoes every write and event since `saved` was taken.
    pub(crate) fn rollback_to(&mut self, saved: Savepoint) {
        self.state.restore_tx(saved.writes);
        self.events.truncate(saved.events);
    }

    pub(crate) fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }
}
