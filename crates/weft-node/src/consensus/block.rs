//! Weft's block as the consensus engine carries it.
//!
//! The engine and marshal see a block as a digest plus canonical bytes. The digest is Weft's
//! own [`block_hash`] of the header, so certificates, proofs and the explorer all name a block
//! by the same hash. The bytes are the block's borsh encoding behind a varint length. Decoding
//! is the first line of defence against a hostile peer: it is bounded before allocation,
//! checks the body against the header's `tx_root` (the digest covers the header only, so a
//! peer could otherwise pair a good header with another body), and refuses any encoding that
//! does not re-encode to the same bytes.

use std::sync::Arc;

use bytes::{BufMut, Bytes};
use commonware_codec::{
    Buf, EncodeSize, Error as CodecError, MaxEncodeSize, Read, ReadExt, Write, varint::UInt,
};
use commonware_consensus::{BoundedBlock, Heightable, types::Height};
use commonware_cryptography::{Digestible, sha256::Digest};
use weft_crypto::{block_hash, merkle_root, tx_hash};
use weft_types::{
    Block, Hash,
    limits::{MAX_BLOCK_BYTES, MAX_BLOCK_TXS},
};

/// Decoding limits for blocks from peers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockCfg {
    /// Largest encoded block accepted.
    pub max_bytes: usize,
    /// Most transactions in one block.
    pub max_txs: usize,
}

impl Default for BlockCfg {
    fn default() -> Self {
        Self {
            max_bytes: MAX_BLOCK_BYTES,
            max_txs: MAX_BLOCK_TXS,
        }
    }
}

/// A Weft block with its digest and canonical bytes computed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusBlock {
    block: Arc<Block>,
    hash: Hash,
    bytes: Bytes,
}

/// Weft's hash as the engine's digest type (both are SHA-256 outputs).
pub fn digest(hash: &Hash) -> Digest {
    Digest::from(hash.0)
}

/// The engine's digest as Weft's hash.
pub fn hash(digest: &Digest) -> Hash {
    let mut h = [0u8; 32];
    h.copy_from_slice(digest.as_ref());
    Hash(h)
}

impl ConsensusBlock {
    /// Wraps a block built or stored locally.
    pub fn new(block: Block) -> Self {
        let hash = block_hash(&block.header);
        let bytes = Bytes::from(weft_types::encode(&block));
        Self {
            block: Arc::new(block),
            hash,
            bytes,
        }
    }

    pub fn block(&self) -> &Block {
        &self.block
    }

    /// The block, owned (cloned only when shared).
    pub fn into_block(self) -> Block {
        Arc::try_unwrap(self.block).unwrap_or_else(|shared| (*shared).clone())
    }

    pub const fn hash(&self) -> Hash {
        self.hash
    }

    fn decode_body(bytes: Bytes, cfg: &BlockCfg) -> Result<Self, CodecError> {
        let block: Block = weft_types::decode_bounded(&bytes)
            .map_err(|_| CodecError::Invalid("Block", "malformed or over the limits"))?;
        if block.transactions.len() > cfg.max_txs {
            return Err(CodecError::Invalid("Block", "too many transactions"));
        }
        let tx_hashes: Vec<Hash> = block.transactions.iter().map(|t| tx_hash(&t.tx)).collect();
        if merkle_root(&tx_hashes) != block.header.tx_root {
            return Err(CodecError::Invalid(
                "Block",
                "tx_root does not match the body",
            ));
        }
        if weft_types::encode(&block) != bytes.as_ref() {
            return Err(CodecError::Invalid("Block", "not the canonical encoding"));
        }
        let hash = block_hash(&block.header);
        Ok(Self {
            block: Arc::new(block),
            hash,
            bytes,
        })
    }
}

impl Write for ConsensusBlock {
    fn write(&self, buf: &mut impl BufMut) {
        // Blocks are bounded far below u32::MAX (MAX_BLOCK_BYTES).
        UInt(self.bytes.len() as u32).write(buf);
        buf.put_slice(&self.bytes);
    }
}

impl EncodeSize for ConsensusBlock {
    fn encode_size(&self) -> usize {
        UInt(self.bytes.len() as u32).encode_size() + self.bytes.len()
    }
}

impl Read for ConsensusBlock {
    type Cfg = BlockCfg;

