//! The one commit path: build or verify a block, execute it, and commit it with its
//! finalization certificate. The consensus adapter ([`crate::consensus::app`]) drives the
//! three steps (build → verify/execute → commit on finalization) for every validator.

use weft_crypto::{
    ProofBundle, RecordProof, SetHandoff, block_hash, merkle_proof, merkle_root, receipt_hash,
    tx_hash, validator_set_hash, verify_finalization, verify_transactions_parallel,
};
use weft_execution::{
    BlockContext, ConsensusParams, ExecError, consensus_params, execute_block, genesis_writes,
    keys::StateKey,
};
use weft_storage::{BlockCommit, ChainHead, PreparedState, StorageError, Store};
use weft_types::state::{StateReadError, StateReader, WriteSet};
use weft_types::{
    AccountId, Block, BlockHeader, ChainId, Finalization, Genesis, Hash, Receipt,
    SignedTransaction, limits::MAX_BLOCK_TXS,
};

/// Why a block could not be built, verified or committed.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("execution failed: {0}")]
    Execution(String),
    #[error("genesis: {0}")]
    Genesis(String),
    /// A block from elsewhere breaks a rule; it is refused and nothing changes.
    #[error("invalid block: {0}")]
    InvalidBlock(String),
    #[error("invalid finalization: {0}")]
    InvalidFinalization(String),
    /// The uncommitted ancestors given no longer chain from the committed head (it moved);
    /// not a fault of the block: recompute them and retry.
    #[error("the committed head moved past the given ancestors")]
    StaleAncestry,
}

impl From<ExecError> for ChainError {
    fn from(e: ExecError) -> Self {
        Self::Execution(e.to_string())
    }
}

/// A block whose execution result is known and ready to commit once finalized.
#[derive(Debug)]
pub struct ExecutedBlock {
    pub block: Block,
    pub hash: Hash,
    pub receipts: Vec<Receipt>,
    /// The block's state changes, for executing a child before this block is committed.
    writes: WriteSet,
    /// Executed on top of uncommitted ancestors: its roots are right, but its prepared
    /// state is not one the store can commit; re-execute it once its parent is the head.
    speculative: bool,
    state: PreparedState,
}

impl ExecutedBlock {
    /// Whether this block was executed on uncommitted ancestors (and must be re-executed on
    /// the committed head before it is committed).
    pub const fn is_speculative(&self) -> bool {
        self.speculative
    }
}

/// The committed state with uncommitted blocks' changes layered on top, newest last.
struct Layered<'a> {
    base: &'a weft_storage::Snapshot,
    layers: Vec<&'a WriteSet>,
}

impl StateReader for Layered<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateReadError> {
        for layer in self.layers.iter().rev() {
            if let Some(value) = layer.get(key) {
                return Ok(value.clone());
            }
        }
        StateReader::get(self.base, key)
    }
}

/// Where the next block goes: the committed head, or the newest uncommitted ancestor.
struct Tip {
    height: u64,
    hash: Hash,
    timestamp_ms: u64,
}

/// The chain: storage plus the rules that link blocks.
#[derive(Debug)]
pub struct Chain {
    store: Store,
    chain_id: ChainId,
    /// Where the validator set changed, learned once per epoch and kept (committed history
    /// never changes), so a proof does not rescan every epoch since genesis.
    set_changes: std::sync::Mutex<SetChanges>,
}

/// The epochs scanned so far for validator-set changes, and the changes found.
#[derive(Debug, Default)]
struct SetChanges {
    /// The first epoch not scanned yet.
    next_epoch: u64,
    /// The set in force after the last scanned epoch (`None` before the first scan).
    set: Option<Vec<AccountId>>,
    /// Last heights of epochs whose block changed the set, ascending.
    heights: Vec<u64>,
}

/// The validator set in `state`.
fn validators_in(state: &dyn StateReader) -> Result<Vec<AccountId>, ChainError> {
    Ok(consensus_params(state)?.validators)
}

fn invalid(msg: impl Into<String>) -> ChainError {
    ChainError::InvalidBlock(msg.into())
}

