//! Epochs: the validator set is fixed for `epoch_length` blocks and changes only at an epoch's
//! last block, where execution applies a set scheduled by a governance transaction (k-of-n
//! consortium admins). One simplex engine runs per epoch, with its own signing scheme, storage
//! partition and p2p subchannels; this module starts each one when the previous epoch's last
//! block is committed here, the way commonware's own epoch orchestrators do.
//!
//! Epoch `e` covers heights `[e·L, e·L + L − 1]` (genesis is in epoch 0). Its engine starts from
//! the last block of epoch `e − 1` (or genesis) as its floor, and its set is the one in force
//! after that block. The marshal wrapper re-proposes the last block of an epoch instead of
//! building past it, so no epoch finalizes a block of the next.
//!
//! A node outside an epoch's set runs that epoch's engine as a verifier: it follows the
//! certificates and syncs blocks without voting, and votes from the epoch it is added in.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use commonware_consensus::{
    Reporters,
    marshal::{core::Mailbox, standard::Standard},
    simplex::{
        self,
        config::{Floor, ForwardPolicy, SkipBudget, SkipPolicy},
        elector::RoundRobin,
        scheme::reporter::AttributableReporter,
    },
    types::{Epoch, Height, ViewDelta},
};
use commonware_cryptography::{
    Digestible as _, Sha256,
    certificate::{Provider, Scoped},
    ed25519::{PrivateKey, PublicKey},
};
use commonware_p2p::{
    Blocker, Receiver, Sender,
    utils::mux::{Builder as _, MuxHandle, Muxer},
};
use commonware_parallel::Sequential;
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage, buffer::paged::CacheRef};
use commonware_utils::{NZDuration, NZUsize, vec::NonEmptyVec};
use futures::{StreamExt as _, channel::mpsc};
use weft_types::AccountId;

use super::{
    ConsensusStatus, MAILBOX, Scheme, Timing, account_of, block::ConsensusBlock,
    evidence::Evidence, ordered_set,
};
use crate::{chain::ChainError, node::Inner};

/// The marshal wrapper every epoch's engine drives (automaton, relay and reporter).
pub(crate) type Wrapper<E> = commonware_consensus::marshal::standard::Inline<
    E,
    Scheme,
    super::app::ChainApp,
    ConsensusBlock,
    commonware_consensus::types::FixedEpocher,
>;

/// The first epoch that has not ended at committed height `head`, and the height of the block
/// its engine starts from (the previous epoch's last block, or genesis).
pub fn epoch_after(head: u64, epoch_length: u64) -> (u64, u64) {
    let epoch = (head + 1) / epoch_length;
    let floor = if epoch == 0 {
        0
    } else {
        epoch * epoch_length - 1
    };
    (epoch, floor)
}

/// The last height of `epoch`.
pub const fn last_height(epoch: u64, epoch_length: u64) -> u64 {
    epoch * epoch_length + epoch_length - 1
}

/// An epoch's scheme, and whether this node signs with it.
type EpochScheme = (Arc<Scheme>, bool);

/// Each epoch's scheme, for marshal to check certificates of any epoch this node has entered.
#[derive(Clone, Default)]
pub(crate) struct EpochSchemes(Arc<Mutex<BTreeMap<u64, EpochScheme>>>);

impl EpochSchemes {
    fn insert(&self, epoch: u64, scheme: Scheme, signs: bool) {
        let mut map = crate::node::lock(&self.0);
        map.insert(epoch, (Arc::new(scheme), signs));
        // Certificates older than the previous epoch are served from storage, never checked again.
        while map.len() > 4 {
            map.pop_first();
        }
    }
}

impl Provider for EpochSchemes {
    type Scope = Epoch;
    type Scheme = Scheme;

    fn scoped(&self, epoch: Epoch) -> Option<Scoped<Scheme>> {
        crate::node::lock(&self.0)
            .get(&epoch.get())
            .map(|(scheme, signs)| {
                if *signs {
                    Scoped::scheme(Arc::clone(scheme))
                } else {
                    Scoped::verifier(Arc::clone(scheme))
                }
            })
    }
}

/// The scheme of the set `accounts`: a signer when `key` is in it, a verifier otherwise.
pub(crate) fn scheme_for(
    namespace: &[u8],
    accounts: &[AccountId],
    key: &PrivateKey,
) -> Result<(Scheme, bool), String> {
    let set = ordered_set(accounts)?;
    Ok(match Scheme::signer(namespace, set.clone(), key.clone()) {
        Some(s) => (s, true),
        None => (Scheme::verifier(namespace, set), false),
    })
}

