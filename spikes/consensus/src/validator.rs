//! Wires one validator: buffered broadcast + marshal (resolver, archives) + `Deferred` wrapper
//! around our `App` + simplex engine, over any p2p implementation (simulated or
//! `authenticated::lookup`).

use std::{
    num::{NonZeroU16, NonZeroUsize},
    time::Duration,
};

use commonware_broadcast::buffered;
use commonware_consensus::{
    Reporters,
    marshal::{
        self, Start,
        core::Actor,
        resolver::p2p as marshal_resolver,
        standard::{Deferred, Standard},
    },
    simplex::{
        self,
        config::{Floor, ForwardPolicy, SkipBudget, SkipPolicy},
        elector::RoundRobin,
        scheme::reporter::AttributableReporter,
    },
    types::{Epoch, FixedEpocher, ViewDelta},
};
use commonware_cryptography::{
    Digested, Digestible, Sha256, Signer as _,
    certificate::{ConstantProvider, Verifier as _},
    ed25519::{PrivateKey, PublicKey},
    sha256::Digest,
};
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage, buffer::paged::CacheRef};
use commonware_storage::archive::immutable;
use commonware_utils::{NZDuration, NZU16, NZU64, NZUsize, ordered::Set};
use rand_core::CryptoRng;

use crate::{
    app::{App, AppConfig, CommitLog, Mempool, Scheme, start_committer},
    block::{BlockCfg, WeftBlock},
    evidence::Evidence,
};

/// p2p channel ids (one `register` each, before the network starts).
pub const CH_VOTES: u64 = 0;
pub const CH_CERTS: u64 = 1;
pub const CH_SIMPLEX_RESOLVER: u64 = 2;
pub const CH_BLOCKS: u64 = 3;
pub const CH_BACKFILL: u64 = 4;
pub const CHANNELS: [u64; 5] = [
    CH_VOTES,
    CH_CERTS,
    CH_SIMPLEX_RESOLVER,
    CH_BLOCKS,
    CH_BACKFILL,
];

const PAGE_SIZE: NonZeroU16 = NZU16!(4096);
const PAGE_CACHE_SIZE: NonZeroUsize = NZUsize!(64);

/// Consensus timeouts. `Config::assert` requires
/// certification > leader > 0 and skip > max(certification, retry).
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub leader_timeout: Duration,
    pub certification_timeout: Duration,
    pub timeout_retry: Duration,
    pub skip_timeout: Duration,
    pub fetch_timeout: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            leader_timeout: Duration::from_secs(1),
            certification_timeout: Duration::from_secs(2),
            timeout_retry: Duration::from_secs(5),
            skip_timeout: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(1),
        }
    }
}

/// Everything one validator needs; identical on every node except `signer` and `partition`.
#[derive(Clone)]
pub struct NodeConfig {
    pub chain_id: Vec<u8>,
    /// Signature namespace (domain separation for votes).
    pub namespace: Vec<u8>,
    pub signer: PrivateKey,
    /// The validator set (epoch 0). Order is canonical (sorted) on every node.
    pub validators: Vec<PublicKey>,
    pub app: AppConfig,
    pub timing: Timing,
    /// Storage partition prefix; must survive restarts (the simplex WAL prevents double-signing).
    pub partition: String,
    pub mailbox_size: usize,
    /// Views of history simplex and marshal keep behind the finalized tip.
    pub view_retention: u64,
}

/// State that outlives one run of the validator (a durable store in Weft).
#[derive(Clone)]
pub struct Shared {
    pub mempool: Mempool,
    pub log: CommitLog,
    pub evidence: Evidence,
}

impl Shared {
    pub fn new(validators: &[PublicKey]) -> Self {
        Self {
            mempool: Mempool::default(),
            log: CommitLog::default(),
            evidence: Evidence::new(validators.to_vec()),
        }
    }
}

/// The five channel pairs, in [`CHANNELS`] order.
pub struct Channels<S, R> {
    pub votes: (S, R),
    pub certs: (S, R),
    pub simplex_resolver: (S, R),
    pub blocks: (S, R),
    pub backfill: (S, R),
}

