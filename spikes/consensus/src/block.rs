//! A Weft-shaped block that marshal and simplex can carry.
//!
//! Header (canonical, fixed-width integers, hashed for the digest):
//! `context | parent | height u64 | timestamp_ms u64 | proposer | tx_count u32 | tx_root | state_root`.
//! Body: `txs` as a length-prefixed list of length-prefixed byte strings, bound to the header by
//! `tx_root`. The digest is SHA-256 of the header bytes only, so a light client can check a
//! header against a finalization certificate without the transactions.

use bytes::{BufMut, Bytes};
use commonware_codec::{
    Buf, EncodeSize, Error as CodecError, FixedSize, MaxEncodeSize, RangeCfg, Read, ReadExt, Write,
    varint::UInt,
};
use commonware_consensus::{
    BoundedBlock, CertifiableBlock, Heightable,
    simplex::types::Context,
    types::{Epoch, Height, Round, View},
};
use commonware_cryptography::{Digestible, Hasher, Sha256, ed25519::PublicKey, sha256::Digest};

/// The consensus context embedded in every block (required by marshal `Deferred`).
pub type Ctx = Context<Digest, PublicKey>;

/// Decoding limits: every decoder of untrusted bytes is bounded by these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockCfg {
    /// Most transactions in one block.
    pub max_txs: usize,
    /// Largest single transaction in bytes.
    pub max_tx_bytes: usize,
}

impl Default for BlockCfg {
    fn default() -> Self {
        Self {
            max_txs: 1_000,
            max_tx_bytes: 512,
        }
    }
}

/// A block: header fields plus the opaque transaction payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeftBlock {
    pub context: Ctx,
    pub parent: Digest,
    pub height: u64,
    pub timestamp_ms: u64,
    pub proposer: PublicKey,
    pub tx_root: Digest,
    pub state_root: Digest,
    pub txs: Vec<Bytes>,
    /// Cached SHA-256 of the header encoding (computed on construction and on decode).
    digest: Digest,
}

/// SHA-256 of one transaction.
pub fn tx_hash(tx: &[u8]) -> Digest {
    Sha256::hash(&[b"weft-tx", tx])
}

/// Commitment to the transaction list, in order (a flat hash here; Weft uses a Merkle root).
pub fn tx_root(txs: &[Bytes]) -> Digest {
    let mut h = Sha256::default();
    h.update(b"weft-tx-root");
    h.update(&(txs.len() as u64).to_be_bytes());
    for tx in txs {
        h.update(tx_hash(tx).as_ref());
    }
    h.finalize().1
}

/// The deterministic state transition: a SHA-256 chain folding every transaction into the
/// parent's state root. Stands in for Weft's `execute_block` + JMT root.
pub fn apply(parent_state: &Digest, height: u64, txs: &[Bytes]) -> Digest {
    let mut root = Sha256::hash(&[b"weft-height", parent_state.as_ref(), &height.to_be_bytes()]);
    for tx in txs {
        root = Sha256::hash(&[root.as_ref(), tx_hash(tx).as_ref()]);
    }
    root
}

impl WeftBlock {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        context: Ctx,
        parent: Digest,
        height: u64,
        timestamp_ms: u64,
        proposer: PublicKey,
        txs: Vec<Bytes>,
        state_root: Digest,
    ) -> Self {
        let tx_root = tx_root(&txs);
        let mut block = Self {
            context,
            parent,
            height,
            timestamp_ms,
            proposer,
            tx_root,
            state_root,
            txs,
            digest: Digest::from([0u8; 32]),
        };
        block.digest = block.compute_digest();
        block
    }

    /// The genesis block: height 0, fixed by the chain id and the validator set.
    pub fn genesis(chain_id: &[u8], validators: &[PublicKey]) -> Self {
        let mut h = Sha256::default();
        h.update(b"weft-genesis");
        h.update(chain_id);
        for v in validators {
            h.update(v.as_ref());
        }
        let state_root = h.finalize().1;
        let context = Ctx {
            round: Round::new(Epoch::zero(), View::zero()),
            leader: validators[0].clone(),
            parent: (View::zero(), Digest::from([0u8; 32])),
        };
        Self::new(
            context,
            Digest::from([0u8; 32]),
            0,
            0,
            validators[0].clone(),
            vec![],
            state_root,
        )
    }

    fn write_header(&self, w: &mut impl BufMut) {
        self.context.write(w);
        self.parent.write(w);
        self.height.write(w);
        self.timestamp_ms.write(w);
        self.proposer.write(w);
        (self.txs.len() as u32).write(w);
        self.tx_root.write(w);
        self.state_root.write(w);
    }

    /// The canonical header bytes (what the digest and a light client hash).
    pub fn header_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(256);
        self.write_header(&mut v);
        v
    }

    fn compute_digest(&self) -> Digest {
        Sha256::hash(&[b"weft-header", &self.header_bytes()])
    }

    fn header_max_size() -> usize {
        Ctx::MAX_ENCODE_SIZE
            + Digest::SIZE
            + u64::SIZE
            + u64::SIZE
            + PublicKey::SIZE
            + u32::SIZE
            + Digest::SIZE
            + Digest::SIZE
    }
}

