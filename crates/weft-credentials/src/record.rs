//! The on-chain record behind a `did:weft` document, and the pure rules for changing it.
//!
//! A [`DidRecord`] lists the DID's *current* verification methods, its extra controllers and
//! services, a deactivated flag and its version. [`DidRecord::apply`] is the only way to
//! change one: it is deterministic (no clock, no randomness, ordered collections only) so
//! every validator computes the same record, and it enforces the method's rules:
//!
//! - the last authentication key cannot be removed (only [`DidUpdate::Deactivate`] empties
//!   the record), so a live DID always has a key that can sign for it;
//! - key ids (`#key-N`) are handed out in increasing order and never reused;
//! - deactivation is final: every later update is refused;
//! - a batch of updates applies atomically and bumps the version once.
//!
//! Who may apply an update is checked by [`DidRecord::may_be_updated_by`]; the ledger calls it
//! with the transaction's signer before applying.

use std::collections::BTreeSet;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use weft_types::{AccountId, Bounded, DecodeError, ErrorCode, Limits, Name, SignatureBytes};

pub use weft_types::did::{DidUpdate, KeyFormat, Service};

use crate::did::{Did, KeyId};

/// Most verification methods one DID may list at a time.
pub const MAX_VERIFICATION_METHODS: usize = 16;
/// Most controllers besides the subject.
pub const MAX_CONTROLLERS: usize = 8;
/// Most service entries.
pub const MAX_SERVICES: usize = 8;
/// Longest service type, in bytes.
pub const MAX_SERVICE_TYPE_BYTES: usize = 64;
/// Longest service endpoint URI, in bytes.
pub const MAX_SERVICE_ENDPOINT_BYTES: usize = 512;
/// Most updates in one batch.
pub const MAX_UPDATES_PER_BATCH: usize = 16;

/// What a verification method may sign for its DID.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Relationship {
    /// Proving control of the DID: holder key binding, DID updates.
    Authentication,
    /// Making statements as the DID: issuing credentials.
    AssertionMethod,
}

/// One current key of a DID.
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct VerificationMethod {
    /// `#key-N`.
    pub id: KeyId,
    /// The Ed25519 public key.
    pub public_key: AccountId,
    /// How the document writes the key.
    pub format: KeyFormat,
    /// Listed under `authentication`.
    pub authentication: bool,
    /// Listed under `assertionMethod`.
    pub assertion_method: bool,
    /// Height of the block that added the key.
    pub added_height: u64,
}

impl VerificationMethod {
    /// Whether the method is listed under `relationship`.
    pub fn serves(&self, relationship: Relationship) -> bool {
        match relationship {
            Relationship::Authentication => self.authentication,
            Relationship::AssertionMethod => self.assertion_method,
        }
    }
}

/// Why an update or a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DidError {
    /// The DID is deactivated; deactivation is final.
    #[error("{0} is deactivated")]
    Deactivated(Did),
    /// A batch with no updates.
    #[error("no updates given")]
    EmptyUpdate,
    /// A batch with too many updates.
    #[error("{0} updates in one batch; at most {MAX_UPDATES_PER_BATCH}")]
    TooManyUpdates(usize),
    /// The height is lower than the record's last update.
    #[error("update at height {height} precedes the last update at {last}")]
    HeightRegressed { height: u64, last: u64 },
    /// The key bytes are not a usable Ed25519 public key (invalid point or weak key).
    #[error("{0} is not a usable Ed25519 public key")]
    InvalidKey(AccountId),
    /// A key with neither relationship could never sign anything.
    #[error("a key must serve authentication, assertionMethod or both")]
    NoRelationship,
    /// The key is already listed.
    #[error("key {0} is already listed as {1}")]
    DuplicateKey(AccountId, KeyId),
    /// No such verification method.
    #[error("no verification method #{0}")]
    UnknownKey(KeyId),
    /// Removing the key would leave no authentication key.
    #[error("#{0} is the last authentication key; deactivate the DID instead")]
    LastAuthenticationKey(KeyId),
    /// Every `#key-N` number has been used.
    #[error("key ids are exhausted")]
    KeyIdsExhausted,
    /// A count limit would be exceeded.
    #[error("at most {max} {what}")]
    TooMany { what: &'static str, max: usize },
    /// The subject is implicitly its own controller.
    #[error("a DID cannot be listed as its own controller")]
    SelfController,
    /// The controller is already listed.
    #[error("{0} is already a controller")]
    DuplicateController(Did),
    /// The controller is not listed.
    #[error("{0} is not a controller")]
    UnknownController(Did),
    /// A service with that id exists.
    #[error("service #{0} already exists")]
    DuplicateService(Name),
    /// No service with that id.
    #[error("no service #{0}")]
    UnknownService(Name),
    /// The service type or endpoint is empty, too long or not an absolute URI.
    #[error("invalid service: {0}")]
    InvalidService(String),
    /// The method is not (or no longer) listed for that relationship.
    #[error("#{key} of {did} is not a current {relationship:?} key")]
    KeyNotCurrent {
        did: Did,
        key: KeyId,
        relationship: Relationship,
    },
    /// The signature does not verify under the named key.
    #[error("signature does not verify under #{0}")]
    BadSignature(KeyId),
    /// A counter would overflow.
    #[error("version counter overflow")]
    Overflow,
}

