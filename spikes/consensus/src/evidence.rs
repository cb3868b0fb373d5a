//! A second simplex reporter: fault evidence, view changes and finalization certificates.
//!
//! It is wrapped in `AttributableReporter` (verify = true), so every peer vote it sees has a
//! valid signature: the evidence it keeps can be shown to a third party.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex, MutexGuard},
};

use commonware_codec::Encode;
use commonware_consensus::{
    Reporter, Viewable,
    simplex::types::{Activity, Attributable},
};
use commonware_cryptography::{ed25519::PublicKey, sha256::Digest};

use crate::app::{Cert, Scheme, lock};

/// One piece of misbehaviour, with the encoded proof (two signed votes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub offender: PublicKey,
    pub kind: &'static str,
    pub view: u64,
    /// The encoded `Activity` (both conflicting signed votes), storable as evidence.
    pub proof: Vec<u8>,
}

#[derive(Default)]
pub struct EvidenceInner {
    pub faults: Vec<Fault>,
    /// Views for which a nullification certificate was seen (view changes).
    pub nullified_views: BTreeSet<u64>,
    /// Highest finalized view seen.
    pub finalized_view: u64,
    /// Finalization certificates by block digest, as simplex reported them.
    pub finalizations: BTreeMap<Digest, Cert>,
    /// Proposals our `verify` refused: (leader, view, reason). Not attributable proof by
    /// itself (the leader's signed notarize is not kept here), but logged and counted.
    pub invalid_blocks: Vec<(PublicKey, u64, &'static str)>,
}

#[derive(Clone)]
pub struct Evidence {
    participants: Arc<Vec<PublicKey>>,
    inner: Arc<Mutex<EvidenceInner>>,
}

impl Evidence {
    pub fn new(participants: Vec<PublicKey>) -> Self {
        Self {
            participants: Arc::new(participants),
            inner: Arc::default(),
        }
    }

    pub fn inner(&self) -> MutexGuard<'_, EvidenceInner> {
        lock(&self.inner)
    }

    pub fn invalid_block(&self, leader: PublicKey, view: u64, reason: &'static str) {
        tracing::warn!(%leader, view, reason, "invalid block refused");
        lock(&self.inner)
            .invalid_blocks
            .push((leader, view, reason));
    }

    fn fault(&self, signer: u32, kind: &'static str, view: u64, proof: Vec<u8>) {
        let Some(offender) = self.participants.get(signer as usize).cloned() else {
            return;
        };
        tracing::warn!(%offender, kind, view, "misbehaviour detected");
        let fault = Fault {
            offender,
            kind,
            view,
            proof,
        };
        let mut inner = lock(&self.inner);
        if !inner.faults.contains(&fault) {
            inner.faults.push(fault);
        }
    }
}

impl Reporter for Evidence {
    type Activity = Activity<Scheme, Digest>;

    fn report(&mut self, activity: Self::Activity) -> commonware_actor::Feedback {
        match &activity {
            Activity::ConflictingNotarize(c) => {
                self.fault(
                    c.signer().get(),
                    "conflicting_notarize",
                    c.view().get(),
                    activity.encode().to_vec(),
                );
            }
            Activity::ConflictingFinalize(c) => {
                self.fault(
                    c.signer().get(),
                    "conflicting_finalize",
                    c.view().get(),
                    activity.encode().to_vec(),
                );
            }
            Activity::NullifyFinalize(c) => {
                self.fault(
                    c.signer().get(),
                    "nullify_finalize",
                    c.view().get(),
                    activity.encode().to_vec(),
                );
            }
            Activity::Nullification(n) => {
                tracing::info!(view = n.view().get(), "view nullified");
                lock(&self.inner).nullified_views.insert(n.view().get());
            }
            Activity::Finalization(f) => {
                let mut inner = lock(&self.inner);
                inner.finalized_view = inner.finalized_view.max(f.view().get());
                inner.finalizations.insert(f.proposal.payload, f.clone());
            }
            _ => {}
        }
        commonware_actor::Feedback::Ok
    }
}
