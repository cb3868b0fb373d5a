//! The store through its public API: commits, reads, proofs, refusals, reopening, history.

use std::collections::BTreeMap;

use proptest::prelude::*;
use redb::{ReadableDatabase, ReadableTable};
use tempfile::TempDir;
use weft_crypto::{Keypair, block_hash, merkle_root, receipt_hash, sign_transaction, tx_hash};
use weft_storage::{BlockCommit, ChainHead, StorageError, Store};
use weft_types::{
    AccountId, Amount, Block, BlockHeader, ErrorCode, Event, Finalization, Hash, Name, Operation,
    Receipt, SignedTransaction, Transaction, Transfer, TxStatus,
    state::{StateReader, WriteSet},
};

fn open() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).unwrap();
    (dir, store)
}

fn account(n: u8) -> AccountId {
    AccountId([n; 32])
}

fn transfer(seed: u8, nonce: u64, to: u8) -> SignedTransaction {
    let key = Keypair::from_seed([seed; 32]);
    let tx = Transaction {
        chain_id: Name::new("test").unwrap(),
        signer: key.account(),
        nonce,
        expiry_height: 1_000,
        operations: vec![Operation::Transfer(Transfer {
            symbol: Name::new("eur").unwrap(),
            to: account(to),
            amount: Amount(5),
        })],
        memo: String::new(),
    };
    sign_transaction(tx, &[&key])
}

fn event(topic: &str, accounts: &[u8]) -> Event {
    Event {
        topic: topic.to_string(),
        accounts: accounts.iter().copied().map(account).collect(),
        attributes: vec![("amount".into(), "5".into())],
    }
}

fn receipt(stx: &SignedTransaction, events: Vec<Event>) -> Receipt {
    Receipt {
        tx_hash: tx_hash(&stx.tx),
        status: TxStatus::Success,
        events,
        writes: 2,
    }
}

fn writes(pairs: &[(&str, Option<&str>)]) -> WriteSet {
    pairs
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
        .collect()
}

/// A block at `height` on top of `parent`, carrying `root`.
fn block(
    height: u64,
    parent: Hash,
    root: Hash,
    txs: Vec<SignedTransaction>,
    rs: &[Receipt],
) -> Block {
    let tx_hashes: Vec<Hash> = txs.iter().map(|t| tx_hash(&t.tx)).collect();
    let receipt_hashes: Vec<Hash> = rs.iter().map(receipt_hash).collect();
    Block {
        header: BlockHeader {
            chain_id: Name::new("test").unwrap(),
            height,
            parent,
            timestamp_ms: 1_700_000_000_000 + height * 1_000,
            proposer: account(200),
            tx_count: txs.len() as u32,
            tx_root: merkle_root(&tx_hashes),
            state_root: root,
            receipts_root: merkle_root(&receipt_hashes),
            validator_set_hash: Hash::ZERO,
        },
        transactions: txs,
    }
}

fn finalization(height: u64, hash: Hash) -> Finalization {
    let v = Keypair::from_seed([100; 32]);
    let chain = Name::new("test").unwrap();
    // Views run ahead of heights (nullified views finalize nothing); epoch stays 0.
    let (view, parent_view) = (2 * height + 2, 2 * height);
    Finalization {
        height,
        block_hash: hash,
        epoch: 0,
        view,
        parent_view,
        signatures: vec![v.sign_finalize(&chain, 0, view, parent_view, &hash)],
    }
}

/// Prepares and commits the next block with these writes and (tx, events) pairs.
fn commit_next(store: &Store, ws: &WriteSet, txs: Vec<(SignedTransaction, Vec<Event>)>) -> Block {
    let head = store.head().unwrap();
    let height = head.map_or(0, |h| h.height + 1);
    let parent = head.map_or(Hash::ZERO, |h| h.block_hash);
    let state = store.prepare_state(height, ws).unwrap();
    let receipts: Vec<Receipt> = txs.iter().map(|(t, e)| receipt(t, e.clone())).collect();
    let b = block(
        height,
        parent,
        state.root,
        txs.into_iter().map(|(t, _)| t).collect(),
        &receipts,
    );
    let hash = block_hash(&b.header);
    let fin = finalization(height, hash);
    store
        .commit(BlockCommit {
            block: &b,
            block_hash: hash,
            finalization: Some(&fin),
            receipts: &receipts,
            state,
        })
        .unwrap();
    b
}

/// Genesis plus four blocks: balances move, one key is deleted, events name accounts.
fn sample_chain(store: &Store) -> Vec<Block> {
    let mut blocks = vec![commit_next(
        store,
        &writes(&[
            ("height", Some("0")),
            ("bal/a", Some("100")),
            ("bal/b", Some("0")),
        ]),
        vec![],
    )];
    for h in 1..=4u64 {
        let a = (100 - 5 * h).to_string();
        let b = (5 * h).to_string();
        let hs = h.to_string();
        let mut pairs = vec![
            ("height", Some(hs.as_str())),
            ("bal/a", Some(a.as_str())),
            ("bal/b", Some(b.as_str())),
        ];
        if h == 3 {
            pairs.push(("temp", Some("x")));
        }
        if h == 4 {
            pairs.push(("temp", None));
        }
        let txs = vec![
            (
                transfer(1, h, 2),
                vec![event("token.transfer", &[1, 2]), event("token.fee", &[1])],
            ),
            (transfer(3, h, 1), vec![event("token.transfer", &[3, 1, 3])]),
        ];
        blocks.push(commit_next(store, &writes(&pairs), txs));
    }
    blocks
}