impl Chain {
    /// Opens the chain in `store`, writing the genesis block if the store is empty, or
    /// checking that the stored chain is the one `genesis` describes.
    pub fn open(store: Store, genesis: &Genesis) -> Result<Self, ChainError> {
        let chain = Self {
            store,
            chain_id: genesis.chain_id.clone(),
            set_changes: std::sync::Mutex::default(),
        };
        let validators: Vec<AccountId> = genesis.validators.iter().map(|v| v.account).collect();
        match chain.store.head()? {
            None => {
                let writes = genesis_writes(genesis).map_err(|e| ChainError::Genesis(e.0))?;
                let state = chain.store.prepare_state(0, &writes)?;
                let header = BlockHeader {
                    chain_id: genesis.chain_id.clone(),
                    height: 0,
                    parent: Hash::ZERO,
                    timestamp_ms: genesis.genesis_time_ms,
                    proposer: AccountId([0; 32]),
                    tx_count: 0,
                    tx_root: Hash::ZERO,
                    state_root: state.root,
                    receipts_root: Hash::ZERO,
                    validator_set_hash: validator_set_hash(&validators),
                };
                let block = Block {
                    header,
                    transactions: vec![],
                };
                let hash = block_hash(&block.header);
                chain.store.commit(BlockCommit {
                    block: &block,
                    block_hash: hash,
                    finalization: None,
                    receipts: &[],
                    state,
                })?;
            }
            Some(_) => {
                let first = chain
                    .store
                    .block(0)?
                    .ok_or_else(|| ChainError::Genesis("the data dir has no block 0".into()))?;
                if first.header.chain_id != genesis.chain_id
                    || first.header.validator_set_hash != validator_set_hash(&validators)
                    || first.header.timestamp_ms != genesis.genesis_time_ms
                {
                    return Err(ChainError::Genesis(format!(
                        "the data dir holds chain {} with another genesis than the file given",
                        first.header.chain_id
                    )));
                }
            }
        }
        Ok(chain)
    }

    /// The store, for queries.
    pub const fn store(&self) -> &Store {
        &self.store
    }

    /// The chain id.
    pub const fn chain_id(&self) -> &ChainId {
        &self.chain_id
    }

    /// The latest committed block.
    pub fn head(&self) -> Result<ChainHead, ChainError> {
        self.store
            .head()?
            .ok_or_else(|| ChainError::Genesis("no genesis block".into()))
    }

    /// The validator set in force after the latest block: the set that finalizes the next.
    pub fn validators(&self) -> Result<Vec<AccountId>, ChainError> {
        let snapshot = self.store.snapshot()?;
        validators_in(&Self::state_on(&snapshot, &[]))
    }

    /// The validator set in force after block `height` (the set that finalizes `height + 1`).
    pub fn validators_at(&self, height: u64) -> Result<Vec<AccountId>, ChainError> {
        let snapshot = self.store.snapshot()?;
        let bytes = snapshot
            .get_at(&StateKey::Validators.to_bytes(), height)?
            .ok_or_else(|| ChainError::Genesis("no validator set in state".into()))?;
        borsh::from_slice(&bytes)
            .map_err(|e| ChainError::Storage(StorageError::Corrupt(e.to_string())))
    }

    /// Epoch length, validator set, pending set change and governance after the latest block.
    pub fn consensus_params(&self) -> Result<ConsensusParams, ChainError> {
        let snapshot = self.store.snapshot()?;
        Ok(consensus_params(&Self::state_on(&snapshot, &[]))?)
    }

    /// Proposer side: executes `txs` on the head state and builds the block.
    ///
    /// `txs` must have passed signature checks (the mempool admits only verified ones).
    pub fn build(
        &self,
        txs: Vec<SignedTransaction>,
        now_ms: u64,
        proposer: AccountId,
    ) -> Result<ExecutedBlock, ChainError> {
        self.build_on(&[], txs, now_ms, proposer)
    }

    /// [`Chain::build`] on top of `ancestors`: executed blocks not yet committed, oldest first,
    /// the first a child of the committed head. With none, this is `build`.
    pub fn build_on(
        &self,
        ancestors: &[&ExecutedBlock],
        txs: Vec<SignedTransaction>,
        now_ms: u64,
        proposer: AccountId,
    ) -> Result<ExecutedBlock, ChainError> {
        let snapshot = self.store.snapshot()?;
        let head = self.tip(&snapshot, ancestors)?;
        // Time only moves forward, whatever the local clock says.
        let timestamp_ms = now_ms.max(head.timestamp_ms + 1);
        let height = head.height + 1;
        let (receipts, writes, state) =
            self.execute(&snapshot, ancestors, &txs, height, timestamp_ms)?;
        // Execution hashed every transaction for its receipt; reuse those hashes.
        let tx_hashes: Vec<Hash> = receipts.iter().map(|r| r.tx_hash).collect();
        let receipt_hashes: Vec<Hash> = receipts.iter().map(receipt_hash).collect();
        let header = BlockHeader {
            chain_id: self.chain_id.clone(),
            height,
            parent: head.hash,
            timestamp_ms,
            proposer,
            tx_count: u32::try_from(txs.len()).map_err(|_| invalid("too many transactions"))?,
            tx_root: merkle_root(&tx_hashes),
            state_root: state.root,
            receipts_root: merkle_root(&receipt_hashes),
            validator_set_hash: validator_set_hash(&validators_in(&Self::state_on(
                &snapshot, ancestors,
            ))?),
        };
        let hash = block_hash(&header);
        Ok(ExecutedBlock {
            block: Block {
                header,
                transactions: txs,
            },
            hash,
            receipts,
            writes,
            speculative: !ancestors.is_empty(),
            state,
        })
    }

