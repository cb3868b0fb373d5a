//! Misbehaviour and progress reported by the engine: fault evidence (two conflicting signed
//! votes), refused proposals, view changes and finalizations, kept for the operator and the
//! metrics.
//!
//! The reporter runs behind the engine's `AttributableReporter` with verification on, so every
//! vote it sees carries a valid signature: each recorded fault holds a proof a third party can
//! check. Faults are appended to `evidence.jsonl` in the consensus directory (synced), so they
//! survive a restart.

use std::{
    collections::BTreeSet,
    io::Write as _,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use commonware_codec::Encode;
use commonware_consensus::{
    Reporter, Viewable,
    simplex::types::{Activity, Attributable},
};
use commonware_cryptography::{ed25519::PublicKey, sha256::Digest};
use serde::Serialize;

use super::Scheme;
use crate::node::lock;

/// One recorded piece of misbehaviour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Fault {
    /// The offending validator's public key (hex).
    pub offender: String,
    /// `conflicting_notarize`, `conflicting_finalize`, `nullify_finalize` (signed proofs) or
    /// `invalid_block` (a proposal this node refused to vote for).
    pub kind: String,
    pub view: u64,
    /// Hex of the engine's encoded activity (both signed votes); empty for `invalid_block`.
    pub proof: String,
    /// Why a proposal was refused (`invalid_block` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When this node saw it, ms since the Unix epoch (not part of any consensus state).
    pub observed_ms: u64,
}

#[derive(Debug, Default)]
struct State {
    faults: Vec<Fault>,
    nullified_views: BTreeSet<u64>,
    finalized_view: u64,
    current_view: u64,
}

/// Shared sink of consensus activity. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Evidence {
    /// The current epoch's set in the engine's order: a fault names its signer by index.
    participants: Arc<Mutex<Vec<PublicKey>>>,
    state: Arc<Mutex<State>>,
    file: Option<Arc<PathBuf>>,
    /// When each view was first seen, for the view → finalization latency.
    view_started: Arc<Mutex<std::collections::BTreeMap<u64, Instant>>>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Evidence {
    /// A sink for the ordered validator set, persisting faults in `file` when given.
    pub fn new(participants: Vec<PublicKey>, file: Option<PathBuf>) -> Self {
        let mut faults = Vec::new();
        if let Some(path) = &file
            && let Ok(text) = std::fs::read_to_string(path)
        {
            for line in text.lines() {
                if let Ok(f) = serde_json::from_str::<Fault>(line) {
                    faults.push(f);
                }
            }
        }
        Self {
            participants: Arc::new(Mutex::new(participants)),
            state: Arc::new(Mutex::new(State {
                faults,
                ..State::default()
            })),
            file: file.map(Arc::new),
            view_started: Arc::default(),
        }
    }

    /// The set whose indices faults from now on refer to (at each epoch's start).
    /// Views restart at each epoch, so view bookkeeping restarts too.
    pub fn set_participants(&self, participants: Vec<PublicKey>) {
        *lock(&self.participants) = participants;
        let mut state = lock(&self.state);
        state.finalized_view = 0;
        state.current_view = 0;
        state.nullified_views.clear();
        lock(&self.view_started).clear();
    }

    /// Every fault recorded so far, oldest first.
    pub fn faults(&self) -> Vec<Fault> {
        lock(&self.state).faults.clone()
    }

    /// Views that ended in a nullification (view changes) since start.
    pub fn nullified_views(&self) -> usize {
        lock(&self.state).nullified_views.len()
    }

    /// The highest view seen finalized.
    pub fn finalized_view(&self) -> u64 {
        lock(&self.state).finalized_view
    }

    /// The current view as far as this node has seen votes.
    pub fn current_view(&self) -> u64 {
        lock(&self.state).current_view
    }

    /// Records a proposal this node refused to vote for.
    pub fn invalid_block(&self, leader: &PublicKey, view: u64, reason: &str) {
        tracing::warn!(leader = %leader, view, reason, "refused an invalid proposal");
        self.record(Fault {
            offender: hex::encode(leader.as_ref()),
            kind: "invalid_block".into(),
            view,
            proof: String::new(),
            reason: Some(reason.to_owned()),
            observed_ms: now_ms(),
        });
    }

    fn signed_fault(&self, signer: u32, kind: &str, view: u64, proof: Vec<u8>) {
        let Some(offender) = lock(&self.participants).get(signer as usize).cloned() else {
            return;
        };
        tracing::warn!(offender = %offender, kind, view, "validator misbehaviour detected");
        self.record(Fault {
            offender: hex::encode(offender.as_ref()),
            kind: kind.into(),
            view,
            proof: hex::encode(proof),
            reason: None,
            observed_ms: now_ms(),
        });
    }

    fn record(&self, fault: Fault) {
        let mut state = lock(&self.state);
        if state
            .faults
            .iter()
            .any(|f| f.offender == fault.offender && f.kind == fault.kind && f.view == fault.view)
        {
            return;
        }
        metrics::counter!("weft_consensus_faults_total", "kind" => fault.kind.clone()).increment(1);
        if let Some(path) = &self.file {
            let line = serde_json::to_string(&fault).unwrap_or_default();
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path.as_ref())
                .and_then(|mut f| {
                    writeln!(f, "{line}")?;
                    f.sync_data()
                });
            if let Err(e) = written {
                tracing::error!(error = %e, "cannot persist consensus evidence");
            }
        }
        state.faults.push(fault);
    }

    fn saw_view(&self, view: u64) {
        let mut state = lock(&self.state);
        if view > state.current_view {
            state.current_view = view;
            metrics::gauge!("weft_consensus_view").set(view as f64);
            drop(state);
            let mut started = lock(&self.view_started);
            started.entry(view).or_insert_with(Instant::now);
            // Only the recent views matter for latency.
            while started.len() > 1024 {
                started.pop_first();
            }
        }
    }
}