impl DidError {
    /// The ledger error code a refused DID operation reports.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::UnknownKey(_) | Self::UnknownController(_) | Self::UnknownService(_) => {
                ErrorCode::NotFound
            }
            Self::DuplicateKey(..) | Self::DuplicateController(_) | Self::DuplicateService(_) => {
                ErrorCode::AlreadyExists
            }
            Self::TooManyUpdates(_) | Self::TooMany { .. } => ErrorCode::Oversized,
            Self::KeyNotCurrent { .. } => ErrorCode::Unauthorized,
            Self::BadSignature(_) => ErrorCode::BadSignature,
            Self::Overflow | Self::KeyIdsExhausted => ErrorCode::Overflow,
            Self::Deactivated(_)
            | Self::EmptyUpdate
            | Self::HeightRegressed { .. }
            | Self::InvalidKey(_)
            | Self::NoRelationship
            | Self::LastAuthenticationKey(_)
            | Self::SelfController
            | Self::InvalidService(_) => ErrorCode::InvalidArgument,
        }
    }
}

/// Whether `key` is a valid, non-weak Ed25519 point: weak keys verify forged signatures.
pub(crate) fn usable_key(key: &AccountId) -> bool {
    ed25519_dalek::VerifyingKey::from_bytes(key.as_bytes()).is_ok_and(|k| !k.is_weak())
}

fn check_service(service: &Service) -> Result<(), DidError> {
    let t = &service.service_type;
    if t.is_empty() || t.len() > MAX_SERVICE_TYPE_BYTES || t.chars().any(char::is_control) {
        return Err(DidError::InvalidService(format!(
            "type must be 1-{MAX_SERVICE_TYPE_BYTES} printable bytes"
        )));
    }
    let e = &service.endpoint;
    let scheme_ok = e.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_lowercase())
            && scheme
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
    });
    if e.len() > MAX_SERVICE_ENDPOINT_BYTES
        || !scheme_ok
        || e.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(DidError::InvalidService(format!(
            "endpoint must be an absolute URI of at most {MAX_SERVICE_ENDPOINT_BYTES} bytes"
        )));
    }
    Ok(())
}

/// The state of one DID, as stored on chain.
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct DidRecord {
    did: Did,
    /// Ordered by id (ids only grow, so appending keeps the order).
    verification_methods: Vec<VerificationMethod>,
    controllers: BTreeSet<Did>,
    /// Ordered by id.
    services: Vec<Service>,
    next_key: u32,
    deactivated: bool,
    version: u64,
    created_height: u64,
    updated_height: u64,
}

impl DidRecord {
    /// The record every account starts with: its registration key as `#key-1`, serving both
    /// authentication and assertionMethod.
    pub fn new(did: Did, height: u64) -> Self {
        let first = VerificationMethod {
            id: KeyId(1),
            public_key: *did.account(),
            format: KeyFormat::default(),
            authentication: true,
            assertion_method: true,
            added_height: height,
        };
        Self {
            did,
            verification_methods: vec![first],
            controllers: BTreeSet::new(),
            services: Vec::new(),
            next_key: 2,
            deactivated: false,
            version: 1,
            created_height: height,
            updated_height: height,
        }
    }