/// Registers the schemes of the epoch the node is in and of the one before (whose last
/// block's certificates a lagging peer may still ask about). Must precede marshal's start:
/// marshal checks the certificates it restores from disk with them. Returns the current
/// epoch, its set and whether this node signs in it.
pub(crate) fn register_current(
    schemes: &EpochSchemes,
    chain: &crate::Chain,
    epoch_length: u64,
    namespace: &[u8],
    signer: &PrivateKey,
) -> Result<(u64, Vec<AccountId>, bool), ChainError> {
    let (epoch, _) = epoch_after(chain.head()?.height, epoch_length);
    let mut current = (Vec::new(), false);
    for e in epoch.saturating_sub(1)..=epoch {
        // The set in force after the block epoch `e` starts from.
        let (_, floor) = epoch_after(e * epoch_length, epoch_length);
        let set = chain.validators_at(floor)?;
        let (scheme, signs) = scheme_for(namespace, &set, signer).map_err(ChainError::Execution)?;
        schemes.insert(e, scheme, signs);
        current = (set, signs);
    }
    Ok((epoch, current.0, current.1))
}

/// What every epoch's engine shares.
pub(crate) struct Orchestrator<E, B>
where
    E: Clock + Spawner + Metrics + Storage + rand_core::CryptoRng + Send + Sync + 'static,
{
    pub(crate) ctx: E,
    pub(crate) node: Arc<Inner>,
    pub(crate) signer: PrivateKey,
    pub(crate) namespace: Vec<u8>,
    pub(crate) schemes: EpochSchemes,
    pub(crate) epoch_length: u64,
    pub(crate) marshal: Mailbox<Scheme, Standard<ConsensusBlock>>,
    pub(crate) wrapper: Wrapper<E>,
    pub(crate) blocker: B,
    pub(crate) evidence: Evidence,
    pub(crate) status: ConsensusStatus,
    pub(crate) timing: Timing,
    pub(crate) view_retention: u64,
    pub(crate) partition_prefix: String,
    pub(crate) page_cache: CacheRef,
    /// Committed heights that end an epoch, from the committer.
    pub(crate) boundaries: mpsc::UnboundedReceiver<u64>,
}

/// The epoch this node is in, shared with the tasks that watch other epochs' traffic.
#[derive(Clone, Default)]
struct Current(Arc<AtomicU64>);

