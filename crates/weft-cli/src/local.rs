//! Running a node and its API inside this process (node run, demo, bench).

use std::{net::SocketAddr, path::Path, time::Duration};

use anyhow::{Context, Result};
use tokio::{sync::oneshot, task::JoinHandle};
use weft_client::Keypair;
use weft_node::{ConsensusConfig, Node, NodeConfig, OrgScope, PrivateConfig};
use weft_types::Genesis;

/// A node with its API server.
pub struct LocalNode {
    pub node: Node,
    pub api: SocketAddr,
    /// The peer (block sync) port, when serving one.
    pub p2p: Option<SocketAddr>,
    peer_tasks: Vec<JoinHandle<()>>,
    stop_api: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

/// Tunables for a local node.
pub struct LocalOptions {
    /// The consensus engine's network and timing (a validator with no peers runs alone).
    pub consensus: ConsensusConfig,
    pub max_block_txs: usize,
    /// Serve block sync to peers on this address.
    pub p2p: Option<SocketAddr>,
    /// Follow this peer (read replica) instead of producing blocks.
    pub follow: Option<SocketAddr>,
    /// Whose confidential payloads the node keeps (in `<data dir>/private`).
    pub private_scope: OrgScope,
    /// The member key the node fetches payloads from its peers with.
    pub operator: Option<Keypair>,
    /// Client API URLs of the nodes to fetch payloads from.
    pub private_peers: Vec<String>,
}

impl Default for LocalOptions {
    fn default() -> Self {
        Self {
            consensus: ConsensusConfig::default(),
            max_block_txs: 20_000,
            p2p: None,
            follow: None,
            // The embedded default: one node serves the whole consortium.
            private_scope: OrgScope::All,
            operator: None,
            private_peers: Vec::new(),
        }
    }
}

impl LocalNode {
    /// Opens the chain in `data_dir`, starts producing with `key`, and serves the API.
    pub async fn start(
        data_dir: &Path,
        genesis: Genesis,
        key: Option<Keypair>,
        api: SocketAddr,
        options: LocalOptions,
    ) -> Result<Self> {
        let mut config = NodeConfig::new(data_dir, genesis);
        config.validator_key = key;
        config.consensus = options.consensus;
        config.max_block_txs = options.max_block_txs;
        config.private = Some(PrivateConfig {
            dir: data_dir.join("private"),
            scope: options.private_scope,
            operator: options.operator.or_else(|| config.validator_key.clone()),
            peers: options.private_peers,
            sweep_interval: weft_node::private::SWEEP_INTERVAL,
        });
        let node = tokio::task::spawn_blocking(move || Node::start(config))
            .await?
            .with_context(|| format!("starting the node in {}", data_dir.display()))?;
        let mut peer_tasks = Vec::new();
        let mut p2p = None;
        if let Some(addr) = options.p2p {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen for peers on {addr}"))?;
            p2p = Some(listener.local_addr()?);
            peer_tasks.push(tokio::spawn(weft_node::peer::serve(node.clone(), listener)));
        }
        if let Some(peer) = options.follow {
            peer_tasks.push(tokio::spawn(weft_node::peer::follow(
                node.clone(),
                peer,
                Duration::from_millis(200),
            )));
        }
        let listener = weft_api::bind(api).await?;
        let api = listener.local_addr()?;
        let (stop_api, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(weft_api::serve(node.clone(), listener, async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            node,
            api,
            p2p,
            peer_tasks,
            stop_api: Some(stop_api),
            server: Some(server),
        })
    }

    /// The API's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.api)
    }

    /// Stops the API, then the consensus engine (a block being committed lands first).
    pub async fn stop(mut self) -> Result<()> {
        for task in self.peer_tasks.drain(..) {
            task.abort();
        }
        if let Some(tx) = self.stop_api.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            // SSE streams keep connections open; do not wait for them forever.
            let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
        }
        let node = self.node.clone();
        tokio::task::spawn_blocking(move || node.shutdown()).await?;
        Ok(())
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