impl Write for WeftBlock {
    fn write(&self, w: &mut impl BufMut) {
        self.write_header(w);
        self.txs.write(w);
    }
}

impl EncodeSize for WeftBlock {
    fn encode_size(&self) -> usize {
        self.context.encode_size()
            + Digest::SIZE * 3
            + u64::SIZE * 2
            + PublicKey::SIZE
            + u32::SIZE
            + self.txs.encode_size()
    }
}

impl Read for WeftBlock {
    type Cfg = BlockCfg;

    fn read_cfg(r: &mut impl Buf, cfg: &BlockCfg) -> Result<Self, CodecError> {
        let context = Ctx::read(r)?;
        let parent = Digest::read(r)?;
        let height = u64::read(r)?;
        let timestamp_ms = u64::read(r)?;
        let proposer = PublicKey::read(r)?;
        let tx_count = u32::read(r)? as usize;
        let tx_root_claimed = Digest::read(r)?;
        let state_root = Digest::read(r)?;
        if tx_count > cfg.max_txs {
            return Err(CodecError::Invalid("WeftBlock", "too many transactions"));
        }
        let txs = Vec::<Bytes>::read_cfg(
            r,
            &(
                RangeCfg::new(tx_count..=tx_count),
                RangeCfg::new(1..=cfg.max_tx_bytes),
            ),
        )?;
        if tx_root(&txs) != tx_root_claimed {
            return Err(CodecError::Invalid(
                "WeftBlock",
                "tx_root does not match txs",
            ));
        }
        let block = Self::new(
            context,
            parent,
            height,
            timestamp_ms,
            proposer,
            txs,
            state_root,
        );
        Ok(block)
    }
}

impl Digestible for WeftBlock {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        self.digest
    }
}

impl Heightable for WeftBlock {
    fn height(&self) -> Height {
        Height::new(self.height)
    }
}

impl commonware_consensus::Block for WeftBlock {
    fn parent(&self) -> Digest {
        self.parent
    }
}

impl CertifiableBlock for WeftBlock {
    type Context = Ctx;

    fn context(&self) -> Ctx {
        self.context.clone()
    }
}

impl BoundedBlock for WeftBlock {
    fn max_encode_size(cfg: &BlockCfg) -> usize {
        Self::header_max_size()
            + UInt::<u64>::MAX_ENCODE_SIZE
            + cfg.max_txs * (UInt::<u64>::MAX_ENCODE_SIZE + cfg.max_tx_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_codec::{Decode, Encode};
    use commonware_cryptography::Signer as _;

    fn key(i: u64) -> PublicKey {
        commonware_cryptography::ed25519::PrivateKey::from_seed(i).public_key()
    }

    fn sample() -> WeftBlock {
        let g = WeftBlock::genesis(b"test", &[key(1), key(2)]);
        let txs = vec![Bytes::from_static(b"a"), Bytes::from_static(b"bb")];
        let state = apply(&g.state_root, 1, &txs);
        WeftBlock::new(
            Ctx {
                round: Round::new(Epoch::zero(), View::new(1)),
                leader: key(1),
                parent: (View::zero(), g.digest()),
            },
            g.digest(),
            1,
            1_000,
            key(1),
            txs,
            state,
        )
    }

    #[test]
    fn roundtrip_and_digest_is_header_hash() {
        let b = sample();
        let bytes = b.encode();
        assert_eq!(bytes.len(), b.encode_size());
        let d = WeftBlock::decode_cfg(bytes.clone(), &BlockCfg::default()).unwrap();
        assert_eq!(d, b);
        assert_eq!(
            d.digest(),
            Sha256::hash(&[b"weft-header", &b.header_bytes()])
        );
        assert_eq!(d.encode(), bytes, "canonical");
        assert!(bytes.len() <= WeftBlock::max_encode_size(&BlockCfg::default()));
    }

    #[test]
    fn decode_rejects_swapped_body_and_limits() {
        let b = sample();
        let mut other = b.clone();
        other.txs[0] = Bytes::from_static(b"z");
        // Encode header of `b` with the body of `other`: tx_root no longer matches.
        let mut bytes = Vec::new();
        b.write_header(&mut bytes);
        other.txs.write(&mut bytes);
        assert!(WeftBlock::decode_cfg(Bytes::from(bytes), &BlockCfg::default()).is_err());
        let tight = BlockCfg {
            max_txs: 1,
            max_tx_bytes: 512,
        };
        assert!(WeftBlock::decode_cfg(b.encode(), &tight).is_err());
        let tiny = BlockCfg {
            max_txs: 10,
            max_tx_bytes: 1,
        };
        assert!(WeftBlock::decode_cfg(b.encode(), &tiny).is_err());
        // Trailing bytes are rejected by decode.
        let mut long = b.encode().to_vec();
        long.push(0);
        assert!(WeftBlock::decode_cfg(Bytes::from(long), &BlockCfg::default()).is_err());
    }
}
