//! The OpenAPI 3.1 document describing every route.

use serde_json::{Value, json};
use weft_types::{ErrorCode, Operation};

fn error_responses() -> Value {
    json!({
        "400": {"$ref": "#/components/responses/Error"},
        "401": {"$ref": "#/components/responses/Error"},
        "403": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"},
        "409": {"$ref": "#/components/responses/Error"},
        "413": {"$ref": "#/components/responses/Error"},
        "422": {"$ref": "#/components/responses/Error"},
        "429": {"$ref": "#/components/responses/Error"},
        "500": {"$ref": "#/components/responses/Error"}
    })
}

fn op(summary: &str, params: Value, ok: &str) -> Value {
    let mut responses = error_responses();
    responses["200"] =
        json!({"description": ok, "content": {"application/json": {"schema": {"type": "object"}}}});
    json!({"summary": summary, "parameters": params, "responses": responses})
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}})
}

fn query_param(name: &str, description: &str, kind: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": kind}})
}

/// The document served at `/openapi.json`.
pub fn openapi_document() -> Value {
    let codes: Vec<Value> = ErrorCode::ALL.iter().map(|c| json!(c.as_str())).collect();
    let submit_body = json!({
        "required": true,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/SignedTransaction"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary", "description": "canonical (borsh) encoding of a SignedTransaction"}}
        }
    });
    let mut submit_responses = error_responses();
    submit_responses["202"] = json!({"description": "admitted to the mempool", "content": {"application/json": {"schema": {"type": "object", "properties": {"tx_hash": {"type": "string"}, "status": {"type": "string"}}}}}});
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Weft node API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Submit transactions, read blocks, accounts, state and events, and fetch proof bundles that verify offline. Reads are permissioned: sign each GET with a member key as an HTTP Message Signature (RFC 9421 shape): `Signature-Input: sig1=(\"@method\" \"@path\" \"@query\");created=<unix seconds>;keyid=\"<account hex>\";alg=\"ed25519\"` and `Signature: sig1=:<base64 Ed25519 signature of the signature base>:`. `created` must be within 300 s of the node's clock. Unsigned requests see only what the consortium's `public` role may read (401 otherwise); a member sees what the read policy allows (403 otherwise); `read.*` roles (auditors, regulators) see everything."
        },
        "security": [{}, {"memberSignature": []}],
        "paths": {
            "/health": {"get": op("Liveness and current height", json!([]), "healthy")},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/openapi.json": {"get": op("This document", json!([]), "the OpenAPI document")},
            "/v1/status": {"get": op("Chain id, head, validators, mempool size, consensus view", json!([]), "status")},
            "/v1/consensus": {"get": op("This validator's consensus view, finalized view, view changes, and the misbehaviour it recorded (signed evidence)", json!([]), "consensus")},
            "/v1/transactions": {"post": {"summary": "Submit a signed transaction", "requestBody": submit_body, "responses": submit_responses}},
            "/v1/transactions/batch": {"post": {
                "summary": "Submit many signed transactions (JSON array, or borsh Vec<Vec<u8>> of encoded transactions)",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/SignedTransaction"}}}, "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": {"200": {"description": "per-transaction results, in order"}, "400": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}
            }},
            "/v1/transactions/{hash}": {"get": op("Transaction status, receipt and (prove=true) proof bundle", json!([path_param("hash", "transaction hash, hex"), query_param("prove", "include a proof bundle", "boolean")]), "status")},
            "/v1/blocks": {"get": op("Block headers (with their hashes) from `from` to `to`, oldest first, at most 200 (default the latest 50): public metadata", json!([query_param("from", "first height", "integer"), query_param("to", "last height (default the head)", "integer")]), "headers")},
            "/v1/blocks/latest": {"get": op("The head block", json!([]), "block")},
            "/v1/blocks/{id}": {"get": op("A block by height or hash", json!([path_param("id", "height or block hash")]), "block")},
            "/v1/accounts/{account}": {"get": op("An account: organization, roles, nonce, balances, DID", json!([path_param("account", "Ed25519 public key, hex")]), "account")},
            "/v1/state": {"get": op("List the records at the head whose keys start with a prefix, in key order, omitting those the caller may not read; page with `after` = the previous `next`", json!([query_param("prefix", "key prefix, e.g. organization/ or token/", "string"), query_param("after", "resume after this key", "string"), query_param("limit", "at most 200 entries (default 50)", "integer")]), "entries and next")},
            "/v1/state/{key}": {"get": op("A state value, optionally with a proof bundle", json!([path_param("key", "state key path, e.g. balance/usd/<account>"), query_param("height", "read at this height (default head)", "integer"), query_param("prove", "include a proof bundle", "boolean")]), "value")},
            "/v1/events": {"get": op("Events by account and/or topic", json!([query_param("account", "account hex", "string"), query_param("topic", "e.g. token.transfer", "string"), query_param("from_height", "first height", "integer"), query_param("limit", "at most 1000", "integer")]), "events")},
            "/v1/stream/blocks": {"get": {"summary": "Server-sent events: one `block` event per committed block", "responses": {"200": {"description": "text/event-stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}}}}
        },
        "components": {
            "securitySchemes": {
                "memberSignature": {"type": "apiKey", "in": "header", "name": "Signature", "description": "HTTP Message Signature by a member's Ed25519 account key, with the Signature-Input header as described above"}
            },
            "responses": {
                "Error": {"description": "a typed refusal", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["code", "number", "message"], "properties": {
                    "code": {"type": "string", "enum": codes},
                    "number": {"type": "integer"},
                    "message": {"type": "string"}
                }},
                "SignedTransaction": {"type": "object", "required": ["tx", "signatures"], "properties": {
                    "tx": {"type": "object", "required": ["chain_id", "signer", "nonce", "expiry_height", "operations", "memo"], "properties": {
                        "chain_id": {"type": "string"},
                        "signer": {"type": "string", "description": "Ed25519 public key, hex"},
                        "nonce": {"type": "integer"},
                        "expiry_height": {"type": "integer"},
                        "operations": {"type": "array", "items": {"type": "object", "required": ["type"], "properties": {"type": {"type": "string", "enum": Operation::type_names()}}}},
                        "memo": {"type": "string"}
                    }},
                    "signatures": {"type": "array", "items": {"type": "object", "properties": {"account": {"type": "string"}, "signature": {"type": "string"}}}}
                }}
            }
        }
    });
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), identity_paths()) {
        paths.extend(more);
    }
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), private_paths()) {
        paths.extend(more);
    }
    doc
}

