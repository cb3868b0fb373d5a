//! Determinism: a block built by one node and re-executed by another gives the same hashes
//! and state roots, and replaying the stored chain from genesis reproduces every state root.

use std::{collections::BTreeMap, time::Duration};

use proptest::prelude::*;
use weft_crypto::{Keypair, sign_transaction};
use weft_node::{Chain, Node, NodeConfig, replay::replay};
use weft_storage::Store;
use weft_types::{
    Amount, Burn, Finalization, Genesis, GenesisAccount, GenesisOrganization, GenesisToken,
    GenesisValidator, Name, Operation, SignedTransaction, Transaction, Transfer,
};

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn keys() -> (Keypair, Vec<Keypair>) {
    (
        Keypair::from_seed([100; 32]),
        (1..=6u8).map(|i| Keypair::from_seed([i; 32])).collect(),
    )
}

fn genesis(validator: &Keypair, members: &[Keypair]) -> Genesis {
    let mut roles = BTreeMap::new();
    roles.insert(name("admin"), vec!["*".to_owned()]);
    roles.insert(
        name("member"),
        vec!["token.transfer".to_owned(), "token.burn".to_owned()],
    );
    let mut accounts = vec![GenesisAccount {
        account: validator.account(),
        organization: name("ops"),
        roles: vec![name("admin")],
    }];
    // The last member is never registered: its transactions must fail without a trace.
    accounts.extend(members[..members.len() - 1].iter().map(|k| GenesisAccount {
        account: k.account(),
        organization: name("ops"),
        roles: vec![name("member")],
    }));
    Genesis {
        chain_id: name("det"),
        genesis_time_ms: 1_700_000_000_000,
        validators: vec![GenesisValidator {
            account: validator.account(),
            organization: name("ops"),
        }],
        organizations: vec![GenesisOrganization {
            id: name("ops"),
            display_name: "Ops".into(),
        }],
        accounts,
        roles,
        tokens: vec![GenesisToken {
            symbol: name("t"),
            display_name: "T".into(),
            decimals: 0,
            issuer: validator.account(),
            max_supply: None,
            balances: members
                .iter()
                .take(3)
                .map(|k| (k.account(), Amount(500)))
                .collect(),
        }],
        epoch_length: weft_types::DEFAULT_EPOCH_LENGTH,
        governance: None,
    }
}

