//! What an operation sees while it runs: the signer(s), the block's height and time, typed
//! state access and an event sink.

use std::collections::BTreeSet;

use borsh::{BorshDeserialize, BorshSerialize};
use weft_types::{AccountId, Event};

use crate::{ExecError, keys::StateKey, overlay::Overlay};

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

    pub(crate) fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }
}