/// Confidential data (DESIGN §7): every route needs a signed request by a member.
fn private_paths() -> Value {
    let id = path_param("id", "private record id");
    let mut put = op(
        "Hand a private record's payload to this node (its controller or subject). Refused unless the payload and salt open the record's on-chain commitment and this node serves an organization that may hold it; stored encrypted at rest",
        json!([id.clone()]),
        "stored",
    );
    put["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["salt", "payload"], "properties": {
        "salt": {"type": "string", "description": "the commitment's salt, hex (16 to 64 bytes)"},
        "payload": {"type": "string", "description": "the payload, base64"}
    }}}}});
    if let Some(responses) = put["responses"].as_object_mut()
        && let Some(ok) = responses.remove("200")
    {
        responses.insert("201".into(), ok);
    }
    let mut read = op(
        "The payload, once per committed access_private_record transaction signed by the caller, if the caller's right still holds now (a later revocation, consent withdrawal or purge wins). A node that may hold the payload but lacks it fetches it from its peers. Answers salt (hex) and payload (base64), which open the commitment",
        json!([
            id.clone(),
            query_param(
                "access",
                "hash of the committed access transaction",
                "string"
            )
        ]),
        "payload",
    );
    read["responses"]["410"] = json!({"$ref": "#/components/responses/Error"});
    read["responses"]["502"] = json!({"$ref": "#/components/responses/Error"});
    json!({
        "/v1/private/{id}": {"get": op("A private record (commitment, usage policy, subject's consent, grants, purge) and its log of creation, grants, revocations, consent changes, accesses and purge; for its controller, subject, grantees and read.private holders", json!([id.clone(), query_param("from", "first log entry", "integer"), query_param("limit", "at most 1000 log entries", "integer")]), "record and log")},
        "/v1/private/{id}/payload": {
            "get": read,
            "put": put
        },
        "/v1/private/{id}/replicate": {"post": op("Node-to-node: a copy of the payload sealed (HPKE X25519/ChaCha20-Poly1305) to the transfer key in the signed query, for a requester whose organization may hold the payload (a party's or a live grantee's)", json!([id, query_param("transfer_key", "X25519 public key, 64 hex characters", "string")]), "envelope")}
    })
}