/// Random operations: transfers (some overdrafts), burns, some with stale or future nonces.
fn block_txs(
    spec: &[(usize, usize, u128, bool, i8)],
    members: &[Keypair],
    nonces: &mut [u64],
) -> Vec<SignedTransaction> {
    spec.iter()
        .map(|&(from, to, amount, burn, nonce_skew)| {
            let k = &members[from];
            let op = if burn {
                Operation::Burn(Burn {
                    symbol: name("t"),
                    amount: Amount(amount),
                })
            } else {
                Operation::Transfer(Transfer {
                    symbol: name("t"),
                    to: members[to].account(),
                    amount: Amount(amount),
                })
            };
            let nonce = nonces[from].saturating_add_signed(i64::from(nonce_skew));
            if nonce_skew == 0 {
                nonces[from] += 1;
            }
            sign_transaction(
                Transaction {
                    chain_id: name("det"),
                    signer: k.account(),
                    nonce,
                    expiry_height: 1000,
                    operations: vec![op],
                    memo: String::new(),
                },
                &[k],
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn a_second_node_reexecutes_to_the_same_chain_and_replay_agrees(
        blocks in prop::collection::vec(
            prop::collection::vec((0usize..6, 0usize..6, 0u128..400, any::<bool>(), -1i8..=1), 0..12),
            1..8,
        )
    ) {
        let (validator, members) = keys();
        let g = genesis(&validator, &members);
        let dir_a = tempfile::tempdir().unwrap();
        let dir_b = tempfile::tempdir().unwrap();
        let a = Chain::open(Store::open(dir_a.path()).unwrap(), &g).unwrap();
        let b = Chain::open(Store::open(dir_b.path()).unwrap(), &g).unwrap();
        prop_assert_eq!(a.head().unwrap(), b.head().unwrap());
        let mut nonces = vec![0u64; members.len()];
        let mut roots = Vec::new();
        for (i, spec) in blocks.iter().enumerate() {
            let txs = block_txs(spec, &members, &mut nonces);
            let executed = a.build(txs, 1_700_000_001_000 + i as u64 * 1000, validator.account()).unwrap();
            // Resync the model's nonces from what actually committed (failed txs consume).
            let block = executed.block.clone();
            let h = block.header.height;
            let fin = Finalization { height: h, block_hash: executed.hash, epoch: 0, view: h, parent_view: h - 1, signatures: vec![validator.sign_finalize(&g.chain_id, 0, h, h - 1, &executed.hash)] };
            a.commit(executed, Some(&fin)).unwrap();
            let verified = b.verify(block).unwrap();
            b.commit(verified, Some(&fin)).unwrap();
            prop_assert_eq!(a.head().unwrap(), b.head().unwrap());
            roots.push(a.head().unwrap().state_root);
            let snapshot = a.store().snapshot().unwrap();
            for (j, k) in members.iter().enumerate() {
                nonces[j] = weft_execution::next_nonce(&snapshot, &k.account()).unwrap();
            }
        }
        let scratch = tempfile::tempdir().unwrap();
        let report = replay(a.store(), &g, scratch.path()).unwrap();
        prop_assert_eq!(report.height, blocks.len() as u64);
        prop_assert_eq!(report.state_root, *roots.last().unwrap());
        // Every historical root of the replayed store equals the original.
        let replayed_store = Store::open(scratch.path()).unwrap();
        let replayed = replayed_store.snapshot().unwrap();
        let original = a.store().snapshot().unwrap();
        for h in 0..=report.height {
            prop_assert_eq!(replayed.state_root(h).unwrap(), original.state_root(h).unwrap());
        }
    }
}

#[test]
fn a_tampered_block_is_refused_by_a_verifier_and_changes_nothing() {
    let (validator, members) = keys();
    let g = genesis(&validator, &members);
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let a = Chain::open(Store::open(dir_a.path()).unwrap(), &g).unwrap();
    let b = Chain::open(Store::open(dir_b.path()).unwrap(), &g).unwrap();
    let mut nonces = vec![0u64; members.len()];
    let txs = block_txs(
        &[(0, 1, 10, false, 0), (1, 2, 5, false, 0)],
        &members,
        &mut nonces,
    );
    let executed = a
        .build(txs, 1_700_000_001_000, validator.account())
        .unwrap();
    let block = executed.block.clone();
    let head_before = b.head().unwrap();
    let mut bad_root = block.clone();
    bad_root.header.state_root.0[0] ^= 1;
    let mut bad_sig = block.clone();
    bad_sig.transactions[0].signatures[0].signature.0[5] ^= 1;
    let mut swapped = block.clone();
    swapped.transactions.swap(0, 1);
    let mut stale_time = block.clone();
    stale_time.header.timestamp_ms = g.genesis_time_ms;
    let mut wrong_parent = block.clone();
    wrong_parent.header.parent.0[0] ^= 1;
    let mut wrong_height = block.clone();
    wrong_height.header.height = 5;
    for bad in [
        bad_root,
        bad_sig,
        swapped,
        stale_time,
        wrong_parent,
        wrong_height,
    ] {
        assert!(b.verify(bad).is_err());
        assert_eq!(b.head().unwrap(), head_before);
    }
    // A finalization by a non-validator is refused at commit.
    let verified = b.verify(block.clone()).unwrap();
    let impostor = Keypair::from_seed([55; 32]);
    let fake = Finalization {
        height: 1,
        block_hash: verified.hash,
        epoch: 0,
        view: 1,
        parent_view: 0,
        signatures: vec![impostor.sign_finalize(&g.chain_id, 0, 1, 0, &verified.hash)],
    };
    assert!(b.commit(verified, Some(&fake)).is_err());
    assert_eq!(b.head().unwrap(), head_before);
}

#[test]
fn a_single_validator_commits_through_the_engine_and_replay_matches() {
    let (validator, members) = keys();
    let g = genesis(&validator, &members);
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path(), g.clone());
    config.validator_key = Some(validator.clone());
    config.max_block_txs = 7;
    let node = Node::start(config).unwrap();
    let mut blocks = node.subscribe();
    let mut nonces = vec![0u64; members.len()];
    let mut hashes = Vec::new();
    for round in 0..10 {
        let spec: Vec<_> = (0..3)
            .map(|i| (i, (i + round) % 3, 1u128, false, 0i8))
            .collect();
        for tx in block_txs(&spec, &members, &mut nonces) {
            hashes.push(node.submit(tx).unwrap());
        }
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while hashes.iter().any(|h| {
        !matches!(
            node.lookup(h).unwrap(),
            weft_node::TxLookup::Committed { .. }
        )
    }) {
        assert!(
            std::time::Instant::now() < deadline,
            "transactions did not commit"
        );
        let _ = blocks.try_recv();
        std::thread::sleep(Duration::from_millis(10));
    }
    let head = node.chain().head().unwrap();
    // Blocks are capped at max_block_txs, so 30 transactions need at least 5 blocks.
    assert!(head.height >= 5, "{head:?}");
    node.shutdown();
    let store = node.chain().store();
    let scratch = tempfile::tempdir().unwrap();
    let report = replay(store, &g, scratch.path()).unwrap();
    assert_eq!(
        (report.height, report.state_root),
        (head.height, head.state_root)
    );
    assert_eq!(report.transactions, 30);
}
