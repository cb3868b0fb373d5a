//! Vectors shared with the browser explorer's cryptography (`web/js/verify.js`, `web/js/sign.js`).
//!
//! `fixtures/web-vectors.json` is built here from fixed seeds and times and pinned: a mismatch
//! means a format the browser rebuilds (header, validator set, receipt, Merkle or state proof,
//! the consensus engine's finalize message, request signature) changed. Regenerate with `WEFT_BLESS=1`, then run
//! `node web/test/vectors.mjs fixtures/web-vectors.json`. The pinned file, not a fresh build,
//! is what [`rust_agrees_with_every_pinned_vector`] checks, so Rust and JavaScript answer to the
//! same expectations: valid bundles verify, and each tampered one fails at its named step.
//! Bundles across validator-set changes carry handoffs; their walk from the anchor is part of
//! the "validator set" step.

mod support;

use support::{Governed, MemTree};

use serde_json::{Value, json};
use weft_crypto::{
    BundleError, Keypair, ProofBundle, RecordProof, SetHandoff, SignatureError, TrustAnchor,
    block_hash, finalize_message, is_valid_public_key, merkle_proof, merkle_root, receipt_hash,
    sign_request, sign_transaction, tx_hash, validator_set_hash, verify_bundle, verify_request,
};
use weft_types::{
    AccountId, Amount, BlockHeader, ErrorCode, Event, Finalization, Hash, Mint, Name, Operation,
    Receipt, SignatureBytes, SignedTransaction, Transaction, Transfer, TxStatus,
    ValidatorSignature, encode,
};

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/web-vectors.json"
);

const STEPS: [&str; 6] = [
    "chain",
    "validator set",
    "height",
    "block hash",
    "finalization quorum",
    "record proof",
];

/// Encodings of the eight small-order points of edwards25519 (both sign bits, and the
/// non-canonical encodings of y = 0 and y = 1): keys that would "verify" forged signatures.
const SMALL_ORDER_KEYS: [&str; 14] = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000080",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
];

// ---- one finalized block with state and transactions ----------------------------------

fn key(seed: u8) -> Keypair {
    Keypair::from_seed([seed; 32])
}

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

const HEIGHT: u64 = 5;
/// The round the block was finalized in: the view is above 127 so its varint in the signed
/// message takes two bytes, and the parent is two views back (one view was nullified).
const EPOCH: u64 = 0;
const VIEW: u64 = 300;
const PARENT_VIEW: u64 = 298;

struct World {
    validators: Vec<Keypair>,
    header: BlockHeader,
    finalization: Finalization,
    tree: MemTree,
    txs: Vec<SignedTransaction>,
    receipts: Vec<Receipt>,
}

fn balance_key(who: &Keypair) -> String {
    format!("balance/usd/{}", who.account())
}

fn amount(n: u128) -> Vec<u8> {
    encode(&Amount(n))
}

fn finalize(header: &BlockHeader, signers: &[&Keypair]) -> Finalization {
    finalize_at(header, (EPOCH, VIEW, PARENT_VIEW), signers)
}

fn finalize_at(
    header: &BlockHeader,
    (epoch, view, parent_view): (u64, u64, u64),
    signers: &[&Keypair],
) -> Finalization {
    let hash = block_hash(header);
    Finalization {
        height: header.height,
        block_hash: hash,
        epoch,
        view,
        parent_view,
        signatures: signers
            .iter()
            .map(|k| k.sign_finalize(&header.chain_id, epoch, view, parent_view, &hash))
            .collect(),
    }
}

/// `signer`'s finalize vote for `block`, at the round `fin` names, on `chain`.
fn vote(signer: &Keypair, chain: &Name, fin: &Finalization, block: &Hash) -> ValidatorSignature {
    signer.sign_finalize(chain, fin.epoch, fin.view, fin.parent_view, block)
}

fn transactions(chain: &Name) -> (Vec<SignedTransaction>, Vec<Receipt>) {
    let (alice, bob, carol) = (key(21), key(22), key(23));
    let usd = name("usd");
    let body = |signer: &Keypair, nonce, operations, memo: &str| Transaction {
        chain_id: chain.clone(),
        signer: signer.account(),
        nonce,
        expiry_height: 100,
        operations,
        memo: memo.to_owned(),
    };
    let pay = |to: &Keypair, n| {
        Operation::Transfer(Transfer {
            symbol: usd.clone(),
            to: to.account(),
            amount: Amount(n),
        })
    };
    let txs = vec![
        sign_transaction(body(&alice, 3, vec![pay(&bob, 250)], "rent"), &[&alice]),
        sign_transaction(body(&bob, 0, vec![pay(&carol, 10_000)], ""), &[&bob]),
        // u64::MAX ("no expiry", as the scenarios use) is above what a JSON.parse Number
        // holds exactly.
        sign_transaction(
            Transaction {
                expiry_height: u64::MAX,
                ..body(
                    &alice,
                    4,
                    vec![
                        Operation::Mint(Mint {
                            symbol: usd.clone(),
                            to: carol.account(),
                            amount: Amount(u128::MAX / 3),
                        }),
                        pay(&carol, 1),
                    ],
                    "café ✓",
                )
            },
            &[&alice, &bob],
        ),
    ];
    let transfer_event = |from: &Keypair, to: &Keypair, n: u128| Event {
        topic: "token.transfer".into(),
        accounts: vec![from.account(), to.account()],
        attributes: vec![
            ("symbol".into(), "usd".into()),
            ("amount".into(), n.to_string()),
        ],
    };
    let receipts = vec![
        Receipt {
            tx_hash: tx_hash(&txs[0].tx),
            status: TxStatus::Success,
            events: vec![transfer_event(&alice, &bob, 250)],
            writes: 3,
        },
        Receipt {
            tx_hash: tx_hash(&txs[1].tx),
            status: TxStatus::Failed {
                code: ErrorCode::InsufficientBalance,
                operation: Some(0),
                message: "balance 500 is below 10000".into(),
            },
            events: vec![],
            writes: 1,
        },
        Receipt {
            tx_hash: tx_hash(&txs[2].tx),
            status: TxStatus::Success,
            events: vec![
                Event {
                    topic: "token.mint".into(),
                    accounts: vec![carol.account()],
                    attributes: vec![("note".into(), "Größe ✓ 雪".into())],
                },
                transfer_event(&alice, &carol, 1),
            ],
            writes: 5,
        },
    ];
    (txs, receipts)
}

