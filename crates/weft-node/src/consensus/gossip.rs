//! Transaction gossip between validators, on its own p2p channel.
//!
//! A transaction admitted through a node's API is sent, in batches, to every other validator,
//! so whichever validator leads the next view can include it. A received batch goes through
//! the same admission as the API ([`crate::Node::submit_many`]'s checks) and is not forwarded
//! again (every validator is a direct peer). A peer that sends bytes that do not decode, or a
//! transaction with a bad signature, is blocked: no honest node sends either. Stateful
//! refusals (nonce already used, insufficient funds) depend on local state and are not held
//! against the sender.

use borsh::{BorshDeserialize, BorshSerialize};
use bytes::Bytes;
use commonware_cryptography::ed25519::PublicKey;
use commonware_p2p::{Blocker, Receiver, Recipients, Sender};
use commonware_runtime::{Clock, Spawner};
use futures::{StreamExt, channel::mpsc};
use std::{sync::Arc, time::Duration};
use weft_types::{Bounded, DecodeError, ErrorCode, Limits, SignedTransaction};

use crate::node::Inner;

/// Most transactions in one gossip message.
pub const MAX_BATCH_TXS: usize = 2_048;
/// How often lingering locally submitted transactions are considered for gossip again (each
/// is resent after 2, 4, 8, … rounds).
pub const REGOSSIP_INTERVAL: Duration = Duration::from_secs(5);
/// Largest gossip message.
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// A batch of transactions as it travels.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TxBatch(pub Vec<SignedTransaction>);

impl Limits for TxBatch {
    const MAX_BYTES: usize = MAX_BATCH_BYTES;
}

impl Bounded for TxBatch {
    fn check_limits(&self) -> Result<(), DecodeError> {
        if self.0.len() > MAX_BATCH_TXS {
            return Err(DecodeError::LimitExceeded(format!(
                "gossip batch of {} transactions",
                self.0.len()
            )));
        }
        self.0.iter().try_for_each(Bounded::check_limits)
    }
}

/// Splits `txs` into encoded batches within both limits.
pub fn encode_batches(txs: Vec<SignedTransaction>) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut batch = Vec::new();
    let mut size = 4;
    for tx in txs {
        let len = weft_types::encode(&tx).len();
        if !batch.is_empty() && (batch.len() == MAX_BATCH_TXS || size + len > MAX_BATCH_BYTES) {
            out.push(Bytes::from(weft_types::encode(&TxBatch(std::mem::take(
                &mut batch,
            )))));
            size = 4;
        }
        size += len;
        batch.push(tx);
    }
    if !batch.is_empty() {
        out.push(Bytes::from(weft_types::encode(&TxBatch(batch))));
    }
    out
}

/// Sends what the node admits locally to every peer, coalescing what is waiting.
pub(crate) fn start_sender<E, S>(
    runtime: E,
    mut sender: S,
    mut outbox: mpsc::UnboundedReceiver<Vec<SignedTransaction>>,
) where
    E: Spawner + Clock,
    S: Sender<PublicKey = PublicKey>,
{
    runtime.spawn(move |_| async move {
        while let Some(first) = outbox.next().await {
            let mut txs = first;
            while let Ok(more) = outbox.try_recv() {
                txs.extend(more);
            }
            for msg in encode_batches(txs) {
                // Best effort: a peer whose buffer is full misses the batch, and gets the
                // transactions in the block instead.
                let _ = sender.send(Recipients::All, msg, false);
            }
        }
    });
}

/// Admits gossiped transactions until the network closes.
pub(crate) fn start_receiver<E, R, B>(runtime: E, mut receiver: R, mut blocker: B, node: Arc<Inner>)
where
    E: Spawner + Clock,
    R: Receiver<PublicKey = PublicKey>,
    B: Blocker<PublicKey = PublicKey>,
{
    runtime.spawn(move |runtime| async move {
        while let Ok((peer, msg)) = receiver.recv().await {
            let batch = match weft_types::decode_bounded::<TxBatch>(msg.as_ref()) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(peer = %peer, error = %e, "malformed transaction gossip; blocking the peer");
                    metrics::counter!("weft_gossip_refused_total", "reason" => "malformed")
                        .increment(1);
                    let _ = blocker.block(peer);
                    continue;
                }
            };
            let node = Arc::clone(&node);
            let admitted = runtime
                .child("admit")
                .shared(true)
                .spawn(move |_| async move { node.admit(batch.0, false) })
                .await;
            let Ok(results) = admitted else { continue };
            let forged = results.iter().any(|r| {
                matches!(r, Err(e) if matches!(e.code, ErrorCode::BadSignature | ErrorCode::MissingSignature | ErrorCode::Oversized | ErrorCode::WrongChainId))
            });
            if forged {
                tracing::warn!(peer = %peer, "gossiped a transaction no honest node admits; blocking the peer");
                metrics::counter!("weft_gossip_refused_total", "reason" => "invalid").increment(1);
                let _ = blocker.block(peer);
            }
            // Yield between batches so a flood cannot starve the engine's own tasks.
            runtime.sleep(Duration::from_millis(0)).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_limits_and_round_trip() {
        assert!(encode_batches(vec![]).is_empty());
        let junk = [0xffu8; 16];
        assert!(weft_types::decode_bounded::<TxBatch>(&junk).is_err());
        let oversized = vec![0u8; MAX_BATCH_BYTES + 1];
        assert!(matches!(
            weft_types::decode_bounded::<TxBatch>(&oversized),
            Err(DecodeError::Oversized { .. })
        ));
        let empty = weft_types::encode(&TxBatch(vec![]));
        assert_eq!(
            weft_types::decode_bounded::<TxBatch>(&empty).unwrap(),
            TxBatch(vec![])
        );
    }
}