#[test]
fn empty_store_has_no_head_and_no_state() {
    let (_dir, store) = open();
    assert_eq!(store.head().unwrap(), None);
    assert_eq!(store.block(0).unwrap(), None);
    let snap = store.snapshot().unwrap();
    assert_eq!(snap.version(), None);
    assert_eq!(snap.get(b"x").unwrap(), None);
    assert_eq!(snap.state_root(0).unwrap(), None);
    assert!(matches!(
        snap.get_with_proof(b"x", 0),
        Err(StorageError::UnknownVersion {
            requested: 0,
            latest: None
        })
    ));
}

#[test]
fn a_committed_chain_reads_back() {
    let (_dir, store) = open();
    let blocks = sample_chain(&store);
    let last = blocks.last().unwrap();
    let head = store.head().unwrap().unwrap();
    assert_eq!(
        head,
        ChainHead {
            height: 4,
            block_hash: block_hash(&last.header),
            state_root: last.header.state_root,
            timestamp_ms: last.header.timestamp_ms,
        }
    );
    for b in &blocks {
        let h = b.header.height;
        let hash = block_hash(&b.header);
        assert_eq!(store.block(h).unwrap().as_ref(), Some(b));
        assert_eq!(store.block_by_hash(&hash).unwrap().as_ref(), Some(b));
        assert_eq!(store.block_height(&hash).unwrap(), Some(h));
        assert_eq!(store.finalization(h).unwrap(), Some(finalization(h, hash)));
        let receipts = store.receipts(h).unwrap();
        assert_eq!(receipts.len(), b.transactions.len());
        assert_eq!(
            merkle_root(&receipts.iter().map(receipt_hash).collect::<Vec<_>>()),
            b.header.receipts_root
        );
        for (i, stx) in b.transactions.iter().enumerate() {
            let th = tx_hash(&stx.tx);
            assert_eq!(store.tx_location(&th).unwrap(), Some((h, i as u32)));
            assert_eq!(
                store.receipt(h, i as u32).unwrap().as_ref(),
                Some(&receipts[i])
            );
        }
        assert_eq!(store.receipt(h, 99).unwrap(), None);
    }
    assert_eq!(store.block(5).unwrap(), None);
    assert_eq!(store.block_by_hash(&Hash([9; 32])).unwrap(), None);
    assert_eq!(store.tx_location(&Hash([9; 32])).unwrap(), None);
    assert!(store.receipts(5).unwrap().is_empty());

    let snap = store.snapshot().unwrap();
    assert_eq!(snap.version(), Some(4));
    assert_eq!(snap.get(b"bal/a").unwrap(), Some(b"80".to_vec()));
    assert_eq!(snap.get(b"bal/b").unwrap(), Some(b"20".to_vec()));
    assert_eq!(snap.get(b"temp").unwrap(), None);
    assert_eq!(snap.get(b"never").unwrap(), None);
    // Through the execution-facing trait too.
    let reader: &dyn StateReader = &snap;
    assert_eq!(reader.get(b"height").unwrap(), Some(b"4".to_vec()));
    for b in &blocks {
        assert_eq!(
            snap.state_root(b.header.height).unwrap(),
            Some(b.header.state_root)
        );
    }
    assert_eq!(snap.state_root(5).unwrap(), None);
}