    /// Verifier side: checks a block built elsewhere against the head and re-executes it.
    /// Nothing is written; a refused block changes nothing.
    pub fn verify(&self, block: Block) -> Result<ExecutedBlock, ChainError> {
        self.verify_with(block, |_, _| false)
    }

    /// [`Chain::verify`], skipping the signature check of the transactions `already_verified`
    /// vouches for (hash and transaction): those this node admitted into its mempool after
    /// checking them. Every other rule is checked the same.
    pub fn verify_with(
        &self,
        block: Block,
        already_verified: impl Fn(&Hash, &SignedTransaction) -> bool,
    ) -> Result<ExecutedBlock, ChainError> {
        self.verify_on(&[], block, already_verified)
    }

    /// [`Chain::verify_with`] on top of `ancestors` (see [`Chain::build_on`]).
    pub fn verify_on(
        &self,
        ancestors: &[&ExecutedBlock],
        block: Block,
        already_verified: impl Fn(&Hash, &SignedTransaction) -> bool,
    ) -> Result<ExecutedBlock, ChainError> {
        let snapshot = self.store.snapshot()?;
        let head = self.tip(&snapshot, ancestors)?;
        let h = &block.header;
        if h.chain_id != self.chain_id {
            return Err(invalid(format!(
                "chain id {} is not {}",
                h.chain_id, self.chain_id
            )));
        }
        if h.height != head.height + 1 {
            return Err(invalid(format!(
                "height {} does not follow {}",
                h.height, head.height
            )));
        }
        if h.parent != head.hash {
            return Err(invalid("parent is not the head block"));
        }
        if h.timestamp_ms <= head.timestamp_ms {
            return Err(invalid("timestamp does not move forward"));
        }
        if block.transactions.len() > MAX_BLOCK_TXS
            || h.tx_count as usize != block.transactions.len()
        {
            return Err(invalid("transaction count is wrong or too large"));
        }
        // The set in force after the parent, which may be an uncommitted epoch boundary.
        let validators = validators_in(&Self::state_on(&snapshot, ancestors))?;
        if h.validator_set_hash != validator_set_hash(&validators) {
            return Err(invalid("validator set hash does not match the active set"));
        }
        let tx_hashes: Vec<Hash> = block.transactions.iter().map(|t| tx_hash(&t.tx)).collect();
        if merkle_root(&tx_hashes) != h.tx_root {
            return Err(invalid("tx root does not match the transactions"));
        }
        let unchecked: Vec<usize> = (0..block.transactions.len())
            .filter(|&i| !already_verified(&tx_hashes[i], &block.transactions[i]))
            .collect();
        let to_check: Vec<SignedTransaction> = unchecked
            .iter()
            .map(|&i| block.transactions[i].clone())
            .collect();
        if let Some((i, e)) = verify_transactions_parallel(&to_check)
            .into_iter()
            .zip(&unchecked)
            .find_map(|(r, &i)| r.err().map(|e| (i, e)))
        {
            return Err(invalid(format!("transaction {i}: {e}")));
        }
        let (receipts, writes, state) = self.execute(
            &snapshot,
            ancestors,
            &block.transactions,
            h.height,
            h.timestamp_ms,
        )?;
        let receipt_hashes: Vec<Hash> = receipts.iter().map(receipt_hash).collect();
        if merkle_root(&receipt_hashes) != h.receipts_root {
            return Err(invalid("receipts root differs from re-execution"));
        }
        if state.root != h.state_root {
            return Err(invalid("state root differs from re-execution"));
        }
        let hash = block_hash(h);
        Ok(ExecutedBlock {
            block,
            hash,
            receipts,
            writes,
            speculative: !ancestors.is_empty(),
            state,
        })
    }

