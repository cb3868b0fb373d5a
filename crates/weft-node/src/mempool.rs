//! The mempool: transactions that passed the edge checks, waiting for a block.
//!
//! Pure data structure (no I/O, no clock): the node feeds it committed nonces and heights.
//! - Bounded: a global cap and a per-account cap, so one account cannot crowd out others.
//! - Replay-safe: a nonce below the account's committed next nonce is refused, as is a
//!   transaction already pending; committed transactions are pruned as blocks land.
//! - Expiry: transactions whose expiry height has passed are dropped.
//! - Fair: blocks are filled round-robin across accounts, one transaction per account per
//!   round, starting from a rotating position, always in nonce order within an account.

use std::collections::{BTreeMap, HashMap};

use weft_types::{AccountId, ErrorCode, Hash, SignedTransaction, TxError};

/// Mempool bounds.
#[derive(Clone, Debug)]
pub struct MempoolLimits {
    /// Most transactions held in total.
    pub max_total: usize,
    /// Most transactions held per account.
    pub max_per_account: usize,
    /// Furthest a nonce may run ahead of the account's committed next nonce.
    pub max_nonce_ahead: u64,
}

impl Default for MempoolLimits {
    fn default() -> Self {
        Self {
            max_total: 200_000,
            max_per_account: 10_000,
            max_nonce_ahead: 10_000,
        }
    }
}

#[derive(Debug)]
struct Pending {
    hash: Hash,
    tx: SignedTransaction,
    /// For a transaction submitted to this node (not gossiped to it): how many re-gossip
    /// rounds it has waited through.
    local_rounds: Option<u32>,
}

/// Pending transactions by account and nonce.
#[derive(Debug, Default)]
pub struct Mempool {
    limits: MempoolLimits,
    by_account: BTreeMap<AccountId, BTreeMap<u64, Pending>>,
    by_hash: HashMap<Hash, (AccountId, u64)>,
    /// Where the next block starts its round-robin, so no account is always first.
    cursor: Option<AccountId>,
}

