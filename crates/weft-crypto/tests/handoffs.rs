//! Bundles across validator-set changes: each change is a finalized block whose state names the
//! next set, and the walk from the trust anchor must reach the set the bundle's header names.

mod support;

use support::{CHANGES, Governed, TIP, accounts};
use weft_crypto::{
    BundleError, Keypair, ProofBundle, SetHandoff, SignatureError, VALIDATORS_STATE_KEY,
    block_hash, verify_bundle,
};
use weft_types::{AccountId, Name, limits::MAX_VALIDATORS};

fn chain() -> Governed {
    Governed::new("handoffs", [&[1, 2, 3, 4], &[3, 4, 5, 6, 7], &[8, 9, 10]])
}

fn check(g: &Governed, bundle: &ProofBundle) -> Result<u64, BundleError> {
    verify_bundle(bundle, &g.anchor()).map(|r| r.height)
}

fn with_handoff(
    bundle: &ProofBundle,
    index: usize,
    change: impl FnOnce(&mut SetHandoff),
) -> ProofBundle {
    let mut b = bundle.clone();
    change(&mut b.handoffs[index]);
    b
}

#[test]
fn the_key_is_the_one_execution_writes() {
    assert_eq!(VALIDATORS_STATE_KEY, "meta/validators");
}

#[test]
fn bundles_across_one_and_two_changes_verify() {
    let g = chain();
    for height in 1..=TIP {
        let bundle = g.bundle(height);
        let changes = CHANGES.iter().filter(|&&c| c < height).count();
        assert_eq!(bundle.handoffs.len(), changes);
        let record = verify_bundle(&bundle, &g.anchor()).unwrap();
        assert_eq!(record.height, height);
        assert_eq!(record.block_hash, block_hash(&bundle.header));
    }
    // A handoff at the block just below the bundle's (no gap at all) is fine too.
    assert_eq!(check(&g, &g.bundle(CHANGES[1] + 1)), Ok(CHANGES[1] + 1));
}

#[test]
fn bundles_without_handoffs_are_unchanged() {
    let g = chain();
    let old = g.bundle(1);
    assert!(old.handoffs.is_empty());
    let json = serde_json::to_value(&old).unwrap();
    assert!(
        json.get("handoffs").is_none(),
        "an empty list is not written"
    );
    let parsed: ProofBundle = serde_json::from_value(json).unwrap();
    assert_eq!(check(&g, &parsed), Ok(1));
    // With handoffs, the JSON carries them and reads back the same.
    let new = g.bundle(TIP);
    let json = serde_json::to_value(&new).unwrap();
    assert_eq!(json["handoffs"].as_array().unwrap().len(), 2);
    let parsed: ProofBundle = serde_json::from_value(json).unwrap();
    assert_eq!(parsed.handoffs, new.handoffs);
    assert_eq!(check(&g, &parsed), Ok(TIP));
}

#[test]
fn a_missing_handoff_leaves_the_header_untrusted() {
    let g = chain();
    let full = g.bundle(TIP);
    let mut none = full.clone();
    none.handoffs.clear();
    assert_eq!(check(&g, &none), Err(BundleError::UntrustedValidatorSet));
    let mut first_only = full.clone();
    first_only.handoffs.pop();
    assert_eq!(
        check(&g, &first_only),
        Err(BundleError::UntrustedValidatorSet)
    );
    // Skipping the first change: the second's header names a set not reached yet.
    let mut second_only = full.clone();
    second_only.handoffs.remove(0);
    assert_eq!(
        check(&g, &second_only),
        Err(BundleError::HandoffUntrustedSet { height: 4 })
    );
}