#[test]
fn events_are_indexed_by_account_and_topic_in_order() {
    let (_dir, store) = open();
    sample_chain(&store);

    // Account 1: in blocks 1..=4, tx 0 has events 0 and 1, tx 1 has event 0.
    let all = store.events_by_account(&account(1), 0, 100).unwrap();
    assert_eq!(all.len(), 12);
    let positions: Vec<(u64, u32, u32)> = all
        .iter()
        .map(|e| (e.height, e.tx_index, e.event_index))
        .collect();
    let mut sorted = positions.clone();
    sorted.sort();
    assert_eq!(positions, sorted, "ascending");
    assert_eq!(positions[..3], [(1, 0, 0), (1, 0, 1), (1, 1, 0)]);
    let first = &all[0];
    let b1 = store.block(1).unwrap().unwrap();
    assert_eq!(first.tx_hash, tx_hash(&b1.transactions[0].tx));
    assert_eq!(first.event, event("token.transfer", &[1, 2]));

    // Account 3 is listed twice in one event but indexed once.
    assert_eq!(
        store.events_by_account(&account(3), 0, 100).unwrap().len(),
        4
    );
    // Account 2 only receives.
    assert_eq!(
        store.events_by_account(&account(2), 0, 100).unwrap().len(),
        4
    );
    assert!(
        store
            .events_by_account(&account(9), 0, 100)
            .unwrap()
            .is_empty()
    );

    // from_height and limit page through.
    let page = store.events_by_account(&account(1), 3, 2).unwrap();
    assert_eq!(
        page.iter()
            .map(|e| (e.height, e.tx_index, e.event_index))
            .collect::<Vec<_>>(),
        vec![(3, 0, 0), (3, 0, 1)]
    );
    assert!(
        store
            .events_by_account(&account(1), 0, 0)
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .events_by_account(&account(1), 5, 10)
            .unwrap()
            .is_empty()
    );

    let transfers = store.events_by_topic("token.transfer", 0, 100).unwrap();
    assert_eq!(transfers.len(), 8);
    assert!(transfers.iter().all(|e| e.event.topic == "token.transfer"));
    let fees = store.events_by_topic("token.fee", 2, 100).unwrap();
    assert_eq!(
        fees.iter().map(|e| e.height).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    // Topics match exactly, never by prefix.
    assert!(store.events_by_topic("token", 0, 100).unwrap().is_empty());
}

#[test]
fn proofs_verify_against_header_roots() {
    let (_dir, store) = open();
    let blocks = sample_chain(&store);
    let snap = store.snapshot().unwrap();
    for b in &blocks {
        let v = b.header.height;
        let root = b.header.state_root;
        for key in [
            &b"bal/a"[..],
            b"bal/b",
            b"height",
            b"temp",
            b"never-written",
        ] {
            let (value, proof) = snap.get_with_proof(key, v).unwrap();
            assert_eq!(value, snap.get_at(key, v).unwrap());
            assert!(proof.verify(&root, key, value.as_deref()), "{key:?}@{v}");
            // Round-trips through its canonical bytes.
            let decoded = weft_crypto::StateProof::from_bytes(&proof.to_bytes()).unwrap();
            assert!(decoded.verify(&root, key, value.as_deref()));
            match &value {
                Some(val) => {
                    let mut tampered = val.clone();
                    tampered.push(b'!');
                    assert!(!proof.verify(&root, key, Some(&tampered)));
                    assert!(!proof.verify(&root, key, None), "presence is not absence");
                }
                None => assert!(!proof.verify(&root, key, Some(b"forged"))),
            }
        }
    }
    // A proof is bound to its root: bal/a differs at heights 1 and 2.
    let (value, proof) = snap.get_with_proof(b"bal/a", 1).unwrap();
    assert!(!proof.verify(&blocks[2].header.state_root, b"bal/a", value.as_deref()));
    // Absent and deleted keys prove absence.
    let (value, proof) = snap.get_with_proof(b"temp", 4).unwrap();
    assert_eq!(value, None);
    assert!(proof.verify(&blocks[4].header.state_root, b"temp", None));
    assert!(matches!(
        snap.get_with_proof(b"bal/a", 5),
        Err(StorageError::UnknownVersion {
            requested: 5,
            latest: Some(4)
        })
    ));
}

#[test]
fn history_by_height() {
    let (_dir, store) = open();
    sample_chain(&store);
    let snap = store.snapshot().unwrap();
    for h in 0..=4u64 {
        assert_eq!(
            snap.get_at(b"bal/a", h).unwrap(),
            Some((100 - 5 * h).to_string().into_bytes())
        );
        assert_eq!(
            snap.get_at(b"height", h).unwrap(),
            Some(h.to_string().into_bytes())
        );
    }
    assert_eq!(snap.get_at(b"temp", 2).unwrap(), None);
    assert_eq!(snap.get_at(b"temp", 3).unwrap(), Some(b"x".to_vec()));
    assert_eq!(snap.get_at(b"temp", 4).unwrap(), None);
    assert!(matches!(
        snap.get_at(b"temp", 5),
        Err(StorageError::UnknownVersion { .. })
    ));
}

#[test]
fn snapshots_are_isolated_from_later_commits() {
    let (_dir, store) = open();
    commit_next(&store, &writes(&[("k", Some("0"))]), vec![]);
    let old = store.snapshot().unwrap();
    commit_next(&store, &writes(&[("k", Some("1"))]), vec![]);
    assert_eq!(old.version(), Some(0));
    assert_eq!(old.get(b"k").unwrap(), Some(b"0".to_vec()));
    assert_eq!(old.state_root(1).unwrap(), None);
    let new = store.snapshot().unwrap();
    assert_eq!(new.get(b"k").unwrap(), Some(b"1".to_vec()));
}

#[test]
fn empty_write_sets_keep_the_root_and_stay_provable() {
    let (_dir, store) = open();
    // Even genesis may write nothing: the root is the empty tree's.
    let g = commit_next(&store, &WriteSet::new(), vec![]);
    let empty_root = g.header.state_root;
    let snap = store.snapshot().unwrap();
    let (v, proof) = snap.get_with_proof(b"k", 0).unwrap();
    assert_eq!(v, None);
    assert!(proof.verify(&empty_root, b"k", None));

    let b1 = commit_next(&store, &writes(&[("k", Some("v"))]), vec![]);
    let b2 = commit_next(&store, &WriteSet::new(), vec![]);
    assert_eq!(b2.header.state_root, b1.header.state_root);
    // Deleting a key that does not exist changes nothing either.
    let b3 = commit_next(&store, &writes(&[("ghost", None)]), vec![]);
    assert_eq!(b3.header.state_root, b1.header.state_root);
    // Deleting the last key gives back the empty root.
    let b4 = commit_next(&store, &writes(&[("k", None)]), vec![]);
    assert_eq!(b4.header.state_root, empty_root);
    let b5 = commit_next(&store, &writes(&[("k", Some("again"))]), vec![]);

    let snap = store.snapshot().unwrap();
    for (b, expect) in [
        (&b2, Some(&b"v"[..])),
        (&b3, Some(b"v")),
        (&b4, None),
        (&b5, Some(b"again")),
    ] {
        let h = b.header.height;
        assert_eq!(snap.state_root(h).unwrap(), Some(b.header.state_root));
        let (value, proof) = snap.get_with_proof(b"k", h).unwrap();
        assert_eq!(value.as_deref(), expect);
        assert!(proof.verify(&b.header.state_root, b"k", expect));
    }
}

#[test]
fn prepare_state_is_deterministic_and_writes_nothing() {
    let (_dir, store) = open();
    commit_next(&store, &writes(&[("a", Some("1"))]), vec![]);
    let ws = writes(&[("b", Some("2")), ("a", None), ("c", Some("3"))]);
    let p1 = store.prepare_state(1, &ws).unwrap();
    let p2 = store.prepare_state(1, &ws).unwrap();
    assert_eq!(p1.root, p2.root);
    assert_eq!(p1.version, 1);
    drop((p1, p2));
    // Nothing was written by preparing.
    assert_eq!(store.head().unwrap().unwrap().height, 0);
    let snap = store.snapshot().unwrap();
    assert_eq!(snap.get(b"b").unwrap(), None);
    assert_eq!(snap.get(b"a").unwrap(), Some(b"1".to_vec()));
    // Only the next version can be prepared.
    for wrong in [0, 2, 7] {
        assert!(matches!(
            store.prepare_state(wrong, &ws),
            Err(StorageError::NotNext { expected: 1, got }) if got == wrong
        ));
    }
}

/// Asserts that nothing of a refused block reached the store.
fn assert_untouched(store: &Store, head: &ChainHead, stray_tx: &SignedTransaction) {
    assert_eq!(store.head().unwrap().as_ref(), Some(head));
    assert_eq!(store.block(head.height + 1).unwrap(), None);
    assert_eq!(store.tx_location(&tx_hash(&stray_tx.tx)).unwrap(), None);
    assert!(store.receipts(head.height + 1).unwrap().is_empty());
    assert!(store.events_by_topic("stray", 0, 10).unwrap().is_empty());
    let snap = store.snapshot().unwrap();
    assert_eq!(snap.get(b"stray").unwrap(), None);
    assert_eq!(snap.state_root(head.height + 1).unwrap(), None);
}

#[test]
fn refused_commits_write_nothing() {
    let (_dir, store) = open();
    sample_chain(&store);
    let head = store.head().unwrap().unwrap();
    let ws = writes(&[("stray", Some("1"))]);
    let stx = transfer(7, 0, 8);
    let receipts = vec![receipt(&stx, vec![event("stray", &[7])])];
    let good = |state_root: Hash| {
        block(
            head.height + 1,
            head.block_hash,
            state_root,
            vec![stx.clone()],
            &receipts,
        )
    };

    type Case = Box<dyn Fn(&mut Block, &mut Hash, &mut Vec<Receipt>, &mut Option<Finalization>)>;
    let cases: Vec<(&str, Case)> = vec![
        ("height", Box::new(|b, _, _, _| b.header.height += 1)),
        ("height behind", Box::new(|b, _, _, _| b.header.height -= 1)),
        (
            "parent",
            Box::new(|b, _, _, _| b.header.parent = Hash([1; 32])),
        ),
        (
            "root",
            Box::new(|b, _, _, _| b.header.state_root = Hash([2; 32])),
        ),
        ("hash", Box::new(|_, h, _, _| *h = Hash([3; 32]))),
        ("receipts", Box::new(|_, _, r, _| r.clear())),
        (
            "finalization",
            Box::new(|_, _, _, f| *f = Some(finalization(4, Hash([4; 32])))),
        ),
    ];
    for (name, mutate) in cases {
        let state = store.prepare_state(head.height + 1, &ws).unwrap();
        let mut b = good(state.root);
        let mut rs = receipts.clone();
        let mut fin = None;
        let mut hash = Hash::ZERO;
        // Mutations of the header happen before hashing, except the "hash" case.
        mutate(&mut b, &mut hash, &mut rs, &mut fin);
        if hash == Hash::ZERO {
            hash = block_hash(&b.header);
        }
        let err = store
            .commit(BlockCommit {
                block: &b,
                block_hash: hash,
                finalization: fin.as_ref(),
                receipts: &rs,
                state,
            })
            .unwrap_err();
        assert!(err.is_refusal(), "{name}: {err}");
        match name {
            "height" | "height behind" => assert!(matches!(err, StorageError::NotNext { .. })),
            "parent" => assert!(matches!(err, StorageError::ParentMismatch { .. })),
            "root" => assert!(matches!(err, StorageError::RootMismatch { .. })),
            "hash" => assert!(matches!(err, StorageError::BlockHashMismatch { .. })),
            "receipts" => assert!(matches!(err, StorageError::ReceiptCountMismatch { .. })),
            "finalization" => {
                assert!(matches!(err, StorageError::FinalizationMismatch { .. }))
            }
            _ => unreachable!(),
        }
        assert_untouched(&store, &head, &stx);
    }

    // A state prepared for another version is refused even with a matching header: prepare
    // it on a second store whose head is lower.
    let (_dir2, other) = open();
    for _ in 0..4 {
        commit_next(&other, &WriteSet::new(), vec![]);
    }
    let foreign = other.prepare_state(4, &ws).unwrap();
    let b = good(foreign.root);
    let err = store
        .commit(BlockCommit {
            block: &b,
            block_hash: block_hash(&b.header),
            finalization: None,
            receipts: &receipts,
            state: foreign,
        })
        .unwrap_err();
    assert!(matches!(
        err,
        StorageError::VersionMismatch {
            height: 5,
            version: 4
        }
    ));
    assert_untouched(&store, &head, &stx);

    // A state prepared on an older head cannot be committed after the head moved.
    let stale = store.prepare_state(head.height + 1, &ws).unwrap();
    commit_next(&store, &writes(&[("other", Some("1"))]), vec![]);
    let b = block(
        head.height + 1,
        head.block_hash,
        stale.root,
        vec![stx.clone()],
        &receipts,
    );
    let err = store
        .commit(BlockCommit {
            block: &b,
            block_hash: block_hash(&b.header),
            finalization: None,
            receipts: &receipts,
            state: stale,
        })
        .unwrap_err();
    assert!(matches!(
        err,
        StorageError::NotNext {
            expected: 6,
            got: 5
        }
    ));

    // And the store still takes the right block afterwards.
    let state = store.prepare_state(6, &ws).unwrap();
    let head = store.head().unwrap().unwrap();
    let b = block(6, head.block_hash, state.root, vec![stx.clone()], &receipts);
    store
        .commit(BlockCommit {
            block: &b,
            block_hash: block_hash(&b.header),
            finalization: None,
            receipts: &receipts,
            state,
        })
        .unwrap();
    assert_eq!(store.tx_location(&tx_hash(&stx.tx)).unwrap(), Some((6, 0)));
    assert_eq!(store.finalization(6).unwrap(), None);
}

#[test]
fn genesis_must_be_height_zero_with_zero_parent() {
    let (_dir, store) = open();
    let state = store
        .prepare_state(0, &writes(&[("k", Some("v"))]))
        .unwrap();
    let mut b = block(0, Hash([1; 32]), state.root, vec![], &[]);
    let err = store
        .commit(BlockCommit {
            block: &b,
            block_hash: block_hash(&b.header),
            finalization: None,
            receipts: &[],
            state,
        })
        .unwrap_err();
    assert!(matches!(err, StorageError::ParentMismatch { .. }));
    let state = store
        .prepare_state(0, &writes(&[("k", Some("v"))]))
        .unwrap();
    b.header.parent = Hash::ZERO;
    b.header.height = 1;
    let err = store
        .commit(BlockCommit {
            block: &b,
            block_hash: block_hash(&b.header),
            finalization: None,
            receipts: &[],
            state,
        })
        .unwrap_err();
    assert!(matches!(
        err,
        StorageError::NotNext {
            expected: 0,
            got: 1
        }
    ));
    assert_eq!(store.head().unwrap(), None);
}

#[test]
fn reopening_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (blocks, head) = {
        let store = Store::open(dir.path()).unwrap();
        let blocks = sample_chain(&store);
        // A prepared but never committed state must leave no trace.
        let _abandoned = store
            .prepare_state(5, &writes(&[("ghost", Some("1"))]))
            .unwrap();
        let head = store.head().unwrap().unwrap();
        (blocks, head)
        // Dropped here without any close or flush: commits were durable when they returned.
    };
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.head().unwrap(), Some(head));
    for b in &blocks {
        assert_eq!(store.block(b.header.height).unwrap().as_ref(), Some(b));
    }
    assert_eq!(
        store.events_by_account(&account(1), 0, 100).unwrap().len(),
        12
    );
    let snap = store.snapshot().unwrap();
    assert_eq!(snap.get(b"ghost").unwrap(), None);
    assert_eq!(snap.get(b"bal/a").unwrap(), Some(b"80".to_vec()));
    let (v, proof) = snap.get_with_proof(b"bal/b", 2).unwrap();
    assert!(proof.verify(&blocks[2].header.state_root, b"bal/b", v.as_deref()));
    drop(snap);
    // And the chain continues where it stopped.
    let b5 = commit_next(&store, &writes(&[("ghost", Some("now"))]), vec![]);
    assert_eq!(b5.header.parent, head.block_hash);
    assert_eq!(
        store.snapshot().unwrap().get(b"ghost").unwrap(),
        Some(b"now".to_vec())
    );
}

