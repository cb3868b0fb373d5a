//! What a verifier must be able to look up, as traits, with in-memory implementations.
//!
//! Verification is offline: the caller supplies the DID records, status lists and trust
//! policy, from a node's state, from proof-checked records, or from a cache. Each lookup can
//! fail (a node is unreachable); a failure is not "absent", and verification refuses on it
//! rather than guessing.

use std::collections::{BTreeMap, BTreeSet};

use crate::{did::Did, record::DidRecord, status_list::StatusListRecord};

/// A lookup could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("lookup failed: {0}")]
pub struct ResolveError(pub String);

/// DID → its current record.
pub trait DidResolver {
    /// The record of `did`, or `None` if the chain has no such DID.
    fn resolve(&self, did: &Did) -> Result<Option<DidRecord>, ResolveError>;
}

impl DidResolver for BTreeMap<Did, DidRecord> {
    fn resolve(&self, did: &Did) -> Result<Option<DidRecord>, ResolveError> {
        Ok(self.get(did).cloned())
    }
}

/// `statusListCredential` reference → the list's current bits.
pub trait StatusListLookup {
    /// The list at `reference`, or `None` if there is none.
    fn status_list(&self, reference: &str) -> Result<Option<StatusListRecord>, ResolveError>;
}

impl StatusListLookup for BTreeMap<String, StatusListRecord> {
    fn status_list(&self, reference: &str) -> Result<Option<StatusListRecord>, ResolveError> {
        Ok(self.get(reference).cloned())
    }
}

/// The verifier's policy on whose credentials count.
pub trait IssuerTrust {
    /// Whether `issuer` is trusted to issue a credential with these `types`.
    fn is_trusted(&self, issuer: &Did, types: &[String]) -> bool;
}

/// A list of trusted issuers, each for all credential types or for some.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedIssuers {
    /// `None`: every type; `Some(types)`: a credential must carry one of them.
    issuers: BTreeMap<Did, Option<BTreeSet<String>>>,
}

impl TrustedIssuers {
    /// No issuer is trusted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts `issuer` for every credential type.
    pub fn trust(mut self, issuer: Did) -> Self {
        self.issuers.insert(issuer, None);
        self
    }

    /// Trusts `issuer` only for credentials carrying one of `types`.
    pub fn trust_for<I, S>(mut self, issuer: Did, types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.issuers
            .insert(issuer, Some(types.into_iter().map(Into::into).collect()));
        self
    }
}

impl IssuerTrust for TrustedIssuers {
    fn is_trusted(&self, issuer: &Did, types: &[String]) -> bool {
        match self.issuers.get(issuer) {
            None => false,
            Some(None) => true,
            Some(Some(allowed)) => types.iter().any(|t| allowed.contains(t)),
        }
    }
}
