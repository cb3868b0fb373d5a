//! Spike: how many rows per second can each engine make durable when a block-like batch is
//! committed atomically and fsync'd before the commit returns?
//!
//! Each commit writes `rows` pairs of 32-byte pseudo-random keys and 100-byte values, as one
//! atomic batch with full durability (redb: `Durability::Immediate`; fjall: a write batch with
//! `PersistMode::SyncAll`). The databases grow through the run, as a chain's would.
//!
//! Run: `cargo run --release` (optionally `-- <dir>` to place the databases on a given disk).

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

const VALUE_LEN: usize = 100;

/// Deterministic, well-mixed 64-bit sequence (splitmix64), so both engines see the same keys.
struct Keys {
    state: u64,
    /// Big-endian counter keys (append pattern: blocks, receipts, jmt nodes by version)
    /// instead of random ones (state values, hash indexes).
    sequential: bool,
}

impl Keys {
    fn new(seed: u64, sequential: bool) -> Self {
        Self {
            state: seed,
            sequential,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn key(&mut self) -> [u8; 32] {
        let mut k = [0u8; 32];
        if self.sequential {
            self.state += 1;
            k[..8].copy_from_slice(&self.state.to_be_bytes());
            return k;
        }
        for chunk in k.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_be_bytes());
        }
        k
    }
}

struct Run {
    engine: &'static str,
    pattern: &'static str,
    rows: usize,
    commits: usize,
    elapsed: Duration,
}

impl Run {
    fn print(&self) {
        let secs = self.elapsed.as_secs_f64();
        let total = self.rows * self.commits;
        println!(
            "{:<6} {:<6} rows/commit={:>6} commits={:>4} total_rows={:>7} time={:>7.3}s  commits/s={:>8.1}  rows/s={:>10.0}  ms/commit={:>7.2}",
            self.engine,
            self.pattern,
            self.rows,
            self.commits,
            total,
            secs,
            self.commits as f64 / secs,
            total as f64 / secs,
            secs * 1000.0 / self.commits as f64,
        );
    }
}

const TABLE: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("rows");

fn bench_redb(dir: &Path, rows: usize, commits: usize, sequential: bool) -> Run {
    let db = redb::Database::create(dir.join("spike.redb")).expect("create redb");
    let mut keys = Keys::new(rows as u64, sequential);
    let value = [7u8; VALUE_LEN];
    let start = Instant::now();
    for _ in 0..commits {
        let mut txn = db.begin_write().expect("begin");
        txn.set_durability(redb::Durability::Immediate)
            .expect("durability");
        {
            let mut table = txn.open_table(TABLE).expect("table");
            for _ in 0..rows {
                table
                    .insert(keys.key().as_slice(), value.as_slice())
                    .expect("insert");
            }
        }
        txn.commit().expect("commit");
    }
    Run {
        engine: "redb",
        pattern: if sequential { "append" } else { "random" },
        rows,
        commits,
        elapsed: start.elapsed(),
    }
}

fn bench_fjall(dir: &Path, rows: usize, commits: usize, sequential: bool) -> Run {
    let db = fjall::Database::builder(dir.join("spike.fjall"))
        .open()
        .expect("open fjall");
    let ks = db
        .keyspace("rows", fjall::KeyspaceCreateOptions::default)
        .expect("keyspace");
    let mut keys = Keys::new(rows as u64, sequential);
    let value = [7u8; VALUE_LEN];
    let start = Instant::now();
    for _ in 0..commits {
        let mut batch = db.batch().durability(Some(fjall::PersistMode::SyncAll));
        for _ in 0..rows {
            batch.insert(&ks, keys.key().to_vec(), value.to_vec());
        }
        batch.commit().expect("commit");
    }
    Run {
        engine: "fjall",
        pattern: if sequential { "append" } else { "random" },
        rows,
        commits,
        elapsed: start.elapsed(),
    }
}

fn main() {
    let base: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    println!(
        "durable batch commits, 32-byte keys, {VALUE_LEN}-byte values, dir {}",
        base.display()
    );
    for sequential in [false, true] {
        for (rows, commits) in [(1_000, 300), (10_000, 50)] {
            let dir = tempfile::tempdir_in(&base).expect("tempdir");
            bench_redb(dir.path(), rows, commits, sequential).print();
            let dir = tempfile::tempdir_in(&base).expect("tempdir");
            bench_fjall(dir.path(), rows, commits, sequential).print();
        }
    }
}
