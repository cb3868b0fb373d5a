//! Transactions: several operations under one nonce, signed by one or more accounts.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::{
    encoding::{Bounded, DecodeError, Limits, check_len},
    ids::{AccountId, ChainId, SignatureBytes},
    limits::{MAX_MEMO_BYTES, MAX_OPERATIONS, MAX_SIGNATURES, MAX_TX_BYTES},
    operation::Operation,
};

/// The signed body of a transaction. Its hash (SHA-256 of the canonical encoding) is the
/// transaction id; signatures are over a domain-separated form of the same bytes.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Transaction {
    /// The only chain this transaction is valid on.
    pub chain_id: ChainId,
    /// The account whose nonce orders this transaction and on whose behalf operations run.
    pub signer: AccountId,
    /// Must equal the signer's next nonce when executed; each nonce is usable once.
    pub nonce: u64,
    /// Last block height at which this transaction may be included.
    pub expiry_height: u64,
    /// Applied in order, all or nothing.
    pub operations: Vec<Operation>,
    /// Free text for the parties; not interpreted.
    pub memo: String,
}

/// One account's signature over a transaction body.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct TxSignature {
    pub account: AccountId,
    pub signature: SignatureBytes,
}

/// A transaction body and its signatures: the signer's first, then co-signers' (for
/// multi-party operations such as the two-hands rule).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SignedTransaction {
    pub tx: Transaction,
    pub signatures: Vec<TxSignature>,
}

impl SignedTransaction {
    /// The accounts that signed, in order.
    pub fn signers(&self) -> impl Iterator<Item = &AccountId> {
        self.signatures.iter().map(|s| &s.account)
    }
}

impl Bounded for Transaction {
    fn check_limits(&self) -> Result<(), DecodeError> {
        check_len("operations", self.operations.len(), MAX_OPERATIONS)?;
        check_len("memo", self.memo.len(), MAX_MEMO_BYTES)?;
        self.operations.iter().try_for_each(Operation::check_limits)
    }
}

impl Bounded for SignedTransaction {
    fn check_limits(&self) -> Result<(), DecodeError> {
        self.tx.check_limits()?;
        check_len("signatures", self.signatures.len(), MAX_SIGNATURES)
    }
}

impl Limits for SignedTransaction {
    const MAX_BYTES: usize = MAX_TX_BYTES;
}
