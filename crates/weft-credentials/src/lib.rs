//! Decentralized identifiers and verifiable credentials for Weft, as pure functions.
//!
//! This crate owns the data and the rules; the ledger stores the records and runs the
//! operations (see `docs/did-weft.md`). Nothing here touches the network, the filesystem or
//! a clock: times are arguments, lookups are traits.
//!
//! - [`did`], [`record`], [`document`]: the `did:weft` method. Every account has a DID whose
//!   [`DidRecord`] lists its current keys; [`DidRecord::apply_all`] enforces the update
//!   rules; [`DidRecord::document`] renders the W3C DID Core document.
//! - [`status_list`]: W3C Bitstring Status List, the revocation registry.
//! - [`commitment`]: salted-hash commitments to personal data (UC-27).
//! - [`keys`]: Ed25519 keys as JWK and multibase.
//! - With the default `vc` feature: [`vc`], W3C VC Data Model 2.0 credentials secured as
//!   SD-JWT (`vc+sd-jwt`) with selective disclosure and holder key binding ([`issue`],
//!   [`present`], [`Verifier::verify`]), over [`jose`] (EdDSA JWS). The deterministic part
//!   above builds without it, so the executor need not link the JOSE stack.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod commitment;
pub mod did;
pub mod document;
#[cfg(feature = "vc")]
pub mod jose;
pub mod keys;
pub mod record;
pub mod resolve;
pub mod status_list;
#[cfg(feature = "vc")]
pub mod vc;

/// The VC Data Model 2.0 base context.
pub const VC_CONTEXT_V2: &str = "https://www.w3.org/ns/credentials/v2";

pub use did::{DID_PREFIX, Did, DidParseError, DidUrl, KeyId};
pub use document::{DidDocument, DidResolution};
pub use record::{
    DidError, DidRecord, DidUpdate, KeyFormat, Relationship, Service, VerificationMethod,
};
pub use resolve::{DidResolver, IssuerTrust, ResolveError, StatusListLookup, TrustedIssuers};
pub use status_list::{BitstringStatusList, StatusListError, StatusListRecord, StatusPurpose};
#[cfg(feature = "vc")]
pub use vc::{
    CredentialDraft, ExpectedKeyBinding, HolderBinding, IssueError, KeyBindingParams, PresentError,
    StatusEntry, VerifiedCredential, Verifier, VerifyError, VerifyOptions, issue, present,
};
