//! Confidential data (DESIGN §7; UC-09 "My Health Data", UC-31 data accountability): the
//! operations on private records. The payload itself never enters a transaction: the ledger
//! keeps its salted commitment, the usage policy, the grants and an access log, while the
//! payload stays encrypted in the private stores of the nodes whose organizations may hold it.
//!
//! Parties, in the paper's words (UC-31): the data *controller* records the data and its
//! policy; the data *subject* (when the data is about a person) co-signs the record, decides
//! which purposes it consents to and may revoke any grant or demand erasure; *processors*
//! read under grants limited to purposes, and may pass a grant on when the policy allows it.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::{
    encoding::{DecodeError, check_len},
    ids::{AccountId, Hash, Name},
    limits::MAX_TEXT_BYTES,
};

/// Most purposes a policy, grant or consent names.
pub const MAX_PURPOSES: usize = 16;
/// Most grants one record carries at a time.
pub const MAX_GRANTS: usize = 64;
/// Largest payload a private record may describe (the private store enforces it too).
pub const MAX_PRIVATE_PAYLOAD_BYTES: u64 = 16 * 1024 * 1024;

/// How the data may be used; fixed when the record is created.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct UsagePolicy {
    /// The purposes any use must name (e.g. `treatment`, `research`); 1 to 16, distinct.
    pub purposes: Vec<Name>,
    /// After this block time only the subject may read; the record is due for purging.
    #[serde(default)]
    pub retain_until_ms: Option<u64>,
    /// Whether a grantee may pass its grant on (never widening purposes or expiry).
    #[serde(default)]
    pub onward_grants: bool,
}

/// Records a private payload by its commitment. Signed by the controller; when `subject` is
/// set, the subject co-signs (its consent covers the policy's purposes from the start).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CreatePrivateRecord {
    pub id: Name,
    /// What the payload is (`lab-result`, `prescription`...): the "data type" half of the
    /// paper's fingerprinted pairs, visible to the record's readers.
    pub data_type: Name,
    #[serde(default)]
    pub subject: Option<AccountId>,
    /// `weft_credentials::commitment::commit(payload, salt)`.
    pub commitment: Hash,
    /// The payload's length in bytes.
    pub size: u64,
    pub policy: UsagePolicy,
}

/// Lets `grantee` read the record for some of the policy's purposes, until `expires_at_ms`.
/// By the controller, the subject, or (when the policy allows onward grants) a grantee within
/// its own grant. Granting again replaces the grantee's grant.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct GrantPrivateAccess {
    pub id: Name,
    pub grantee: AccountId,
    pub purposes: Vec<Name>,
    #[serde(default)]
    pub expires_at_ms: Option<u64>,
}

/// Withdraws a grant, and every grant passed on from it. By the controller, the subject or
/// whoever made the grant.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RevokePrivateAccess {
    pub id: Name,
    pub grantee: AccountId,
}

/// The subject states the purposes it consents to (a subset of the policy's); an empty list
/// withdraws consent, after which nobody but the subject may read.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SetPrivateConsent {
    pub id: Name,
    pub purposes: Vec<Name>,
}

/// Reads the record for `purpose`: the ledger checks the reader's right at this block and logs
/// the access; a node hands the payload out once per committed access transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct AccessPrivateRecord {
    pub id: Name,
    pub purpose: Name,
}

/// Erases the payload everywhere (GDPR art. 17), keeping the commitment and the log. By the
/// controller or the subject; final.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct PurgePrivateRecord {
    pub id: Name,
    pub reason: String,
}

impl CreatePrivateRecord {
    pub(crate) fn check_limits(&self) -> Result<(), DecodeError> {
        check_len("policy purposes", self.policy.purposes.len(), MAX_PURPOSES)
    }
}

impl GrantPrivateAccess {
    pub(crate) fn check_limits(&self) -> Result<(), DecodeError> {
        check_len("purposes", self.purposes.len(), MAX_PURPOSES)
    }
}

impl SetPrivateConsent {
    pub(crate) fn check_limits(&self) -> Result<(), DecodeError> {
        check_len("purposes", self.purposes.len(), MAX_PURPOSES)
    }
}

impl PurgePrivateRecord {
    pub(crate) fn check_limits(&self) -> Result<(), DecodeError> {
        check_len("reason", self.reason.len(), MAX_TEXT_BYTES)
    }
}
