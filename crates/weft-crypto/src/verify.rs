//! Signature verification: single, batched, and in parallel across cores.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Mutex, OnceLock},
};

use ed25519_dalek::{Signature, VerifyingKey};
use rayon::prelude::*;
use weft_types::{AccountId, ChainId, Finalization, Hash, SignatureBytes, SignedTransaction};

use crate::hash::{finalize_message, tx_hash, tx_signing_message};

/// Why signatures were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// There is no signature by the transaction's signer (it must come first).
    #[error("no signature by the signer {0}")]
    MissingSigner(AccountId),
    /// The same account signed twice.
    #[error("account {0} signed more than once")]
    DuplicateSigner(AccountId),
    /// A signature does not verify (or its key is not a valid Ed25519 point).
    #[error("signature by {0} does not verify")]
    Invalid(AccountId),
    /// Too few validators signed a finalization.
    #[error("finalization has {got} valid validator signatures, needs {needed}")]
    NoQuorum { got: usize, needed: usize },
    /// A finalization names a block other than the one checked.
    #[error("finalization is for block {got}, expected {expected}")]
    WrongBlock { got: Hash, expected: Hash },
}

fn decode_key(account: &AccountId) -> Option<VerifyingKey> {
    let key = VerifyingKey::from_bytes(account.as_bytes()).ok()?;
    // Weak (small-order) keys verify forged signatures; refuse them everywhere.
    (!key.is_weak()).then_some(key)
}

/// Whether `key` is an Ed25519 public key that can verify signatures: a valid curve point
/// that is not of small order.
pub fn is_valid_public_key(key: &AccountId) -> bool {
    decode_key(key).is_some()
}

/// Decoded keys of recent signers. Decoding a key (point decompression) costs about a third
/// of verifying a signature, and the same accounts sign again and again. Only valid keys are
/// cached; the cache only saves work and never changes a result.
const KEY_CACHE_CAPACITY: usize = 65_536;

fn key_cache() -> &'static Mutex<HashMap<AccountId, VerifyingKey>> {
    static CACHE: OnceLock<Mutex<HashMap<AccountId, VerifyingKey>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn key(account: &AccountId) -> Option<VerifyingKey> {
    let cache = key_cache();
    if let Some(k) = cache.lock().ok().and_then(|c| c.get(account).copied()) {
        return Some(k);
    }
    let decoded = decode_key(account)?;
    if let Ok(mut c) = cache.lock() {
        if c.len() >= KEY_CACHE_CAPACITY {
            // Crude but bounded: start over rather than track recency on the hot path.
            c.clear();
        }
        c.insert(*account, decoded);
    }
    Some(decoded)
}

/// Verifies one signature with the strict rules (no malleability, no weak keys).
pub fn verify_signature(account: &AccountId, message: &[u8], signature: &SignatureBytes) -> bool {
    let Some(key) = key(account) else {
        return false;
    };
    key.verify_strict(message, &Signature::from_bytes(&signature.0))
        .is_ok()
}

fn check_signer_structure(stx: &SignedTransaction) -> Result<(), SignatureError> {
    match stx.signatures.first() {
        Some(first) if first.account == stx.tx.signer => {}
        _ => return Err(SignatureError::MissingSigner(stx.tx.signer)),
    }
    let mut seen = BTreeSet::new();
    for sig in &stx.signatures {
        if !seen.insert(sig.account) {
            return Err(SignatureError::DuplicateSigner(sig.account));
        }
    }
    Ok(())
}

/// Verifies every signature on a transaction, one by one.
pub fn verify_transaction(stx: &SignedTransaction) -> Result<(), SignatureError> {
    check_signer_structure(stx)?;
    let msg = tx_signing_message(&tx_hash(&stx.tx));
    for sig in &stx.signatures {
        if !verify_signature(&sig.account, &msg, &sig.signature) {
            return Err(SignatureError::Invalid(sig.account));
        }
    }
    Ok(())
}

