//! BFT consensus: commonware's `simplex` engine with `marshal` (ordering, block sync) and
//! authenticated, encrypted `p2p` (decision 0013). Weft's code here is only the adapter:
//! [`app`] builds and verifies blocks and commits finalized ones, [`evidence`] records
//! misbehaviour, [`gossip`] spreads transactions, and this module wires the engine's actors.
//!
//! Every validator node, including a single-validator dev chain, commits through this path.
//! The engine runs on its own runtime thread; the API talks to it only through the node's
//! mempool and block announcements.

pub mod app;
pub mod block;
pub mod certificate;
pub mod epoch;
pub mod evidence;
pub mod gossip;

use std::{
    collections::BTreeMap,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    num::{NonZeroU16, NonZeroU64, NonZeroUsize},
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use commonware_broadcast::buffered;
use commonware_codec::DecodeExt as _;
use commonware_consensus::{
    marshal::{self, Start, core::Actor, resolver::p2p as marshal_resolver, standard::Inline},
    simplex,
    types::{FixedEpocher, ViewDelta},
};
use commonware_cryptography::{
    ChaCha20Poly1305, Digested, Digestible, Signer as _,
    ed25519::{PrivateKey, PublicKey},
    sha256::Digest,
};
use commonware_p2p::{
    Address, AddressableManager as _, Blocker, Provider, Receiver, Sender, authenticated::lookup,
};
use commonware_parallel::Sequential;
use commonware_runtime::{
    Clock, Handle, Metrics, Quota, Runner as _, Spawner, Storage, Supervisor as _,
    buffer::paged::CacheRef, tokio,
};
use commonware_storage::archive::immutable;
use commonware_stream::{
    cups::{self, Cups},
    sake::{self, Sake},
};
use commonware_utils::{
    NZDuration, NZU16, NZU32, NZU64, NZUsize,
    ordered::{Map, Set},
};
use weft_crypto::Keypair;
use weft_types::AccountId;

use crate::chain::ChainError;
use app::{AppConfig, ChainApp, start_committer};
use block::{BlockCfg, ConsensusBlock};
use evidence::Evidence;

/// The signing scheme: attributable ed25519 certificates (signer bitmap + signatures), so a
/// certificate names who finalized and a fault names who misbehaved.
pub type Scheme = simplex::scheme::ed25519::Scheme;

/// p2p channels, registered in this order on every node.
pub const CH_VOTES: u64 = 0;
pub const CH_CERTIFICATES: u64 = 1;
pub const CH_SIMPLEX_RESOLVER: u64 = 2;
pub const CH_BLOCKS: u64 = 3;
pub const CH_BACKFILL: u64 = 4;
pub const CH_TXS: u64 = 5;

const PAGE_SIZE: NonZeroU16 = NZU16!(4096);
const PAGE_CACHE_SIZE: NonZeroUsize = NZUsize!(256);
const MAILBOX: usize = 1024;

/// Consensus timeouts. The engine requires certification > leader > 0 and
/// skip > max(certification, retry); [`ConsensusConfig::check`] enforces it before start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
            leader_timeout: Duration::from_secs(2),
            certification_timeout: Duration::from_secs(3),
            timeout_retry: Duration::from_secs(5),
            skip_timeout: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(1),
        }
    }
}

/// How a validator joins the consortium's network.
#[derive(Clone, Debug)]
pub struct ConsensusConfig {
    /// Where this validator accepts peer connections (separate from the client API).
    pub listen: SocketAddr,
    /// The other validators' peer addresses, by account. Every validator of the set but this
    /// one must have an address.
    pub peers: BTreeMap<AccountId, SocketAddr>,
    pub timing: Timing,
    pub app: AppConfig,
    /// Views of history kept behind the finalized tip (serves lagging peers).
    pub view_retention: u64,
}

impl Default for ConsensusConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            peers: BTreeMap::new(),
            timing: Timing::default(),
            app: AppConfig::default(),
            view_retention: 256,
        }
    }
}