    fn read_cfg(buf: &mut impl Buf, cfg: &BlockCfg) -> Result<Self, CodecError> {
        let len = UInt::<u32>::read(buf)?.0 as usize;
        if len > cfg.max_bytes {
            return Err(CodecError::Invalid("Block", "larger than the block limit"));
        }
        if buf.remaining() < len {
            return Err(CodecError::EndOfBuffer);
        }
        let bytes = buf.copy_to_bytes(len);
        Self::decode_body(bytes, cfg)
    }
}

impl Digestible for ConsensusBlock {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        digest(&self.hash)
    }
}

impl Heightable for ConsensusBlock {
    fn height(&self) -> Height {
        Height::new(self.block.header.height)
    }
}

impl commonware_consensus::Block for ConsensusBlock {
    fn parent(&self) -> Digest {
        digest(&self.block.header.parent)
    }
}

impl BoundedBlock for ConsensusBlock {
    fn max_encode_size(cfg: &BlockCfg) -> usize {
        UInt::<u32>::MAX_ENCODE_SIZE + cfg.max_bytes
    }
}

#[cfg(test)]
mod tests {
    use commonware_codec::{Decode, Encode};
    use weft_crypto::Keypair;
    use weft_types::{Amount, BlockHeader, ChainId, Name, Operation, Transaction, Transfer};

    use super::*;

    fn sample(n: u64) -> Block {
        let key = Keypair::from_seed([3; 32]);
        let chain = ChainId::new("test-chain").unwrap();
        let transactions: Vec<_> = (0..n)
            .map(|i| {
                key.sign_transaction(Transaction {
                    chain_id: chain.clone(),
                    signer: key.account(),
                    nonce: i,
                    expiry_height: 100,
                    operations: vec![Operation::Transfer(Transfer {
                        symbol: Name::new("t").unwrap(),
                        to: key.account(),
                        amount: Amount(1),
                    })],
                    memo: String::new(),
                })
            })
            .collect();
        let hashes: Vec<Hash> = transactions.iter().map(|t| tx_hash(&t.tx)).collect();
        Block {
            header: BlockHeader {
                chain_id: chain,
                height: 1,
                parent: Hash([1; 32]),
                timestamp_ms: 5,
                proposer: key.account(),
                tx_count: n as u32,
                tx_root: merkle_root(&hashes),
                state_root: Hash([2; 32]),
                receipts_root: Hash([3; 32]),
                validator_set_hash: Hash([4; 32]),
            },
            transactions,
        }
    }

    #[test]
    fn round_trip_is_canonical_and_digest_is_the_block_hash() {
        let b = ConsensusBlock::new(sample(3));
        let bytes = b.encode();
        assert_eq!(bytes.len(), b.encode_size());
        let d = ConsensusBlock::decode_cfg(bytes.clone(), &BlockCfg::default()).unwrap();
        assert_eq!(d, b);
        assert_eq!(hash(&d.digest()), block_hash(&b.block().header));
        assert_eq!(d.encode(), bytes);
        assert!(bytes.len() <= ConsensusBlock::max_encode_size(&BlockCfg::default()));
    }

    #[test]
    fn decode_refuses_swapped_bodies_limits_and_garbage() {
        let good = sample(2);
        let mut swapped = good.clone();
        swapped.transactions.swap(0, 1);
        let forged = ConsensusBlock {
            hash: block_hash(&swapped.header),
            bytes: Bytes::from(weft_types::encode(&swapped)),
            block: Arc::new(swapped),
        };
        assert!(ConsensusBlock::decode_cfg(forged.encode(), &BlockCfg::default()).is_err());

        let b = ConsensusBlock::new(good);
        let tight = BlockCfg {
            max_bytes: MAX_BLOCK_BYTES,
            max_txs: 1,
        };
        assert!(ConsensusBlock::decode_cfg(b.encode(), &tight).is_err());
        let small = BlockCfg {
            max_bytes: 64,
            max_txs: MAX_BLOCK_TXS,
        };
        assert!(ConsensusBlock::decode_cfg(b.encode(), &small).is_err());
        let mut long = b.encode().to_vec();
        long.push(0);
        assert!(ConsensusBlock::decode_cfg(Bytes::from(long), &BlockCfg::default()).is_err());
        let mut short = b.encode().to_vec();
        short.pop();
        assert!(ConsensusBlock::decode_cfg(Bytes::from(short), &BlockCfg::default()).is_err());
        for junk in [
            &[][..],
            &[0xff, 0xff, 0xff, 0xff, 0x0f][..],
            &[5, 1, 2, 3, 4, 5][..],
        ] {
            assert!(
                ConsensusBlock::decode_cfg(Bytes::copy_from_slice(junk), &BlockCfg::default())
                    .is_err()
            );
        }
    }
}
