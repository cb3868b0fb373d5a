//! `did:weft` identifiers and the DID URLs that name one verification method.
//!
//! The types are defined in `weft_types::did` (operations carry them, and this crate depends
//! on `weft-types`); they are re-exported here so that users of this crate see one API.

pub use weft_types::did::{DID_PREFIX, Did, DidParseError, DidUrl, KeyId};
