//! Peer traffic, on its own port apart from the client API: a block-sync service that serves
//! finalized blocks, and a follower that keeps a read replica in step with a peer.
//!
//! Wire format: each message is a 4-byte big-endian length and a borsh body, at most
//! [`MAX_FRAME_BYTES`]. Everything a peer sends is untrusted: frames are size-capped before
//! reading, decoded with limits, and every block is fully verified and re-executed, and its
//! finalization checked against the validator set, before it is committed.
//!
//! Validators sync among themselves through the consensus engine's authenticated, encrypted
//! p2p (marshal backfill, [`crate::consensus`]); this service is for read replicas, which are
//! not part of that network. It is plain TCP without peer authentication: because followers
//! verify everything they receive (block, re-execution, certificate against the validator
//! set), a hostile peer can stall a follower but never corrupt it.

use std::{net::SocketAddr, time::Duration};

use borsh::{BorshDeserialize, BorshSerialize};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use weft_types::{Block, Bounded, ChainId, Finalization, Hash, limits::MAX_BLOCK_BYTES};

use crate::{Node, chain::ChainError};

/// Largest frame either side accepts.
pub const MAX_FRAME_BYTES: usize = MAX_BLOCK_BYTES + 64 * 1024;
/// Most blocks in one answer.
pub const MAX_BLOCKS_PER_ANSWER: u32 = 64;
/// Soft cap on the bytes of blocks in one answer (one block may exceed it alone).
const ANSWER_BYTES: usize = 8 * 1024 * 1024;
/// How long a peer may take to send a frame before the connection is dropped.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// A question to a peer.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum PeerRequest {
    /// The peer's chain and head.
    Status,
    /// Finalized blocks from height `from`, at most `max`.
    Blocks { from: u64, max: u32 },
}

/// A finalized block as it travels between peers.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct FinalizedBlock {
    pub block: Block,
    pub finalization: Finalization,
}

/// A peer's answer.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum PeerResponse {
    Status {
        chain_id: ChainId,
        height: u64,
        block_hash: Hash,
    },
    Blocks(Vec<FinalizedBlock>),
    Error(String),
}

/// Why talking to a peer failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("peer i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("peer sent a frame of {0} bytes, above the limit")]
    Oversized(usize),
    #[error("peer sent a malformed message: {0}")]
    Malformed(String),
    #[error("peer timed out")]
    Timeout,
    #[error("peer is on chain {theirs}, we are on {ours}")]
    WrongChain { ours: String, theirs: String },
    #[error("peer refused: {0}")]
    Refused(String),
    #[error("block from peer refused: {0}")]
    BadBlock(#[from] ChainError),
}

async fn write_frame<T: BorshSerialize>(stream: &mut TcpStream, msg: &T) -> Result<(), PeerError> {
    let body = weft_types::encode(msg);
    if body.len() > MAX_FRAME_BYTES {
        return Err(PeerError::Oversized(body.len()));
    }
    let len = u32::try_from(body.len()).map_err(|_| PeerError::Oversized(body.len()))?;
    stream.write_all(&len.to_be_bytes()).await?;
    stream.write_all(&body).await?;
    stream.flush().await?;
    Ok(())
}

async fn read_frame<T: BorshDeserialize>(stream: &mut TcpStream) -> Result<T, PeerError> {
    let read = async {
        let mut len = [0u8; 4];
        stream.read_exact(&mut len).await?;
        let len = u32::from_be_bytes(len) as usize;
        if len > MAX_FRAME_BYTES {
            return Err(PeerError::Oversized(len));
        }
        let mut body = vec![0u8; len];
        stream.read_exact(&mut body).await?;
        borsh::from_slice(&body).map_err(|e| PeerError::Malformed(e.to_string()))
    };
    tokio::time::timeout(IO_TIMEOUT, read)
        .await
        .map_err(|_| PeerError::Timeout)?
}

/// Serves block sync to peers on `listener` until the task is dropped.
pub async fn serve(node: Node, listener: TcpListener) {
    loop {
        let Ok((stream, addr)) = listener.accept().await else {
            continue;
        };
        let node = node.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_connection(&node, stream).await {
                tracing::debug!(peer = %addr, error = %e, "peer connection closed");
            }
        });
    }
}

