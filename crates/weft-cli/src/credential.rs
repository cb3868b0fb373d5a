//! `weft did` and `weft credential`: resolve DIDs, issue, present and verify SD-JWT
//! verifiable credentials against a node.

use std::path::PathBuf;

use anyhow::{Context, anyhow};
use clap::Subcommand;
use serde_json::{Map, Value};
use weft_client::Client;
use weft_credentials::{
    CredentialDraft, Did, DidRecord, HolderBinding, KeyBindingParams, KeyId, StatusEntry,
};
use weft_types::did::StatusPurpose;

use crate::{
    NodeUrl, keys,
    output::{Failure, Out},
};

#[derive(Subcommand)]
pub(crate) enum DidCmd {
    /// Resolve an account's DID (or a did:weft DID) to its W3C DID document.
    Show {
        /// Account hex, key name/file, or `did:weft:...`.
        who: String,
        /// Resolve as of this height.
        #[arg(long)]
        height: Option<u64>,
        #[command(flatten)]
        url: NodeUrl,
    },
}

#[derive(Subcommand)]
pub(crate) enum CredentialCmd {
    /// Verify an SD-JWT presentation against the node's state (DIDs, trusted issuers,
    /// status lists). Exits 4 when it does not verify.
    Verify {
        /// File holding the presentation (`-` for stdin).
        file: PathBuf,
        /// Expected `aud` of the key-binding JWT (with --nonce: key binding required).
        #[arg(long, requires = "nonce")]
        audience: Option<String>,
        /// Expected `nonce` of the key-binding JWT.
        #[arg(long, requires = "audience")]
        nonce: Option<String>,
        #[command(flatten)]
        url: NodeUrl,
    },
    /// Issue a credential signed by the issuer key's `#key-1` (it must be a current
    /// assertion key), bound to the subject's DID; writes the SD-JWT with every disclosure.
    Issue {
        /// The issuer's key (name or file).
        #[arg(long)]
        key: String,
        /// The subject: account hex, key name/file, or DID.
        #[arg(long)]
        subject: String,
        /// JSON object file of `credentialSubject` claims; every top-level claim is
        /// selectively disclosable.
        #[arg(long)]
        claims: PathBuf,
        /// Credential type besides VerifiableCredential.
        #[arg(long = "type", default_value = "IdentityCredential")]
        credential_type: String,
        /// The issuer's revocation status list (on this chain).
        #[arg(long)]
        list: String,
        /// The credential's index in that list.
        #[arg(long)]
        index: u64,
        /// Days of validity from now.
        #[arg(long, default_value_t = 365)]
        valid_days: i64,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        url: NodeUrl,
    },
    /// Present a credential: disclose only some claims, with a key-binding JWT.
    Present {
        /// The credential as issued.
        file: PathBuf,
        /// The holder's key (name or file); it must be an authentication key of the
        /// subject's DID.
        #[arg(long)]
        key: String,
        /// Which verification method of the subject's DID the key is (`N` of `#key-N`).
        #[arg(long, default_value_t = 1)]
        key_id: u32,
        /// Claim to disclose (JSON pointer within credentialSubject, e.g. /over_18); repeat.
        #[arg(long)]
        disclose: Vec<String>,
        #[arg(long)]
        audience: String,
        #[arg(long)]
        nonce: String,
        #[arg(long)]
        out: PathBuf,
    },
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

async fn chain_id(client: &Client) -> anyhow::Result<weft_types::ChainId> {
    let status = client.status().await?;
    status["chain_id"]
        .as_str()
        .and_then(|c| weft_types::Name::new(c).ok())
        .ok_or_else(|| anyhow!("the node did not name its chain"))
}

/// `who` as a DID on `client`'s chain.
async fn did_of(client: &Client, who: &str) -> anyhow::Result<Did> {
    if let Ok(did) = who.parse::<Did>() {
        return Ok(did);
    }
    Ok(Did::new(chain_id(client).await?, keys::account(who)?))
}

/// The DID record the ledger holds for `did` (stored, or implied by the registration).
async fn did_record(client: &Client, did: &Did) -> anyhow::Result<DidRecord> {
    let stored = client
        .state(&format!("did/{}", did.account()), false, None)
        .await?;
    if stored["value"].is_object() {
        return serde_json::from_value(stored["value"].clone()).context("DID record");
    }
    let resolution = client.resolve_did(&did.to_string(), None).await?;
    let created = resolution["didDocumentMetadata"]["createdHeight"]
        .as_u64()
        .ok_or_else(|| anyhow!("{did} did not resolve"))?;
    Ok(DidRecord::new(did.clone(), created))
}

fn read_input(file: &PathBuf) -> anyhow::Result<String> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?
    };
    Ok(text.trim().to_string())
}

