//! The Rust SDK: build and sign transactions, talk to a node's REST API, and verify proof
//! bundles offline (re-exported from `weft-crypto`, so the SDK and `weft verify` agree).

pub mod consortium;
pub mod pki;
pub mod private;

use std::time::{Duration, Instant};

use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;
use weft_crypto::sign_transaction;
pub use weft_crypto::{
    BundleError, Keypair, ProofBundle, RecordProof, TrustAnchor, VerifiedRecord, verify_bundle,
};
use weft_types::{
    AccountId, ChainId, ErrorCode, Hash, Operation, Receipt, SignedTransaction, Transaction, encode,
};

/// Builds a transaction for one signer; extra signers co-sign.
#[derive(Debug, Clone)]
pub struct TxBuilder {
    tx: Transaction,
}

impl TxBuilder {
    /// A transaction on `chain_id` by `signer`, with nonce 0 and expiry height `u64::MAX`.
    pub fn new(chain_id: ChainId, signer: AccountId) -> Self {
        Self {
            tx: Transaction {
                chain_id,
                signer,
                nonce: 0,
                expiry_height: u64::MAX,
                operations: Vec::new(),
                memo: String::new(),
            },
        }
    }
    pub fn nonce(mut self, nonce: u64) -> Self {
        self.tx.nonce = nonce;
        self
    }
    pub fn expiry_height(mut self, height: u64) -> Self {
        self.tx.expiry_height = height;
        self
    }
    pub fn memo(mut self, memo: impl Into<String>) -> Self {
        self.tx.memo = memo.into();
        self
    }
    pub fn op(mut self, op: Operation) -> Self {
        self.tx.operations.push(op);
        self
    }
    pub fn ops(mut self, ops: impl IntoIterator<Item = Operation>) -> Self {
        self.tx.operations.extend(ops);
        self
    }
    /// The unsigned body.
    pub fn build(self) -> Transaction {
        self.tx
    }
    /// Signs with `keys`, the signer's key first.
    pub fn sign(self, keys: &[&Keypair]) -> SignedTransaction {
        sign_transaction(self.tx, keys)
    }
}

/// A client-side failure.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node refused the request with a typed error.
    #[error("{code}: {message}")]
    Refused {
        code: ErrorCode,
        message: String,
        http_status: u16,
    },
    /// The node could not be reached or answered garbage.
    #[error("cannot reach the node at {url}: {message}")]
    Transport { url: String, message: String },
    /// A transaction did not commit in time.
    #[error("transaction {0} not committed within the timeout")]
    Timeout(Hash),
}

impl ClientError {
    /// The typed error code, when the node refused the request.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
}

/// A committed transaction as returned by the node.
#[derive(Debug, Clone, Deserialize)]
pub struct Committed {
    pub height: u64,
    pub index: u32,
    pub receipt: Receipt,
    pub reference: Option<String>,
}

/// A connection to one node's API.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    /// Reads are signed with this member key (permissioned reads); without it the node shows
    /// only what the consortium declared public.
    identity: Option<std::sync::Arc<Keypair>>,
}

