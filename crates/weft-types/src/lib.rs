//! Weft's data model: the bytes every node signs, hashes, stores and proves.
//!
//! Everything here has one canonical binary encoding (borsh) and a JSON form for the API.
//! Untrusted bytes are decoded only through [`decode_bounded`], which caps the input size
//! and checks every length limit of the decoded value.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod block;
pub mod did;
mod encoding;
mod error;
mod genesis;
mod ids;
mod operation;
pub mod private;
mod receipt;
pub mod registry;
pub mod state;
mod transaction;

pub use block::{Block, BlockHeader, Finalization, ValidatorSignature};
pub use encoding::{Bounded, DecodeError, Limits, decode_bounded, encode};
pub use error::{ErrorCode, TxError};
pub use genesis::{
    DEFAULT_EPOCH_LENGTH, Genesis, GenesisAccount, GenesisGovernance, GenesisOrganization,
    GenesisToken, GenesisValidator, MAX_EPOCH_LENGTH, MIN_EPOCH_LENGTH,
};
pub use ids::{AccountId, Amount, ChainId, Hash, IdError, Name, SignatureBytes};
pub use operation::{
    AcceptQuote, BuyAsset, CancelOrder, ClearMarket, CloseRfq, MAX_FEE_BPS, OfferAsset, OpenMarket,
    PlaceOrder, RequestQuote, Side, SubmitQuote,
};
pub use operation::{
    AmendDocument, AnchorDocument, AssignRole, Attributes, Burn, CancelHold, DefineToken, Hold,
    MAX_ATTRIBUTE_KEY_BYTES, MAX_ATTRIBUTES, MAX_FAN, MAX_PARTIES, Mint, MultiTransfer, Operation,
    RegisterAccount, RegisterOrganization, ReleaseHold, RevokeRole, SetFrozen, SignDocument,
    Transfer, TransferLeg, UnknownOperation,
};
pub use operation::{CaptureEpcisEvent, EpcisAction, EpcisKind, SensorReport};
pub use operation::{
    CreateInstance, DeployTemplate, MAX_INSTANCE_BINDINGS, MAX_TEMPLATE_SOURCE_BYTES, Transition,
};
pub use operation::{
    CreateStatusList, MAX_CREDENTIAL_TYPE_BYTES, MAX_DID_SERVICE_ENDPOINT_BYTES,
    MAX_DID_SERVICE_TYPE_BYTES, MAX_DID_UPDATES, MAX_ISSUER_CREDENTIAL_TYPES, PublishCommitment,
    RegisterIssuer, RemoveIssuer, SetCredentialStatus, UpdateDid, WithdrawCommitment,
};
pub use operation::{
    FeedIssuance, MAX_FEED_SCALE, PostReading, RegisterFeed, RemoveThreshold, SetThreshold,
};
pub use operation::{MAX_GOVERNANCE_ADMINS, SetGovernance, SetValidators};
pub use operation::{
    MergeAssets, NewAsset, RegisterAsset, RetireAsset, SetAssetAttributes, SplitAsset,
    TransferAsset, TransformAssets,
};
pub use private::{
    AccessPrivateRecord, CreatePrivateRecord, GrantPrivateAccess, PurgePrivateRecord,
    RevokePrivateAccess, SetPrivateConsent, UsagePolicy,
};
pub use receipt::{Event, Receipt, TxStatus};
pub use registry::{BindName, DnsName, EndorseBinding, RevokeBinding, RotateBinding};
pub use transaction::{SignedTransaction, Transaction, TxSignature};

/// Encoding and size limits shared by every node; part of the protocol.
pub mod limits {
    /// Largest encoded signed transaction accepted from anyone.
    pub const MAX_TX_BYTES: usize = 64 * 1024;
    /// Most operations in one transaction.
    pub const MAX_OPERATIONS: usize = 64;
    /// Most signatures on one transaction.
    pub const MAX_SIGNATURES: usize = 16;
    /// Longest memo, in bytes.
    pub const MAX_MEMO_BYTES: usize = 256;
    /// Longest name (organization, role, token symbol, chain id), in bytes.
    pub const MAX_NAME_BYTES: usize = 64;
    /// Longest free-text field (display names), in bytes.
    pub const MAX_TEXT_BYTES: usize = 256;
    /// Most transactions in one block.
    pub const MAX_BLOCK_TXS: usize = 20_000;
    /// Largest encoded block.
    pub const MAX_BLOCK_BYTES: usize = 32 * 1024 * 1024;
    /// Most validators in a set.
    pub const MAX_VALIDATORS: usize = 128;
    /// Most admins of the consensus governance.
    pub const MAX_GOVERNANCE_ADMINS: usize = crate::operation::MAX_GOVERNANCE_ADMINS;
    /// Most events one receipt may carry.
    pub const MAX_EVENTS: usize = 256;
    /// Most attributes on one event.
    pub const MAX_EVENT_ATTRIBUTES: usize = 16;
}
