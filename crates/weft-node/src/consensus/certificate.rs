//! The engine's finalization certificates as Weft stores and serves them.
//!
//! A simplex ed25519 certificate is a signer bitmap over the ordered validator set plus one
//! signature per signer, each over the engine's *finalize* message for the proposal
//! `(epoch, view, parent view, block hash)`. [`weft_types::Finalization`] keeps the same
//! signatures with the signers named by account, so light clients verify it with
//! [`weft_crypto::verify_finalization`] alone, without the engine. The test below pins that the
//! two agree.

use commonware_consensus::simplex::types::Finalization as EngineFinalization;
use commonware_cryptography::{ed25519::PublicKey, sha256::Digest};
use weft_types::{AccountId, Finalization, SignatureBytes, ValidatorSignature};

use super::{Scheme, block::hash};

/// Converts an engine certificate for block `height`. `validators` is the epoch's set in the
/// engine's (sorted) order, which the bitmap indexes.
pub fn to_finalization(
    cert: &EngineFinalization<Scheme, Digest>,
    height: u64,
    validators: &[PublicKey],
) -> Result<Finalization, String> {
    let proposal = &cert.proposal;
    let mut signatures = Vec::with_capacity(cert.certificate.signatures.len());
    for (signer, signature) in cert
        .certificate
        .signers
        .iter()
        .zip(cert.certificate.signatures.iter())
    {
        let index = usize::from(signer);
        let key = validators
            .get(index)
            .ok_or_else(|| format!("signer index {index} is outside the validator set"))?;
        let signature = signature
            .get()
            .ok_or_else(|| format!("signature of signer {index} does not decode"))?;
        let mut account = [0u8; 32];
        account.copy_from_slice(key.as_ref());
        let mut bytes = [0u8; 64];
        bytes.copy_from_slice(signature.as_ref());
        signatures.push(ValidatorSignature {
            validator: AccountId(account),
            signature: SignatureBytes(bytes),
        });
    }
    Ok(Finalization {
        height,
        block_hash: hash(&proposal.payload),
        epoch: proposal.round.epoch().get(),
        view: proposal.round.view().get(),
        parent_view: proposal.parent.get(),
        signatures,
    })
}

#[cfg(test)]
mod tests {
    use commonware_consensus::{
        simplex::types::{Finalize, Proposal},
        types::{Epoch, Round, View},
    };
    use commonware_cryptography::Signer as _;
    use commonware_parallel::Sequential;
    use commonware_utils::iter::NonEmpty;
    use weft_crypto::{Keypair, verify_finalization};
    use weft_types::{ChainId, Hash};

    use super::*;
    use crate::consensus::{block::digest, ordered_set, private_key_of};

    /// Signs a finalization with the engine's own scheme and checks it with Weft's verifier:
    /// if the engine's message format drifts from `weft_crypto::finalize_message`, this fails.
    #[test]
    fn engine_certificates_verify_with_weft_crypto_alone() {
        let chain = ChainId::new("pin-chain").unwrap();
        let keys: Vec<Keypair> = (1..=4u8).map(|i| Keypair::from_seed([i; 32])).collect();
        let accounts: Vec<AccountId> = keys.iter().map(Keypair::account).collect();
        let set = ordered_set(&accounts).unwrap();
        let ordered: Vec<PublicKey> = set.iter().cloned().collect();
        let namespace = weft_crypto::consensus_namespace(&chain);
        let block = Hash([9; 32]);
        let proposal = Proposal::new(
            Round::new(Epoch::new(3), View::new(1_000)),
            View::new(998),
            digest(&block),
        );
        // Three of four sign: the quorum.
        let votes: Vec<Finalize<Scheme, Digest>> = keys
            .iter()
            .take(3)
            .map(|k| {
                let signer = private_key_of(k).unwrap();
                assert!(set.iter().any(|p| *p == signer.public_key()));
                let scheme = Scheme::signer(&namespace, set.clone(), signer).unwrap();
                Finalize::sign(&scheme, proposal.clone()).unwrap()
            })
            .collect();
        let scheme = Scheme::verifier(&namespace, set.clone());
        let mut it = votes.into_iter();
        let first = it.next().unwrap();
        let cert = EngineFinalization::from_owned_finalizes(
            &scheme,
            NonEmpty::new(first, it),
            &Sequential,
        )
        .unwrap();

        let fin = to_finalization(&cert, 42, &ordered).unwrap();
        assert_eq!((fin.epoch, fin.view, fin.parent_view), (3, 1_000, 998));
        assert_eq!(fin.block_hash, block);
        assert_eq!(fin.signatures.len(), 3);
        assert_eq!(verify_finalization(&fin, &chain, &block, &accounts), Ok(()));

        // Any field the signatures cover, changed, breaks the quorum.
        let other_chain = ChainId::new("other-chain").unwrap();
        assert!(verify_finalization(&fin, &other_chain, &block, &accounts).is_err());
        for tamper in [
            |f: &mut Finalization| f.view += 1,
            |f: &mut Finalization| f.parent_view -= 1,
            |f: &mut Finalization| f.epoch = 0,
        ] {
            let mut bad = fin.clone();
            tamper(&mut bad);
            assert!(verify_finalization(&bad, &chain, &block, &accounts).is_err());
        }
        // A bitmap index outside the set is refused at conversion.
        assert!(to_finalization(&cert, 42, &ordered[..1]).is_err());
    }
}