impl ConsensusConfig {
    /// Refuses timings the engine would reject and an idle wait that outlasts the leader timeout.
    pub fn check(&self) -> Result<(), String> {
        let t = &self.timing;
        if t.leader_timeout.is_zero()
            || t.certification_timeout <= t.leader_timeout
            || t.skip_timeout <= t.certification_timeout.max(t.timeout_retry)
        {
            return Err(
                "consensus timeouts must satisfy 0 < leader < certification and skip > max(certification, retry)"
                    .into(),
            );
        }
        if self.app.idle_wait >= t.leader_timeout
            || self
                .app
                .empty_block_interval
                .is_some_and(|d| d >= t.leader_timeout)
        {
            return Err(
                "the idle wait and the empty-block interval must be shorter than the leader timeout"
                    .into(),
            );
        }
        if self.view_retention < 10 {
            return Err("view retention must be at least 10 views".into());
        }
        Ok(())
    }
}

/// What the running engine exposes to the node.
#[derive(Debug, Clone)]
pub struct ConsensusStatus {
    pub evidence: Evidence,
    epoch: Arc<Mutex<EpochStatus>>,
    /// The engine's own metrics (p2p peers, votes, marshal), Prometheus text, refreshed
    /// every few seconds.
    pub engine_metrics: Arc<Mutex<String>>,
}

/// The epoch the engine runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct EpochStatus {
    pub epoch: u64,
    /// The epoch's validator set in the engine's order (sorted keys).
    pub validators: Vec<AccountId>,
    /// Whether this node is in the set (votes) or only follows it.
    pub voting: bool,
}

impl ConsensusStatus {
    fn new(evidence: Evidence) -> Self {
        Self {
            evidence,
            epoch: Arc::default(),
            engine_metrics: Arc::default(),
        }
    }

    /// The epoch the engine is in, its validators and whether this node votes in it.
    pub fn epoch(&self) -> EpochStatus {
        crate::node::lock(&self.epoch).clone()
    }

    /// The current epoch's validator set.
    pub fn validators(&self) -> Vec<AccountId> {
        crate::node::lock(&self.epoch).validators.clone()
    }

    pub(crate) fn enter_epoch(&self, epoch: u64, validators: Vec<AccountId>, voting: bool) {
        *crate::node::lock(&self.epoch) = EpochStatus {
            epoch,
            validators,
            voting,
        };
    }
}

/// Converts a Weft account into the engine's public key.
pub fn public_key(account: &AccountId) -> Result<PublicKey, String> {
    PublicKey::decode(bytes::Bytes::copy_from_slice(&account.0))
        .map_err(|e| format!("{account} is not an ed25519 key: {e}"))
}

/// The validator's signing key for the engine (the same ed25519 key).
pub fn private_key_of(key: &Keypair) -> Result<PrivateKey, String> {
    let seed = hex::decode(key.secret_hex()).map_err(|e| e.to_string())?;
    PrivateKey::decode(bytes::Bytes::from(seed)).map_err(|e| e.to_string())
}

/// The namespace every peer link of chain `chain_id` is authenticated under: a key of another
/// chain cannot complete the handshake.
pub fn p2p_namespace(chain_id: &weft_types::ChainId) -> Vec<u8> {
    [b"weft-p2p/".as_slice(), chain_id.as_str().as_bytes()].concat()
}

/// The handshake of every peer link: mutual authentication by the validators' ed25519 keys
/// (SAKE), then ChaCha20-Poly1305.
pub fn handshake(signer: &PrivateKey) -> Cups<Sake<PrivateKey>, ChaCha20Poly1305> {
    Cups::new(
        Sake {
            signer: signer.clone(),
            synchrony_bound: Duration::from_secs(5),
            max_handshake_age: Duration::from_secs(10),
            version: sake::Version::V1,
        },
        cups::Version::V1,
    )
}

/// The largest message any channel carries, for `n` validators.
pub fn max_message_size(validators: u32, block: &BlockCfg) -> u32 {
    let simplex = simplex::max_payload_size::<Scheme, Digest>(validators);
    let marshal = marshal::max_payload_size::<marshal::standard::Standard<ConsensusBlock>, Scheme>(
        validators, block,
    );
    let gossip = gossip::MAX_BATCH_BYTES;
    commonware_p2p::max_message_size(&[simplex, marshal, gossip])
}

/// The six channel pairs every validator registers, in channel-id order.
#[derive(Debug)]
pub struct Channels<S, R> {
    pub votes: (S, R),
    pub certificates: (S, R),
    pub simplex_resolver: (S, R),
    pub blocks: (S, R),
    pub backfill: (S, R),
    pub txs: (S, R),
}