fn world() -> World {
    let chain = name("web-vectors");
    let validators: Vec<Keypair> = (11..15).map(key).collect();
    let (alice, bob) = (key(21), key(22));
    let mut tree = MemTree::default();
    // Enough keys that proofs run several levels deep, and one deletion at the proven height.
    let mut genesis: Vec<(String, Option<Vec<u8>>)> = (0..48u8)
        .map(|i| {
            (
                format!("filler/{i:03}"),
                Some(vec![i; usize::from(i % 5) + 1]),
            )
        })
        .collect();
    genesis.push((balance_key(&alice), Some(amount(1_000))));
    genesis.push((balance_key(&bob), Some(amount(250))));
    genesis.push(("token/usd".into(), Some(b"usd token".to_vec())));
    tree.commit(HEIGHT - 1, &genesis);
    let state_root = tree.commit(
        HEIGHT,
        &[
            (balance_key(&alice), Some(amount(750))),
            (balance_key(&bob), Some(amount(500))),
            ("filler/007".into(), None),
        ],
    );
    let (txs, receipts) = transactions(&chain);
    let tx_hashes: Vec<Hash> = txs.iter().map(|t| tx_hash(&t.tx)).collect();
    let receipt_hashes: Vec<Hash> = receipts.iter().map(receipt_hash).collect();
    let accounts: Vec<AccountId> = validators.iter().map(Keypair::account).collect();
    let header = BlockHeader {
        chain_id: chain,
        height: HEIGHT,
        parent: weft_crypto::sha256(b"web-vectors parent"),
        timestamp_ms: 1_700_000_000_123,
        proposer: accounts[0],
        tx_count: 3,
        tx_root: merkle_root(&tx_hashes),
        state_root,
        receipts_root: merkle_root(&receipt_hashes),
        validator_set_hash: validator_set_hash(&accounts),
    };
    // Exactly a quorum (3 of 4): one signature less must fail.
    let finalization = finalize(&header, &[&validators[0], &validators[1], &validators[2]]);
    World {
        validators,
        header,
        finalization,
        tree,
        txs,
        receipts,
    }
}

impl World {
    fn accounts(&self) -> Vec<AccountId> {
        self.validators.iter().map(Keypair::account).collect()
    }

    fn state_bundle(&self, key: &str) -> ProofBundle {
        let (value, proof) = self.tree.prove(key, HEIGHT);
        ProofBundle {
            reference: format!("weft://{}/{HEIGHT}/state/{key}", self.header.chain_id),
            header: self.header.clone(),
            finalization: self.finalization.clone(),
            proof: RecordProof::State {
                key: key.to_owned(),
                value: value.map(hex::encode),
                proof: hex::encode(proof.to_bytes()),
            },
            handoffs: Vec::new(),
        }
    }

    /// The bundle `prove_tx` (crates/weft-node/src/chain.rs) makes.
    fn tx_bundle(&self, index: usize) -> ProofBundle {
        let tx_hashes: Vec<Hash> = self.txs.iter().map(|t| tx_hash(&t.tx)).collect();
        let receipt_hashes: Vec<Hash> = self.receipts.iter().map(receipt_hash).collect();
        ProofBundle {
            reference: format!("weft://{}/{HEIGHT}/{index}", self.header.chain_id),
            header: self.header.clone(),
            finalization: self.finalization.clone(),
            proof: RecordProof::Transaction {
                tx_index: u32::try_from(index).unwrap(),
                transaction: Box::new(self.txs[index].clone()),
                receipt: Box::new(self.receipts[index].clone()),
                tx_proof: merkle_proof(&tx_hashes, index).unwrap(),
                receipt_proof: merkle_proof(&receipt_hashes, index).unwrap(),
                tx_bytes: Some(hex::encode(encode(&self.txs[index].tx))),
            },
            handoffs: Vec::new(),
        }
    }

    /// An absent key whose proof ends in an empty subtree (`leaf == None`) or, with `at_leaf`,
    /// at another key's leaf: the two shapes of non-inclusion proof.
    fn absent_key(&self, at_leaf: bool) -> String {
        (0..1000)
            .map(|i| format!("missing/{i}"))
            .find(|k| {
                let (value, proof) = self.tree.prove(k, HEIGHT);
                value.is_none() && proof.0.leaf().is_some() == at_leaf
            })
            .unwrap()
    }
}

// ---- the vectors --------------------------------------------------------------------------

fn anchor_json(chain: &str, validators: &[AccountId]) -> Value {
    json!({"chainId": chain, "validators": validators})
}

fn valid(name: &str, bundle: &ProofBundle, anchor: &Value) -> Value {
    json!({
        "name": name,
        "anchor": anchor,
        "bundle": bundle,
        "expect": {
            "ok": true,
            "height": bundle.header.height,
            "block_hash": block_hash(&bundle.header),
        },
    })
}

fn fails_at(name: &str, step: &str, bundle: impl serde::Serialize, anchor: &Value) -> Value {
    assert!(STEPS.contains(&step), "{step}");
    json!({
        "name": name,
        "anchor": anchor,
        "bundle": bundle,
        "expect": {"ok": false, "step": step},
    })
}

fn malformed(name: &str, bundle: Value, anchor: &Value) -> Value {
    json!({
        "name": name,
        "anchor": anchor,
        "bundle": bundle,
        "expect": {"ok": false, "step": null, "malformed": true},
    })
}

fn tampered(bundle: &ProofBundle, change: impl FnOnce(&mut ProofBundle)) -> ProofBundle {
    let mut b = bundle.clone();
    change(&mut b);
    b
}

fn state_parts(b: &mut ProofBundle) -> (&mut String, &mut Option<String>, &mut String) {
    match &mut b.proof {
        RecordProof::State { key, value, proof } => (key, value, proof),
        RecordProof::Transaction { .. } => unreachable!(),
    }
}

