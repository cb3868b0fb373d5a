//! Identity and credential records in the ledger state, and read access to them for
//! verifiers.
//!
//! Owns: the trusted-issuer registry entry ([`TrustedIssuer`]), the stored status list
//! ([`StoredStatusList`]), the UC-27 commitment record ([`CommitmentRecord`]), how a DID
//! record is found (explicit `did/<account>` record, or the record every registered account
//! implies), the `weft://` reference that names a status list, and [`LedgerView`], which
//! answers the lookups of `weft_credentials::Verifier` from any state snapshot, so a node
//! verifies credentials against exactly what the ledger holds.
//!
//! DID records are created lazily: registering an account does not write a DID record;
//! until its first `update_did`, an account's record is `DidRecord::new` at its
//! registration height (`#key-1` = the account key). The first update stores it. So every
//! account has a DID from registration on, the record can only change through `update_did`,
//! and registering accounts (and genesis) costs no extra state.

use std::collections::BTreeSet;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use weft_credentials::{
    DidRecord, DidResolver, IssuerTrust, ResolveError, StatusListLookup, StatusListRecord,
};
use weft_types::{
    AccountId, ChainId, Hash, Name,
    did::Did,
    state::{StateReadError, StateReader},
};

use crate::{keys::StateKey, model::Account};

/// Most entries a status list on the ledger may have: 2^20 (128 KiB of bits), so that one
/// status change rewrites a bounded record. The W3C minimum (131,072) is the least.
pub const MAX_LEDGER_STATUS_LIST_BITS: u32 = 1 << 20;

/// An entry of the trusted-issuer registry.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct TrustedIssuer {
    /// The issuer's DID.
    pub did: Did,
    /// Credential types it is trusted for; empty means every type.
    pub credential_types: BTreeSet<String>,
    /// Who registered it.
    pub registered_by: AccountId,
    /// Height of registration.
    pub registered_at: u64,
}

impl TrustedIssuer {
    /// Whether a credential carrying `types` is within what the issuer is trusted for.
    pub fn covers(&self, types: &[String]) -> bool {
        self.credential_types.is_empty() || types.iter().any(|t| self.credential_types.contains(t))
    }
}

/// A status list as the ledger stores it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct StoredStatusList {
    /// Purpose and bits.
    pub status: StatusListRecord,
    /// Height of creation.
    pub created_at: u64,
    /// Height of the last status change (or creation).
    pub updated_at: u64,
    /// Block time of the last change, Unix milliseconds (the list credential's `validFrom`).
    pub updated_at_ms: u64,
}

/// A published salted-hash commitment to one attribute of personal data (UC-27).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CommitmentRecord {
    /// Who verified the data and published the commitment.
    pub publisher: AccountId,
    /// `weft_credentials::commitment::commit_attribute` of the attribute.
    pub commitment: Hash,
    /// The attribute's name (never its value).
    pub attribute: String,
    /// Height of publication.
    pub published_at: u64,
    /// Height of withdrawal, if withdrawn.
    pub withdrawn_at: Option<u64>,
}

/// The `statusListCredential` reference of list `name` of `issuer` on `chain`:
/// `weft://<chain>/status-lists/<issuer account hex>/<name>`.
pub fn status_list_reference(chain: &ChainId, issuer: &AccountId, name: &Name) -> String {
    format!("weft://{chain}/status-lists/{issuer}/{name}")
}

/// The issuer and list name a `weft://` reference on `chain` names, if it is one.
pub fn parse_status_list_reference(chain: &ChainId, reference: &str) -> Option<(AccountId, Name)> {
    let rest = reference
        .strip_prefix("weft://")?
        .strip_prefix(chain.as_str())?
        .strip_prefix("/status-lists/")?;
    let (issuer, name) = rest.split_once('/')?;
    // One spelling per list: lower-case hex, as the reference is written.
    let issuer: AccountId = issuer.parse().ok()?;
    if issuer.to_string() != rest.split_once('/')?.0 {
        return None;
    }
    Some((issuer, Name::new(name).ok()?))
}