impl Reporter for Evidence {
    type Activity = Activity<Scheme, Digest>;

    fn report(&mut self, activity: Self::Activity) -> commonware_actor::Feedback {
        match &activity {
            Activity::Notarize(v) => self.saw_view(v.view().get()),
            Activity::Notarization(n) => self.saw_view(n.view().get()),
            Activity::ConflictingNotarize(c) => self.signed_fault(
                c.signer().get(),
                "conflicting_notarize",
                c.view().get(),
                activity.encode().to_vec(),
            ),
            Activity::ConflictingFinalize(c) => self.signed_fault(
                c.signer().get(),
                "conflicting_finalize",
                c.view().get(),
                activity.encode().to_vec(),
            ),
            Activity::NullifyFinalize(c) => self.signed_fault(
                c.signer().get(),
                "nullify_finalize",
                c.view().get(),
                activity.encode().to_vec(),
            ),
            Activity::Nullification(n) => {
                let view = n.view().get();
                // Routine on an idle chain (leaders decline with nothing to propose), so debug;
                // the counter shows the rate.
                tracing::debug!(view, "view change: the view was nullified");
                metrics::counter!("weft_consensus_view_changes_total").increment(1);
                lock(&self.state).nullified_views.insert(view);
                self.saw_view(view + 1);
            }
            Activity::Finalization(f) => {
                let view = f.view().get();
                {
                    let mut state = lock(&self.state);
                    state.finalized_view = state.finalized_view.max(view);
                }
                metrics::gauge!("weft_consensus_finalized_view").set(view as f64);
                if let Some(started) = lock(&self.view_started).get(&view) {
                    metrics::histogram!("weft_consensus_finalization_seconds")
                        .record(started.elapsed().as_secs_f64());
                }
                self.saw_view(view + 1);
            }
            _ => {}
        }
        commonware_actor::Feedback::Ok
    }
}