fn flip_hex(text: &mut String, byte: usize) {
    let mut bytes = hex::decode(&*text).unwrap();
    bytes[byte] ^= 0x01;
    *text = hex::encode(bytes);
}

fn bundle_vectors(w: &World) -> Vec<Value> {
    let accounts = w.accounts();
    let chain = w.header.chain_id.as_str();
    let anchor = anchor_json(chain, &accounts);
    let (alice, bob) = (key(21), key(22));
    let present = w.state_bundle(&balance_key(&alice));
    let absent_empty = w.state_bundle(&w.absent_key(false));
    let absent_leaf = w.state_bundle(&w.absent_key(true));
    let deleted = w.state_bundle("filler/007");
    let tx_ok = w.tx_bundle(0);
    let tx_failed = w.tx_bundle(1);
    let tx_last = w.tx_bundle(2);
    let with_tx =
        |b: &ProofBundle, change: &dyn Fn(&mut SignedTransaction, &mut Receipt, &mut String)| {
            tampered(b, |b| match &mut b.proof {
                RecordProof::Transaction {
                    transaction,
                    receipt,
                    tx_bytes,
                    ..
                } => change(transaction, receipt, tx_bytes.as_mut().unwrap()),
                RecordProof::State { .. } => unreachable!(),
            })
        };
    let mut reordered = accounts.clone();
    reordered.reverse();

    let mut v = vec![
        valid("state: a value", &present, &anchor),
        valid("state: absent key, empty subtree", &absent_empty, &anchor),
        valid(
            "state: absent key, another key's leaf",
            &absent_leaf,
            &anchor,
        ),
        valid("state: key deleted at this height", &deleted, &anchor),
        valid(
            "state: a short value",
            &w.state_bundle("filler/001"),
            &anchor,
        ),
        valid(
            "anchor lists the validators in another order",
            &present,
            &anchor_json(chain, &reordered),
        ),
        valid(
            "all four validators signed, one signature bad: still a quorum",
            &tampered(&present, |b| {
                b.finalization = finalize(&b.header, &w.validators.iter().collect::<Vec<_>>());
                b.finalization.signatures[3].signature.0[10] ^= 1;
            }),
            &anchor,
        ),
        valid(
            "finalized in a later epoch, views above 2^32 (multi-byte varints)",
            &tampered(&present, |b| {
                b.finalization = finalize_at(
                    &b.header,
                    (2, (1 << 32) + 5, (1 << 32) + 1),
                    &w.validators.iter().collect::<Vec<_>>(),
                );
            }),
            &anchor,
        ),
        valid(
            "finalized at the largest view a JSON number holds exactly (2^53 - 1)",
            &tampered(&present, |b| {
                b.finalization = finalize_at(
                    &b.header,
                    ((1 << 53) - 1, (1 << 53) - 1, (1 << 53) - 2),
                    &[&w.validators[1], &w.validators[2], &w.validators[3]],
                );
            }),
            &anchor,
        ),
        valid("transaction: success with receipt", &tx_ok, &anchor),
        valid("transaction: failed receipt", &tx_failed, &anchor),
        valid(
            "transaction: last of an odd block, co-signed",
            &tx_last,
            &anchor,
        ),
    ];

    // The state record.
    v.extend([
        fails_at(
            "state: value changed",
            "record proof",
            tampered(&present, |b| {
                *state_parts(b).1 = Some(hex::encode(amount(751)));
            }),
            &anchor,
        ),
        fails_at(
            "state: present value claimed absent",
            "record proof",
            tampered(&present, |b| *state_parts(b).1 = None),
            &anchor,
        ),
        fails_at(
            "state: absent key claimed present",
            "record proof",
            tampered(&absent_leaf, |b| *state_parts(b).1 = Some("00".into())),
            &anchor,
        ),
        fails_at(
            "state: key changed",
            "record proof",
            tampered(&present, |b| *state_parts(b).0 = balance_key(&bob)),
            &anchor,
        ),
        fails_at(
            "state: absent proof used for another absent key",
            "record proof",
            tampered(&absent_empty, |b| *state_parts(b).0 = "missing/x".into()),
            &anchor,
        ),
        fails_at(
            "state: proof sibling byte flipped",
            "record proof",
            tampered(&present, |b| {
                let proof = state_parts(b).2;
                // The last 65 bytes are the top sibling: a tag, then two hashes.
                let len = proof.len() / 2;
                assert_ne!(
                    &proof[2 * (len - 65)..2 * (len - 64)],
                    "00",
                    "top sibling is null"
                );
                flip_hex(proof, len - 1);
            }),
            &anchor,
        ),
        fails_at(
            "state: proof leaf value hash flipped",
            "record proof",
            tampered(&present, |b| flip_hex(state_parts(b).2, 40)),
            &anchor,
        ),
        fails_at(
            "state: proof option tag invalid",
            "record proof",
            tampered(&present, |b| {
                let proof = state_parts(b).2;
                proof.replace_range(0..2, "02");
            }),
            &anchor,
        ),
        fails_at(
            "state: proof truncated",
            "record proof",
            tampered(&present, |b| {
                let proof = state_parts(b).2;
                proof.truncate(proof.len() - 2);
            }),
            &anchor,
        ),
        fails_at(
            "state: proof with a trailing byte",
            "record proof",
            tampered(&present, |b| state_parts(b).2.push_str("00")),
            &anchor,
        ),
        fails_at(
            "state: value is not hex",
            "record proof",
            tampered(&present, |b| *state_parts(b).1 = Some("zz".into())),
            &anchor,
        ),
    ]);

    // The header, the certificate and the anchor.
    v.extend([
        fails_at(
            "header: state root changed",
            "block hash",
            tampered(&present, |b| b.header.state_root.0[0] ^= 1),
            &anchor,
        ),
        fails_at(
            "header: timestamp changed",
            "block hash",
            tampered(&present, |b| b.header.timestamp_ms += 1),
            &anchor,
        ),
        fails_at(
            "header: proposer changed",
            "block hash",
            tampered(&present, |b| b.header.proposer = accounts[1]),
            &anchor,
        ),
        fails_at(
            "header: state root replaced and certificate's block hash made to match",
            "finalization quorum",
            tampered(&present, |b| {
                b.header.state_root = Hash([7; 32]);
                b.finalization.block_hash = block_hash(&b.header);
            }),
            &anchor,
        ),
        fails_at(
            "header: height changed",
            "height",
            tampered(&present, |b| b.header.height += 1),
            &anchor,
        ),
        fails_at(
            "finalization: height changed",
            "height",
            tampered(&present, |b| b.finalization.height -= 1),
            &anchor,
        ),
        fails_at(
            "header: chain id changed",
            "chain",
            tampered(&present, |b| b.header.chain_id = name("other-chain")),
            &anchor,
        ),
        fails_at(
            "anchor: another chain",
            "chain",
            &present,
            &anchor_json("other-chain", &accounts),
        ),
        fails_at(
            "anchor: a validator missing",
            "validator set",
            &present,
            &anchor_json(chain, &accounts[..3]),
        ),
        fails_at(
            "anchor: an extra validator",
            "validator set",
            &present,
            &anchor_json(chain, &[accounts.clone(), vec![key(99).account()]].concat()),
        ),
        fails_at(
            "finalization: a signature byte flipped",
            "finalization quorum",
            tampered(&present, |b| {
                b.finalization.signatures[2].signature.0[0] ^= 0x80
            }),
            &anchor,
        ),
        fails_at(
            "finalization: too few signatures",
            "finalization quorum",
            tampered(&present, |b| {
                b.finalization.signatures.pop();
            }),
            &anchor,
        ),
        fails_at(
            "finalization: one validator signed twice",
            "finalization quorum",
            tampered(&present, |b| {
                b.finalization.signatures[2] = b.finalization.signatures[1].clone();
            }),
            &anchor,
        ),
        fails_at(
            "finalization: an outsider's valid signature counts for nothing",
            "finalization quorum",
            tampered(&present, |b| {
                b.finalization.signatures[2] = vote(
                    &key(99),
                    &b.header.chain_id,
                    &b.finalization,
                    &b.finalization.block_hash,
                );
            }),
            &anchor,
        ),
        fails_at(
            "finalization: a validator's signature over another block",
            "finalization quorum",
            tampered(&present, |b| {
                b.finalization.signatures[2] = vote(
                    &w.validators[2],
                    &b.header.chain_id,
                    &b.finalization,
                    &Hash([1; 32]),
                );
            }),
            &anchor,
        ),
        fails_at(
            "finalization: view changed",
            "finalization quorum",
            tampered(&present, |b| b.finalization.view += 1),
            &anchor,
        ),
        fails_at(
            "finalization: parent view changed",
            "finalization quorum",
            tampered(&present, |b| b.finalization.parent_view += 1),
            &anchor,
        ),
        fails_at(
            "finalization: epoch changed",
            "finalization quorum",
            tampered(&present, |b| b.finalization.epoch += 1),
            &anchor,
        ),
        fails_at(
            "finalization: view and parent view swapped",
            "finalization quorum",
            tampered(&present, |b| {
                let f = &mut b.finalization;
                (f.view, f.parent_view) = (f.parent_view, f.view);
            }),
            &anchor,
        ),
        fails_at(
            "finalization: votes signed under another chain's namespace",
            "finalization quorum",
            tampered(&present, |b| {
                let fin = b.finalization.clone();
                b.finalization.signatures = w.validators[..3]
                    .iter()
                    .map(|k| vote(k, &name("other-chain"), &fin, &fin.block_hash))
                    .collect();
            }),
            &anchor,
        ),
        fails_at(
            "finalization: votes over the old message (weft/block/v1 tag and block hash)",
            "finalization quorum",
            tampered(&present, |b| {
                let mut old = b"weft/block/v1\0".to_vec();
                old.extend_from_slice(b.finalization.block_hash.as_bytes());
                b.finalization.signatures = w.validators[..3]
                    .iter()
                    .map(|k| ValidatorSignature {
                        validator: k.account(),
                        signature: k.sign(&old),
                    })
                    .collect();
            }),
            &anchor,
        ),
        fails_at(
            "finalization: no signatures",
            "finalization quorum",
            tampered(&present, |b| b.finalization.signatures.clear()),
            &anchor,
        ),
        fails_at(
            "finalization: block hash changed",
            "block hash",
            tampered(&present, |b| b.finalization.block_hash.0[31] ^= 1),
            &anchor,
        ),
    ]);

    // A trusted set holding a small-order key: the identity point "signs" anything with
    // R = identity, S = 0 under a cofactorless check, and must not count.
    let weak = AccountId(
        hex::decode(SMALL_ORDER_KEYS[2])
            .unwrap()
            .try_into()
            .unwrap(),
    );
    let weak_set = [accounts[0], accounts[1], accounts[2], weak];
    let mut forged = SignatureBytes([0; 64]);
    forged.0[0] = 1;
    v.push(fails_at(
        "finalization: a small-order key in the trusted set forges the third vote",
        "finalization quorum",
        tampered(&present, |b| {
            b.header.validator_set_hash = validator_set_hash(&weak_set);
            b.finalization = finalize(&b.header, &[&w.validators[0], &w.validators[1]]);
            b.finalization.signatures.push(ValidatorSignature {
                validator: weak,
                signature: forged,
            });
        }),
        &anchor_json(chain, &weak_set),
    ));

    // The transaction record.
    v.extend([
        fails_at(
            "transaction: bytes changed (nonce)",
            "record proof",
            with_tx(&tx_ok, &|_, _, bytes| {
                // chain id (4 + 11 bytes), signer (32), then the nonce.
                flip_hex(bytes, 4 + 11 + 32);
            }),
            &anchor,
        ),
        fails_at(
            "transaction: bytes changed (memo)",
            "record proof",
            with_tx(&tx_ok, &|_, _, bytes| {
                let at = bytes.len() / 2 - 1;
                flip_hex(bytes, at);
            }),
            &anchor,
        ),
        fails_at(
            "transaction: shown nonce changed, bytes intact",
            "record proof",
            with_tx(&tx_ok, &|tx, _, _| tx.tx.nonce += 1),
            &anchor,
        ),
        fails_at(
            "transaction: shown expiry changed, bytes intact",
            "record proof",
            with_tx(&tx_ok, &|tx, _, _| tx.tx.expiry_height = 1_000),
            &anchor,
        ),
        fails_at(
            "transaction: shown signer changed, bytes intact",
            "record proof",
            with_tx(&tx_ok, &|tx, _, _| tx.tx.signer = key(22).account()),
            &anchor,
        ),
        fails_at(
            "transaction: bytes and shown transaction changed together",
            "record proof",
            with_tx(&tx_ok, &|tx, _, bytes| {
                tx.tx.memo = "rent!".into();
                *bytes = hex::encode(encode(&tx.tx));
            }),
            &anchor,
        ),
        fails_at(
            "transaction: not hex",
            "record proof",
            with_tx(&tx_ok, &|_, _, bytes| bytes.push('z')),
            &anchor,
        ),
        fails_at(
            "receipt: writes changed",
            "record proof",
            with_tx(&tx_ok, &|_, r, _| r.writes += 1),
            &anchor,
        ),
        fails_at(
            "receipt: failure shown as success",
            "record proof",
            with_tx(&tx_failed, &|_, r, _| r.status = TxStatus::Success),
            &anchor,
        ),
        fails_at(
            "receipt: error code changed",
            "record proof",
            with_tx(&tx_failed, &|_, r, _| {
                r.status = TxStatus::Failed {
                    code: ErrorCode::Frozen,
                    operation: Some(0),
                    message: "balance 500 is below 10000".into(),
                };
            }),
            &anchor,
        ),
        fails_at(
            "receipt: event attribute changed",
            "record proof",
            with_tx(&tx_last, &|_, r, _| {
                r.events[0].attributes[0].1 = "Grösse ✓ 雪".into();
            }),
            &anchor,
        ),
        fails_at(
            "receipt: for another transaction",
            "record proof",
            with_tx(&tx_ok, &|_, r, _| r.tx_hash = tx_hash(&w.txs[1].tx)),
            &anchor,
        ),
        fails_at(
            "transaction: proof index moved",
            "record proof",
            tampered(&tx_ok, |b| {
                if let RecordProof::Transaction {
                    tx_index, tx_proof, ..
                } = &mut b.proof
                {
                    *tx_index = 1;
                    tx_proof.index = 1;
                }
            }),
            &anchor,
        ),
        fails_at(
            "transaction: proof sibling changed",
            "record proof",
            tampered(&tx_last, |b| {
                if let RecordProof::Transaction { tx_proof, .. } = &mut b.proof {
                    tx_proof.siblings[0].0[5] ^= 1;
                }
            }),
            &anchor,
        ),
        fails_at(
            "transaction: tree size changed",
            "record proof",
            tampered(&tx_last, |b| {
                if let RecordProof::Transaction { tx_proof, .. } = &mut b.proof {
                    tx_proof.total = 4;
                }
            }),
            &anchor,
        ),
    ]);

    v.extend(handoff_vectors(&anchor));

    // Not bundles at all, for serde: the browser must refuse them without throwing.
    let good = serde_json::to_value(&present).unwrap();
    let without = |field: &str| {
        let mut b = good.clone();
        b.as_object_mut().unwrap().remove(field);
        b
    };
    let with = |pointer: &str, value: Value| {
        let mut b = good.clone();
        *b.pointer_mut(pointer).unwrap() = value;
        b
    };
    let with_handoffs = |b: &Value, handoffs: Value| {
        let mut b = b.clone();
        b["handoffs"] = handoffs;
        b
    };
    let governed_json = serde_json::to_value(governed().bundle(support::TIP)).unwrap();
    v.extend([
        malformed("malformed: not an object", json!("weft://x"), &anchor),
        malformed("malformed: null", Value::Null, &anchor),
        malformed("malformed: no header", without("header"), &anchor),
        malformed(
            "malformed: no finalization",
            without("finalization"),
            &anchor,
        ),
        malformed(
            "malformed: chain id not a name",
            with("/header/chain_id", json!("Web Vectors")),
            &anchor,
        ),
        malformed(
            "malformed: height negative",
            with("/header/height", json!(-5)),
            &anchor,
        ),
        malformed(
            "malformed: height a string",
            with("/header/height", json!("5")),
            &anchor,
        ),
        malformed(
            "malformed: state root too short",
            with("/header/state_root", json!("abcd")),
            &anchor,
        ),
        malformed(
            "malformed: signature not hex",
            with(
                "/finalization/signatures/0/signature",
                json!("xy".repeat(64)),
            ),
            &anchor,
        ),
        malformed(
            "malformed: view a string",
            with("/finalization/view", json!("300")),
            &anchor,
        ),
        malformed(
            "malformed: epoch negative",
            with("/finalization/epoch", json!(-1)),
            &anchor,
        ),
        malformed(
            "malformed: no parent view",
            {
                let mut b = good.clone();
                b["finalization"]
                    .as_object_mut()
                    .unwrap()
                    .remove("parent_view");
                b
            },
            &anchor,
        ),
        malformed(
            "malformed: unknown record kind",
            with("/proof/kind", json!("block")),
            &anchor,
        ),
        malformed(
            "malformed: unknown error code",
            {
                let mut b = serde_json::to_value(&tx_failed).unwrap();
                b["proof"]["receipt"]["code"] = json!("no_such_code");
                b
            },
            &anchor,
        ),
        malformed(
            "malformed: handoffs not a list",
            with_handoffs(&good, json!({})),
            &anchor,
        ),
        malformed(
            "malformed: handoffs null",
            with_handoffs(&good, Value::Null),
            &anchor,
        ),
        malformed(
            "malformed: a handoff without validators",
            {
                let mut b = governed_json.clone();
                b["handoffs"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("validators");
                b
            },
            &anchor,
        ),
        malformed(
            "malformed: a handoff validator not hex",
            {
                let mut b = governed_json.clone();
                b["handoffs"][1]["validators"][0] = json!("zz".repeat(32));
                b
            },
            &anchor,
        ),
        malformed(
            "malformed: a handoff without a header",
            {
                let mut b = governed_json.clone();
                b["handoffs"][0].as_object_mut().unwrap().remove("header");
                b
            },
            &anchor,
        ),
        malformed(
            "malformed: a handoff proof not a string",
            {
                let mut b = governed_json.clone();
                b["handoffs"][0]["proof"] = json!(17);
                b
            },
            &anchor,
        ),
        malformed(
            "malformed: tx index negative",
            {
                let mut b = serde_json::to_value(&tx_ok).unwrap();
                b["proof"]["tx_index"] = json!(-1);
                b
            },
            &anchor,
        ),
    ]);
    v
}

// ---- validator-set changes ----------------------------------------------------------------

/// The vectors' chain after governance changed its set twice: the genesis set (the anchor)
/// hands off after block 2 to a set it overlaps, which hands off after block 4 to a third.
fn governed() -> Governed {
    Governed::new(
        "web-vectors",
        [&[11, 12, 13, 14], &[13, 14, 31, 32, 33], &[41, 42, 43]],
    )
}

fn handoff_vectors(anchor: &Value) -> Vec<Value> {
    let g = governed();
    let full = g.bundle(support::TIP);
    let edit = |index: usize, change: &dyn Fn(&mut SetHandoff)| {
        tampered(&full, |b| change(&mut b.handoffs[index]))
    };
    // Every handoff failure is in the "validator set" step; `reason` pins which check failed.
    let fails = |label: &str, reason: &str, bundle: ProofBundle| {
        let mut v = fails_at(
            &format!("handoffs: {label}"),
            "validator set",
            bundle,
            anchor,
        );
        v["expect"]["reason"] = json!(reason);
        v
    };
    let retired = support::accounts(&g.sets[0]);
    vec![
        valid("handoffs: one validator-set change", &g.bundle(3), anchor),
        valid("handoffs: two validator-set changes", &full, anchor),
        valid(
            "handoffs: a block right after a change",
            &g.bundle(support::CHANGES[1] + 1),
            anchor,
        ),
        fails(
            "none, the header names a later set",
            "header",
            tampered(&full, |b| b.handoffs.clear()),
        ),
        fails(
            "the second change left out",
            "header",
            tampered(&full, |b| {
                b.handoffs.pop();
            }),
        ),
        fails(
            "the first change left out",
            "set at 4",
            tampered(&full, |b| {
                b.handoffs.remove(0);
            }),
        ),
        fails(
            "out of order",
            "set at 4",
            tampered(&full, |b| b.handoffs.reverse()),
        ),
        fails(
            "one repeated",
            "order at 2",
            tampered(&full, |b| b.handoffs.insert(1, g.handoff(2))),
        ),
        fails(
            "a handoff at the bundle's own height",
            "order at 4",
            g.bundle_with(4, vec![g.handoff(2), g.handoff(4)]),
        ),
        fails(
            "signed by the retired set",
            "quorum at 4",
            edit(1, &|h| {
                h.finalization = Governed::finalize_by(&h.header, &g.sets[0])
            }),
        ),
        fails(
            "header renamed to the retired set, which signs it",
            "set at 4",
            edit(1, &|h| {
                h.header.validator_set_hash = validator_set_hash(&retired);
                h.finalization = Governed::finalize_by(&h.header, &g.sets[0]);
            }),
        ),
        fails(
            "too few signatures",
            "quorum at 2",
            edit(0, &|h| {
                h.finalization.signatures.pop();
            }),
        ),
        fails(
            "an outsider's signature in the quorum",
            "quorum at 2",
            edit(0, &|h| {
                h.finalization.signatures[0] = vote(
                    &key(99),
                    &h.header.chain_id,
                    &h.finalization,
                    &h.finalization.block_hash,
                );
            }),
        ),
        fails(
            "header state root changed",
            "block hash at 2",
            edit(0, &|h| h.header.state_root.0[0] ^= 1),
        ),
        fails(
            "header changed and certificate's block hash made to match",
            "quorum at 2",
            edit(0, &|h| {
                h.header.state_root = g.header(3).state_root;
                h.finalization.block_hash = block_hash(&h.header);
            }),
        ),
        fails(
            "finalization height changed",
            "height at 4",
            edit(1, &|h| h.finalization.height += 1),
        ),
        fails(
            "another chain",
            "chain at 2",
            edit(0, &|h| h.header.chain_id = name("other-chain")),
        ),
        fails(
            "proof for other validators",
            "proof at 2",
            edit(0, &|h| h.validators = support::accounts(&g.sets[2])),
        ),
        fails(
            "a validator dropped from the proven set",
            "proof at 4",
            edit(1, &|h| {
                h.validators.pop();
            }),
        ),
        fails(
            "the set and its proof from another block",
            "proof at 2",
            edit(0, &|h| {
                let later = g.handoff(4);
                h.validators = later.validators;
                h.proof = later.proof;
            }),
        ),
        fails(
            "the proof of another key",
            "proof at 2",
            edit(0, &|h| {
                h.proof = hex::encode(g.tree.prove("filler/001", 2).1.to_bytes());
            }),
        ),
        fails(
            "proof byte flipped",
            "proof at 4",
            edit(1, &|h| {
                let len = h.proof.len() / 2;
                flip_hex(&mut h.proof, len - 1);
            }),
        ),
        fails(
            "proof not hex",
            "proof at 2",
            edit(0, &|h| h.proof.push('z')),
        ),
        fails("proof empty", "proof at 2", edit(0, &|h| h.proof.clear())),
        fails(
            "set unsorted",
            "next set at 2",
            edit(0, &|h| h.validators.reverse()),
        ),
        fails(
            "set repeats a validator",
            "next set at 2",
            edit(0, &|h| {
                let first = h.validators[0];
                h.validators.insert(0, first);
            }),
        ),
        fails(
            "set empty",
            "next set at 2",
            edit(0, &|h| h.validators.clear()),
        ),
        fails_at(
            "handoffs: the block signed by the set before the last change",
            "finalization quorum",
            tampered(&full, |b| {
                b.finalization = Governed::finalize_by(&b.header, &g.sets[1]);
            }),
            anchor,
        ),
    ]
}

fn request_vectors() -> Vec<Value> {
    let rfc8032_seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    let cases: [(&str, &str, &str, Option<&str>, u64); 6] = [
        (
            rfc8032_seed,
            "GET",
            "/v1/state/balance/usd/d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            Some("prove=true"),
            1_700_000_000,
        ),
        (rfc8032_seed, "get", "/v1/accounts", None, 0),
        (rfc8032_seed, "get", "/v1/accounts", Some(""), 0),
        (
            &"07".repeat(32),
            "GET",
            "/v1/transactions/00ff",
            Some("prove=true&height=12"),
            1_234_567_890,
        ),
        (
            &"ff".repeat(32),
            "Get",
            "/v1/dids/did%3Aweft%3Abank-a",
            Some("q=%C3%A9t%C3%A9"),
            99_999_999_999,
        ),
        (
            &"2a".repeat(32),
            "GET",
            "/v1/private/records/r-1/payload",
            None,
            1_712_345_678,
        ),
    ];
    cases
        .iter()
        .map(|(seed, method, path, query, created)| {
            let keypair = Keypair::from_secret_hex(seed).unwrap();
            let (input, signature) = sign_request(&keypair, method, path, *query, *created);
            json!({
                "seed": seed,
                "account": keypair.account(),
                "method": method,
                "path": path,
                "query": query,
                "created": created,
                "signature_input": input,
                "signature": signature,
            })
        })
        .collect()
}

/// The consensus engine's finalize message for a few rounds. The numbers are decimal strings,
/// so the browser checks its varints up to u64::MAX too.
fn finalize_message_vectors() -> Vec<Value> {
    let long_chain = "c".repeat(64);
    let cases: [(&str, u64, u64, u64, Hash); 6] = [
        ("test-chain", 0, 300, 299, Hash([7; 32])),
        ("web-vectors", EPOCH, VIEW, PARENT_VIEW, Hash([0; 32])),
        ("a", 0, 0, 0, Hash([0xff; 32])),
        ("web-vectors", 127, 128, 127, Hash([1; 32])),
        (
            &long_chain,
            1 << 35,
            (1 << 53) + 1,
            1 << 53,
            weft_crypto::sha256(b"finalize"),
        ),
        (
            "bank-a.b_c",
            u64::MAX,
            u64::MAX,
            u64::MAX - 1,
            Hash([0x80; 32]),
        ),
    ];
    cases
        .iter()
        .map(|(chain, epoch, view, parent_view, hash)| {
            json!({
                "chain_id": chain,
                "epoch": epoch.to_string(),
                "view": view.to_string(),
                "parent_view": parent_view.to_string(),
                "block_hash": hash,
                "message": hex::encode(finalize_message(&name(chain), *epoch, *view, *parent_view, hash)),
            })
        })
        .collect()
}

fn vectors() -> Value {
    let w = world();
    json!({
        "about": "Generated by crates/weft-crypto/tests/web_vectors.rs (WEFT_BLESS=1 to regenerate); \
                  checked by that test and by web/test/vectors.mjs. Bundles: expect.ok, and for \
                  failures the step that must fail (null with malformed: serde refuses the bundle). \
                  finalize_messages: the bytes each validator signs (u64s as decimal strings).",
        "steps": STEPS,
        "requests": request_vectors(),
        "finalize_messages": finalize_message_vectors(),
        "bundles": bundle_vectors(&w),
        "error_codes": ErrorCode::ALL
            .iter()
            .map(|c| json!({"name": c.as_str(), "number": c.number(), "borsh": hex::encode(encode(c))}))
            .collect::<Vec<_>>(),
        "small_order_keys": SMALL_ORDER_KEYS,
        "valid_keys": w.accounts(),
    })
}

// ---- the checks -----------------------------------------------------------------------------

fn pinned() -> Value {
    let text = std::fs::read_to_string(PATH)
        .expect("fixtures/web-vectors.json (create with WEFT_BLESS=1)");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn web_vectors_are_pinned() {
    let current = serde_json::to_string_pretty(&vectors()).unwrap() + "\n";
    if std::env::var_os("WEFT_BLESS").is_some() {
        std::fs::write(PATH, &current).unwrap();
    }
    let text = std::fs::read_to_string(PATH)
        .expect("fixtures/web-vectors.json (create with WEFT_BLESS=1)");
    assert!(
        text == current,
        "a format the browser rebuilds changed; see this file's header"
    );
}

fn step_of(err: &BundleError) -> &'static str {
    match err {
        BundleError::WrongChain { .. } => "chain",
        BundleError::UntrustedValidatorSet
        | BundleError::HandoffOutOfOrder { .. }
        | BundleError::HandoffWrongChain { .. }
        | BundleError::HandoffUntrustedSet { .. }
        | BundleError::HandoffHeightMismatch { .. }
        | BundleError::HandoffFinalization { .. }
        | BundleError::InvalidHandoffSet { .. }
        | BundleError::HandoffProofFailed { .. } => "validator set",
        BundleError::HeightMismatch { .. } => "height",
        BundleError::Finalization(SignatureError::WrongBlock { .. }) => "block hash",
        BundleError::Finalization(_) => "finalization quorum",
        BundleError::MalformedProof
        | BundleError::StateProofFailed
        | BundleError::TxProofFailed
        | BundleError::ReceiptProofFailed
        | BundleError::ReceiptMismatch
        | BundleError::TxBytesMismatch => "record proof",
    }
}

/// Which check of the "validator set" step failed, as `expect.reason` names it (verify.js
/// reports the same on its failed step).
fn reason_of(err: &BundleError) -> Option<String> {
    Some(match err {
        BundleError::UntrustedValidatorSet => "header".to_owned(),
        BundleError::HandoffOutOfOrder { height } => format!("order at {height}"),
        BundleError::HandoffWrongChain { height } => format!("chain at {height}"),
        BundleError::HandoffUntrustedSet { height } => format!("set at {height}"),
        BundleError::HandoffHeightMismatch { height, .. } => format!("height at {height}"),
        BundleError::HandoffFinalization {
            height,
            error: SignatureError::WrongBlock { .. },
        } => format!("block hash at {height}"),
        BundleError::HandoffFinalization { height, .. } => format!("quorum at {height}"),
        BundleError::InvalidHandoffSet { height } => format!("next set at {height}"),
        BundleError::HandoffProofFailed { height } => format!("proof at {height}"),
        _ => return None,
    })
}

#[test]
fn rust_agrees_with_every_pinned_vector() {
    let file = pinned();
    let mut steps_failed = std::collections::BTreeSet::new();
    let (mut valid, mut malformed, mut across_changes) = (0, 0, 0);
    for v in file["bundles"].as_array().unwrap() {
        let label = v["name"].as_str().unwrap();
        let anchor = TrustAnchor {
            chain_id: serde_json::from_value(v["anchor"]["chainId"].clone()).unwrap(),
            validators: serde_json::from_value(v["anchor"]["validators"].clone()).unwrap(),
        };
        let expect = &v["expect"];
        let parsed = serde_json::from_value::<ProofBundle>(v["bundle"].clone());
        if expect["malformed"] == json!(true) {
            assert!(parsed.is_err(), "{label}: serde accepted it");
            malformed += 1;
            continue;
        }
        let bundle = parsed.unwrap_or_else(|e| panic!("{label}: {e}"));
        match verify_bundle(&bundle, &anchor) {
            Ok(record) => {
                assert_eq!(expect["ok"], json!(true), "{label}: verified");
                assert_eq!(expect["height"], json!(record.height), "{label}");
                assert_eq!(expect["block_hash"], json!(record.block_hash), "{label}");
                valid += 1;
                if !bundle.handoffs.is_empty() {
                    across_changes += 1;
                }
            }
            Err(e) => {
                assert_eq!(expect["ok"], json!(false), "{label}: {e}");
                assert_eq!(expect["step"], json!(step_of(&e)), "{label}: {e}");
                if let Some(reason) = expect.get("reason") {
                    assert_eq!(reason, &json!(reason_of(&e)), "{label}: {e}");
                }
                steps_failed.insert(step_of(&e));
            }
        }
    }
    // The file exercises every step's failure, valid bundles of both kinds, and malformed input.
    assert_eq!(steps_failed, STEPS.into_iter().collect());
    assert!(
        valid >= 8 && malformed >= 10 && across_changes >= 2,
        "{valid} valid ({across_changes} across validator-set changes), {malformed} malformed"
    );
}

#[test]
fn request_vectors_sign_and_verify() {
    let file = pinned();
    let requests = file["requests"].as_array().unwrap();
    assert!(requests.len() >= 5);
    for r in requests {
        let keypair = Keypair::from_secret_hex(r["seed"].as_str().unwrap()).unwrap();
        assert_eq!(r["account"], json!(keypair.account()));
        let (method, path) = (r["method"].as_str().unwrap(), r["path"].as_str().unwrap());
        let query = r["query"].as_str();
        let created = r["created"].as_u64().unwrap();
        let (input, signature) = sign_request(&keypair, method, path, query, created);
        assert_eq!(r["signature_input"], json!(input));
        assert_eq!(r["signature"], json!(signature));
        let signer = verify_request(method, path, query, &input, &signature, created, 300).unwrap();
        assert_eq!(signer.account, keypair.account());
    }
    // RFC 8032 §7.1 test 1: the seed's public key, so the browser's key import is checked too.
    assert_eq!(
        requests[0]["account"],
        json!("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    );
}

#[test]
fn finalize_message_vectors_hold() {
    let file = pinned();
    let cases = file["finalize_messages"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for c in cases {
        let number = |field: &str| c[field].as_str().unwrap().parse::<u64>().unwrap();
        let chain = name(c["chain_id"].as_str().unwrap());
        let hash: Hash = serde_json::from_value(c["block_hash"].clone()).unwrap();
        let message = finalize_message(
            &chain,
            number("epoch"),
            number("view"),
            number("parent_view"),
            &hash,
        );
        assert_eq!(c["message"], json!(hex::encode(message)), "{c}");
    }
    // The vector in weft-crypto's unit test (hash.rs), worked by hand.
    assert_eq!(
        cases[0]["message"],
        json!(concat!(
            "18776566742f746573742d636861696e5f46494e414c495a4500ac02ab02",
            "0707070707070707070707070707070707070707070707070707070707070707"
        ))
    );
}

#[test]
fn error_codes_and_key_lists_hold() {
    let file = pinned();
    let codes = file["error_codes"].as_array().unwrap();
    assert_eq!(codes.len(), ErrorCode::ALL.len());
    for (c, code) in codes.iter().zip(ErrorCode::ALL) {
        assert_eq!(c["name"], json!(code.as_str()));
        assert_eq!(c["borsh"], json!(hex::encode(encode(code))));
    }
    for k in file["small_order_keys"].as_array().unwrap() {
        let key: AccountId = serde_json::from_value(k.clone()).unwrap();
        assert!(!is_valid_public_key(&key), "{k} accepted");
    }
    for k in file["valid_keys"].as_array().unwrap() {
        let key: AccountId = serde_json::from_value(k.clone()).unwrap();
        assert!(is_valid_public_key(&key), "{k} refused");
    }
}

#[test]
fn tx_bytes_must_be_the_transaction_shown() {
    let w = world();
    let anchor = TrustAnchor {
        chain_id: w.header.chain_id.clone(),
        validators: w.accounts(),
    };
    let good = w.tx_bundle(0);
    assert!(verify_bundle(&good, &anchor).is_ok());
    // Bundles from before `tx_bytes` existed still verify in Rust.
    let mut old = good.clone();
    if let RecordProof::Transaction { tx_bytes, .. } = &mut old.proof {
        *tx_bytes = None;
    }
    assert!(verify_bundle(&old, &anchor).is_ok());
    let json = serde_json::to_value(&old).unwrap();
    assert!(json["proof"].get("tx_bytes").is_none());
    let mut other = good.clone();
    if let RecordProof::Transaction { tx_bytes, .. } = &mut other.proof {
        *tx_bytes = Some(hex::encode(encode(&w.txs[1].tx)));
    }
    assert_eq!(
        verify_bundle(&other, &anchor),
        Err(BundleError::TxBytesMismatch)
    );
    let mut odd = good.clone();
    if let RecordProof::Transaction { tx_bytes, .. } = &mut odd.proof {
        tx_bytes.as_mut().unwrap().push('0');
    }
    assert_eq!(
        verify_bundle(&odd, &anchor),
        Err(BundleError::MalformedProof)
    );
}