pub(crate) async fn did(cmd: DidCmd, out: Out) -> Result<(), Failure> {
    match cmd {
        DidCmd::Show { who, height, url } => {
            let client = url.client(None)?;
            let did = did_of(&client, &who).await?;
            let v = client.resolve_did(&did.to_string(), height).await?;
            out.print(&v, &serde_json::to_string_pretty(&v).unwrap_or_default());
        }
    }
    Ok(())
}

pub(crate) async fn credential(cmd: CredentialCmd, out: Out) -> Result<(), Failure> {
    match cmd {
        CredentialCmd::Verify {
            file,
            audience,
            nonce,
            url,
        } => {
            let presentation = read_input(&file)?;
            let key_binding = audience.as_deref().zip(nonce.as_deref());
            let v = url
                .client(None)?
                .verify_credential(&presentation, key_binding)
                .await?;
            if v["verified"] == true {
                let text = format!(
                    "verified: {} issued by {} to {}\nclaims: {}",
                    v["types"], v["issuer"], v["subject"], v["claims"]
                );
                out.print(&v, &text);
            } else {
                let reason = v["error"]["reason"].as_str().unwrap_or("unknown");
                let message = v["error"]["message"].as_str().unwrap_or_default();
                if out.json {
                    out.print(&v, "");
                    let mut f = Failure::verification(format!("{reason}: {message}"));
                    f.reported = true;
                    return Err(f);
                }
                let mut f = Failure::verification(format!("{reason}: {message}"));
                f.code = Some(reason.to_string());
                return Err(f);
            }
        }
        CredentialCmd::Issue {
            key,
            subject,
            claims,
            credential_type,
            list,
            index,
            valid_days,
            out: file,
            url,
        } => {
            let key = keys::read(&keys::resolve(&key))?;
            let client = url.client(Some(&key))?;
            let chain = chain_id(&client).await?;
            let issuer = did_record(&client, &Did::new(chain.clone(), key.account())).await?;
            let subject = did_of(&client, &subject).await?;
            let claims: Map<String, Value> = serde_json::from_str(
                &std::fs::read_to_string(&claims)
                    .with_context(|| format!("reading {}", claims.display()))?,
            )
            .context("claims must be a JSON object")?;
            let list_vc = client
                .status_list(&key.account().to_string(), &list)
                .await?;
            let reference = list_vc["id"]
                .as_str()
                .ok_or_else(|| anyhow!("status list {list} has no id"))?
                .to_string();
            let now = now_s();
            let draft = CredentialDraft {
                id: None,
                issuer: issuer.did().key_url(KeyId(1)),
                subject,
                types: vec![credential_type],
                disclosable: claims.keys().map(|k| format!("/{k}")).collect(),
                claims,
                valid_from: now,
                valid_until: Some(now.saturating_add(valid_days.saturating_mul(86_400))),
                status: StatusEntry {
                    purpose: StatusPurpose::Revocation,
                    list: reference,
                    index,
                },
                holder_binding: HolderBinding::SubjectDid,
                issued_at: now,
            };
            let sd_jwt = weft_credentials::issue(&draft, &issuer, &key)
                .map_err(|e| Failure::invalid("invalid_argument", e.to_string()))?;
            std::fs::write(&file, format!("{sd_jwt}\n"))
                .with_context(|| format!("writing {}", file.display()))?;
            out.print(
                &serde_json::json!({"written": file, "bytes": sd_jwt.len()}),
                &format!("credential written to {}", file.display()),
            );
        }
        CredentialCmd::Present {
            file,
            key,
            key_id,
            disclose,
            audience,
            nonce,
            out: target,
        } => {
            let credential = read_input(&file)?;
            let key = keys::read(&keys::resolve(&key))?;
            let params = KeyBindingParams {
                audience: &audience,
                nonce: &nonce,
                issued_at: now_s(),
                holder_key: Some(KeyId(key_id)),
            };
            let pointers: Vec<&str> = disclose.iter().map(String::as_str).collect();
            let presentation =
                weft_credentials::present(&credential, &pointers, Some((&params, &key)))
                    .map_err(|e| Failure::invalid("invalid_argument", e.to_string()))?;
            std::fs::write(&target, format!("{presentation}\n"))
                .with_context(|| format!("writing {}", target.display()))?;
            out.print(
                &serde_json::json!({"written": target, "disclosed": disclose}),
                &format!("presentation written to {}", target.display()),
            );
        }
    }
    Ok(())
}