#[test]
fn failed_receipts_and_large_blocks_are_stored() {
    let (_dir, store) = open();
    commit_next(&store, &WriteSet::new(), vec![]);
    let txs: Vec<(SignedTransaction, Vec<Event>)> = (0..300u64)
        .map(|n| {
            (
                transfer((n % 7) as u8 + 1, n, 9),
                vec![event("token.transfer", &[9])],
            )
        })
        .collect();
    let ws: WriteSet = (0..900u32)
        .map(|i| (format!("k/{i}").into_bytes(), Some(vec![i as u8; 40])))
        .collect();
    let state = store.prepare_state(1, &ws).unwrap();
    let mut receipts: Vec<Receipt> = txs.iter().map(|(t, e)| receipt(t, e.clone())).collect();
    receipts[7].status = TxStatus::Failed {
        code: ErrorCode::InsufficientBalance,
        operation: Some(0),
        message: "balance 0 < 5".into(),
    };
    receipts[7].events.clear();
    let head = store.head().unwrap().unwrap();
    let b = block(
        1,
        head.block_hash,
        state.root,
        txs.into_iter().map(|(t, _)| t).collect(),
        &receipts,
    );
    store
        .commit(BlockCommit {
            block: &b,
            block_hash: block_hash(&b.header),
            finalization: None,
            receipts: &receipts,
            state,
        })
        .unwrap();
    assert_eq!(store.receipts(1).unwrap(), receipts);
    assert!(!store.receipt(1, 7).unwrap().unwrap().is_success());
    assert_eq!(
        store
            .events_by_account(&account(9), 0, 1_000)
            .unwrap()
            .len(),
        299
    );
    let snap = store.snapshot().unwrap();
    assert_eq!(snap.get(b"k/899").unwrap(), Some(vec![899u32 as u8; 40]));
}