async fn serve_connection(node: &Node, mut stream: TcpStream) -> Result<(), PeerError> {
    loop {
        let request: PeerRequest = read_frame(&mut stream).await?;
        let node = node.clone();
        let response = tokio::task::spawn_blocking(move || answer(&node, request))
            .await
            .unwrap_or_else(|e| PeerResponse::Error(e.to_string()));
        write_frame(&mut stream, &response).await?;
    }
}

fn answer(node: &Node, request: PeerRequest) -> PeerResponse {
    let chain = node.chain();
    let result = (|| -> Result<PeerResponse, ChainError> {
        match request {
            PeerRequest::Status => {
                let head = chain.head()?;
                Ok(PeerResponse::Status {
                    chain_id: chain.chain_id().clone(),
                    height: head.height,
                    block_hash: head.block_hash,
                })
            }
            PeerRequest::Blocks { from, max } => {
                let head = chain.head()?;
                let mut blocks = Vec::new();
                let mut bytes = 0;
                let last = head.height.min(
                    from.saturating_add(u64::from(max.min(MAX_BLOCKS_PER_ANSWER)))
                        .saturating_sub(1),
                );
                for height in from.max(1)..=last {
                    let (Some(block), Some(finalization)) = (
                        chain.store().block(height)?,
                        chain.store().finalization(height)?,
                    ) else {
                        break;
                    };
                    bytes += weft_types::encode(&block).len();
                    blocks.push(FinalizedBlock {
                        block,
                        finalization,
                    });
                    if bytes >= ANSWER_BYTES {
                        break;
                    }
                }
                Ok(PeerResponse::Blocks(blocks))
            }
        }
    })();
    result.unwrap_or_else(|e| PeerResponse::Error(e.to_string()))
}

async fn ask(stream: &mut TcpStream, request: &PeerRequest) -> Result<PeerResponse, PeerError> {
    write_frame(stream, request).await?;
    match read_frame(stream).await? {
        PeerResponse::Error(e) => Err(PeerError::Refused(e)),
        other => Ok(other),
    }
}

/// Catches `node` up with the peer at `addr` once; returns the number of blocks applied.
pub async fn sync_once(node: &Node, addr: SocketAddr) -> Result<u64, PeerError> {
    let mut stream = tokio::time::timeout(IO_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| PeerError::Timeout)??;
    let PeerResponse::Status {
        chain_id,
        height: peer_height,
        ..
    } = ask(&mut stream, &PeerRequest::Status).await?
    else {
        return Err(PeerError::Malformed("expected a status".into()));
    };
    if chain_id != *node.chain().chain_id() {
        return Err(PeerError::WrongChain {
            ours: node.chain().chain_id().to_string(),
            theirs: chain_id.to_string(),
        });
    }
    let mut applied = 0;
    loop {
        let ours = node.chain().head()?.height;
        if ours >= peer_height {
            return Ok(applied);
        }
        let request = PeerRequest::Blocks {
            from: ours + 1,
            max: MAX_BLOCKS_PER_ANSWER,
        };
        let PeerResponse::Blocks(blocks) = ask(&mut stream, &request).await? else {
            return Err(PeerError::Malformed("expected blocks".into()));
        };
        if blocks.is_empty() {
            return Ok(applied);
        }
        for fb in blocks {
            fb.block
                .check_limits()
                .map_err(|e| PeerError::Malformed(e.to_string()))?;
            fb.finalization
                .check_limits()
                .map_err(|e| PeerError::Malformed(e.to_string()))?;
            let node = node.clone();
            tokio::task::spawn_blocking(move || node.apply_finalized(fb.block, &fb.finalization))
                .await
                .map_err(|e| PeerError::Malformed(e.to_string()))??;
            applied += 1;
        }
    }
}

/// Follows the peer at `addr` forever, polling every `interval`; errors are logged and
/// retried, so a restarted or misbehaving peer only delays the follower.
pub async fn follow(node: Node, addr: SocketAddr, interval: Duration) {
    loop {
        match sync_once(&node, addr).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(peer = %addr, blocks = n, "synced"),
            Err(e) => tracing::warn!(peer = %addr, error = %e, "sync failed; will retry"),
        }
        tokio::time::sleep(interval).await;
    }
}