/// Transactions per batch: large enough to amortize the multiscalar multiplication,
/// small enough that a bad signature forces few individual re-checks.
const BATCH: usize = 128;

/// Verifies many transactions: structure first, then ed25519 batch verification of chunks in
/// parallel. A failing chunk is re-checked signature by signature, so one forged transaction
/// is pinned exactly and never taints its neighbours. Results are in input order.
pub fn verify_transactions_parallel(txs: &[SignedTransaction]) -> Vec<Result<(), SignatureError>> {
    txs.par_chunks(BATCH).flat_map_iter(verify_chunk).collect()
}

fn verify_chunk(chunk: &[SignedTransaction]) -> Vec<Result<(), SignatureError>> {
    let mut results: Vec<Result<(), SignatureError>> =
        chunk.iter().map(check_signer_structure).collect();
    let messages: Vec<[u8; 46]> = chunk
        .iter()
        .map(|stx| tx_signing_message(&tx_hash(&stx.tx)))
        .collect();

    let mut msgs: Vec<&[u8]> = Vec::new();
    let mut sigs = Vec::new();
    let mut keys = Vec::new();
    for (i, stx) in chunk.iter().enumerate() {
        if results[i].is_err() {
            continue;
        }
        for sig in &stx.signatures {
            match key(&sig.account) {
                Some(k) => {
                    msgs.push(&messages[i]);
                    sigs.push(Signature::from_bytes(&sig.signature.0));
                    keys.push(k);
                }
                None => {
                    results[i] = Err(SignatureError::Invalid(sig.account));
                    break;
                }
            }
        }
    }
    // A batch that passes can be trusted only if no transaction was dropped from it halfway;
    // transactions rejected above contribute partial signature lists, so re-check in that case.
    let all_structurally_ok = results.iter().all(Result::is_ok);
    if all_structurally_ok && ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok() {
        return results;
    }
    for (i, stx) in chunk.iter().enumerate() {
        if results[i].is_ok() {
            results[i] = verify_transaction(stx);
        }
    }
    results
}

/// Batch-verifies pre-hashed signing messages on all cores; true only if every signature
/// verifies. This is the bare signature ceiling (no decoding, hashing or structure checks),
/// which `weft bench` reports as the machine's reference rate.
pub fn verify_prehashed_parallel(
    messages: &[[u8; 46]],
    signatures: &[SignatureBytes],
    accounts: &[AccountId],
) -> bool {
    if messages.len() != signatures.len() || messages.len() != accounts.len() {
        return false;
    }
    messages
        .par_chunks(BATCH)
        .zip(signatures.par_chunks(BATCH))
        .zip(accounts.par_chunks(BATCH))
        .all(|((m, s), a)| {
            let Some(keys) = a.iter().map(decode_key).collect::<Option<Vec<_>>>() else {
                return false;
            };
            let sigs: Vec<Signature> = s.iter().map(|s| Signature::from_bytes(&s.0)).collect();
            let msgs: Vec<&[u8]> = m.iter().map(|m| m.as_slice()).collect();
            ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok()
        })
}

/// Public keys decoded once (point decompression is a large share of verifying one
/// signature), for callers that verify many signatures by the same accounts.
#[derive(Debug, Clone)]
pub struct PreparedKeys(Vec<VerifyingKey>);

impl PreparedKeys {
    /// Decodes `accounts` in parallel; `None` if any is not a valid, non-weak key.
    pub fn new(accounts: &[AccountId]) -> Option<Self> {
        accounts
            .par_iter()
            .map(key)
            .collect::<Option<Vec<_>>>()
            .map(Self)
    }
}