impl Client {
    /// A client for the API at `base` (e.g. `http://127.0.0.1:7700`).
    pub fn new(base: impl Into<String>) -> Self {
        let base = base.into().trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            base,
            http,
            identity: None,
        }
    }

    /// The same connection, reading as `key`'s account: every GET carries an HTTP Message
    /// Signature (RFC 9421 shape) by that key.
    pub fn as_member(&self, key: &Keypair) -> Self {
        Self {
            identity: Some(std::sync::Arc::new(key.clone())),
            ..self.clone()
        }
    }

    /// The account reads are signed by, if any.
    pub fn member(&self) -> Option<AccountId> {
        self.identity.as_ref().map(|k| k.account())
    }

    /// The API base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn transport(&self, e: impl std::fmt::Display) -> ClientError {
        ClientError::Transport {
            url: self.base.clone(),
            message: e.to_string(),
        }
    }

    async fn handle<T: DeserializeOwned>(&self, resp: reqwest::Response) -> Result<T, ClientError> {
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| self.transport(e))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| self.transport(format!("bad response: {e}")));
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(ClientError::Refused {
                code: ErrorCode::from_name(&body.code).unwrap_or(ErrorCode::Internal),
                message: body.message,
                http_status: status.as_u16(),
            }),
            Err(_) => Err(self.transport(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&bytes)
            ))),
        }
    }

    /// GETs a path and parses the JSON answer.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(key) = &self.identity {
            let (route, query) = match path.split_once('?') {
                Some((route, query)) => (route, Some(query)),
                None => (path, None),
            };
            let created = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let (input, signature) = weft_crypto::sign_request(key, "GET", route, query, created);
            request = request
                .header("signature-input", input)
                .header("signature", signature);
        }
        let resp = request.send().await.map_err(|e| self.transport(e))?;
        self.handle(resp).await
    }

    /// Chain status.
    pub async fn status(&self) -> Result<Value, ClientError> {
        self.get("/v1/status").await
    }

    /// Submits a transaction (canonical bytes); returns its hash once admitted.
    pub async fn submit(&self, tx: &SignedTransaction) -> Result<Hash, ClientError> {
        #[derive(Deserialize)]
        struct Accepted {
            tx_hash: Hash,
        }
        let resp = self
            .http
            .post(format!("{}/v1/transactions", self.base))
            .header("content-type", "application/octet-stream")
            .body(encode(tx))
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        Ok(self.handle::<Accepted>(resp).await?.tx_hash)
    }

    /// Submits many transactions in one request; one result per transaction.
    pub async fn submit_batch(
        &self,
        txs: &[SignedTransaction],
    ) -> Result<Vec<Result<Hash, (ErrorCode, String)>>, ClientError> {
        let items: Vec<Vec<u8>> = txs.iter().map(encode).collect();
        let resp = self
            .http
            .post(format!("{}/v1/transactions/batch", self.base))
            .header("content-type", "application/octet-stream")
            .body(encode(&items))
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let body: Value = self.handle(resp).await?;
        let results = body["results"].as_array().cloned().unwrap_or_default();
        Ok(results
            .into_iter()
            .map(|r| {
                match r
                    .get("tx_hash")
                    .and_then(Value::as_str)
                    .and_then(|h| h.parse().ok())
                {
                    Some(h) => Ok(h),
                    None => Err((
                        r["code"]
                            .as_str()
                            .and_then(ErrorCode::from_name)
                            .unwrap_or(ErrorCode::Internal),
                        r["message"].as_str().unwrap_or_default().to_owned(),
                    )),
                }
            })
            .collect())
    }

    /// A transaction's status document (`prove` adds a proof bundle).
    pub async fn transaction(&self, hash: &Hash, prove: bool) -> Result<Value, ClientError> {
        self.get(&format!("/v1/transactions/{hash}?prove={prove}"))
            .await
    }

    /// Polls until `hash` is committed.
    pub async fn wait_committed(
        &self,
        hash: &Hash,
        timeout: Duration,
    ) -> Result<Committed, ClientError> {
        let deadline = Instant::now() + timeout;
        loop {
            let doc = self.transaction(hash, false).await?;
            if doc["status"] == "committed" {
                return serde_json::from_value(doc)
                    .map_err(|e| self.transport(format!("bad receipt: {e}")));
            }
            if Instant::now() >= deadline {
                return Err(ClientError::Timeout(*hash));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Submits and waits for the receipt.
    pub async fn submit_and_wait(
        &self,
        tx: &SignedTransaction,
        timeout: Duration,
    ) -> Result<Committed, ClientError> {
        let hash = self.submit(tx).await?;
        self.wait_committed(&hash, timeout).await
    }

    /// An account document (organization, roles, nonce, balances).
    pub async fn account(&self, account: &AccountId) -> Result<Value, ClientError> {
        self.get(&format!("/v1/accounts/{account}")).await
    }

    /// The signer's next nonce.
    pub async fn next_nonce(&self, account: &AccountId) -> Result<u64, ClientError> {
        let doc = self.account(account).await?;
        Ok(doc["next_nonce"].as_u64().unwrap_or(0))
    }

    /// A state value (`prove` adds a proof bundle).
    pub async fn state(
        &self,
        key: &str,
        prove: bool,
        height: Option<u64>,
    ) -> Result<Value, ClientError> {
        let mut path = format!("/v1/state/{key}?prove={prove}");
        if let Some(h) = height {
            path.push_str(&format!("&height={h}"));
        }
        self.get(&path).await
    }

    /// One page of the records whose keys start with `prefix` that this client may read:
    /// `{"entries": [{"key", "value"}], "next"}`; pass `next` as `after` for the next page.
    pub async fn list_state(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Value, ClientError> {
        let mut path = format!("/v1/state?prefix={prefix}&limit={limit}");
        if let Some(a) = after {
            path.push_str(&format!("&after={a}"));
        }
        self.get(&path).await
    }

    /// A block by height, hash or `latest`.
    pub async fn block(&self, id: &str) -> Result<Value, ClientError> {
        self.get(&format!("/v1/blocks/{id}")).await
    }

    /// POSTs a JSON body and parses the JSON answer; signed like a GET when reading as a
    /// member.
    pub async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<T, ClientError> {
        self.send_json(reqwest::Method::POST, path, body).await
    }

    /// Sends a JSON body with `method` and parses the JSON answer; signed like a GET when
    /// reading as a member.
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> Result<T, ClientError> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(key) = &self.identity {
            let (route, query) = match path.split_once('?') {
                Some((route, query)) => (route, Some(query)),
                None => (path, None),
            };
            let created = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let (input, signature) =
                weft_crypto::sign_request(key, method.as_str(), route, query, created);
            request = request
                .header("signature-input", input)
                .header("signature", signature);
        }
        let resp = request.send().await.map_err(|e| self.transport(e))?;
        self.handle(resp).await
    }

    /// Resolves a `did:weft` DID: the W3C DID resolution result (`didDocument`,
    /// `didDocumentMetadata`, `didResolutionMetadata`), at the head or at `height`.
    pub async fn resolve_did(&self, did: &str, height: Option<u64>) -> Result<Value, ClientError> {
        let mut path = format!("/v1/dids/{did}");
        if let Some(h) = height {
            path.push_str(&format!("?height={h}"));
        }
        self.get(&path).await
    }

    /// A key-registry name's record (`GET /v1/registry/{name}`).
    pub async fn registry_name(&self, name: &str) -> Result<Value, ClientError> {
        self.get(&format!("/v1/registry/{name}")).await
    }

    /// The registry log's signed tree head (at `height`, default the head).
    pub async fn registry_sth(&self, height: Option<u64>) -> Result<Value, ClientError> {
        match height {
            Some(h) => self.get(&format!("/v1/registry/log/sth?height={h}")).await,
            None => self.get("/v1/registry/log/sth").await,
        }
    }

    /// The inclusion proof of log leaf `leaf` in the tree of `size` leaves.
    pub async fn registry_inclusion(&self, leaf: u64, size: u64) -> Result<Value, ClientError> {
        self.get(&format!(
            "/v1/registry/log/inclusion?leaf={leaf}&size={size}"
        ))
        .await
    }

    /// The consistency proof between the log's trees of `from` and `to` leaves.
    pub async fn registry_consistency(&self, from: u64, to: u64) -> Result<Value, ClientError> {
        self.get(&format!("/v1/registry/log/consistency?from={from}&to={to}"))
            .await
    }

    /// A status list as the W3C `BitstringStatusListCredential`; `issuer` is the account hex
    /// or its DID.
    pub async fn status_list(&self, issuer: &str, name: &str) -> Result<Value, ClientError> {
        self.get(&format!("/v1/status-lists/{issuer}/{name}")).await
    }

    /// Verifies an SD-JWT presentation against the node's state. With `key_binding`
    /// (audience, nonce) a key-binding JWT for them is required. The answer says
    /// `verified: true` with the disclosed claims, or `verified: false` with
    /// `error.reason` (e.g. `revoked`, `untrusted_issuer`, `holder_key_not_current`).
    pub async fn verify_credential(
        &self,
        presentation: &str,
        key_binding: Option<(&str, &str)>,
    ) -> Result<Value, ClientError> {
        let mut body = serde_json::json!({ "presentation": presentation });
        if let Some((audience, nonce)) = key_binding {
            body["audience"] = Value::from(audience);
            body["nonce"] = Value::from(nonce);
        }
        self.post_json("/v1/credentials/verify", &body).await
    }
}
