//! The deterministic state machine: applies a block of transactions to state.
//!
//! Execution is a pure fold: it reads state through [`StateReader`], never touches a clock
//! (the block timestamp is the only time), a file, the network or randomness, uses no
//! floats and iterates only ordered collections. Its output — receipts and an ordered
//! [`WriteSet`] — is the same on every node for the same block and prior state.
//!
//! Signatures are checked before execution (in parallel batches at the edge and again when a
//! block is verified); execution checks everything that depends on state: chain id, expiry,
//! nonces, registration, permissions, and each module's rules.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod consensus;
mod context;
pub mod credentials;
pub mod genesis;
pub mod keys;
pub mod model;
mod modules;
mod overlay;
pub mod private;
pub mod read_policy;
pub mod registry;
pub mod workflow;

use std::collections::BTreeSet;

pub use consensus::{ConsensusParams, consensus_params, epoch_of, is_last_in_epoch};
pub use genesis::{GenesisError, genesis_writes};
use weft_crypto::tx_hash;
use weft_types::{
    ChainId, ErrorCode, Receipt, SignedTransaction, TxError, TxStatus,
    state::{StateReader, WriteSet},
};

use crate::{
    context::TxContext,
    keys::StateKey,
    model::{PendingValidators, ValidatorSet},
    overlay::Overlay,
};

/// What execution needs to know about the block being applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockContext {
    pub chain_id: ChainId,
    pub height: u64,
    pub timestamp_ms: u64,
}

/// Failure inside execution.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// The transaction is refused; the block goes on without its effects.
    #[error(transparent)]
    Tx(#[from] TxError),
    /// The state could not be read or is corrupt: the node must stop, not guess.
    #[error("fatal execution error: {0}")]
    Fatal(String),
}

impl ExecError {
    pub(crate) fn tx(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Tx(TxError::new(code, message))
    }
}

/// The result of applying a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockOutput {
    /// One receipt per transaction, in block order.
    pub receipts: Vec<Receipt>,
    /// Every state change of the block, ordered by key.
    pub writes: WriteSet,
}

/// Applies `txs` in order on top of `state`. Transactions that fail leave only their nonce
/// consumed (when the nonce itself was right) and a failed receipt.
///
/// After the last block of an epoch (see [`is_last_in_epoch`]), a scheduled validator set
/// ([`StateKey::PendingValidators`]) becomes the active one ([`StateKey::Validators`]), so
/// the set that finalizes block `h` is always the active set in the state after `h − 1`.
pub fn execute_block(
    state: &dyn StateReader,
    ctx: &BlockContext,
    txs: &[SignedTransaction],
) -> Result<BlockOutput, ExecError> {
    let mut overlay = Overlay::new(state);
    let mut receipts = Vec::with_capacity(txs.len());
    for stx in txs {
        receipts.push(apply_transaction(&mut overlay, ctx, stx)?);
    }
    end_block(&mut overlay, ctx)?;
    overlay.put(&StateKey::Height, &ctx.height);
    Ok(BlockOutput {
        receipts,
        writes: overlay.into_writes(),
    })
}

/// What happens after a block's transactions: at an epoch's end, the scheduled validator set
/// takes over.
fn end_block(overlay: &mut Overlay<'_>, ctx: &BlockContext) -> Result<(), ExecError> {
    let epoch_length = consensus::stored_epoch_length(overlay.get::<u64>(&StateKey::EpochLength)?)?;
    if !is_last_in_epoch(ctx.height, epoch_length) {
        return Ok(());
    }
    if let Some(pending) = overlay.get::<PendingValidators>(&StateKey::PendingValidators)? {
        let validators: ValidatorSet = pending.validators;
        overlay.put(&StateKey::Validators, &validators);
        overlay.delete(&StateKey::PendingValidators);
        overlay.commit_tx();
    }
    Ok(())
}

/// Runs one transaction against `state` and discards the effects: the stateful admission
/// check of the API and mempool. Returns the error the transaction would fail with.
pub fn check_transaction(
    state: &dyn StateReader,
    ctx: &BlockContext,
    stx: &SignedTransaction,
) -> Result<(), ExecError> {
    let mut overlay = Overlay::new(state);
    let receipt = apply_transaction(&mut overlay, ctx, stx)?;
    match receipt.status {
        TxStatus::Success => Ok(()),
        TxStatus::Failed { code, message, .. } => Err(ExecError::tx(code, message)),
    }
}