    /// The DID this record describes.
    pub fn did(&self) -> &Did {
        &self.did
    }
    /// The current verification methods, by id.
    pub fn verification_methods(&self) -> &[VerificationMethod] {
        &self.verification_methods
    }
    /// DIDs besides the subject whose authentication keys may update this record.
    pub fn controllers(&self) -> &BTreeSet<Did> {
        &self.controllers
    }
    /// Published services, by id.
    pub fn services(&self) -> &[Service] {
        &self.services
    }
    /// Whether the DID has been deactivated (final).
    pub fn is_deactivated(&self) -> bool {
        self.deactivated
    }
    /// Starts at 1 and grows by one per applied batch.
    pub fn version(&self) -> u64 {
        self.version
    }
    /// Height of the block that created the record.
    pub fn created_height(&self) -> u64 {
        self.created_height
    }
    /// Height of the block that last changed it.
    pub fn updated_height(&self) -> u64 {
        self.updated_height
    }
    /// The number the next added key will get.
    pub fn next_key_id(&self) -> KeyId {
        KeyId(self.next_key)
    }

    /// The method `id`, if it is current.
    pub fn method(&self, id: KeyId) -> Option<&VerificationMethod> {
        self.verification_methods
            .binary_search_by_key(&id, |m| m.id)
            .ok()
            .map(|i| &self.verification_methods[i])
    }

    /// The method `id` if it is current and serves `relationship` on a live DID.
    pub fn current_key(
        &self,
        id: KeyId,
        relationship: Relationship,
    ) -> Result<&VerificationMethod, DidError> {
        if self.deactivated {
            return Err(DidError::Deactivated(self.did.clone()));
        }
        self.method(id)
            .filter(|m| m.serves(relationship))
            .ok_or_else(|| DidError::KeyNotCurrent {
                did: self.did.clone(),
                key: id,
                relationship,
            })
    }

    /// Whether `key` is a current authentication key of this live DID.
    pub fn is_authentication_key(&self, key: &AccountId) -> bool {
        !self.deactivated
            && self
                .verification_methods
                .iter()
                .any(|m| m.authentication && &m.public_key == key)
    }

    /// Checks a signature "by the DID": made by method `id`, which must be current and serve
    /// `relationship`. A key rotated out of the record no longer signs for the DID.
    pub fn verify_signature(
        &self,
        id: KeyId,
        relationship: Relationship,
        message: &[u8],
        signature: &SignatureBytes,
    ) -> Result<(), DidError> {
        let method = self.current_key(id, relationship)?;
        if weft_crypto::verify_signature(&method.public_key, message, signature) {
            Ok(())
        } else {
            Err(DidError::BadSignature(id))
        }
    }