#[test]
fn handoffs_must_be_in_order_and_below_the_bundle() {
    let g = chain();
    let full = g.bundle(TIP);
    let mut reversed = full.clone();
    reversed.handoffs.reverse();
    assert_eq!(
        check(&g, &reversed),
        Err(BundleError::HandoffUntrustedSet { height: 4 })
    );
    let mut repeated = full.clone();
    repeated.handoffs.insert(1, g.handoff(2));
    assert_eq!(
        check(&g, &repeated),
        Err(BundleError::HandoffOutOfOrder { height: 2 })
    );
    // The bundle's own block cannot be a handoff to itself, nor can a later block.
    let at_own = g.bundle_with(4, vec![g.handoff(2), g.handoff(4)]);
    assert_eq!(
        check(&g, &at_own),
        Err(BundleError::HandoffOutOfOrder { height: 4 })
    );
    let later = g.bundle_with(3, vec![g.handoff(2), g.handoff(4)]);
    assert_eq!(
        check(&g, &later),
        Err(BundleError::HandoffOutOfOrder { height: 4 })
    );
}

#[test]
fn a_handoff_signed_by_the_wrong_set_fails() {
    let g = chain();
    let full = g.bundle(TIP);
    // Block 4 finalized by the genesis set, which is no longer in force there.
    let by_retired = with_handoff(&full, 1, |h| {
        h.finalization = Governed::finalize_by(&h.header, &g.sets[0]);
    });
    assert_eq!(
        check(&g, &by_retired),
        Err(BundleError::HandoffFinalization {
            height: 4,
            error: SignatureError::NoQuorum { got: 2, needed: 4 },
        })
    );
    // ...and a header rewritten to name the retired set, which then signs it.
    let renamed = with_handoff(&full, 1, |h| {
        h.header.validator_set_hash = weft_crypto::validator_set_hash(&accounts(&g.sets[0]));
        h.finalization = Governed::finalize_by(&h.header, &g.sets[0]);
    });
    assert_eq!(
        check(&g, &renamed),
        Err(BundleError::HandoffUntrustedSet { height: 4 })
    );
    // Too few of the right set.
    let short = with_handoff(&full, 0, |h| {
        h.finalization.signatures.pop();
    });
    assert_eq!(
        check(&g, &short),
        Err(BundleError::HandoffFinalization {
            height: 2,
            error: SignatureError::NoQuorum { got: 2, needed: 3 },
        })
    );
    // The bundle's own block signed by the set before the last change.
    let mut stale = full.clone();
    stale.finalization = Governed::finalize_by(&stale.header, &g.sets[1]);
    assert!(matches!(
        check(&g, &stale),
        Err(BundleError::Finalization(SignatureError::NoQuorum { .. }))
    ));
}

#[test]
fn a_handoff_proof_for_other_validators_fails() {
    let g = chain();
    let full = g.bundle(TIP);
    // The next set swapped for the one after it, with the proof left as it is.
    let other = with_handoff(&full, 0, |h| h.validators = accounts(&g.sets[2]));
    assert_eq!(
        check(&g, &other),
        Err(BundleError::HandoffProofFailed { height: 2 })
    );
    // The set swapped with its proof from another block: it is not under this state root.
    let moved = with_handoff(&full, 0, |h| {
        let later = g.handoff(4);
        h.validators = later.validators;
        h.proof = later.proof;
    });
    assert_eq!(
        check(&g, &moved),
        Err(BundleError::HandoffProofFailed { height: 2 })
    );
    // One validator dropped from the proven set.
    let dropped = with_handoff(&full, 1, |h| {
        h.validators.pop();
    });
    assert_eq!(
        check(&g, &dropped),
        Err(BundleError::HandoffProofFailed { height: 4 })
    );
    // The proof of another key of the same block.
    let wrong_key = with_handoff(&full, 0, |h| {
        h.proof = hex::encode(g.tree.prove("filler/001", 2).1.to_bytes());
    });
    assert_eq!(
        check(&g, &wrong_key),
        Err(BundleError::HandoffProofFailed { height: 2 })
    );
}