/// Canonical validator order (the scheme's signer indices follow it).
pub fn validator_set(keys: impl IntoIterator<Item = PublicKey>) -> Set<PublicKey> {
    Set::from_iter_dedup(keys)
}

/// Largest payload any channel carries, plus p2p sizing: use as the network's max message size.
pub fn max_message_size(validators: u32, block: &BlockCfg) -> u32 {
    let simplex = simplex::max_payload_size::<Scheme, Digest>(validators);
    let marshal = marshal::max_payload_size::<Standard<WeftBlock>, Scheme>(validators, block);
    commonware_p2p::max_message_size(&[simplex, marshal])
}

pub fn genesis(cfg: &NodeConfig) -> WeftBlock {
    let set = validator_set(cfg.validators.clone());
    let keys: Vec<PublicKey> = set.iter().cloned().collect();
    WeftBlock::genesis(&cfg.chain_id, &keys)
}

/// Starts every component of one validator under `context` and returns the simplex handle.
/// Aborting the task that owns `context` (supervision tree) stops all of them: that is how
/// the tests crash a node.
pub async fn start<E, S, R, P, B>(
    context: E,
    cfg: NodeConfig,
    shared: Shared,
    channels: Channels<S, R>,
    peer_provider: P,
    blocker: B,
) -> Handle<()>
where
    E: Clock + Spawner + Metrics + Storage + CryptoRng + Send + Sync + 'static,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
    P: Provider<PublicKey = PublicKey> + Clone,
    B: Blocker<PublicKey = PublicKey> + Clone,
{
    let me = cfg.signer.public_key();
    let set = validator_set(cfg.validators.clone());
    let scheme = Scheme::signer(&cfg.namespace, set.clone(), cfg.signer.clone())
        .expect("signer must be a validator");
    let genesis = genesis(&cfg);
    let genesis_digest = genesis.digest();
    let mailbox = NZUsize!(cfg.mailbox_size);
    let page_cache = CacheRef::new(PAGE_SIZE, PAGE_CACHE_SIZE);

    // Marshal backfill (by digest / height / notarized round) on its own channel.
    let resolver = marshal_resolver::init(
        context.child("marshal_resolver"),
        marshal_resolver::Config {
            public_key: me.clone(),
            peer_provider: peer_provider.clone(),
            blocker: blocker.clone(),
            mailbox_size: mailbox,
            fetch_timeout: NZDuration!(cfg.timing.fetch_timeout),
            fetch_retry_delay: Duration::from_millis(100),
            priority_requests: false,
            priority_responses: false,
        },
        channels.backfill,
    );

    // Whole-block dissemination.
    let (broadcast_engine, buffer) = buffered::Engine::new(
        context.child("broadcast"),
        buffered::Config {
            public_key: me.clone(),
            mailbox_size: mailbox,
            deque_size: 10,
            priority: false,
            codec_config: cfg.app.block,
            peer_provider: peer_provider.clone(),
            strategy: Sequential,
        },
    );
    broadcast_engine.start(channels.blocks);

    // Durable archives: finalization certificates by height and finalized blocks.
    let prefix = &cfg.partition;
    macro_rules! archive_cfg {
        ($name:expr, $codec:expr) => {{
            let name: &str = $name;
            immutable::Config {
                metadata_partition: format!("{prefix}-{name}-metadata"),
                freezer_table_partition: format!("{prefix}-{name}-freezer-table"),
                freezer_table_initial_size: 64,
                freezer_table_resize_frequency: 10,
                freezer_table_resize_chunk_size: 10,
                freezer_key_partition: format!("{prefix}-{name}-freezer-key"),
                freezer_key_page_cache: page_cache.clone(),
                freezer_value_partition: format!("{prefix}-{name}-freezer-value"),
                freezer_value_target_size: 1024 * 1024,
                freezer_value_compression: None,
                ordinal_partition: format!("{prefix}-{name}-ordinal"),
                items_per_section: NZU64!(1024),
                codec_config: $codec,
                replay_buffer: NZUsize!(1024 * 1024),
                freezer_key_write_buffer: NZUsize!(1024 * 1024),
                freezer_value_write_buffer: NZUsize!(1024 * 1024),
                ordinal_write_buffer: NZUsize!(1024 * 1024),
            }
        }};
    }
    let finalizations = immutable::Archive::init(
        context.child("finalizations_by_height"),
        archive_cfg!("finalizations", scheme.certificate_codec_config()),
    )
    .await
    .expect("finalizations archive");
    let blocks = immutable::Archive::init(
        context.child("finalized_blocks"),
        archive_cfg!("blocks", cfg.app.block),
    )
    .await
    .expect("blocks archive");

    let (actor, marshal_mailbox, _floor) = Actor::init(
        context.child("marshal"),
        finalizations,
        blocks,
        marshal::Config {
            provider: ConstantProvider::new(scheme.clone()),
            epocher: FixedEpocher::new(NZU64!(u64::MAX)),
            start: Start::Genesis(Digested::precomputed(genesis, genesis_digest)),
            partition_prefix: format!("{prefix}-marshal"),
            mailbox_size: mailbox,
            view_retention: ViewDelta::new(cfg.view_retention),
            prunable_items_per_section: NZU64!(64),
            page_cache: page_cache.clone(),
            replay_buffer: NZUsize!(1024 * 1024),
            key_write_buffer: NZUsize!(1024 * 1024),
            value_write_buffer: NZUsize!(1024 * 1024),
            block_codec_config: cfg.app.block,
            max_repair: NZUsize!(16),
            max_pending_acks: NZUsize!(8),
            strategy: Sequential,
        },
    )
    .await;

    // Our commit path receives finalized blocks in order.
    let finalized = start_committer(
        context.child("committer"),
        marshal_mailbox.clone(),
        shared.log.clone(),
        shared.mempool.clone(),
    );
    actor.start(finalized, buffer, resolver);

    // The application, wrapped by marshal's Deferred (automaton + relay + reporter).
    let app = App {
        mempool: shared.mempool.clone(),
        log: shared.log.clone(),
        cfg: cfg.app,
        evidence: shared.evidence.clone(),
    };
    let wrapper = Deferred::new(
        context.child("deferred"),
        app,
        marshal_mailbox,
        FixedEpocher::new(NZU64!(u64::MAX)),
    );
    let evidence = AttributableReporter::new(
        context.child("evidence_rng"),
        scheme.clone(),
        shared.evidence.clone(),
        Sequential,
        true,
    );
    let reporter = Reporters::from((wrapper.clone(), evidence));

    let t = cfg.timing;
    let engine = simplex::Engine::new(
        context.child("simplex"),
        simplex::config::Config {
            scheme,
            elector: RoundRobin::<Sha256>::default(),
            blocker,
            automaton: wrapper.clone(),
            relay: wrapper,
            reporter,
            strategy: Sequential,
            partition: format!("{prefix}-simplex-epoch0"),
            mailbox_size: mailbox,
            epoch: Epoch::zero(),
            floor: Floor::Genesis(genesis_digest),
            replay_buffer: NZUsize!(1024 * 1024),
            write_buffer: NZUsize!(1024 * 1024),
            page_cache,
            leader_timeout: t.leader_timeout,
            certification_timeout: t.certification_timeout,
            timeout_retry: t.timeout_retry,
            view_retention: ViewDelta::new(cfg.view_retention),
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
    engine.start(channels.votes, channels.certs, channels.simplex_resolver)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_size_fits_the_encrypted_stream() {
        let size = max_message_size(4, &BlockCfg::default());
        let limit = commonware_p2p::authenticated::lookup::max_size::<
            commonware_stream::SakeCups<PrivateKey, commonware_cryptography::ChaCha20Poly1305>,
        >();
        println!("max message size for 4 validators: {size} bytes (stream limit {limit})");
        assert!(size <= limit);
    }
}
