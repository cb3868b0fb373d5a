//! Transaction gossip on its own p2p channel: a batch of txs (bounded list of bounded byte
//! strings) sent to every peer; received txs enter the local mempool (dedup by hash).

use bytes::Bytes;
use commonware_codec::{Decode, Encode, RangeCfg};
use commonware_cryptography::ed25519::PublicKey;
use commonware_p2p::{Receiver, Recipients, Sender};
use commonware_runtime::Spawner;

use crate::{app::Mempool, block::BlockCfg};

/// Channel id for tx gossip (after the five consensus channels).
pub const CH_TXS: u64 = 5;

/// Sends a batch to all peers. Returns how many peers accepted it.
pub fn broadcast<S: Sender<PublicKey = PublicKey>>(sender: &mut S, txs: &[Bytes]) -> usize {
    let msg = txs.to_vec().encode();
    sender.send(Recipients::All, msg, false).len()
}

/// Feeds gossiped txs into `mempool` until the network closes. Malformed batches are dropped
/// (a real node would also score/block the peer).
pub fn start_receiver<E, R>(context: E, mut receiver: R, mempool: Mempool, cfg: BlockCfg)
where
    E: Spawner,
    R: Receiver<PublicKey = PublicKey>,
{
    context.spawn(move |_| async move {
        let codec = (
            RangeCfg::new(1..=cfg.max_txs),
            RangeCfg::new(1..=cfg.max_tx_bytes),
        );
        while let Ok((_peer, msg)) = receiver.recv().await {
            let Ok(txs) = Vec::<Bytes>::decode_cfg(msg, &codec) else {
                continue;
            };
            for tx in txs {
                mempool.submit(tx);
            }
        }
    });
}
