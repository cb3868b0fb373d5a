//! The node: wires storage, execution, the mempool and block production behind one handle.
//!
//! Execution and the mempool are pure; this crate owns the I/O around them (the consensus
//! engine, the clock, subscriptions) and the one commit path every block goes through.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod chain;
pub mod consensus;
pub mod mempool;
mod node;
pub mod peer;
pub mod private;
pub mod replay;

pub use chain::{Chain, ChainError, ExecutedBlock, ProvenValue};
pub use consensus::{ConsensusConfig, ConsensusStatus, Timing};
pub use mempool::{Mempool, MempoolLimits};
pub use node::{CommittedBlock, Node, NodeConfig, NodeError, TxLookup};
pub use private::{OrgScope, PrivateConfig, Vault, VaultError};