/// Like [`verify_prehashed_parallel`] with keys already decoded: the pure signature
/// arithmetic ceiling.
pub fn verify_prepared_parallel(
    messages: &[[u8; 46]],
    signatures: &[SignatureBytes],
    keys: &PreparedKeys,
) -> bool {
    if messages.len() != signatures.len() || messages.len() != keys.0.len() {
        return false;
    }
    messages
        .par_chunks(BATCH)
        .zip(signatures.par_chunks(BATCH))
        .zip(keys.0.par_chunks(BATCH))
        .all(|((m, s), k)| {
            let sigs: Vec<Signature> = s.iter().map(|s| Signature::from_bytes(&s.0)).collect();
            let msgs: Vec<&[u8]> = m.iter().map(|m| m.as_slice()).collect();
            ed25519_dalek::verify_batch(&msgs, &sigs, k).is_ok()
        })
}

/// Checks that `fin` finalizes `block_hash` on `chain_id` with signatures from more than two
/// thirds of `validators`, each over the engine's finalize message for `fin`'s round
/// ([`finalize_message`]). Unknown, duplicate or invalid signatures do not count.
pub fn verify_finalization(
    fin: &Finalization,
    chain_id: &ChainId,
    block_hash: &Hash,
    validators: &[AccountId],
) -> Result<(), SignatureError> {
    if fin.block_hash != *block_hash {
        return Err(SignatureError::WrongBlock {
            got: fin.block_hash,
            expected: *block_hash,
        });
    }
    let set: BTreeSet<&AccountId> = validators.iter().collect();
    let needed = quorum(set.len());
    let msg = finalize_message(chain_id, fin.epoch, fin.view, fin.parent_view, block_hash);
    let mut counted = BTreeSet::new();
    for sig in &fin.signatures {
        if set.contains(&sig.validator)
            && !counted.contains(&sig.validator)
            && verify_signature(&sig.validator, &msg, &sig.signature)
        {
            counted.insert(sig.validator);
        }
    }
    if counted.len() >= needed && needed > 0 {
        Ok(())
    } else {
        Err(SignatureError::NoQuorum {
            got: counted.len(),
            needed,
        })
    }
}

/// Smallest number of signatures that is more than two thirds of `n`.
pub const fn quorum(n: usize) -> usize {
    n - (n.saturating_sub(1)) / 3
}

#[cfg(test)]
mod tests {
    use weft_types::{Name, Transaction, ValidatorSignature};

    use super::*;
    use crate::keys::{Keypair, sign_transaction};

    fn tx(signer: &Keypair, nonce: u64) -> Transaction {
        Transaction {
            chain_id: Name::new("test").unwrap(),
            signer: signer.account(),
            nonce,
            expiry_height: 100,
            operations: vec![],
            memo: String::new(),
        }
    }

    #[test]
    fn quorum_is_more_than_two_thirds() {
        assert_eq!(quorum(1), 1);
        assert_eq!(quorum(3), 3);
        assert_eq!(quorum(4), 3);
        assert_eq!(quorum(7), 5);
        assert_eq!(quorum(10), 7);
    }

    #[test]
    fn batch_pins_exactly_the_forged_transactions() {
        let keys: Vec<Keypair> = (0..5u8).map(|i| Keypair::from_seed([i + 1; 32])).collect();
        let mut txs: Vec<SignedTransaction> = (0..300u64)
            .map(|n| {
                let k = &keys[(n % 5) as usize];
                sign_transaction(tx(k, n), &[k])
            })
            .collect();
        txs[7].signatures[0].signature.0[3] ^= 1;
        txs[200].tx.nonce += 1;
        txs[250].signatures.clear();
        let cosigned = sign_transaction(tx(&keys[0], 999), &[&keys[0], &keys[1]]);
        txs.push(cosigned);
        let results = verify_transactions_parallel(&txs);
        for (i, r) in results.iter().enumerate() {
            match i {
                7 | 200 => assert!(matches!(r, Err(SignatureError::Invalid(_))), "{i}: {r:?}"),
                250 => assert!(
                    matches!(r, Err(SignatureError::MissingSigner(_))),
                    "{i}: {r:?}"
                ),
                _ => assert!(r.is_ok(), "{i}: {r:?}"),
            }
            assert_eq!(r.is_ok(), verify_transaction(&txs[i]).is_ok());
        }
    }