#[test]
fn malformed_handoff_proofs_fail_without_panicking() {
    let g = chain();
    let full = g.bundle(TIP);
    let proof = full.handoffs[0].proof.clone();
    let mut cases = vec![
        String::new(),
        "zz".to_owned(),
        format!("{proof}0"),
        format!("{proof}00"),
        "ff".repeat(10_000),
    ];
    for len in (0..proof.len()).step_by(2) {
        cases.push(proof[..len].to_owned());
    }
    for i in 0..proof.len() / 2 {
        let mut bytes = hex::decode(&proof).unwrap();
        bytes[i] ^= 0x10;
        cases.push(hex::encode(bytes));
    }
    for case in cases {
        let b = with_handoff(&full, 0, |h| h.proof = case.clone());
        assert_eq!(
            check(&g, &b),
            Err(BundleError::HandoffProofFailed { height: 2 }),
            "{case}"
        );
    }
}

#[test]
fn a_tampered_handoff_header_fails() {
    let g = chain();
    let full = g.bundle(TIP);
    let root = with_handoff(&full, 0, |h| h.header.state_root.0[0] ^= 1);
    assert!(matches!(
        check(&g, &root),
        Err(BundleError::HandoffFinalization {
            height: 2,
            error: SignatureError::WrongBlock { .. }
        })
    ));
    // The certificate's block hash made to match: the signatures do not.
    let matched = with_handoff(&full, 0, |h| {
        h.header.state_root = g.header(3).state_root;
        h.finalization.block_hash = block_hash(&h.header);
    });
    assert_eq!(
        check(&g, &matched),
        Err(BundleError::HandoffFinalization {
            height: 2,
            error: SignatureError::NoQuorum { got: 0, needed: 3 },
        })
    );
    let height = with_handoff(&full, 1, |h| h.header.height = 3);
    assert!(matches!(
        check(&g, &height),
        Err(BundleError::HandoffHeightMismatch { height: 3, got: 4 })
    ));
    let fin_height = with_handoff(&full, 1, |h| h.finalization.height = 5);
    assert!(matches!(
        check(&g, &fin_height),
        Err(BundleError::HandoffHeightMismatch { height: 4, got: 5 })
    ));
    let chain = with_handoff(&full, 0, |h| {
        h.header.chain_id = Name::new("other").unwrap()
    });
    assert_eq!(
        check(&g, &chain),
        Err(BundleError::HandoffWrongChain { height: 2 })
    );
}

#[test]
fn a_handoff_set_must_be_well_formed() {
    let g = chain();
    let full = g.bundle(TIP);
    let unsorted = with_handoff(&full, 0, |h| h.validators.reverse());
    let repeated = with_handoff(&full, 0, |h| {
        let first = h.validators[0];
        h.validators.insert(0, first);
    });
    let empty = with_handoff(&full, 0, |h| h.validators.clear());
    let huge = with_handoff(&full, 0, |h| {
        h.validators = (0..=MAX_VALIDATORS)
            .map(|i| AccountId(weft_crypto::sha256(&i.to_le_bytes()).0))
            .collect();
        h.validators.sort();
    });
    for b in [unsorted, repeated, empty, huge] {
        assert_eq!(
            check(&g, &b),
            Err(BundleError::InvalidHandoffSet { height: 2 })
        );
    }
}

#[test]
fn a_set_can_hand_off_to_itself_and_keys_outside_the_set_do_not_count() {
    let g = chain();
    // An outsider's key in the quorum of a handoff counts for nothing.
    let full = g.bundle(TIP);
    let outsider = with_handoff(&full, 0, |h| {
        let mut signers: Vec<Keypair> = vec![Keypair::from_seed([99; 32])];
        signers.extend([1u8, 2].map(|s| Keypair::from_seed([s; 32])));
        h.finalization = Governed::finalize_by(&h.header, &signers);
    });
    assert_eq!(
        check(&g, &outsider),
        Err(BundleError::HandoffFinalization {
            height: 2,
            error: SignatureError::NoQuorum { got: 2, needed: 3 },
        })
    );
    // The genesis state's own set, proven at block 1, is a (no-op) handoff.
    let same = Governed::new("handoffs", [&[1, 2, 3, 4], &[1, 2, 3, 4], &[1, 2, 3, 4]]);
    assert_eq!(check(&same, &same.bundle(TIP)), Ok(TIP));
}