fn get<T: BorshDeserialize>(
    state: &dyn StateReader,
    key: &StateKey,
) -> Result<Option<T>, StateReadError> {
    match state.get(&key.to_bytes())? {
        None => Ok(None),
        Some(bytes) => borsh::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StateReadError(format!("corrupt state under {key}: {e}"))),
    }
}

/// The DID record of `account` on `chain`: the stored record, or the one a registered
/// account implies; `None` if the account is not registered.
pub fn did_record(
    state: &dyn StateReader,
    chain: &ChainId,
    account: &AccountId,
) -> Result<Option<DidRecord>, StateReadError> {
    if let Some(record) = get::<DidRecord>(state, &StateKey::Did(*account))? {
        return Ok(Some(record));
    }
    Ok(get::<Account>(state, &StateKey::Account(*account))?
        .map(|a| DidRecord::new(Did::new(chain.clone(), *account), a.registered_at)))
}

/// Verifier lookups over one state snapshot of one chain: DID records, status lists and the
/// trusted-issuer registry. DIDs and lists of other chains are unknown here.
pub struct LedgerView<'a> {
    state: &'a dyn StateReader,
    chain: ChainId,
}

impl std::fmt::Debug for LedgerView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerView")
            .field("chain", &self.chain)
            .finish_non_exhaustive()
    }
}

impl<'a> LedgerView<'a> {
    /// Lookups over `state`, the state of chain `chain`.
    pub fn new(state: &'a dyn StateReader, chain: ChainId) -> Self {
        Self { state, chain }
    }

    /// The chain's stored list `name` of `issuer`.
    pub fn status_list_of(
        &self,
        issuer: &AccountId,
        name: &Name,
    ) -> Result<Option<StoredStatusList>, StateReadError> {
        get(self.state, &StateKey::StatusList(*issuer, name.clone()))
    }

    /// The registry entry of `issuer`, if it is a trusted issuer on this chain.
    pub fn trusted_issuer(&self, issuer: &Did) -> Result<Option<TrustedIssuer>, StateReadError> {
        if issuer.chain() != &self.chain {
            return Ok(None);
        }
        get(self.state, &StateKey::Issuer(*issuer.account()))
    }
}

impl DidResolver for LedgerView<'_> {
    fn resolve(&self, did: &Did) -> Result<Option<DidRecord>, ResolveError> {
        if did.chain() != &self.chain {
            return Ok(None);
        }
        did_record(self.state, &self.chain, did.account()).map_err(|e| ResolveError(e.0))
    }
}

impl StatusListLookup for LedgerView<'_> {
    fn status_list(&self, reference: &str) -> Result<Option<StatusListRecord>, ResolveError> {
        // A list this chain does not hold (another chain's, an https URL) is not found here,
        // and verification fails closed on it.
        let Some((issuer, name)) = parse_status_list_reference(&self.chain, reference) else {
            return Ok(None);
        };
        self.status_list_of(&issuer, &name)
            .map(|l| l.map(|l| l.status))
            .map_err(|e| ResolveError(e.0))
    }
}

impl IssuerTrust for LedgerView<'_> {
    fn is_trusted(&self, issuer: &Did, types: &[String]) -> bool {
        // A failed read trusts no one.
        self.trusted_issuer(issuer)
            .ok()
            .flatten()
            .is_some_and(|entry| entry.covers(types))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_list_references_have_one_spelling() {
        let chain = Name::new("weft-test").unwrap();
        let issuer = AccountId([0xab; 32]);
        let list = Name::new("revocation-1").unwrap();
        let reference = status_list_reference(&chain, &issuer, &list);
        assert_eq!(
            parse_status_list_reference(&chain, &reference),
            Some((issuer, list.clone()))
        );
        let other = Name::new("other").unwrap();
        assert_eq!(parse_status_list_reference(&other, &reference), None);
        for bad in [
            reference.to_uppercase(),
            reference.replace("/status-lists/", "/status/"),
            format!("{reference}/x"),
            format!("https://example.org/status-lists/{issuer}/{list}"),
        ] {
            assert_eq!(parse_status_list_reference(&chain, &bad), None, "{bad}");
        }
    }
}
