//! Rendering a [`DidRecord`] as a W3C DID Core document and resolution result.
//!
//! The document is derived, never stored: the record is the source of truth, so the document
//! cannot drift from the keys the ledger enforces.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    keys::{ed25519_jwk, ed25519_multibase},
    record::{DidRecord, KeyFormat},
};

/// The DID Core v1 JSON-LD context.
pub const DID_CONTEXT: &str = "https://www.w3.org/ns/did/v1";
/// Context defining `Ed25519VerificationKey2020` and `publicKeyMultibase`.
pub const ED25519_2020_CONTEXT: &str = "https://w3id.org/security/suites/ed25519-2020/v1";
/// Context defining `JsonWebKey` and `publicKeyJwk`.
pub const JWK_CONTEXT: &str = "https://w3id.org/security/jwk/v1";
/// Media type of the rendered document.
pub const DID_LD_JSON: &str = "application/did+ld+json";

/// A verification method as the document shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentVerificationMethod {
    /// `did:weft:...#key-N`.
    pub id: String,
    /// `Ed25519VerificationKey2020` or `JsonWebKey`.
    #[serde(rename = "type")]
    pub method_type: String,
    /// The DID whose key this is.
    pub controller: String,
    /// Set for `Ed25519VerificationKey2020`.
    #[serde(rename = "publicKeyMultibase", skip_serializing_if = "Option::is_none")]
    pub public_key_multibase: Option<String>,
    /// Set for `JsonWebKey`.
    #[serde(rename = "publicKeyJwk", skip_serializing_if = "Option::is_none")]
    pub public_key_jwk: Option<Value>,
}

/// A service as the document shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentService {
    /// `did:weft:...#<id>`.
    pub id: String,
    /// The service type.
    #[serde(rename = "type")]
    pub service_type: String,
    /// Where to reach it.
    #[serde(rename = "serviceEndpoint")]
    pub service_endpoint: String,
}

/// A W3C DID Core document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DidDocument {
    /// JSON-LD contexts: DID Core first, then the key suites in use.
    #[serde(rename = "@context")]
    pub context: Vec<String>,
    /// The DID.
    pub id: String,
    /// Present only when other controllers are listed; the subject is then listed too,
    /// because it keeps control of its own document.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub controller: Vec<String>,
    /// Current keys.
    #[serde(rename = "verificationMethod")]
    pub verification_method: Vec<DocumentVerificationMethod>,
    /// Keys that prove control of the DID.
    pub authentication: Vec<String>,
    /// Keys that issue statements (credentials) as the DID.
    #[serde(rename = "assertionMethod")]
    pub assertion_method: Vec<String>,
    /// Published services.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub service: Vec<DocumentService>,
}

/// DID document metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentMetadata {
    /// The record's version, as text (DID Core `versionId`).
    #[serde(rename = "versionId")]
    pub version_id: String,
    /// True once the DID is deactivated.
    pub deactivated: bool,
    /// Height of the block that created the DID (Weft extension; blocks, not wall time).
    #[serde(rename = "createdHeight")]
    pub created_height: u64,
    /// Height of the block that last changed it.
    #[serde(rename = "updatedHeight")]
    pub updated_height: u64,
}

/// DID resolution metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolutionMetadata {
    /// Always `application/did+ld+json`.
    #[serde(rename = "contentType")]
    pub content_type: String,
}

/// What a DID resolver returns (W3C DID Resolution).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DidResolution {
    /// The document.
    #[serde(rename = "didDocument")]
    pub did_document: DidDocument,
    /// Version and deactivation.
    #[serde(rename = "didDocumentMetadata")]
    pub did_document_metadata: DocumentMetadata,
    /// Content type.
    #[serde(rename = "didResolutionMetadata")]
    pub did_resolution_metadata: ResolutionMetadata,
}

impl DidRecord {
    /// The W3C DID document listing the record's current keys. A deactivated DID renders
    /// with no keys: nothing can sign for it.
    pub fn document(&self) -> DidDocument {
        let did = self.did().to_string();
        let methods = self.verification_methods();
        let mut context = vec![DID_CONTEXT.to_string()];
        if methods
            .iter()
            .any(|m| m.format == KeyFormat::Ed25519VerificationKey2020)
        {
            context.push(ED25519_2020_CONTEXT.to_string());
        }
        if methods.iter().any(|m| m.format == KeyFormat::JsonWebKey) {
            context.push(JWK_CONTEXT.to_string());
        }
        let url = |fragment: String| format!("{did}#{fragment}");
        let verification_method = methods
            .iter()
            .map(|m| {
                let (method_type, multibase, jwk) = match m.format {
                    KeyFormat::Ed25519VerificationKey2020 => (
                        "Ed25519VerificationKey2020",
                        Some(ed25519_multibase(&m.public_key)),
                        None,
                    ),
                    KeyFormat::JsonWebKey => (
                        "JsonWebKey",
                        None,
                        Some(Value::Object(ed25519_jwk(&m.public_key))),
                    ),
                };
                DocumentVerificationMethod {
                    id: url(m.id.fragment()),
                    method_type: method_type.to_string(),
                    controller: did.clone(),
                    public_key_multibase: multibase,
                    public_key_jwk: jwk,
                }
            })
            .collect();
        let listed = |pick: fn(&crate::record::VerificationMethod) -> bool| {
            methods
                .iter()
                .filter(|m| pick(m))
                .map(|m| url(m.id.fragment()))
                .collect()
        };
        let controller = if self.controllers().is_empty() {
            Vec::new()
        } else {
            std::iter::once(did.clone())
                .chain(self.controllers().iter().map(ToString::to_string))
                .collect()
        };
        DidDocument {
            context,
            id: did.clone(),
            controller,
            verification_method,
            authentication: listed(|m| m.authentication),
            assertion_method: listed(|m| m.assertion_method),
            service: self
                .services()
                .iter()
                .map(|s| DocumentService {
                    id: url(s.id.to_string()),
                    service_type: s.service_type.clone(),
                    service_endpoint: s.endpoint.clone(),
                })
                .collect(),
        }
    }

    /// The full resolution result: document plus metadata (`deactivated`, `versionId`).
    pub fn resolution(&self) -> DidResolution {
        DidResolution {
            did_document: self.document(),
            did_document_metadata: DocumentMetadata {
                version_id: self.version().to_string(),
                deactivated: self.is_deactivated(),
                created_height: self.created_height(),
                updated_height: self.updated_height(),
            },
            did_resolution_metadata: ResolutionMetadata {
                content_type: DID_LD_JSON.to_string(),
            },
        }
    }
}