    /// The state after `ancestors` (uncommitted, oldest first) on top of `snapshot`.
    pub fn state_on<'a>(
        snapshot: &'a weft_storage::Snapshot,
        ancestors: &'a [&'a ExecutedBlock],
    ) -> impl StateReader + 'a {
        Layered {
            base: snapshot,
            layers: ancestors.iter().map(|a| &a.writes).collect(),
        }
    }

    /// The block the next one follows, checking that `ancestors` chain from the committed
    /// head in `snapshot`. A stale chain (the head moved past an ancestor) is
    /// [`ChainError::StaleAncestry`]: the caller recomputes and retries.
    fn tip(
        &self,
        snapshot: &weft_storage::Snapshot,
        ancestors: &[&ExecutedBlock],
    ) -> Result<Tip, ChainError> {
        let head = snapshot
            .head()
            .cloned()
            .ok_or_else(|| ChainError::Genesis("no genesis block".into()))?;
        let mut tip = Tip {
            height: head.height,
            hash: head.block_hash,
            timestamp_ms: head.timestamp_ms,
        };
        for a in ancestors {
            let h = &a.block.header;
            if h.parent != tip.hash || h.height != tip.height + 1 {
                return Err(ChainError::StaleAncestry);
            }
            tip = Tip {
                height: h.height,
                hash: a.hash,
                timestamp_ms: h.timestamp_ms,
            };
        }
        Ok(tip)
    }

    fn execute(
        &self,
        snapshot: &weft_storage::Snapshot,
        ancestors: &[&ExecutedBlock],
        txs: &[SignedTransaction],
        height: u64,
        timestamp_ms: u64,
    ) -> Result<(Vec<Receipt>, WriteSet, PreparedState), ChainError> {
        let ctx = BlockContext {
            chain_id: self.chain_id.clone(),
            height,
            timestamp_ms,
        };
        let reader = Layered {
            base: snapshot,
            layers: ancestors.iter().map(|a| &a.writes).collect(),
        };
        let output = execute_block(&reader, &ctx, txs)?;
        let state = if ancestors.is_empty() {
            self.store.prepare_state(height, &output.writes)?
        } else {
            // The state root depends only on the resulting key/value set, so the ancestors'
            // changes and this block's, applied as one version on the committed head, give
            // this block's root. That prepared state is never committed (`speculative`).
            let mut merged = WriteSet::new();
            for a in ancestors {
                merged.extend(a.writes.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            merged.extend(output.writes.iter().map(|(k, v)| (k.clone(), v.clone())));
            let next = snapshot.head().map_or(0, |h| h.height + 1);
            self.store
                .prepare_state(next, &merged)
                .map_err(|e| match e {
                    StorageError::NotNext { .. } => ChainError::StaleAncestry,
                    other => other.into(),
                })?
        };
        Ok((output.receipts, output.writes, state))
    }

    /// Commits an executed block once finalized. The certificate is checked against the
    /// active validator set; the block, its state, receipts and indexes land atomically.
    ///
    /// `None` is for a block the engine finalized only through a descendant's certificate:
    /// the descendant's certificate and the header links prove it.
    pub fn commit(
        &self,
        executed: ExecutedBlock,
        finalization: Option<&Finalization>,
    ) -> Result<(), ChainError> {
        if executed.speculative {
            return Err(ChainError::StaleAncestry);
        }
        if let Some(finalization) = finalization {
            if finalization.height != executed.block.header.height {
                return Err(ChainError::InvalidFinalization("height mismatch".into()));
            }
            verify_finalization(
                finalization,
                &self.chain_id,
                &executed.hash,
                &self.validators()?,
            )
            .map_err(|e| ChainError::InvalidFinalization(e.to_string()))?;
        }
        self.store.commit(BlockCommit {
            block: &executed.block,
            block_hash: executed.hash,
            finalization,
            receipts: &executed.receipts,
            state: executed.state,
        })?;
        Ok(())
    }
}

/// A state value and the bundle proving it.
#[derive(Debug, Clone)]
pub struct ProvenValue {
    /// The value's bytes; `None` when the key is absent.
    pub value: Option<Vec<u8>>,
    pub bundle: ProofBundle,
}

/// Proofs: bundles that verify offline with [`weft_crypto::verify_bundle`].
impl Chain {
    /// The value of `key` after block `height` (default: the head) with its proof bundle.
    /// Height 0 has no certificate (it is fixed by the genesis file), so the proof uses the
    /// first finalized height at or above the one asked for.
    pub fn prove_state(
        &self,
        key: &str,
        height: Option<u64>,
    ) -> Result<Option<ProvenValue>, ChainError> {
        let head = self.head()?;
        let height = height.unwrap_or(head.height);
        if height == 0 || height > head.height {
            return Ok(None);
        }
        let Some(block) = self.store.block(height)? else {
            return Ok(None);
        };
        let Some(finalization) = self.store.finalization(height)? else {
            return Ok(None);
        };
        let snapshot = self.store.snapshot()?;
        let (value, proof) = snapshot.get_with_proof(key.as_bytes(), height)?;
        let bundle = ProofBundle {
            reference: format!("weft://{}/{height}/state/{key}", self.chain_id),
            handoffs: self.handoffs(height)?,
            header: block.header,
            finalization,
            proof: RecordProof::State {
                key: key.to_owned(),
                value: value.as_ref().map(hex::encode),
                proof: hex::encode(proof.to_bytes()),
            },
        };
        Ok(Some(ProvenValue { value, bundle }))
    }

    /// Every validator-set change before block `height`, each with the certificate of the
    /// block that made it and a proof of the new set in that block's state: what a verifier
    /// holding only the genesis set needs to trust the set that finalized `height`.
    ///
    /// Sets change only at an epoch's last block, so only those are looked at.
    pub fn handoffs(&self, height: u64) -> Result<Vec<SetHandoff>, ChainError> {
        let length = self.consensus_params()?.epoch_length;
        let changes: Vec<u64> = {
            let mut known = self
                .set_changes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut set = match &known.set {
                Some(set) => set.clone(),
                None => self.validators_at(0)?,
            };
            // Scan the epochs that ended below `height` and were not scanned yet; what a read
            // error interrupts is scanned again next time.
            let mut epoch = known.next_epoch;
            let mut found = Vec::new();
            loop {
                let last = epoch * length + length - 1;
                if last >= height {
                    break;
                }
                let next = self.validators_at(last)?;
                if next != set {
                    found.push(last);
                    set = next;
                }
                epoch += 1;
            }
            known.heights.extend(found);
            known.next_epoch = epoch;
            known.set = Some(set);
            known
                .heights
                .iter()
                .copied()
                .take_while(|h| *h < height)
                .collect()
        };
        let snapshot = self.store.snapshot()?;
        let mut handoffs = Vec::with_capacity(changes.len());
        for last in changes {
            let corrupt = |what: &str| {
                ChainError::Storage(StorageError::Corrupt(format!(
                    "the validator-set change at height {last} has no {what} here"
                )))
            };
            let block = self.store.block(last)?.ok_or_else(|| corrupt("block"))?;
            let finalization = self
                .store
                .finalization(last)?
                .ok_or_else(|| corrupt("certificate"))?;
            let (validators, proof) =
                snapshot.get_with_proof(weft_crypto::VALIDATORS_STATE_KEY.as_bytes(), last)?;
            let validators: Vec<AccountId> = validators
                .as_deref()
                .map(borsh::from_slice)
                .transpose()
                .map_err(|e| ChainError::Storage(StorageError::Corrupt(e.to_string())))?
                .ok_or_else(|| corrupt("validator set"))?;
            handoffs.push(SetHandoff {
                header: block.header,
                finalization,
                validators,
                proof: hex::encode(proof.to_bytes()),
            });
        }
        Ok(handoffs)
    }

    /// The transaction at `height`/`index` with its receipt and proof bundle.
    pub fn prove_tx(&self, height: u64, index: u32) -> Result<Option<ProofBundle>, ChainError> {
        let Some(block) = self.store.block(height)? else {
            return Ok(None);
        };
        let Some(finalization) = self.store.finalization(height)? else {
            return Ok(None);
        };
        let receipts = self.store.receipts(height)?;
        let i = index as usize;
        let (Some(transaction), Some(receipt)) =
            (block.transactions.get(i).cloned(), receipts.get(i).cloned())
        else {
            return Ok(None);
        };
        let tx_hashes: Vec<Hash> = block.transactions.iter().map(|t| tx_hash(&t.tx)).collect();
        let receipt_hashes: Vec<Hash> = receipts.iter().map(receipt_hash).collect();
        let corrupt =
            || ChainError::Storage(StorageError::Corrupt(format!("block {height} proofs")));
        let tx_proof = merkle_proof(&tx_hashes, i).ok_or_else(corrupt)?;
        let receipt_proof = merkle_proof(&receipt_hashes, i).ok_or_else(corrupt)?;
        // The canonical bytes let verifiers that cannot re-encode every operation (the
        // browser explorer) hash the transaction themselves.
        let tx_bytes = hex::encode(weft_types::encode(&transaction.tx));
        Ok(Some(ProofBundle {
            reference: format!("weft://{}/{height}/{index}", self.chain_id),
            handoffs: self.handoffs(height)?,
            header: block.header,
            finalization,
            proof: RecordProof::Transaction {
                tx_index: index,
                tx_bytes: Some(tx_bytes),
                transaction: Box::new(transaction),
                receipt: Box::new(receipt),
                tx_proof,
                receipt_proof,
            },
        }))
    }
}