/// The validator set in the engine's order (sorted keys: the certificate bitmap's indices).
pub fn ordered_set(accounts: &[AccountId]) -> Result<Set<PublicKey>, String> {
    Ok(Set::from_iter_dedup(
        accounts
            .iter()
            .map(public_key)
            .collect::<Result<Vec<_>, _>>()?,
    ))
}

/// What [`start`] needs besides the runtime and the network.
#[derive(Clone, Debug)]
pub struct EngineParams {
    pub signer: PrivateKey,
    pub cfg: ConsensusConfig,
    /// Prefix of every storage partition the engine opens; empty when the runtime's storage is
    /// the node's own directory, distinct per node when several share one runtime (tests).
    pub partition_prefix: String,
}

/// Starts every engine component of one validator under `ctx`, over any p2p implementation
/// (the authenticated network in production, the engine's simulated network in tests).
/// Aborting the task that owns `ctx` stops them all.
pub async fn start<E, S, R, P, B>(
    ctx: E,
    node: &crate::Node,
    params: EngineParams,
    channels: Channels<S, R>,
    peer_provider: P,
    blocker: B,
) -> Result<(Handle<()>, ConsensusStatus), ChainError>
where
    E: Clock + Spawner + Metrics + Storage + rand_core::CryptoRng + Send + Sync + 'static,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
    P: Provider<PublicKey = PublicKey> + Clone,
    B: Blocker<PublicKey = PublicKey> + Clone,
{
    let inner = node.inner();
    let bad = |e: String| ChainError::Execution(format!("consensus: {e}"));
    let EngineParams {
        signer,
        cfg,
        partition_prefix: prefix,
    } = params;
    cfg.check().map_err(bad)?;
    let evidence_file = inner.data_dir().join("consensus").join("evidence.jsonl");
    if let Some(parent) = evidence_file.parent() {
        std::fs::create_dir_all(parent).map_err(|e| bad(e.to_string()))?;
    }
    let evidence = Evidence::new(Vec::new(), Some(evidence_file));
    let status = ConsensusStatus::new(evidence.clone());
    let genesis = inner
        .chain
        .store()
        .block(0)?
        .ok_or_else(|| ChainError::Genesis("no genesis block".into()))?;
    let namespace = weft_crypto::consensus_namespace(inner.chain.chain_id());
    let epoch_length = inner.chain.consensus_params()?.epoch_length;
    let epocher = FixedEpocher::new(
        NonZeroU64::new(epoch_length)
            .filter(|l| l.get() > 1)
            .ok_or_else(|| bad(format!("epoch length {epoch_length} must exceed one")))?,
    );
    let block_cfg = BlockCfg::default();
    let genesis_block = ConsensusBlock::new(genesis);
    let genesis_digest = genesis_block.digest();
    let mailbox = NZUsize!(MAILBOX);
    let page_cache = CacheRef::new(PAGE_SIZE, PAGE_CACHE_SIZE);
    let me = signer.public_key();

    let resolver = marshal_resolver::init(
        ctx.child("marshal_resolver"),
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
    let (broadcast_engine, buffer) = buffered::Engine::new(
        ctx.child("broadcast"),
        buffered::Config {
            public_key: me.clone(),
            mailbox_size: mailbox,
            deque_size: 10,
            priority: false,
            codec_config: block_cfg,
            peer_provider: peer_provider.clone(),
            strategy: Sequential,
        },
    );
    broadcast_engine.start(channels.blocks);

    macro_rules! archive_cfg {
        ($name:expr, $codec:expr) => {{
            let name: &str = $name;
            immutable::Config {
                metadata_partition: format!("{prefix}{name}-metadata"),
                freezer_table_partition: format!("{prefix}{name}-freezer-table"),
                freezer_table_initial_size: 64,
                freezer_table_resize_frequency: 10,
                freezer_table_resize_chunk_size: 10,
                freezer_key_partition: format!("{prefix}{name}-freezer-key"),
                freezer_key_page_cache: page_cache.clone(),
                freezer_value_partition: format!("{prefix}{name}-freezer-value"),
                freezer_value_target_size: 16 * 1024 * 1024,
                freezer_value_compression: None,
                ordinal_partition: format!("{prefix}{name}-ordinal"),
                items_per_section: NZU64!(1024),
                codec_config: $codec,
                replay_buffer: NZUsize!(1024 * 1024),
                freezer_key_write_buffer: NZUsize!(1024 * 1024),
                freezer_value_write_buffer: NZUsize!(1024 * 1024),
                ordinal_write_buffer: NZUsize!(1024 * 1024),
            }
        }};
    }
    // Every epoch's certificates share one archive, so its bound is the largest set any epoch
    // may have.
    let max_signers = weft_types::limits::MAX_VALIDATORS;
    let finalizations = immutable::Archive::init(
        ctx.child("finalizations_by_height"),
        archive_cfg!("finalizations", max_signers),
    )
    .await
    .map_err(|e| bad(format!("finalizations archive: {e}")))?;
    let finalized_blocks = immutable::Archive::init(
        ctx.child("finalized_blocks"),
        archive_cfg!("blocks", block_cfg),
    )
    .await
    .map_err(|e| bad(format!("blocks archive: {e}")))?;
    let schemes = epoch::EpochSchemes::default();
    let (epoch_now, set_now, voting) =
        epoch::register_current(&schemes, &inner.chain, epoch_length, &namespace, &signer)?;
    // The status names the epoch from the start (the orchestrator confirms it on entry).
    status.enter_epoch(epoch_now, set_now, voting);
    let (actor, marshal_mailbox, _floor) = Actor::init(
        ctx.child("marshal"),
        finalizations,
        finalized_blocks,
        marshal::Config {
            provider: schemes.clone(),
            epocher: epocher.clone(),
            start: Start::Genesis(Digested::precomputed(genesis_block, genesis_digest)),
            partition_prefix: format!("{prefix}marshal"),
            mailbox_size: mailbox,
            view_retention: ViewDelta::new(cfg.view_retention),
            prunable_items_per_section: NZU64!(64),
            page_cache: page_cache.clone(),
            replay_buffer: NZUsize!(1024 * 1024),
            key_write_buffer: NZUsize!(1024 * 1024),
            value_write_buffer: NZUsize!(1024 * 1024),
            block_codec_config: block_cfg,
            max_repair: NZUsize!(16),
            max_pending_acks: NZUsize!(8),
            strategy: Sequential,
        },
    )
    .await;

    let app = ChainApp {
        node: Arc::clone(inner),
        executed: Arc::default(),
        cfg: cfg.app,
        evidence: evidence.clone(),
    };
    let (boundaries_tx, boundaries) = futures::channel::mpsc::unbounded();
    let finalized = start_committer(
        ctx.child("committer"),
        app.clone(),
        marshal_mailbox.clone(),
        epoch_length,
        boundaries_tx,
    );

    let (outbox_tx, outbox_rx) = futures::channel::mpsc::unbounded();
    inner.set_gossip(outbox_tx);
    gossip::start_sender(ctx.child("gossip_out"), channels.txs.0, outbox_rx);
    gossip::start_receiver(
        ctx.child("gossip_in"),
        channels.txs.1,
        blocker.clone(),
        Arc::clone(inner),
    );
    let regossiping = Arc::clone(inner);
    ctx.child("regossip").spawn(move |ctx| async move {
        while !regossiping.stopping() {
            ctx.sleep(gossip::REGOSSIP_INTERVAL).await;
            regossiping.regossip();
        }
    });

    let wrapper = Inline::new(ctx.child("inline"), app, marshal_mailbox.clone(), epocher);
    let orchestrator = epoch::Orchestrator {
        ctx: ctx.child("epochs"),
        node: Arc::clone(inner),
        signer,
        namespace,
        schemes,
        epoch_length,
        marshal: marshal_mailbox,
        wrapper,
        blocker,
        evidence,
        status: status.clone(),
        timing: cfg.timing,
        view_retention: cfg.view_retention,
        partition_prefix: prefix,
        page_cache,
        boundaries,
    };
    actor.start(finalized, buffer, resolver);
    let handle = ctx.child("orchestrator").spawn(move |_| {
        orchestrator.run(
            channels.votes,
            channels.certificates,
            channels.simplex_resolver,
        )
    });
    tracing::info!(epoch_length, "consensus engine started");
    Ok((handle, status))
}

/// Runs the engine for `node` on its own thread over the authenticated network, until the
/// node stops. Returns once the engine has started (or failed to).
pub(crate) fn spawn(
    node: crate::Node,
    key: &Keypair,
    cfg: ConsensusConfig,
    dir: PathBuf,
) -> Result<(std::thread::JoinHandle<()>, ConsensusStatus), ChainError> {
    let bad = |e: String| ChainError::Execution(format!("consensus: {e}"));
    cfg.check().map_err(bad)?;
    let signer = private_key_of(key).map_err(bad)?;
    let inner = Arc::clone(node.inner());
    // Every configured peer is tracked, validator of the current set or not: a validator
    // added later, or one removed, still syncs blocks and certificates from the others.
    let me = key.account();
    let current = inner.chain.validators()?;
    if let Some(missing) = current
        .iter()
        .find(|v| **v != me && !cfg.peers.contains_key(v))
    {
        return Err(bad(format!("no peer address for validator {missing}")));
    }
    let mut addresses = vec![(public_key(&me).map_err(bad)?, Address::from(cfg.listen))];
    for (account, addr) in &cfg.peers {
        if *account != me {
            addresses.push((public_key(account).map_err(bad)?, Address::from(*addr)));
        }
    }
    let tracked = addresses.len();
    let peer_map = Map::try_from(addresses).map_err(|_| bad("duplicate peer".into()))?;
    let n = u32::try_from(weft_types::limits::MAX_VALIDATORS).unwrap_or(u32::MAX);
    let p2p_namespace = p2p_namespace(inner.chain.chain_id());
    std::fs::create_dir_all(&dir).map_err(|e| bad(e.to_string()))?;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let handle = std::thread::Builder::new()
        .name("weft-consensus".into())
        .spawn(move || {
            let runner = tokio::Runner::new(
                tokio::Config::new()
                    .with_storage_directory(dir)
                    .with_tcp_nodelay(Some(true)),
            );
            runner.start(|ctx| async move {
                let p2p_cfg = lookup::Config::local(
                    handshake(&signer),
                    &p2p_namespace,
                    cfg.listen,
                    NonZeroUsize::new(tracked).unwrap_or(NZUsize!(1)),
                    max_message_size(n, &BlockCfg::default()),
                    NZUsize!(MAILBOX),
                );
                let (mut network, mut oracle) = lookup::Network::new(ctx.child("network"), p2p_cfg);
                oracle.track(0, peer_map);
                let quota = Quota::per_second(NZU32!(8192));
                let channels = Channels {
                    votes: network.register(CH_VOTES, quota),
                    certificates: network.register(CH_CERTIFICATES, quota),
                    simplex_resolver: network.register(CH_SIMPLEX_RESOLVER, quota),
                    blocks: network.register(CH_BLOCKS, quota),
                    backfill: network.register(CH_BACKFILL, quota),
                    txs: network.register(CH_TXS, quota),
                };
                network.start();
                let params = EngineParams {
                    signer,
                    cfg,
                    partition_prefix: String::new(),
                };
                let started = start(
                    ctx.child("validator"),
                    &node,
                    params,
                    channels,
                    oracle.clone(),
                    oracle,
                )
                .await;
                let status = match started {
                    Ok((_engine, status)) => status,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let engine_metrics = Arc::clone(&status.engine_metrics);
                let _ = ready_tx.send(Ok(status));
                let mut ticks = 0u64;
                while !inner.stopping() {
                    ctx.sleep(Duration::from_millis(50)).await;
                    ticks += 1;
                    if ticks.is_multiple_of(40) {
                        *crate::node::lock(&engine_metrics) = ctx.encode();
                    }
                }
                tracing::info!("consensus engine stopping");
            });
        })
        .map_err(|e| bad(format!("cannot start the consensus thread: {e}")))?;
    match ready_rx.recv() {
        Ok(Ok(status)) => Ok((handle, status)),
        Ok(Err(e)) => {
            let _ = handle.join();
            Err(e)
        }
        Err(_) => {
            let _ = handle.join();
            Err(bad("the consensus thread exited during start".into()))
        }
    }
}

/// The Weft account of an engine key (the same ed25519 key).
pub(crate) fn account_of(key: &PublicKey) -> AccountId {
    let mut a = [0u8; 32];
    a.copy_from_slice(key.as_ref());
    AccountId(a)
}
