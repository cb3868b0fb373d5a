//! Confidential data's records in the ledger state (DESIGN §7; UC-09, UC-31), and the rules
//! that decide who may read a private payload and which nodes may hold it. Pure functions of
//! the state and the block time, so the executor, the API and every node's private store
//! decide alike.
//!
//! Owns: a record ([`PrivateRecord`]: controller, subject, commitment, usage policy, the
//! subject's consent, the live grants, and the purge once it happened) under
//! `private/record/<id>`, and its append-only log ([`PrivateLogEntry`]: creation, every
//! grant, revocation, consent change, access and the purge) under `private/log/<id>/<n>`.
//! The log is what lets "the patient know who is accessing their data" (UC-09) and an
//! auditor check practices without seeing the data (UC-31).

use std::collections::{BTreeMap, BTreeSet};

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use weft_types::{
    AccountId, ErrorCode, Hash, Name, UsagePolicy,
    state::{StateReadError, StateReader},
};

use crate::{keys::StateKey, model::Account};

/// A grant to read a record.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Grant {
    pub purposes: Vec<Name>,
    pub expires_at_ms: Option<u64>,
    /// The controller, the subject, or the grantee that passed its grant on.
    pub granted_by: AccountId,
    pub granted_at: u64,
}

/// The erasure of a record's payload.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Purge {
    pub height: u64,
    pub timestamp_ms: u64,
    pub by: AccountId,
    pub reason: String,
}

/// A private record: everything about the payload except the payload.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct PrivateRecord {
    pub id: Name,
    pub data_type: Name,
    pub controller: AccountId,
    pub subject: Option<AccountId>,
    pub commitment: Hash,
    pub size: u64,
    pub policy: UsagePolicy,
    /// The purposes the subject consents to now (the policy's, for a record without subject).
    pub consent: Vec<Name>,
    pub grants: BTreeMap<AccountId, Grant>,
    pub created_at: u64,
    pub created_ms: u64,
    pub purged: Option<Purge>,
    /// Entries in the record's log.
    pub log_size: u64,
}

/// What happened to a record.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PrivateEvent {
    Created {
        commitment: Hash,
    },
    Granted {
        grantee: AccountId,
        purposes: Vec<Name>,
        expires_at_ms: Option<u64>,
    },
    /// The grants withdrawn: the one named and those passed on from it.
    Revoked {
        grantees: Vec<AccountId>,
    },
    Consent {
        purposes: Vec<Name>,
    },
    Accessed {
        purpose: Name,
    },
    Purged {
        reason: String,
    },
}

/// One entry of a record's log.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct PrivateLogEntry {
    pub index: u64,
    pub height: u64,
    pub timestamp_ms: u64,
    /// Who signed the operation.
    pub actor: AccountId,
    #[serde(flatten)]
    pub event: PrivateEvent,
}

/// Why a read is refused: a stable code and a reason that never reveals the payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRefused {
    pub code: ErrorCode,
    pub reason: String,
}

fn refused(code: ErrorCode, reason: String) -> AccessRefused {
    AccessRefused { code, reason }
}

impl PrivateRecord {
    /// Whether `account` is the controller or the subject.
    pub fn is_party(&self, account: &AccountId) -> bool {
        self.controller == *account || self.subject.as_ref() == Some(account)
    }

    /// The grant of `account` if it has not expired at `now_ms`.
    pub fn live_grant(&self, account: &AccountId, now_ms: u64) -> Option<&Grant> {
        self.grants
            .get(account)
            .filter(|g| g.expires_at_ms.is_none_or(|t| now_ms < t))
    }

    fn retention_over(&self, now_ms: u64) -> bool {
        self.policy.retain_until_ms.is_some_and(|t| now_ms >= t)
    }

    /// May `reader` read the payload for `purpose` at block time `now_ms`? The subject
    /// always may (its right of access); the controller and grantees only for a purpose
    /// the policy, their grant and the subject's current consent all cover, and only while
    /// the retention period lasts.
    pub fn check_access(
        &self,
        reader: &AccountId,
        purpose: &Name,
        now_ms: u64,
    ) -> Result<(), AccessRefused> {
        if let Some(p) = &self.purged {
            return Err(refused(
                ErrorCode::Purged,
                format!("{} was purged at height {}", self.id, p.height),
            ));
        }
        if self.subject.as_ref() == Some(reader) {
            return Ok(());
        }
        let allowed: &[Name] = if *reader == self.controller {
            &self.policy.purposes
        } else {
            match self.live_grant(reader, now_ms) {
                Some(g) => &g.purposes,
                None => {
                    return Err(refused(
                        ErrorCode::Unauthorized,
                        format!("{reader} holds no live grant on {}", self.id),
                    ));
                }
            }
        };
        if !allowed.contains(purpose) {
            return Err(refused(
                ErrorCode::Unauthorized,
                format!(
                    "purpose {purpose} is not granted to {reader} on {}",
                    self.id
                ),
            ));
        }
        if !self.consent.contains(purpose) {
            return Err(refused(
                ErrorCode::Unauthorized,
                format!("the subject of {} does not consent to {purpose}", self.id),
            ));
        }
        if self.retention_over(now_ms) {
            return Err(refused(
                ErrorCode::Unauthorized,
                format!(
                    "the retention period of {} is over; only its subject may read it",
                    self.id
                ),
            ));
        }
        Ok(())
    }

    /// The accounts whose organizations' nodes may hold the payload at `now_ms`: the
    /// parties and the live grantees; nobody once purged.
    pub fn holders(&self, now_ms: u64) -> BTreeSet<AccountId> {
        if self.purged.is_some() {
            return BTreeSet::new();
        }
        let mut out: BTreeSet<AccountId> = self
            .grants
            .keys()
            .filter(|a| self.live_grant(a, now_ms).is_some())
            .copied()
            .collect();
        out.insert(self.controller);
        out.extend(self.subject);
        out
    }
}

fn get<T: BorshDeserialize>(
    state: &impl StateReader,
    key: &StateKey,
) -> Result<Option<T>, StateReadError> {
    match state.get(&key.to_bytes())? {
        Some(bytes) => borsh::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StateReadError(format!("{key}: {e}"))),
        None => Ok(None),
    }
}

/// The record `id`, if any.
pub fn load(state: &impl StateReader, id: &Name) -> Result<Option<PrivateRecord>, StateReadError> {
    get(state, &StateKey::PrivateRecord(id.clone()))
}

/// Up to `max` log entries of `record` from `from`, oldest first.
pub fn log(
    state: &impl StateReader,
    record: &PrivateRecord,
    from: u64,
    max: u64,
) -> Result<Vec<PrivateLogEntry>, StateReadError> {
    let end = record.log_size.min(from.saturating_add(max));
    let mut out = Vec::new();
    for i in from..end {
        if let Some(e) = get(state, &StateKey::PrivateLog(record.id.clone(), i))? {
            out.push(e);
        }
    }
    Ok(out)
}

/// Whether a node operated by a member of `organization` may hold the payload of `record`
/// at `now_ms`: some holder's account belongs to that organization.
pub fn organization_may_hold(
    state: &impl StateReader,
    record: &PrivateRecord,
    organization: &Name,
    now_ms: u64,
) -> Result<bool, StateReadError> {
    for holder in record.holders(now_ms) {
        if let Some(account) = get::<Account>(state, &StateKey::Account(holder))?
            && account.organization == *organization
        {
            return Ok(true);
        }
    }
    Ok(false)
}
