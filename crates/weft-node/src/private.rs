//! The node's confidential-data vault (DESIGN §7): the private store of payloads this node
//! may hold, and the rule that decides which those are.
//!
//! A node holds a payload only while the ledger says an organization it serves may (the
//! record's controller, subject or a live grantee belongs to it; see
//! `weft_execution::private`). The vault is reconciled with the ledger inside the commit
//! path: when a block revokes grants, narrows consent or purges a record, every copy this
//! node may no longer hold is shredded before the block is announced, so a client that saw
//! the purge committed never finds the payload on this node. A crash between the commit and
//! the shredding is repaired at startup (a full reconciliation), and a sweeper thread's
//! periodic full pass, off the commit path, catches grants that lapse by time.

use std::{collections::BTreeSet, path::PathBuf};

use weft_crypto::Keypair;
use weft_execution::private::{PrivateRecord, load, organization_may_hold};
use weft_private::{PrivateStore, PrivateStoreError};
use weft_types::{
    Name, Receipt,
    state::{StateReadError, StateReader},
};

/// Which organizations' data a node keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgScope {
    /// Every organization: the embedded single-node default, where one node serves the
    /// whole consortium.
    All,
    /// Only these (normally the operator's own organization).
    Only(BTreeSet<Name>),
}

/// How a node keeps confidential payloads.
#[derive(Debug, Clone)]
pub struct PrivateConfig {
    /// The private store's directory (kept apart from the chain's database).
    pub dir: PathBuf,
    pub scope: OrgScope,
    /// The member key this node signs payload requests to its peers with; the peer hands a
    /// payload over only if this key's organization may hold it.
    pub operator: Option<Keypair>,
    /// Client API base URLs of peer nodes to fetch payloads from (`http://host:port`).
    pub peers: Vec<String>,
    /// How often every kept copy is checked against the ledger ([`SWEEP_INTERVAL`]).
    pub sweep_interval: std::time::Duration,
}

/// Why the vault failed.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(transparent)]
    Store(#[from] PrivateStoreError),
    #[error(transparent)]
    State(#[from] StateReadError),
}

/// Topics after which some copies may have to go.
const NARROWING_TOPICS: [&str; 3] = ["private.revoked", "private.consent", "private.purged"];

/// The default of [`PrivateConfig::sweep_interval`]: how often every kept copy is checked
/// against the ledger, for grants and retention periods that lapse by block time alone.
pub const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// The private store and the rule for what it may keep.
pub struct Vault {
    store: PrivateStore,
    config: PrivateConfig,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("dir", &self.config.dir)
            .field("scope", &self.config.scope)
            .finish()
    }
}

impl Vault {
    /// Opens the private store in `config.dir`.
    pub fn open(config: PrivateConfig) -> Result<Self, VaultError> {
        let store = PrivateStore::open(&config.dir)?;
        Ok(Self { store, config })
    }

    pub fn store(&self) -> &PrivateStore {
        &self.store
    }

    pub fn operator(&self) -> Option<&Keypair> {
        self.config.operator.as_ref()
    }

    pub fn peers(&self) -> &[String] {
        &self.config.peers
    }

    pub fn sweep_interval(&self) -> std::time::Duration {
        self.config.sweep_interval
    }

    /// Whether this node may hold the payload of `record` at block time `now_ms`.
    pub fn may_hold(
        &self,
        state: &impl StateReader,
        record: &PrivateRecord,
        now_ms: u64,
    ) -> Result<bool, StateReadError> {
        if record.holders(now_ms).is_empty() {
            return Ok(false);
        }
        match &self.config.scope {
            OrgScope::All => Ok(true),
            OrgScope::Only(orgs) => {
                for org in orgs {
                    if organization_may_hold(state, record, org, now_ms)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    }

    /// Shreds every kept copy of `ids` (or of every record kept, for `None`) that this node
    /// may no longer hold; returns how many went.
    pub fn reconcile(
        &self,
        state: &impl StateReader,
        ids: Option<&BTreeSet<Name>>,
        now_ms: u64,
    ) -> Result<usize, VaultError> {
        let candidates: Vec<String> = match ids {
            Some(ids) => ids
                .iter()
                .map(|n| n.to_string())
                .filter(|id| self.store.contains(id))
                .collect(),
            None => self.store.records()?,
        };
        let mut shredded = 0;
        for id in candidates {
            let keep = match Name::new(id.as_str()) {
                Ok(name) => match load(state, &name)? {
                    Some(record) => self.may_hold(state, &record, now_ms)?,
                    None => false,
                },
                Err(_) => false,
            };
            if !keep && self.store.shred(&id)? {
                shredded += 1;
                tracing::info!(record = %id, "private payload shredded");
            }
        }
        if shredded > 0 {
            metrics::counter!("weft_private_shredded_total").increment(shredded as u64);
        }
        Ok(shredded)
    }
}

/// The private records whose events in `receipts` may take copies away.
pub(crate) fn narrowed_records(receipts: &[Receipt]) -> BTreeSet<Name> {
    let mut out = BTreeSet::new();
    for receipt in receipts {
        for event in &receipt.events {
            if NARROWING_TOPICS.contains(&event.topic.as_str())
                && let Some((_, id)) = event.attributes.iter().find(|(k, _)| k == "id")
                && let Ok(name) = Name::new(id.as_str())
            {
                out.insert(name);
            }
        }
    }
    out
}