impl<E, B> Orchestrator<E, B>
where
    E: Clock + Spawner + Metrics + Storage + rand_core::CryptoRng + Send + Sync + 'static,
    B: Blocker<PublicKey = PublicKey> + Clone,
{
    /// Runs one engine per epoch, moving to the next when this node commits the last block of
    /// the current one. Returns when the node stops.
    pub(crate) async fn run<S, R>(mut self, votes: (S, R), certificates: (S, R), resolver: (S, R))
    where
        S: Sender<PublicKey = PublicKey>,
        R: Receiver<PublicKey = PublicKey>,
    {
        let (mux, mut votes, votes_elsewhere) =
            Muxer::builder(self.ctx.child("vote_mux"), votes.0, votes.1)
                .with_backup()
                .build();
        mux.start();
        let (mux, mut certificates, certificates_elsewhere) = Muxer::builder(
            self.ctx.child("certificate_mux"),
            certificates.0,
            certificates.1,
        )
        .with_backup()
        .build();
        mux.start();
        let (mux, mut resolver) =
            Muxer::new(self.ctx.child("resolver_mux"), resolver.0, resolver.1);
        mux.start();
        let current = Current::default();
        let epoch_length = self.epoch_length;
        // Traffic of an epoch this node has not entered: peers are ahead, so this node is
        // missing the current epoch's last block. Ask marshal to fetch its certificate.
        for (label, mut elsewhere) in [
            ("votes_elsewhere", votes_elsewhere),
            ("certificates_elsewhere", certificates_elsewhere),
        ] {
            let current = current.clone();
            let marshal = self.marshal.clone();
            self.ctx.child(label).spawn(move |_| async move {
                while let Some((their_epoch, (from, _))) = elsewhere.recv().await {
                    let ours = current.0.load(Ordering::Relaxed);
                    if their_epoch > ours {
                        tracing::debug!(ours, their_epoch, peer = %from, "a peer is in a later epoch");
                        marshal.hint_finalized(
                            Height::new(last_height(ours, epoch_length)),
                            NonEmptyVec::new(from),
                        );
                    }
                }
            });
        }
        loop {
            if self.node.stopping() {
                return;
            }
            let started = self
                .enter(&current, &mut votes, &mut certificates, &mut resolver)
                .await;
            let (epoch, handle) = match started {
                Ok(Some(started)) => started,
                Ok(None) => return,
                Err(e) => {
                    self.node.fail(&format!("cannot start the next epoch: {e}"));
                    return;
                }
            };
            let last = last_height(epoch, epoch_length);
            // Until this node has committed the epoch's last block.
            let ended = loop {
                match self.boundaries.next().await {
                    Some(h) if h >= last => break true,
                    Some(_) => {}
                    None => break false,
                }
            };
            handle.abort();
            let _ = handle.await;
            if !ended {
                return;
            }
        }
    }

    /// Starts the engine of the epoch after the committed head, with its scheme registered,
    /// the status updated and its subchannels opened. `None` when the node is stopping.
    async fn enter<S>(
        &mut self,
        current: &Current,
        votes: &mut MuxHandle<S>,
        certificates: &mut MuxHandle<S>,
        resolver: &mut MuxHandle<S>,
    ) -> Result<Option<(u64, Handle<()>)>, ChainError>
    where
        S: Sender<PublicKey = PublicKey>,
    {
        let chain = &self.node.chain;
        let head = chain.head()?;
        let params = chain.consensus_params()?;
        let (epoch, floor_height) = epoch_after(head.height, params.epoch_length);
        let floor_block = chain
            .store()
            .block(floor_height)?
            .ok_or_else(|| ChainError::Genesis(format!("no block at height {floor_height}")))?;
        let floor = ConsensusBlock::new(floor_block).digest();
        // The head is within the epoch (at or after its floor, before its last block), so the
        // set in force after it is the epoch's.
        let set = params.validators;
        let (scheme, signs) =
            scheme_for(&self.namespace, &set, &self.signer).map_err(ChainError::Execution)?;
        self.schemes.insert(epoch, scheme.clone(), signs);
        let ordered: Vec<PublicKey> = ordered_set(&set)
            .map_err(ChainError::Execution)?
            .iter()
            .cloned()
            .collect();
        self.evidence.set_participants(ordered.clone());
        self.status
            .enter_epoch(epoch, ordered.iter().map(account_of).collect(), signs);
        current.0.store(epoch, Ordering::Relaxed);
        tracing::info!(
            epoch,
            floor = floor_height,
            validators = set.len(),
            voting = signs,
            "entering epoch"
        );
        metrics::gauge!("weft_consensus_epoch").set(epoch as f64);
        if self.node.stopping() {
            return Ok(None);
        }
        let attributable = AttributableReporter::new(
            self.ctx.child("evidence").with_attribute("epoch", epoch),
            scheme.clone(),
            self.evidence.clone(),
            Sequential,
            true,
        );
        let reporter = Reporters::from((self.wrapper.clone(), attributable));
        let t = self.timing;
        let prefix = &self.partition_prefix;
        let engine = simplex::Engine::new(
            self.ctx.child("simplex").with_attribute("epoch", epoch),
            simplex::config::Config {
                scheme,
                elector: RoundRobin::<Sha256>::default(),
                blocker: self.blocker.clone(),
                automaton: self.wrapper.clone(),
                relay: self.wrapper.clone(),
                reporter,
                strategy: Sequential,
                partition: format!("{prefix}simplex-epoch{epoch}"),
                mailbox_size: NZUsize!(MAILBOX),
                epoch: Epoch::new(epoch),
                floor: Floor::Genesis(floor),
                replay_buffer: NZUsize!(1024 * 1024),
                write_buffer: NZUsize!(1024 * 1024),
                page_cache: self.page_cache.clone(),
                leader_timeout: t.leader_timeout,
                certification_timeout: t.certification_timeout,
                timeout_retry: t.timeout_retry,
                view_retention: ViewDelta::new(self.view_retention),
                skip: SkipPolicy::Enabled {
                    timeout: t.skip_timeout,
                    budget: SkipBudget::Participants,
                },
                fetch_timeout: NZDuration!(t.fetch_timeout),
                fetch_retry_delay: Duration::from_millis(100),
                forward: ForwardPolicy::SilentVoters,
                track_historical_votes: true,
            },
        );
        let closed = || ChainError::Execution("the consensus network stopped".into());
        let v = votes.register(epoch).await.map_err(|_| closed())?;
        let c = certificates.register(epoch).await.map_err(|_| closed())?;
        let r = resolver.register(epoch).await.map_err(|_| closed())?;
        let handle = engine.start(v, c, r);
        // An ended epoch never runs again (epochs only move forward, and a restart resumes
        // after the committed head), so its vote journal no longer guards against anything.
        // The previous epoch's is kept a little longer; the one before it goes.
        if let Some(ended) = epoch.checked_sub(2) {
            let partition = format!("{prefix}simplex-epoch{ended}");
            if let Err(e) = self.ctx.remove(&partition, None).await {
                tracing::debug!(%partition, error = %e, "no journal of an ended epoch to remove");
            }
        }
        Ok(Some((epoch, handle)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_start_after_the_previous_last_block() {
        // L = 4: epoch 0 = [0, 3], epoch 1 = [4, 7].
        assert_eq!(epoch_after(0, 4), (0, 0));
        assert_eq!(epoch_after(2, 4), (0, 0));
        assert_eq!(epoch_after(3, 4), (1, 3));
        assert_eq!(epoch_after(6, 4), (1, 3));
        assert_eq!(epoch_after(7, 4), (2, 7));
        assert_eq!(last_height(0, 4), 3);
        assert_eq!(last_height(1, 4), 7);
        for head in 0..100u64 {
            let (epoch, floor) = epoch_after(head, 5);
            assert!(floor <= head && head < last_height(epoch, 5));
            assert_eq!(epoch, (head + 1) / 5);
            // An epoch's first height leads back to the same epoch and floor.
            assert_eq!(epoch_after(epoch * 5, 5), (epoch, floor));
        }
    }
}