    #[test]
    fn signer_must_sign_first_and_once() {
        let a = Keypair::from_seed([1; 32]);
        let b = Keypair::from_seed([2; 32]);
        let wrong_order = sign_transaction(tx(&a, 0), &[&b, &a]);
        assert!(matches!(
            verify_transaction(&wrong_order),
            Err(SignatureError::MissingSigner(_))
        ));
        let twice = sign_transaction(tx(&a, 0), &[&a, &a]);
        assert!(matches!(
            verify_transaction(&twice),
            Err(SignatureError::DuplicateSigner(_))
        ));
    }

    #[test]
    fn finalization_needs_a_quorum_of_known_validators() {
        let vals: Vec<Keypair> = (0..4u8).map(|i| Keypair::from_seed([i + 10; 32])).collect();
        let set: Vec<AccountId> = vals.iter().map(Keypair::account).collect();
        let chain = Name::new("test").unwrap();
        let block = Hash([9; 32]);
        let sign = |k: &Keypair| k.sign_finalize(&chain, 0, 7, 5, &block);
        let mut fin = Finalization {
            height: 1,
            block_hash: block,
            epoch: 0,
            view: 7,
            parent_view: 5,
            signatures: vec![],
        };
        for v in &vals[..2] {
            fin.signatures.push(sign(v));
        }
        fin.signatures.push(sign(&vals[0]));
        fin.signatures.push(sign(&Keypair::from_seed([99; 32])));
        assert_eq!(
            verify_finalization(&fin, &chain, &block, &set),
            Err(SignatureError::NoQuorum { got: 2, needed: 3 })
        );
        fin.signatures.push(sign(&vals[2]));
        assert_eq!(verify_finalization(&fin, &chain, &block, &set), Ok(()));
        assert!(matches!(
            verify_finalization(&fin, &chain, &Hash([8; 32]), &set),
            Err(SignatureError::WrongBlock { .. })
        ));
    }

    #[test]
    fn finalization_signatures_cover_the_round_and_the_chain() {
        let vals: Vec<Keypair> = (0..4u8).map(|i| Keypair::from_seed([i + 10; 32])).collect();
        let set: Vec<AccountId> = vals.iter().map(Keypair::account).collect();
        let chain = Name::new("test").unwrap();
        let block = Hash([9; 32]);
        let fin = Finalization {
            height: 1,
            block_hash: block,
            epoch: 2,
            view: 300,
            parent_view: 299,
            signatures: vals[..3]
                .iter()
                .map(|k| k.sign_finalize(&chain, 2, 300, 299, &block))
                .collect(),
        };
        assert_eq!(verify_finalization(&fin, &chain, &block, &set), Ok(()));
        let no_quorum = Err(SignatureError::NoQuorum { got: 0, needed: 3 });
        let other_chain = Name::new("test2").unwrap();
        assert_eq!(
            verify_finalization(&fin, &other_chain, &block, &set),
            no_quorum
        );
        let changes: [fn(&mut Finalization); 3] =
            [|f| f.epoch += 1, |f| f.view += 1, |f| f.parent_view -= 1];
        for change in changes {
            let mut moved = fin.clone();
            change(&mut moved);
            assert_eq!(verify_finalization(&moved, &chain, &block, &set), no_quorum);
        }
        // A vote over the bare block hash (the old format) is not a finalize vote.
        let mut bare = fin.clone();
        bare.signatures = vals[..3]
            .iter()
            .map(|k| ValidatorSignature {
                validator: k.account(),
                signature: k.sign(block.as_bytes()),
            })
            .collect();
        assert_eq!(verify_finalization(&bare, &chain, &block, &set), no_quorum);
    }
}