/// The next nonce `account` must use, from committed state.
pub fn next_nonce(
    state: &dyn StateReader,
    account: &weft_types::AccountId,
) -> Result<u64, ExecError> {
    Ok(Overlay::new(state)
        .get::<u64>(&StateKey::Nonce(*account))?
        .unwrap_or(0))
}

fn failed(hash: weft_types::Hash, err: TxError, operation: Option<u32>) -> Receipt {
    Receipt {
        tx_hash: hash,
        status: TxStatus::Failed {
            code: err.code,
            operation,
            message: err.message,
        },
        events: vec![],
        writes: 0,
    }
}

fn apply_transaction(
    overlay: &mut Overlay<'_>,
    ctx: &BlockContext,
    stx: &SignedTransaction,
) -> Result<Receipt, ExecError> {
    let tx = &stx.tx;
    let hash = tx_hash(tx);
    // Checks that leave no trace: the transaction is not this chain's, or is stale.
    let precheck = || -> Result<(), ExecError> {
        if tx.chain_id != ctx.chain_id {
            return Err(ExecError::tx(
                ErrorCode::WrongChainId,
                format!("signed for chain {}, this is {}", tx.chain_id, ctx.chain_id),
            ));
        }
        if ctx.height > tx.expiry_height {
            return Err(ExecError::tx(
                ErrorCode::Expired,
                format!("expired at height {}, now {}", tx.expiry_height, ctx.height),
            ));
        }
        if stx.signatures.first().map(|s| s.account) != Some(tx.signer) {
            return Err(ExecError::tx(
                ErrorCode::MissingSignature,
                "no signature by the signer",
            ));
        }
        Ok(())
    };
    match precheck() {
        Ok(()) => {}
        Err(ExecError::Tx(e)) => return Ok(failed(hash, e, None)),
        Err(fatal) => return Err(fatal),
    }
    // An unregistered key leaves no trace at all, so outsiders cannot grow the state.
    if overlay
        .get_raw(&StateKey::Account(tx.signer).to_bytes())?
        .is_none()
    {
        let message = format!("signer {} is not registered", tx.signer);
        return Ok(failed(
            hash,
            TxError::new(ErrorCode::UnknownAccount, message),
            None,
        ));
    }
    let expected = overlay
        .get::<u64>(&StateKey::Nonce(tx.signer))?
        .unwrap_or(0);
    if tx.nonce != expected {
        let (code, what) = if tx.nonce < expected {
            (ErrorCode::ReplayedNonce, "already used")
        } else {
            (ErrorCode::NonceGap, "ahead of the account")
        };
        let message = format!("nonce {} {what}; next is {expected}", tx.nonce);
        return Ok(failed(hash, TxError::new(code, message), None));
    }

    let cosigners: BTreeSet<_> = stx.signers().copied().collect();
    let mut tcx = TxContext::new(overlay, tx.signer, cosigners, ctx.height, ctx.timestamp_ms);
    let mut outcome = Ok(());
    for (index, op) in tx.operations.iter().enumerate() {
        if let Err(e) = modules::apply(&mut tcx, op) {
            outcome = Err((e, index));
            break;
        }
    }
    let events = tcx.take_events();
    // Receipts are bounded like everything else a node stores and serves; a transaction
    // that would emit more events than a receipt may carry is refused as a whole.
    if outcome.is_ok() && events.len() > weft_types::limits::MAX_EVENTS {
        let last = u32::try_from(tx.operations.len().saturating_sub(1)).unwrap_or(u32::MAX);
        outcome = Err((
            ExecError::tx(
                ErrorCode::Oversized,
                format!(
                    "{} events exceed the {} a receipt may carry",
                    events.len(),
                    weft_types::limits::MAX_EVENTS
                ),
            ),
            last as usize,
        ));
    }
    let receipt = match outcome {
        Ok(()) => {
            overlay.put(&StateKey::Nonce(tx.signer), &(expected + 1));
            let writes = u32::try_from(overlay.tx_write_count()).unwrap_or(u32::MAX);
            overlay.commit_tx();
            Receipt {
                tx_hash: hash,
                status: TxStatus::Success,
                events,
                writes,
            }
        }
        Err((ExecError::Tx(e), index)) => {
            overlay.rollback_tx();
            // The nonce is still consumed: the signer did authorize this attempt, and a
            // failed transaction must not be replayable once conditions change.
            overlay.put(&StateKey::Nonce(tx.signer), &(expected + 1));
            overlay.commit_tx();
            failed(hash, e, u32::try_from(index).ok())
        }
        Err((fatal, _)) => return Err(fatal),
    };
    Ok(receipt)
}
