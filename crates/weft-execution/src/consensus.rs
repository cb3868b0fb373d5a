//! Epochs and the validator set as execution records them, for the consensus layer.
//!
//! Heights are grouped into epochs of `epoch_length` blocks (fixed at genesis): epoch `e`
//! holds heights `e × epoch_length ..= (e + 1) × epoch_length − 1`, so genesis (height 0)
//! opens epoch 0. A validator set scheduled by `consensus.set_validators` in epoch `e`
//! becomes the active set at the end of the last block of `e`: the set that finalizes block
//! `h` is always [`StateKey::Validators`] in the state after block `h − 1`.

use serde::{Deserialize, Serialize};
use weft_types::{AccountId, DEFAULT_EPOCH_LENGTH, state::StateReader};

use crate::{
    ExecError,
    keys::StateKey,
    model::{Governance, PendingValidators, ValidatorSet},
    overlay::Overlay,
};

/// The epoch `height` belongs to. `epoch_length` must not be zero (genesis refuses it).
pub fn epoch_of(height: u64, epoch_length: u64) -> u64 {
    height / epoch_length.max(1)
}

/// Whether `height` is the last block of its epoch: the block after which a scheduled
/// validator set takes effect.
pub fn is_last_in_epoch(height: u64, epoch_length: u64) -> bool {
    (u128::from(height) + 1) % u128::from(epoch_length.max(1)) == 0
}

/// The consensus-relevant parameters recorded in one version of the state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsensusParams {
    /// Blocks per epoch.
    pub epoch_length: u64,
    /// The active set, sorted: it finalizes the block after this state.
    pub validators: Vec<AccountId>,
    /// The set scheduled to replace it at the end of the current epoch, if any.
    pub pending: Option<PendingValidators>,
    /// Who approves validator-set changes.
    pub governance: Governance,
}

/// The governance recorded in state; a state without one (an older genesis) has no admins,
/// so no change can ever be approved.
pub(crate) fn governance_or_default(gov: Option<Governance>) -> Governance {
    gov.unwrap_or(Governance {
        admins: Vec::new(),
        threshold: 1,
    })
}

/// The epoch length recorded in state, [`DEFAULT_EPOCH_LENGTH`] when there is none.
pub(crate) fn stored_epoch_length(stored: Option<u64>) -> Result<u64, ExecError> {
    match stored {
        None => Ok(DEFAULT_EPOCH_LENGTH),
        Some(0) => Err(ExecError::Fatal("epoch length 0 in state".into())),
        Some(n) => Ok(n),
    }
}

/// Reads the epoch length, validator sets and governance from `state`. A state written by a
/// genesis older than epochs gets [`DEFAULT_EPOCH_LENGTH`] and an empty governance.
pub fn consensus_params(state: &dyn StateReader) -> Result<ConsensusParams, ExecError> {
    let overlay = Overlay::new(state);
    let epoch_length = stored_epoch_length(overlay.get::<u64>(&StateKey::EpochLength)?)?;
    let validators = overlay
        .get::<ValidatorSet>(&StateKey::Validators)?
        .ok_or_else(|| ExecError::Fatal("no validator set in state".into()))?;
    Ok(ConsensusParams {
        epoch_length,
        validators,
        pending: overlay.get::<PendingValidators>(&StateKey::PendingValidators)?,
        governance: governance_or_default(overlay.get::<Governance>(&StateKey::Governance)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_split_heights_evenly() {
        assert_eq!(epoch_of(0, 4), 0);
        assert_eq!(epoch_of(3, 4), 0);
        assert_eq!(epoch_of(4, 4), 1);
        assert_eq!(epoch_of(7, 4), 1);
        assert_eq!(epoch_of(8, 4), 2);
        let last: Vec<u64> = (0..13).filter(|h| is_last_in_epoch(*h, 4)).collect();
        assert_eq!(last, vec![3, 7, 11]);
        assert!(is_last_in_epoch(u64::MAX, 1));
        assert!(is_last_in_epoch(u64::MAX, 4)); // 2^64 is a multiple of 4
        assert!(!is_last_in_epoch(u64::MAX, 3));
        for h in 0..50 {
            // The last block of an epoch is followed by the first of the next.
            assert_eq!(
                is_last_in_epoch(h, 5),
                epoch_of(h + 1, 5) == epoch_of(h, 5) + 1
            );
        }
    }
}