#[test]
fn corrupt_records_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        sample_chain(&store);
    }
    // Damage some records behind the store's back.
    {
        let db = redb::Database::create(dir.path().join("weft.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut blocks: redb::Table<&[u8], &[u8]> = txn
                .open_table(redb::TableDefinition::new("blocks"))
                .unwrap();
            blocks
                .insert(2u64.to_be_bytes().as_slice(), &b"garbage"[..])
                .unwrap();
            let mut receipts: redb::Table<&[u8], &[u8]> = txn
                .open_table(redb::TableDefinition::new("receipts"))
                .unwrap();
            let mut k = 1u64.to_be_bytes().to_vec();
            k.extend_from_slice(&0u32.to_be_bytes());
            receipts.insert(k.as_slice(), &[0xff; 3][..]).unwrap();
            // Garble every tree node: reads and proofs must fail cleanly.
            let mut nodes: redb::Table<&[u8], &[u8]> = txn
                .open_table(redb::TableDefinition::new("jmt_nodes"))
                .unwrap();
            let keys: Vec<Vec<u8>> = nodes
                .range::<&[u8]>(..)
                .unwrap()
                .map(|e| e.unwrap().0.value().to_vec())
                .collect();
            for k in keys {
                nodes.insert(k.as_slice(), &[7u8; 5][..]).unwrap();
            }
        }
        txn.commit().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert!(matches!(store.block(2), Err(StorageError::Corrupt(_))));
    assert!(matches!(store.receipts(1), Err(StorageError::Corrupt(_))));
    assert!(matches!(
        store.events_by_account(&account(1), 0, 10),
        Err(StorageError::Corrupt(_))
    ));
    let snap = store.snapshot().unwrap();
    // jmt reports an unreadable root as a missing one, so this surfaces as a tree error.
    assert!(matches!(
        snap.get_with_proof(b"bal/a", 3),
        Err(StorageError::Corrupt(_) | StorageError::Tree(_))
    ));
    assert!(
        store
            .prepare_state(5, &writes(&[("x", Some("1"))]))
            .is_err()
    );
    // Values are stored apart from nodes, so plain reads still work.
    assert_eq!(snap.get(b"bal/a").unwrap(), Some(b"80".to_vec()));
}

#[test]
fn a_newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    {
        let db = redb::Database::create(dir.path().join("weft.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut meta: redb::Table<&str, &[u8]> =
                txn.open_table(redb::TableDefinition::new("meta")).unwrap();
            meta.insert("format", 99u32.to_be_bytes().as_slice())
                .unwrap();
        }
        txn.commit().unwrap();
    }
    assert!(matches!(
        Store::open(dir.path()),
        Err(StorageError::UnsupportedFormat {
            found: 99,
            supported: 2
        })
    ));
}

fn listed(store: &Store, prefix: &str, after: Option<&str>, limit: usize) -> Vec<String> {
    store
        .snapshot()
        .unwrap()
        .keys_with_prefix(prefix.as_bytes(), after.map(str::as_bytes), limit)
        .unwrap()
        .into_iter()
        .map(|k| String::from_utf8(k).unwrap())
        .collect()
}

#[test]
fn keys_list_by_prefix_in_order_and_deleted_keys_leave_the_list() {
    let (_dir, store) = open();
    commit_next(
        &store,
        &writes(&[
            ("token/usd", Some("1")),
            ("token/eur", Some("1")),
            ("token/eur/meters", Some("1")),
            ("tokens-other", Some("1")),
            ("asset/a", Some("1")),
        ]),
        vec![],
    );
    commit_next(
        &store,
        &writes(&[("token/chf", Some("1")), ("token/usd", None)]),
        vec![],
    );
    assert_eq!(
        listed(&store, "token/", None, 10),
        ["token/chf", "token/eur", "token/eur/meters"]
    );
    // Paging: after is exclusive, limit bounds the page.
    assert_eq!(listed(&store, "token/", None, 1), ["token/chf"]);
    assert_eq!(
        listed(&store, "token/", Some("token/chf"), 10),
        ["token/eur", "token/eur/meters"]
    );
    assert_eq!(
        listed(&store, "token/", Some("token/zzz"), 10),
        Vec::<String>::new()
    );
    // An `after` before the prefix starts at the prefix.
    assert_eq!(listed(&store, "token/", Some("a"), 10).len(), 3);
    assert_eq!(listed(&store, "", None, 100).len(), 5);
    // Re-creating a deleted key lists it again.
    commit_next(&store, &writes(&[("token/usd", Some("2"))]), vec![]);
    assert_eq!(listed(&store, "token/u", None, 10), ["token/usd"]);
}

/// A store of format 1 (a `preimages` table of every key ever written, by hash) is migrated
/// on open: the key index holds exactly the keys with a value at the head.
#[test]
fn a_format_1_store_is_migrated_to_the_key_index() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        commit_next(
            &store,
            &writes(&[("a/1", Some("x")), ("a/2", Some("y")), ("b/1", Some("z"))]),
            vec![],
        );
        commit_next(&store, &writes(&[("a/2", None)]), vec![]);
    }
    {
        // Rewrite it as format 1 would have left it.
        let db = redb::Database::create(dir.path().join("weft.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let index = redb::TableDefinition::<&[u8], &[u8]>::new("state_keys");
            txn.delete_table(index).unwrap();
            let mut pre: redb::Table<&[u8], &[u8]> = txn
                .open_table(redb::TableDefinition::new("preimages"))
                .unwrap();
            for key in ["a/1", "a/2", "b/1"] {
                pre.insert(
                    weft_crypto::state_key_hash(key.as_bytes()).0.as_slice(),
                    key.as_bytes(),
                )
                .unwrap();
            }
            let mut meta: redb::Table<&str, &[u8]> =
                txn.open_table(redb::TableDefinition::new("meta")).unwrap();
            meta.insert("format", 1u32.to_be_bytes().as_slice())
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(listed(&store, "", None, 10), ["a/1", "b/1"]);
    assert_eq!(
        store.snapshot().unwrap().get(b"a/1").unwrap(),
        Some(b"x".to_vec())
    );
    drop(store);
    // Migrated once: the old table is gone and the format is current.
    let db = redb::Database::create(dir.path().join("weft.redb")).unwrap();
    let txn = db.begin_read().unwrap();
    assert!(
        txn.open_table(redb::TableDefinition::<&[u8], &[u8]>::new("preimages"))
            .is_err()
    );
    let meta = txn
        .open_table(redb::TableDefinition::<&str, &[u8]>::new("meta"))
        .unwrap();
    assert_eq!(
        meta.get("format").unwrap().unwrap().value(),
        2u32.to_be_bytes().as_slice()
    );
}

/// Random write sets over several versions: reads match a plain map, and each root equals the
/// root of the same final state built from scratch in one version of a fresh store.
fn key_strategy() -> impl Strategy<Value = Vec<u8>> {
    // A small key space so versions overwrite and delete each other's keys.
    (0u8..40).prop_map(|k| format!("key/{k}").into_bytes())
}

fn write_set_strategy() -> impl Strategy<Value = WriteSet> {
    prop::collection::btree_map(
        key_strategy(),
        prop::option::weighted(0.75, prop::collection::vec(any::<u8>(), 0..24)),
        0..20,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn state_matches_a_model_and_roots_are_path_independent(
        versions in prop::collection::vec(write_set_strategy(), 1..6)
    ) {
        let (_dir, store) = open();
        let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut roots = Vec::new();
        for ws in &versions {
            let b = commit_next(&store, ws, vec![]);
            for (k, v) in ws {
                match v {
                    Some(v) => { model.insert(k.clone(), v.clone()); }
                    None => { model.remove(k); }
                }
            }
            roots.push((b.header.state_root, model.clone()));
            let snap = store.snapshot().unwrap();
            for k in 0u8..40 {
                let key = format!("key/{k}").into_bytes();
                prop_assert_eq!(snap.get(&key).unwrap(), model.get(&key).cloned());
            }
            // The key index lists exactly the model's keys, in order.
            let listed = snap.keys_with_prefix(b"key/", None, 100).unwrap();
            prop_assert_eq!(listed, model.keys().cloned().collect::<Vec<_>>());
        }
        let snap = store.snapshot().unwrap();
        for (version, (root, state)) in roots.iter().enumerate() {
            // The same state written in one go into a fresh store has the same root.
            let (_d2, fresh) = open();
            let all: WriteSet = state.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
            prop_assert_eq!(fresh.prepare_state(0, &all).unwrap().root, *root);
            // And history and proofs agree with the model at every version.
            for k in 0u8..40 {
                let key = format!("key/{k}").into_bytes();
                let expect = state.get(&key).cloned();
                prop_assert_eq!(snap.get_at(&key, version as u64).unwrap(), expect.clone());
                let (v, proof) = snap.get_with_proof(&key, version as u64).unwrap();
                prop_assert_eq!(&v, &expect);
                prop_assert!(proof.verify(root, &key, expect.as_deref()));
            }
        }
    }
}

#[test]
fn both_tree_update_paths_agree() {
    // Upsert-only write sets take jmt's batch path; a deletion forces the per-key path. A
    // deletion of a key that does not exist changes no state, so both stores must agree.
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    let base: WriteSet = (0..300u32)
        .map(|i| (format!("k/{i}").into_bytes(), Some(vec![1; 8])))
        .collect();
    let mut with_delete = base.clone();
    with_delete.insert(b"absent".to_vec(), None);
    let ra = commit_next(&a, &base, vec![]).header.state_root;
    let rb = commit_next(&b, &with_delete, vec![]).header.state_root;
    assert_eq!(ra, rb);
    let update: WriteSet = (0..600u32)
        .step_by(3)
        .map(|i| (format!("k/{i}").into_bytes(), Some(vec![2; 8])))
        .collect();
    let mut update_with_delete = update.clone();
    update_with_delete.insert(b"also-absent".to_vec(), None);
    let ra = commit_next(&a, &update, vec![]).header.state_root;
    let rb = commit_next(&b, &update_with_delete, vec![])
        .header
        .state_root;
    assert_eq!(ra, rb);
    // Then a real deletion on top of batch-built nodes, and an insert on top of that.
    let del = writes(&[("k/1", None), ("k/2", None)]);
    let ra = commit_next(&a, &del, vec![]).header.state_root;
    let rb = commit_next(&b, &del, vec![]).header.state_root;
    assert_eq!(ra, rb);
    let ins = writes(&[("k/1", Some("back"))]);
    assert_eq!(
        commit_next(&a, &ins, vec![]).header.state_root,
        commit_next(&b, &ins, vec![]).header.state_root
    );
    let snap = a.snapshot().unwrap();
    let root = a.head().unwrap().unwrap().state_root;
    for key in [&b"k/1"[..], b"k/2", b"k/3", b"k/599"] {
        let (v, proof) = snap.get_with_proof(key, 3).unwrap();
        assert!(proof.verify(&root, key, v.as_deref()));
    }
}

#[test]
fn a_process_that_dies_after_committing_loses_nothing() {
    // The child half: commit a chain, then die without unwinding or dropping anything, so redb
    // gets no clean shutdown and must recover on the next open.
    const CHILD: &str = "WEFT_STORAGE_TEST_CRASH_DIR";
    if let Ok(dir) = std::env::var(CHILD) {
        let store = Store::open(std::path::Path::new(&dir)).unwrap();
        sample_chain(&store);
        std::process::abort();
    }
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_process_that_dies_after_committing_loses_nothing",
            "--test-threads=1",
        ])
        .env(CHILD, dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must have aborted");

    let store = Store::open(dir.path()).unwrap();
    let head = store.head().unwrap().unwrap();
    assert_eq!(head.height, 4);
    let b4 = store.block(4).unwrap().unwrap();
    assert_eq!(block_hash(&b4.header), head.block_hash);
    assert_eq!(
        store.events_by_account(&account(1), 0, 100).unwrap().len(),
        12
    );
    let snap = store.snapshot().unwrap();
    assert_eq!(snap.get(b"bal/a").unwrap(), Some(b"80".to_vec()));
    let (v, proof) = snap.get_with_proof(b"bal/b", 4).unwrap();
    assert!(proof.verify(&head.state_root, b"bal/b", v.as_deref()));
    drop(snap);
    // The chain continues from the recovered head.
    let b5 = commit_next(&store, &writes(&[("after", Some("crash"))]), vec![]);
    assert_eq!(b5.header.parent, head.block_hash);
}

#[test]
fn handles_can_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Store>();
    send_sync::<weft_storage::Snapshot>();
    send_sync::<weft_storage::PreparedState>();
    send_sync::<StorageError>();
}
