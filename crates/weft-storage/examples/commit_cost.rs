//! What does storing one large block cost? `prepare_state` + `commit` of a block of 5,000
//! transfers (≈15,000 state writes, 5,000 transactions and receipts, 10,000 event index
//! entries) on top of a state of ≈100,000 keys, durable (fsync'd) commits.
//!
//! Run: `cargo run --release -p weft-storage --example commit_cost [-- <dir>]`
//! (a timing tool, not a test: nothing here asserts on time).

// Timing output is the point of this tool.
#![allow(clippy::float_arithmetic)]

use std::time::{Duration, Instant};

use weft_crypto::{Keypair, block_hash, merkle_root, receipt_hash, sign_transaction, tx_hash};
use weft_storage::{BlockCommit, Store};
use weft_types::{
    AccountId, Amount, Block, BlockHeader, Event, Hash, Name, Operation, Receipt,
    SignedTransaction, Transaction, Transfer, TxStatus, state::WriteSet,
};

const ACCOUNTS: u64 = 50_000;
const TRANSFERS: u64 = 5_000;
const BLOCKS: u64 = 5;

fn account(i: u64) -> AccountId {
    let mut a = [0u8; 32];
    a[..8].copy_from_slice(&i.to_be_bytes());
    AccountId(weft_crypto::sha256(&a).0)
}

fn balance_key(i: u64) -> Vec<u8> {
    format!("token/balance/eur/{}", account(i).to_hex()).into_bytes()
}

fn nonce_key(i: u64) -> Vec<u8> {
    format!("account/nonce/{}", account(i).to_hex()).into_bytes()
}

/// Deterministic pseudo-random stream (splitmix64).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn header(
    height: u64,
    parent: Hash,
    state_root: Hash,
    txs: &[SignedTransaction],
    rs: &[Receipt],
) -> BlockHeader {
    let tx_hashes: Vec<Hash> = txs.iter().map(|t| tx_hash(&t.tx)).collect();
    let receipt_hashes: Vec<Hash> = rs.iter().map(receipt_hash).collect();
    BlockHeader {
        chain_id: Name::new("bench").expect("name"),
        height,
        parent,
        timestamp_ms: 1_700_000_000_000 + height,
        proposer: account(0),
        tx_count: txs.len() as u32,
        tx_root: merkle_root(&tx_hashes),
        state_root,
        receipts_root: merkle_root(&receipt_hashes),
        validator_set_hash: Hash::ZERO,
    }
}

fn commit(
    store: &Store,
    ws: &WriteSet,
    txs: Vec<SignedTransaction>,
    rs: &[Receipt],
) -> (Duration, Duration) {
    let head = store.head().expect("head");
    let height = head.map_or(0, |h| h.height + 1);
    let parent = head.map_or(Hash::ZERO, |h| h.block_hash);
    let t0 = Instant::now();
    let state = store.prepare_state(height, ws).expect("prepare");
    let prepare = t0.elapsed();
    let block = Block {
        header: header(height, parent, state.root, &txs, rs),
        transactions: txs,
    };
    let hash = block_hash(&block.header);
    let t1 = Instant::now();
    store
        .commit(BlockCommit {
            block: &block,
            block_hash: hash,
            finalization: None,
            receipts: rs,
            state,
        })
        .expect("commit");
    (prepare, t1.elapsed())
}

fn main() {
    let base = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::tempdir_in(base).expect("tempdir");
    let store = Store::open(dir.path()).expect("open");

    // Genesis: a balance and a nonce for every account (≈100k keys), in one version.
    let genesis: WriteSet = (0..ACCOUNTS)
        .flat_map(|i| {
            [
                (balance_key(i), Some(1_000_000u128.to_le_bytes().to_vec())),
                (nonce_key(i), Some(0u64.to_le_bytes().to_vec())),
            ]
        })
        .collect();
    let (p, c) = commit(&store, &genesis, vec![], &[]);
    println!(
        "genesis: {} keys, prepare {:?}, commit {:?}",
        genesis.len(),
        p,
        c
    );

    let signer = Keypair::from_seed([1; 32]);
    let mut rng = Rng(42);
    let mut nonce = 0u64;
    let mut totals = (Duration::ZERO, Duration::ZERO);
    for _ in 0..BLOCKS {
        // 5,000 transfers between random accounts: sender balance, receiver balance and
        // sender nonce change, as the token module would write them.
        let mut ws = WriteSet::new();
        let mut txs = Vec::with_capacity(TRANSFERS as usize);
        let mut receipts = Vec::with_capacity(TRANSFERS as usize);
        for _ in 0..TRANSFERS {
            let from = rng.next() % ACCOUNTS;
            let to = rng.next() % ACCOUNTS;
            ws.insert(balance_key(from), Some(rng.next().to_le_bytes().repeat(2)));
            ws.insert(balance_key(to), Some(rng.next().to_le_bytes().repeat(2)));
            ws.insert(nonce_key(from), Some(rng.next().to_le_bytes().to_vec()));
            let tx = Transaction {
                chain_id: Name::new("bench").expect("name"),
                signer: signer.account(),
                nonce,
                expiry_height: u64::MAX,
                operations: vec![Operation::Transfer(Transfer {
                    symbol: Name::new("eur").expect("name"),
                    to: account(to),
                    amount: Amount(1),
                })],
                memo: String::new(),
            };
            nonce += 1;
            let stx = sign_transaction(tx, &[&signer]);
            receipts.push(Receipt {
                tx_hash: tx_hash(&stx.tx),
                status: TxStatus::Success,
                events: vec![Event {
                    topic: "token.transfer".into(),
                    accounts: vec![account(from), account(to)],
                    attributes: vec![
                        ("amount".into(), "1".into()),
                        ("symbol".into(), "eur".into()),
                    ],
                }],
                writes: 3,
            });
            txs.push(stx);
        }
        let keys = ws.len();
        let (p, c) = commit(&store, &ws, txs, &receipts);
        totals.0 += p;
        totals.1 += c;
        println!(
            "block: {TRANSFERS} transfers, {keys} state writes: prepare_state {:>8.1} ms, commit {:>8.1} ms, total {:>8.1} ms",
            p.as_secs_f64() * 1e3,
            c.as_secs_f64() * 1e3,
            (p + c).as_secs_f64() * 1e3,
        );
    }
    let n = BLOCKS as f64;
    println!(
        "mean over {BLOCKS} blocks: prepare_state {:.1} ms, commit {:.1} ms, total {:.1} ms ({:.0} transfers/s through storage)",
        totals.0.as_secs_f64() * 1e3 / n,
        totals.1.as_secs_f64() * 1e3 / n,
        (totals.0 + totals.1).as_secs_f64() * 1e3 / n,
        TRANSFERS as f64 * n / (totals.0 + totals.1).as_secs_f64(),
    );
    let size = std::fs::metadata(store.path())
        .map(|m| m.len())
        .unwrap_or(0);
    println!("database file: {:.1} MiB", size as f64 / (1024.0 * 1024.0));
}