impl Mempool {
    /// An empty mempool with `limits`.
    pub fn new(limits: MempoolLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Whether `hash` is pending.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// Whether this exact transaction (body and signatures) is pending. Everything pending
    /// passed signature checks at admission, so a block carrying it need not check them again.
    pub fn holds_verified(&self, hash: &Hash, tx: &SignedTransaction) -> bool {
        self.by_hash
            .get(hash)
            .and_then(|(account, nonce)| self.by_account.get(account)?.get(nonce))
            .is_some_and(|p| p.tx.signatures == tx.signatures)
    }

    /// Number of pending transactions of `account`.
    pub fn pending_for(&self, account: &AccountId) -> usize {
        self.by_account.get(account).map_or(0, BTreeMap::len)
    }

    /// Admits a transaction whose signatures and encoding were already checked.
    ///
    /// `committed_next_nonce` is the signer's next nonce in committed state; `next_height` is
    /// the height of the next block.
    pub fn insert(
        &mut self,
        tx: SignedTransaction,
        hash: Hash,
        committed_next_nonce: u64,
        next_height: u64,
    ) -> Result<(), TxError> {
        let signer = tx.tx.signer;
        let nonce = tx.tx.nonce;
        if self.by_hash.contains_key(&hash) {
            return Err(TxError::new(
                ErrorCode::Duplicate,
                format!("{hash} is already pending"),
            ));
        }
        if tx.tx.expiry_height < next_height {
            return Err(TxError::new(
                ErrorCode::Expired,
                format!(
                    "expired at height {}, next block is {next_height}",
                    tx.tx.expiry_height
                ),
            ));
        }
        if nonce < committed_next_nonce {
            return Err(TxError::new(
                ErrorCode::ReplayedNonce,
                format!("nonce {nonce} already used; next is {committed_next_nonce}"),
            ));
        }
        if nonce - committed_next_nonce > self.limits.max_nonce_ahead {
            return Err(TxError::new(
                ErrorCode::NonceGap,
                format!("nonce {nonce} is too far ahead of {committed_next_nonce}"),
            ));
        }
        let queue = self.by_account.get(&signer);
        if queue.is_some_and(|q| q.contains_key(&nonce)) {
            return Err(TxError::new(
                ErrorCode::Duplicate,
                format!("a transaction with nonce {nonce} from {signer} is already pending"),
            ));
        }
        if queue.map_or(0, BTreeMap::len) >= self.limits.max_per_account {
            return Err(TxError::new(
                ErrorCode::AccountQueueFull,
                format!(
                    "{signer} already has {} pending transactions",
                    self.limits.max_per_account
                ),
            ));
        }
        if self.len() >= self.limits.max_total {
            return Err(TxError::new(
                ErrorCode::MempoolFull,
                "mempool is full; retry later",
            ));
        }
        self.by_hash.insert(hash, (signer, nonce));
        self.by_account.entry(signer).or_default().insert(
            nonce,
            Pending {
                hash,
                tx,
                local_rounds: None,
            },
        );
        Ok(())
    }

    /// Marks `hash` as submitted to this node: if it lingers, [`Mempool::regossip_due`] sends it
    /// again (its first gossip may have reached no peer).
    pub fn mark_local(&mut self, hash: &Hash) {
        if let Some((account, nonce)) = self.by_hash.get(hash)
            && let Some(p) = self
                .by_account
                .get_mut(account)
                .and_then(|q| q.get_mut(nonce))
        {
            p.local_rounds = Some(0);
        }
    }

    /// One re-gossip round: the locally submitted transactions still pending after 2, 4, 8, …
    /// rounds (exponential backoff, so a transaction stuck behind a nonce gap costs little),
    /// at most `max` of them, in account and nonce order.
    pub fn regossip_due(&mut self, max: usize) -> Vec<SignedTransaction> {
        let mut due = Vec::new();
        for queue in self.by_account.values_mut() {
            for p in queue.values_mut() {
                if let Some(rounds) = p.local_rounds.as_mut() {
                    *rounds = rounds.saturating_add(1);
                    if *rounds >= 2 && rounds.is_power_of_two() && due.len() < max {
                        due.push(p.tx.clone());
                    }
                }
            }
        }
        due
    }

    /// Picks up to `max` transactions for the next block: only runs of consecutive nonces
    /// starting at each account's committed next nonce, interleaved round-robin.
    /// A run stops at the first transaction that would be expired at `next_height`, since
    /// everything after it would then fail on a nonce gap.
    pub fn select(
        &mut self,
        max: usize,
        next_height: u64,
        next_nonce: impl Fn(&AccountId) -> u64,
    ) -> Vec<SignedTransaction> {
        // Ready runs per account, starting after the cursor for fairness across blocks.
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let ordered: Vec<(&AccountId, &BTreeMap<u64, Pending>)> = match self.cursor {
            Some(c) => self
                .by_account
                .range((Excluded(c), Unbounded))
                .chain(self.by_account.range((Unbounded, Included(c))))
                .collect(),
            None => self.by_account.iter().collect(),
        };
        let mut runs: Vec<(AccountId, Vec<&Pending>)> = Vec::new();
        for (account, queue) in ordered {
            let first = next_nonce(account);
            let run: Vec<&Pending> = (first..)
                .zip(queue.range(first..))
                .take_while(|(expected, (nonce, p))| {
                    *nonce == expected && p.tx.tx.expiry_height >= next_height
                })
                .map(|(_, (_, pending))| pending)
                .collect();
            if !run.is_empty() {
                runs.push((*account, run));
            }
        }
        let mut picked = Vec::new();
        let mut round = 0;
        while picked.len() < max {
            let mut any = false;
            for (_, run) in &runs {
                if let Some(p) = run.get(round) {
                    picked.push(p.tx.clone());
                    any = true;
                    if picked.len() == max {
                        break;
                    }
                }
            }
            if !any {
                break;
            }
            round += 1;
        }
        if !picked.is_empty() {
            self.cursor = runs.first().map(|(a, _)| *a);
        }
        picked
    }

    /// Drops everything a new block made stale: transactions it committed (their nonces are
    /// now below the account's next nonce) and transactions that expired.
    pub fn prune(&mut self, next_nonce: impl Fn(&AccountId) -> u64, next_height: u64) {
        let by_hash = &mut self.by_hash;
        self.by_account.retain(|account, queue| {
            let floor = next_nonce(account);
            queue.retain(|nonce, p| {
                let keep = *nonce >= floor && p.tx.tx.expiry_height >= next_height;
                if !keep {
                    by_hash.remove(&p.hash);
                }
                keep
            });
            !queue.is_empty()
        });
    }

    /// Prunes only the accounts in `touched` (cheap after each block), then expired ones
    /// lazily when the whole pool is pruned.
    pub fn prune_accounts<'a>(
        &mut self,
        touched: impl IntoIterator<Item = &'a AccountId>,
        next_nonce: impl Fn(&AccountId) -> u64,
        next_height: u64,
    ) {
        for account in touched {
            let Some(queue) = self.by_account.get_mut(account) else {
                continue;
            };
            let floor = next_nonce(account);
            let by_hash = &mut self.by_hash;
            queue.retain(|nonce, p| {
                let keep = *nonce >= floor && p.tx.tx.expiry_height >= next_height;
                if !keep {
                    by_hash.remove(&p.hash);
                }
                keep
            });
            if queue.is_empty() {
                self.by_account.remove(account);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use weft_crypto::{Keypair, sign_transaction, tx_hash};
    use weft_types::{Name, Transaction};

    use super::*;

    fn tx(k: &Keypair, nonce: u64, expiry: u64) -> (SignedTransaction, Hash) {
        let t = Transaction {
            chain_id: Name::new("c").unwrap(),
            signer: k.account(),
            nonce,
            expiry_height: expiry,
            operations: vec![],
            memo: String::new(),
        };
        let h = tx_hash(&t);
        (sign_transaction(t, &[k]), h)
    }

    fn insert(m: &mut Mempool, k: &Keypair, nonce: u64) -> Result<(), TxError> {
        let (t, h) = tx(k, nonce, 100);
        m.insert(t, h, 0, 1)
    }

    #[test]
    fn only_the_exact_admitted_transaction_counts_as_verified() {
        let a = Keypair::from_seed([1; 32]);
        let mut m = Mempool::default();
        let (t, h) = tx(&a, 0, 100);
        assert!(!m.holds_verified(&h, &t));
        m.insert(t.clone(), h, 0, 1).unwrap();
        assert!(m.holds_verified(&h, &t));
        // Same body, another signature: not what admission checked.
        let mut forged = t.clone();
        forged.signatures[0].signature.0[0] ^= 1;
        assert!(!m.holds_verified(&h, &forged));
        let mut extra = t;
        extra.signatures.push(extra.signatures[0].clone());
        assert!(!m.holds_verified(&h, &extra));
    }

    #[test]
    fn refuses_duplicates_replays_gaps_expiry_and_overflow() {
        let a = Keypair::from_seed([1; 32]);
        let mut m = Mempool::new(MempoolLimits {
            max_total: 3,
            max_per_account: 2,
            max_nonce_ahead: 5,
        });
        let (t0, h0) = tx(&a, 3, 100);
        assert_eq!(m.insert(t0.clone(), h0, 3, 1), Ok(()));
        assert_eq!(
            m.insert(t0, h0, 3, 1).unwrap_err().code,
            ErrorCode::Duplicate
        );
        let (t, h) = tx(&a, 2, 100);
        assert_eq!(
            m.insert(t, h, 3, 1).unwrap_err().code,
            ErrorCode::ReplayedNonce
        );
        let (t, h) = tx(&a, 9, 100);
        assert_eq!(m.insert(t, h, 3, 1).unwrap_err().code, ErrorCode::NonceGap);
        let (t, h) = tx(&a, 4, 0);
        assert_eq!(m.insert(t, h, 3, 1).unwrap_err().code, ErrorCode::Expired);
        let (t, h) = tx(&a, 4, 100);
        assert_eq!(m.insert(t, h, 3, 1), Ok(()));
        let (t, h) = tx(&a, 5, 100);
        assert_eq!(
            m.insert(t, h, 3, 1).unwrap_err().code,
            ErrorCode::AccountQueueFull
        );
        let b = Keypair::from_seed([2; 32]);
        assert_eq!(insert(&mut m, &b, 0), Ok(()));
        let c = Keypair::from_seed([3; 32]);
        assert_eq!(
            insert(&mut m, &c, 0).unwrap_err().code,
            ErrorCode::MempoolFull
        );
        // The same nonce with different content is still a duplicate slot.
        let (mut other, _) = tx(&b, 0, 100);
        other.tx.memo = "x".into();
        let h = tx_hash(&other.tx);
        assert_eq!(
            m.insert(other, h, 0, 1).unwrap_err().code,
            ErrorCode::Duplicate
        );
    }

    #[test]
    fn selection_is_round_robin_in_nonce_order_and_skips_gaps() {
        let keys: Vec<Keypair> = (1..=3u8).map(|i| Keypair::from_seed([i; 32])).collect();
        let mut m = Mempool::new(MempoolLimits::default());
        for k in &keys {
            for n in 0..3 {
                insert(&mut m, k, n).unwrap();
            }
        }
        // A gap: nonce 5 of the first key cannot be selected before 3 and 4.
        insert(&mut m, &keys[0], 5).unwrap();
        let picked = m.select(100, 1, |_| 0);
        assert_eq!(picked.len(), 9);
        // Each round takes one transaction per account.
        for round in picked.chunks(3) {
            let signers: std::collections::BTreeSet<_> =
                round.iter().map(|t| t.tx.signer).collect();
            assert_eq!(signers.len(), 3);
        }
        for k in &keys {
            let nonces: Vec<u64> = picked
                .iter()
                .filter(|t| t.tx.signer == k.account())
                .map(|t| t.tx.nonce)
                .collect();
            assert_eq!(nonces, vec![0, 1, 2]);
        }
        // A small block starts with a different account next time.
        let first = m.select(1, 1, |_| 0)[0].tx.signer;
        let second = m.select(1, 1, |_| 0)[0].tx.signer;
        assert_ne!(first, second);
    }

    #[test]
    fn selection_stops_at_an_expired_transaction() {
        let a = Keypair::from_seed([1; 32]);
        let mut m = Mempool::new(MempoolLimits::default());
        insert(&mut m, &a, 0).unwrap();
        let (t, h) = tx(&a, 1, 5);
        m.insert(t, h, 0, 1).unwrap();
        insert(&mut m, &a, 2).unwrap();
        assert_eq!(m.select(10, 5, |_| 0).len(), 3);
        let picked = m.select(10, 6, |_| 0);
        assert_eq!(
            picked.iter().map(|t| t.tx.nonce).collect::<Vec<_>>(),
            vec![0]
        );
    }

    #[test]
    fn prune_drops_committed_and_expired() {
        let a = Keypair::from_seed([1; 32]);
        let mut m = Mempool::new(MempoolLimits::default());
        for n in 0..4 {
            insert(&mut m, &a, n).unwrap();
        }
        let (t, h) = tx(&a, 4, 3);
        m.insert(t, h, 0, 1).unwrap();
        m.prune_accounts([&a.account()], |_| 2, 2);
        assert_eq!(m.len(), 3);
        m.prune(|_| 2, 10);
        assert_eq!(m.len(), 2);
        assert!(!m.contains(&h));
    }

    #[test]
    fn only_lingering_local_transactions_are_gossiped_again_with_backoff() {
        let mut m = Mempool::default();
        let (local, local_hash) = tx(&Keypair::from_seed([1; 32]), 0, 100);
        let (gossiped, gossiped_hash) = tx(&Keypair::from_seed([2; 32]), 0, 100);
        m.insert(local, local_hash, 0, 1).unwrap();
        m.insert(gossiped, gossiped_hash, 0, 1).unwrap();
        m.mark_local(&local_hash);
        let sent: Vec<usize> = (1..=16)
            .filter(|_| {
                let due = m.regossip_due(10);
                assert!(due.iter().all(|t| tx_hash(&t.tx) == local_hash));
                !due.is_empty()
            })
            .collect();
        assert_eq!(sent, vec![2, 4, 8, 16]);
        m.prune(|_| 1, 1);
        assert!(m.regossip_due(10).is_empty());
    }
}