    /// Whether `signer` may update this record: it is a current authentication key of the DID
    /// itself or of one of its listed, live controllers (one level; controllers of
    /// controllers do not count, so authority never chains silently).
    pub fn may_be_updated_by(
        &self,
        signer: &AccountId,
        resolver: &dyn crate::DidResolver,
    ) -> Result<bool, crate::ResolveError> {
        if self.deactivated {
            return Ok(false);
        }
        if self.is_authentication_key(signer) {
            return Ok(true);
        }
        for controller in &self.controllers {
            if let Some(record) = resolver.resolve(controller)?
                && record.is_authentication_key(signer)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Applies one update at `height`; see [`apply_all`](Self::apply_all).
    pub fn apply(&self, update: &DidUpdate, height: u64) -> Result<Self, DidError> {
        self.apply_all(std::slice::from_ref(update), height)
    }

    /// Applies a batch atomically: either every update holds and the new record is returned
    /// with its version bumped once, or nothing changes and the first refusal is returned.
    pub fn apply_all(&self, updates: &[DidUpdate], height: u64) -> Result<Self, DidError> {
        if self.deactivated {
            return Err(DidError::Deactivated(self.did.clone()));
        }
        if updates.is_empty() {
            return Err(DidError::EmptyUpdate);
        }
        if updates.len() > MAX_UPDATES_PER_BATCH {
            return Err(DidError::TooManyUpdates(updates.len()));
        }
        if height < self.updated_height {
            return Err(DidError::HeightRegressed {
                height,
                last: self.updated_height,
            });
        }
        let mut next = self.clone();
        for update in updates {
            if next.deactivated {
                return Err(DidError::Deactivated(next.did.clone()));
            }
            next.step(update, height)?;
        }
        next.version = next.version.checked_add(1).ok_or(DidError::Overflow)?;
        next.updated_height = height;
        Ok(next)
    }

    fn step(&mut self, update: &DidUpdate, height: u64) -> Result<(), DidError> {
        match update {
            DidUpdate::AddKey {
                public_key,
                format,
                authentication,
                assertion_method,
            } => {
                if !usable_key(public_key) {
                    return Err(DidError::InvalidKey(*public_key));
                }
                if !authentication && !assertion_method {
                    return Err(DidError::NoRelationship);
                }
                if let Some(m) = self
                    .verification_methods
                    .iter()
                    .find(|m| &m.public_key == public_key)
                {
                    return Err(DidError::DuplicateKey(*public_key, m.id));
                }
                if self.verification_methods.len() >= MAX_VERIFICATION_METHODS {
                    return Err(DidError::TooMany {
                        what: "verification methods",
                        max: MAX_VERIFICATION_METHODS,
                    });
                }
                let id = KeyId(self.next_key);
                self.next_key = self
                    .next_key
                    .checked_add(1)
                    .ok_or(DidError::KeyIdsExhausted)?;
                self.verification_methods.push(VerificationMethod {
                    id,
                    public_key: *public_key,
                    format: *format,
                    authentication: *authentication,
                    assertion_method: *assertion_method,
                    added_height: height,
                });
            }
            DidUpdate::RemoveKey { id } => {
                let index = self
                    .verification_methods
                    .binary_search_by_key(id, |m| m.id)
                    .map_err(|_| DidError::UnknownKey(*id))?;
                let auth_left = self
                    .verification_methods
                    .iter()
                    .filter(|m| m.authentication && m.id != *id)
                    .count();
                if auth_left == 0 {
                    return Err(DidError::LastAuthenticationKey(*id));
                }
                self.verification_methods.remove(index);
            }
            DidUpdate::SetRelationships {
                id,
                authentication,
                assertion_method,
            } => {
                if !authentication && !assertion_method {
                    return Err(DidError::NoRelationship);
                }
                let index = self
                    .verification_methods
                    .binary_search_by_key(id, |m| m.id)
                    .map_err(|_| DidError::UnknownKey(*id))?;
                let other_auth = self
                    .verification_methods
                    .iter()
                    .any(|m| m.authentication && m.id != *id);
                if !authentication && !other_auth {
                    return Err(DidError::LastAuthenticationKey(*id));
                }
                let method = &mut self.verification_methods[index];
                method.authentication = *authentication;
                method.assertion_method = *assertion_method;
            }
            DidUpdate::AddController { controller } => {
                if controller == &self.did {
                    return Err(DidError::SelfController);
                }
                if self.controllers.contains(controller) {
                    return Err(DidError::DuplicateController(controller.clone()));
                }
                if self.controllers.len() >= MAX_CONTROLLERS {
                    return Err(DidError::TooMany {
                        what: "controllers",
                        max: MAX_CONTROLLERS,
                    });
                }
                self.controllers.insert(controller.clone());
            }
            DidUpdate::RemoveController { controller } => {
                if !self.controllers.remove(controller) {
                    return Err(DidError::UnknownController(controller.clone()));
                }
            }
            DidUpdate::AddService { service } => {
                check_service(service)?;
                match self
                    .services
                    .binary_search_by(|s| s.id.as_str().cmp(service.id.as_str()))
                {
                    Ok(_) => return Err(DidError::DuplicateService(service.id.clone())),
                    Err(index) => {
                        if self.services.len() >= MAX_SERVICES {
                            return Err(DidError::TooMany {
                                what: "services",
                                max: MAX_SERVICES,
                            });
                        }
                        self.services.insert(index, service.clone());
                    }
                }
            }
            DidUpdate::RemoveService { id } => {
                let index = self
                    .services
                    .binary_search_by(|s| s.id.as_str().cmp(id.as_str()))
                    .map_err(|_| DidError::UnknownService(id.clone()))?;
                self.services.remove(index);
            }
            DidUpdate::Deactivate => {
                self.deactivated = true;
                self.verification_methods.clear();
                self.services.clear();
            }
        }
        Ok(())
    }

    /// Checks the invariants [`apply_all`](Self::apply_all) maintains; a decoded record that
    /// breaks one did not come from this code and is refused.
    pub fn check_invariants(&self) -> Result<(), String> {
        let methods = &self.verification_methods;
        if methods.len() > MAX_VERIFICATION_METHODS {
            return Err("too many verification methods".into());
        }
        if self.controllers.len() > MAX_CONTROLLERS || self.controllers.contains(&self.did) {
            return Err("bad controller set".into());
        }
        if self.services.len() > MAX_SERVICES {
            return Err("too many services".into());
        }
        if !methods.windows(2).all(|w| w[0].id < w[1].id)
            || methods.iter().any(|m| m.id.0 >= self.next_key)
        {
            return Err("verification method ids out of order or unissued".into());
        }
        let keys: BTreeSet<_> = methods.iter().map(|m| m.public_key).collect();
        if keys.len() != methods.len() {
            return Err("a key is listed twice".into());
        }
        if methods
            .iter()
            .any(|m| !m.authentication && !m.assertion_method)
        {
            return Err("a key serves no relationship".into());
        }
        if self.deactivated {
            if !methods.is_empty() || !self.services.is_empty() {
                return Err("a deactivated DID lists keys or services".into());
            }
        } else if !methods.iter().any(|m| m.authentication) {
            return Err("a live DID has no authentication key".into());
        }
        if !self
            .services
            .windows(2)
            .all(|w| w[0].id.as_str() < w[1].id.as_str())
        {
            return Err("services out of order".into());
        }
        if let Some(bad) = self.services.iter().find_map(|s| check_service(s).err()) {
            return Err(bad.to_string());
        }
        if self.version == 0 || self.updated_height < self.created_height {
            return Err("bad version or heights".into());
        }
        Ok(())
    }
}

impl Bounded for DidRecord {
    fn check_limits(&self) -> Result<(), DecodeError> {
        self.check_invariants().map_err(DecodeError::LimitExceeded)
    }
}

impl Limits for DidRecord {
    const MAX_BYTES: usize = 16 * 1024;
}

#[cfg(test)]
mod tests {
    use weft_crypto::Keypair;
    use weft_types::{ChainId, decode_bounded, encode};

    use super::*;

    fn chain() -> ChainId {
        Name::new("weft-test").unwrap()
    }

    fn key(n: u8) -> Keypair {
        Keypair::from_seed([n; 32])
    }

    fn record() -> DidRecord {
        DidRecord::new(Did::new(chain(), key(1).account()), 10)
    }

    fn add(n: u8, auth: bool, assert: bool) -> DidUpdate {
        DidUpdate::AddKey {
            public_key: key(n).account(),
            format: KeyFormat::Ed25519VerificationKey2020,
            authentication: auth,
            assertion_method: assert,
        }
    }

    #[test]
    fn a_new_record_lists_the_account_key_for_both_relationships() {
        let r = record();
        let m = r.method(KeyId(1)).unwrap();
        assert_eq!(m.public_key, key(1).account());
        assert!(m.authentication && m.assertion_method);
        assert_eq!(r.next_key_id(), KeyId(2));
        assert_eq!(r.version(), 1);
        r.check_invariants().unwrap();
    }

    #[test]
    fn rotation_adds_then_removes_and_bumps_version_once_per_batch() {
        let r = record();
        let rotated = r
            .apply_all(
                &[add(2, true, true), DidUpdate::RemoveKey { id: KeyId(1) }],
                11,
            )
            .unwrap();
        assert_eq!(rotated.version(), 2);
        assert_eq!(rotated.updated_height(), 11);
        assert!(rotated.method(KeyId(1)).is_none());
        assert_eq!(
            rotated.method(KeyId(2)).unwrap().public_key,
            key(2).account()
        );
        assert_eq!(rotated.did(), r.did(), "the DID survives rotation");
        rotated.check_invariants().unwrap();
        // The original record is untouched: apply is pure.
        assert!(r.method(KeyId(1)).is_some());
    }

    #[test]
    fn the_last_authentication_key_cannot_be_removed() {
        let r = record();
        assert_eq!(
            r.apply(&DidUpdate::RemoveKey { id: KeyId(1) }, 11),
            Err(DidError::LastAuthenticationKey(KeyId(1)))
        );
        // An assertion-only key does not count as an authentication key.
        let r = r.apply(&add(2, false, true), 11).unwrap();
        assert_eq!(
            r.apply(&DidUpdate::RemoveKey { id: KeyId(1) }, 12),
            Err(DidError::LastAuthenticationKey(KeyId(1)))
        );
        // But the assertion-only key itself may go.
        let r = r.apply(&DidUpdate::RemoveKey { id: KeyId(2) }, 12).unwrap();
        assert_eq!(r.verification_methods().len(), 1);
    }

    #[test]
    fn a_retiring_key_can_be_demoted_in_place() {
        let r = record();
        let demote = DidUpdate::SetRelationships {
            id: KeyId(1),
            authentication: false,
            assertion_method: true,
        };
        assert_eq!(
            r.apply(&demote, 11),
            Err(DidError::LastAuthenticationKey(KeyId(1)))
        );
        let r = r
            .apply_all(&[add(2, true, true), demote.clone()], 11)
            .unwrap();
        let old = r.method(KeyId(1)).unwrap();
        assert!(!old.authentication && old.assertion_method);
        assert!(!r.is_authentication_key(&key(1).account()));
        assert!(
            r.current_key(KeyId(1), Relationship::AssertionMethod)
                .is_ok()
        );
        assert_eq!(
            r.apply(
                &DidUpdate::SetRelationships {
                    id: KeyId(2),
                    authentication: false,
                    assertion_method: false
                },
                12
            ),
            Err(DidError::NoRelationship)
        );
        assert_eq!(
            r.apply(
                &DidUpdate::SetRelationships {
                    id: KeyId(9),
                    authentication: true,
                    assertion_method: true
                },
                12
            ),
            Err(DidError::UnknownKey(KeyId(9)))
        );
    }

    #[test]
    fn key_ids_are_never_reused() {
        let r = record()
            .apply(&add(2, true, false), 11)
            .unwrap()
            .apply(&DidUpdate::RemoveKey { id: KeyId(2) }, 12)
            .unwrap()
            .apply(&add(3, true, false), 13)
            .unwrap();
        assert!(r.method(KeyId(2)).is_none());
        assert_eq!(r.method(KeyId(3)).unwrap().public_key, key(3).account());
        // Re-adding the removed key gets a fresh id too.
        let r = r.apply(&add(2, true, false), 14).unwrap();
        assert_eq!(r.method(KeyId(4)).unwrap().public_key, key(2).account());
    }

    #[test]
    fn deactivation_is_final_and_drops_every_key() {
        let r = record()
            .apply(
                &DidUpdate::AddService {
                    service: Service {
                        id: Name::new("hub").unwrap(),
                        service_type: "LinkedDomains".into(),
                        endpoint: "https://example.org".into(),
                    },
                },
                11,
            )
            .unwrap();
        let dead = r.apply(&DidUpdate::Deactivate, 12).unwrap();
        assert!(dead.is_deactivated());
        assert!(dead.verification_methods().is_empty());
        assert!(dead.services().is_empty());
        dead.check_invariants().unwrap();
        for update in [add(2, true, true), DidUpdate::Deactivate] {
            assert_eq!(
                dead.apply(&update, 13),
                Err(DidError::Deactivated(dead.did().clone()))
            );
        }
        assert!(!dead.is_authentication_key(&key(1).account()));
        // Deactivation in the middle of a batch ends the batch too.
        assert_eq!(
            r.apply_all(&[DidUpdate::Deactivate, add(2, true, true)], 12),
            Err(DidError::Deactivated(r.did().clone()))
        );
    }

    #[test]
    fn batches_are_atomic() {
        let r = record();
        let err = r
            .apply_all(&[add(2, true, true), add(2, true, false)], 11)
            .unwrap_err();
        assert_eq!(err, DidError::DuplicateKey(key(2).account(), KeyId(2)));
        assert_eq!(err.code(), ErrorCode::AlreadyExists);
        assert_eq!(r.apply_all(&[], 11), Err(DidError::EmptyUpdate));
        let many = vec![DidUpdate::RemoveKey { id: KeyId(9) }; MAX_UPDATES_PER_BATCH + 1];
        assert_eq!(
            r.apply_all(&many, 11),
            Err(DidError::TooManyUpdates(MAX_UPDATES_PER_BATCH + 1))
        );
    }

    #[test]
    fn bad_keys_and_arguments_are_refused() {
        let r = record();
        // The identity point is a weak key: it would "verify" forged signatures.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = AccountId(identity);
        assert_eq!(
            r.apply(
                &DidUpdate::AddKey {
                    public_key: weak,
                    format: KeyFormat::JsonWebKey,
                    authentication: true,
                    assertion_method: false,
                },
                11
            ),
            Err(DidError::InvalidKey(weak))
        );
        assert_eq!(
            r.apply(&add(2, false, false), 11),
            Err(DidError::NoRelationship)
        );
        assert_eq!(
            r.apply(&add(1, true, true), 11),
            Err(DidError::DuplicateKey(key(1).account(), KeyId(1)))
        );
        assert_eq!(
            r.apply(&DidUpdate::RemoveKey { id: KeyId(5) }, 11),
            Err(DidError::UnknownKey(KeyId(5)))
        );
        assert_eq!(
            r.apply(&add(2, true, true), 9),
            Err(DidError::HeightRegressed {
                height: 9,
                last: 10
            })
        );
    }

    #[test]
    fn key_count_is_bounded() {
        let mut r = record();
        for n in 2..=(MAX_VERIFICATION_METHODS as u8) {
            r = r.apply(&add(n, true, false), 11).unwrap();
        }
        assert_eq!(
            r.apply(&add(200, true, false), 11),
            Err(DidError::TooMany {
                what: "verification methods",
                max: MAX_VERIFICATION_METHODS
            })
        );
    }

    #[test]
    fn controllers_follow_their_rules() {
        let r = record();
        let other = Did::new(chain(), key(7).account());
        assert_eq!(
            r.apply(
                &DidUpdate::AddController {
                    controller: r.did().clone()
                },
                11
            ),
            Err(DidError::SelfController)
        );
        let r = r
            .apply(
                &DidUpdate::AddController {
                    controller: other.clone(),
                },
                11,
            )
            .unwrap();
        assert_eq!(
            r.apply(
                &DidUpdate::AddController {
                    controller: other.clone()
                },
                11
            ),
            Err(DidError::DuplicateController(other.clone()))
        );
        let r = r
            .apply(
                &DidUpdate::RemoveController {
                    controller: other.clone(),
                },
                12,
            )
            .unwrap();
        assert_eq!(
            r.apply(
                &DidUpdate::RemoveController {
                    controller: other.clone()
                },
                12
            ),
            Err(DidError::UnknownController(other))
        );
    }

    #[test]
    fn services_must_be_absolute_uris_with_unique_ids() {
        let r = record();
        let svc = |id: &str, endpoint: &str| DidUpdate::AddService {
            service: Service {
                id: Name::new(id).unwrap(),
                service_type: "CredentialRegistry".into(),
                endpoint: endpoint.into(),
            },
        };
        for bad in [
            "",
            "no-scheme",
            "https:",
            "HTTPS://x",
            "https://a b",
            "1http://x",
        ] {
            assert!(
                matches!(
                    r.apply(&svc("s", bad), 11),
                    Err(DidError::InvalidService(_))
                ),
                "{bad:?} accepted"
            );
        }
        let r = r
            .apply_all(
                &[
                    svc("b", "weft://weft-test/1/0"),
                    svc("a", "https://a.example"),
                ],
                11,
            )
            .unwrap();
        let ids: Vec<_> = r.services().iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(
            r.apply(&svc("a", "https://x.example"), 12),
            Err(DidError::DuplicateService(Name::new("a").unwrap()))
        );
        let r = r
            .apply(
                &DidUpdate::RemoveService {
                    id: Name::new("a").unwrap(),
                },
                12,
            )
            .unwrap();
        assert_eq!(
            r.apply(
                &DidUpdate::RemoveService {
                    id: Name::new("a").unwrap()
                },
                12
            ),
            Err(DidError::UnknownService(Name::new("a").unwrap()))
        );
    }

    #[test]
    fn signatures_for_a_did_need_a_current_key_of_the_right_relationship() {
        let r = record().apply(&add(2, true, false), 11).unwrap();
        let msg = b"statement";
        let sig1 = key(1).sign(msg);
        r.verify_signature(KeyId(1), Relationship::AssertionMethod, msg, &sig1)
            .unwrap();
        // key-2 is authentication only.
        let sig2 = key(2).sign(msg);
        assert!(matches!(
            r.verify_signature(KeyId(2), Relationship::AssertionMethod, msg, &sig2),
            Err(DidError::KeyNotCurrent { .. })
        ));
        r.verify_signature(KeyId(2), Relationship::Authentication, msg, &sig2)
            .unwrap();
        // A signature by another key under key-1's id fails.
        assert_eq!(
            r.verify_signature(KeyId(1), Relationship::AssertionMethod, msg, &sig2),
            Err(DidError::BadSignature(KeyId(1)))
        );
        // After rotation, key-1 no longer signs for the DID.
        let rotated = r.apply(&DidUpdate::RemoveKey { id: KeyId(1) }, 12).unwrap();
        assert!(matches!(
            rotated.verify_signature(KeyId(1), Relationship::AssertionMethod, msg, &sig1),
            Err(DidError::KeyNotCurrent { .. })
        ));
    }

    fn arbitrary_update() -> impl proptest::strategy::Strategy<Value = DidUpdate> {
        use proptest::prelude::*;
        prop_oneof![
            4 => (1u8..6, any::<bool>(), any::<bool>()).prop_map(|(n, a, b)| add(n, a, b)),
            4 => (0u32..8).prop_map(|id| DidUpdate::RemoveKey { id: KeyId(id) }),
            2 => (0u32..8, any::<bool>(), any::<bool>()).prop_map(|(id, a, b)| {
                DidUpdate::SetRelationships { id: KeyId(id), authentication: a, assertion_method: b }
            }),
            1 => (5u8..8).prop_map(|n| DidUpdate::AddController {
                controller: Did::new(chain(), key(n).account()),
            }),
            1 => (5u8..8).prop_map(|n| DidUpdate::RemoveController {
                controller: Did::new(chain(), key(n).account()),
            }),
            1 => Just(DidUpdate::Deactivate),
        ]
    }

    proptest::proptest! {
        /// Whatever sequence of updates arrives, every accepted one leaves a record that keeps
        /// the invariants, a refused one changes nothing, and key ids only grow.
        #[test]
        fn random_update_sequences_keep_the_invariants(
            batches in proptest::collection::vec(
                proptest::collection::vec(arbitrary_update(), 1..4), 1..24),
        ) {
            let mut r = record();
            let mut height = 10;
            for batch in batches {
                height += 1;
                let before = r.clone();
                match r.apply_all(&batch, height) {
                    Ok(next) => {
                        proptest::prop_assert_eq!(next.check_invariants(), Ok(()));
                        proptest::prop_assert_eq!(next.version(), before.version() + 1);
                        proptest::prop_assert!(next.next_key_id() >= before.next_key_id());
                        r = next;
                    }
                    Err(_) => proptest::prop_assert_eq!(&r, &before),
                }
                if r.is_deactivated() {
                    proptest::prop_assert!(r.verification_methods().is_empty());
                } else {
                    proptest::prop_assert!(
                        r.verification_methods().iter().any(|m| m.authentication)
                    );
                }
            }
        }
    }

    #[test]
    fn borsh_round_trip_and_bounded_decode_refuse_broken_records() {
        let r = record().apply(&add(2, true, true), 11).unwrap();
        let bytes = encode(&r);
        assert_eq!(decode_bounded::<DidRecord>(&bytes).unwrap(), r);
        // A record whose only key serves nothing is not one apply could produce.
        let mut broken = r.clone();
        broken.verification_methods.truncate(1);
        broken.verification_methods[0].authentication = false;
        broken.verification_methods[0].assertion_method = false;
        assert!(matches!(
            decode_bounded::<DidRecord>(&encode(&broken)),
            Err(DecodeError::LimitExceeded(_))
        ));
    }
}