/// DID resolution, status lists and credential verification (kept apart: one `json!` for the
/// whole document would exceed the macro recursion limit).
fn identity_paths() -> Value {
    json!({
            "/v1/dids/{did}": {"get": op("Resolve a did:weft DID: the W3C DID resolution result (didDocument, didDocumentMetadata with versionId, deactivated, createdHeight, updatedHeight; didResolutionMetadata). An account's DID exists from its registration; a deactivated DID resolves with no keys", json!([path_param("did", "did:weft:<chain>:<account hex>"), query_param("height", "resolve as of this height (default head)", "integer")]), "DID resolution result")},
            "/v1/status-lists/{issuer}/{name}": {"get": op("A Bitstring Status List as the W3C BitstringStatusListCredential (credentialSubject.encodedList: 'u' + base64url of the GZIP-compressed bits; bit 0 is the most significant bit of the first byte). Its id is the weft:// reference credentials name in statusListCredential", json!([path_param("issuer", "issuer account hex or its did:weft DID"), path_param("name", "list name"), query_param("height", "as of this height (default head)", "integer")]), "BitstringStatusListCredential")},
            "/v1/registry/{name}": {"get": op("A key-registry name (UC-28/29): owner, endorsers_required, the live binding, the pending one and every binding it had (status pending|live|superseded|revoked, endorsers, log leaves)", json!([path_param("name", "DNS name, e.g. www.example.com")]), "name record")},
            "/v1/registry/log/sth": {"get": op("The registry transparency log's signed tree head: tree_size and RFC 9162 root_hash at a height, with proof (the finality certificate and state proof of registry/log/head) for offline verification", json!([query_param("height", "as of this height (default head)", "integer")]), "signed tree head")},
            "/v1/registry/log/inclusion": {"get": op("RFC 9162 inclusion proof (audit_path, hex hashes from the leaf up) of one log entry in the tree of the first size entries", json!([query_param("leaf", "leaf index", "integer"), query_param("size", "tree size (default current)", "integer")]), "inclusion proof")},
            "/v1/registry/log/consistency": {"get": op("RFC 9162 consistency proof that the tree of `to` entries extends the tree of `from` entries", json!([query_param("from", "older tree size (at least 1)", "integer"), query_param("to", "newer tree size (default current)", "integer")]), "consistency proof")},
            "/v1/registry/log/entries/{index}": {"get": op("One log entry, its leaf bytes (borsh) and leaf hash", json!([path_param("index", "leaf index")]), "log entry")},
            "/v1/credentials/verify": {"post": {
                "summary": "Verify an SD-JWT verifiable credential presentation (vc+sd-jwt) against the ledger: issuer and holder DID records, the trusted-issuer registry and the status lists at the head. A presentation that does not verify answers 200 with verified=false and error.reason, one of: oversized, malformed, unsupported_type, unsupported_algorithm, bad_key_id, issuer_mismatch, lookup_failed, unknown_issuer, issuer_deactivated, issuer_key_not_current, bad_signature, untrusted_issuer, concealed_required_claim, tampered_disclosure, not_yet_valid, expired, missing_status, unsupported_status, status_list_not_found, status_purpose_mismatch, status_index_out_of_range, revoked, suspended, missing_key_binding, no_holder_binding, key_binding_malformed, unknown_holder, holder_deactivated, holder_key_not_current, key_binding_signature, key_binding_mismatch, key_binding_stale, wrong_audience, wrong_nonce",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["presentation"], "properties": {
                    "presentation": {"type": "string", "description": "<issuer-signed JWT>~<disclosure>~...~<key-binding JWT>"},
                    "audience": {"type": "string", "description": "expected aud of the key-binding JWT; with nonce, key binding is required"},
                    "nonce": {"type": "string", "description": "expected nonce of the key-binding JWT"}
                }}}}},
                "responses": {
                    "200": {"description": "the verification result", "content": {"application/json": {"schema": {"type": "object", "required": ["verified"], "properties": {
                        "verified": {"type": "boolean"},
                        "issuer": {"type": "string"}, "subject": {"type": "string"},
                        "types": {"type": "array", "items": {"type": "string"}},
                        "claims": {"type": "object", "description": "the disclosed credentialSubject claims"},
                        "holder_bound": {"type": "boolean"},
                        "error": {"type": "object", "properties": {"reason": {"type": "string"}, "code": {"type": "string"}, "number": {"type": "integer"}, "message": {"type": "string"}}}
                    }}}}},
                    "400": {"$ref": "#/components/responses/Error"},
                    "401": {"$ref": "#/components/responses/Error"},
                    "403": {"$ref": "#/components/responses/Error"},
                    "413": {"$ref": "#/components/responses/Error"},
                    "422": {"$ref": "#/components/responses/Error"}
                }
            }}
    })
}
