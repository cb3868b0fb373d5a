//! Confidential data from the client's side (DESIGN §7): commit to a payload, hand it to a
//! node, read it back under a committed access transaction, and check what came back
//! against the commitment on the ledger.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;
use serde_json::{Value, json};
use weft_credentials::commitment::{Commitment, Salt, commit, verify};
use weft_types::{ErrorCode, Hash, Name};

use crate::{Client, ClientError};

/// A payload prepared for the ledger: its salt (kept with the payload, never published) and
/// the commitment that goes on chain.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub salt: Salt,
    pub commitment: Hash,
    pub size: u64,
}

/// Draws a fresh salt and commits to `payload`.
pub fn prepare(payload: &[u8]) -> Result<Sealed, ClientError> {
    let salt = Salt::generate().map_err(|e| ClientError::Transport {
        url: String::new(),
        message: format!("no randomness for a salt: {e}"),
    })?;
    let Commitment(commitment) = commit(payload, &salt);
    Ok(Sealed {
        salt,
        commitment,
        size: payload.len() as u64,
    })
}

/// A payload read from a node, already checked against the commitment it came with.
#[derive(Debug, Clone)]
pub struct PrivatePayload {
    pub id: Name,
    pub purpose: Name,
    pub commitment: Hash,
    pub salt: Salt,
    pub payload: Vec<u8>,
}

#[derive(Deserialize)]
struct PayloadAnswer {
    id: Name,
    purpose: Name,
    commitment: Hash,
    salt: Salt,
    payload: String,
}

impl Client {
    /// The private record `id` and its log (for its parties, grantees and auditors).
    pub async fn private_record(&self, id: &str) -> Result<Value, ClientError> {
        self.get(&format!("/v1/private/{id}")).await
    }

    /// Hands the payload of record `id` to this node (the controller or subject, signed in).
    pub async fn upload_private_payload(
        &self,
        id: &str,
        salt: &Salt,
        payload: &[u8],
    ) -> Result<Value, ClientError> {
        self.send_json(
            reqwest::Method::PUT,
            &format!("/v1/private/{id}/payload"),
            &json!({"salt": salt, "payload": STANDARD.encode(payload)}),
        )
        .await
    }

    /// Reads the payload of `id` under the committed access transaction `access` (signed in
    /// as its signer), and checks it against the commitment the node says the ledger holds.
    /// Callers that hold the record from a proof should compare `commitment` with it too.
    pub async fn read_private_payload(
        &self,
        id: &str,
        access: &Hash,
    ) -> Result<PrivatePayload, ClientError> {
        let answer: PayloadAnswer = self
            .get(&format!("/v1/private/{id}/payload?access={access}"))
            .await?;
        let payload = STANDARD
            .decode(answer.payload.as_bytes())
            .map_err(|e| self.bad(format!("payload is not base64: {e}")))?;
        if !verify(&payload, &answer.salt, &Commitment(answer.commitment)) {
            return Err(ClientError::Refused {
                code: ErrorCode::InvalidArgument,
                message: format!("the payload served for {id} does not open its commitment"),
                http_status: 200,
            });
        }
        Ok(PrivatePayload {
            id: answer.id,
            purpose: answer.purpose,
            commitment: answer.commitment,
            salt: answer.salt,
            payload,
        })
    }

    fn bad(&self, message: String) -> ClientError {
        ClientError::Transport {
            url: self.base().to_owned(),
            message,
        }
    }
}
