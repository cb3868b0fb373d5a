//! `weft private`: confidential data from the command line (DESIGN §7). The ledger holds a
//! record's salted commitment, usage policy, consent, grants and access log; the payload
//! goes to the node's private store and comes back only under a committed, logged access
//! transaction. Each command builds one operation, signs it, waits for its receipt, and for
//! `create` and `read` also moves the payload (see `weft_client::private`).

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
};

use anyhow::Context;
use clap::Subcommand;
use serde_json::{Value, json};
use weft_client::{Client, Keypair, private::prepare};
use weft_credentials::commitment::Salt;
use weft_types::{
    AccessPrivateRecord, CreatePrivateRecord, ErrorCode, GrantPrivateAccess, Name, Operation,
    PurgePrivateRecord, RevokePrivateAccess, SetPrivateConsent, UsagePolicy,
    private::MAX_PRIVATE_PAYLOAD_BYTES,
};

use crate::{
    NodeUrl, keys,
    output::{Failure, Out},
    tx,
};

/// Log entries the node returns per page at most.
const LOG_PAGE: u64 = 1000;

#[derive(Subcommand)]
pub(crate) enum PrivateCmd {
    /// Record a confidential payload: its commitment and usage policy go on the ledger
    /// (signed by the controller, co-signed by the subject), the payload to the node.
    ///
    /// Prints the record's salt (hex). Keep it with the payload: payload and salt together
    /// are what prove, later and to anyone, that this is the data the ledger committed to.
    Create {
        /// The record's id (never reused, not even after a purge).
        #[arg(long)]
        id: Name,
        /// The payload file (at most 16 MiB).
        #[arg(long)]
        file: PathBuf,
        /// What the payload is (e.g. `lab-result`).
        #[arg(long)]
        data_type: Name,
        /// A purpose any use must name (repeatable, 1 to 16).
        #[arg(long = "purpose", required = true)]
        purposes: Vec<Name>,
        /// The data subject's key (name or file); it co-signs the record and its policy.
        #[arg(long)]
        subject: Option<String>,
        /// After this block time (ms since the epoch) only the subject may read.
        #[arg(long)]
        retain_until_ms: Option<u64>,
        /// Let grantees pass their grant on (never widening purposes or expiry).
        #[arg(long)]
        onward_grants: bool,
        /// The controller's key (name or file): it signs and uploads the payload.
        #[arg(long)]
        key: String,
        #[command(flatten)]
        url: NodeUrl,
    },
    /// Hand a recorded payload (again) to a node, with the salt `create` printed. By the
    /// controller or the subject.
    Upload {
        id: Name,
        #[arg(long)]
        file: PathBuf,
        /// The salt, hex.
        #[arg(long)]
        salt: String,
        /// The controller's or subject's key (name or file).
        #[arg(long)]
        key: String,
        #[command(flatten)]
        url: NodeUrl,
    },
    /// A record and its access log (read with `--as`: its parties, grantees and auditors).
    Show {
        id: Name,
        #[command(flatten)]
        url: NodeUrl,
    },
    /// Log an access for a purpose on the ledger, then fetch the payload under it (once per
    /// access) and check it against the commitment.
    Read {
        id: Name,
        #[arg(long)]
        purpose: Name,
        /// The reader's key (name or file): it signs the access and the fetch.
        #[arg(long)]
        key: String,
        /// Write the payload here; without it the raw bytes go to stdout (required with --json).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        url: NodeUrl,
    },
    /// Let an account read for some of the policy's purposes.
    Grant {
        id: Name,
        /// The grantee: account hex or key name.
        #[arg(long)]
        to: String,
        /// A purpose granted (repeatable).
        #[arg(long = "purpose", required = true)]
        purposes: Vec<Name>,
        /// Block time (ms since the epoch) at which the grant lapses.
        #[arg(long)]
        expires_ms: Option<u64>,
        /// The controller's, subject's or (onward) grantee's key.
        #[arg(long)]
        key: String,
        #[command(flatten)]
        url: NodeUrl,
    },
    /// Withdraw a grant and every grant passed on from it.
    Revoke {
        id: Name,
        /// Account hex or key name.
        #[arg(long)]
        grantee: String,
        /// The controller's, subject's or granter's key.
        #[arg(long)]
        key: String,
        #[command(flatten)]
        url: NodeUrl,
    },
    /// The subject states the purposes it consents to; none withdraws consent entirely.
    Consent {
        id: Name,
        /// A purpose consented to (repeatable); omit to withdraw all consent.
        #[arg(long = "purpose")]
        purposes: Vec<Name>,
        /// The subject's key.
        #[arg(long)]
        key: String,
        #[command(flatten)]
        url: NodeUrl,
    },
    /// Erase the payload everywhere, keeping the commitment and the log. Final.
    Purge {
        id: Name,
        #[arg(long)]
        reason: String,
        /// The controller's or subject's key.
        #[arg(long)]
        key: String,
        #[command(flatten)]
        url: NodeUrl,
    },
}

fn key(name_or_file: &str) -> Result<Keypair, Failure> {
    Ok(keys::read(&keys::resolve(name_or_file))?)
}

/// Reads a payload file, refusing anything above the ledger's limit before reading it all.
fn read_payload(file: &Path) -> Result<Vec<u8>, Failure> {
    let too_big = |size: u64| {
        Failure::invalid(
            ErrorCode::Oversized.as_str(),
            format!(
                "{} is {size} bytes; a private payload is at most {MAX_PRIVATE_PAYLOAD_BYTES} bytes (16 MiB)",
                file.display()
            ),
        )
    };
    let f = std::fs::File::open(file).with_context(|| format!("reading {}", file.display()))?;
    let size = f
        .metadata()
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    if size > MAX_PRIVATE_PAYLOAD_BYTES {
        return Err(too_big(size));
    }
    // The file may grow between the check and the read (or be a pipe): never read more.
    let mut payload = Vec::new();
    f.take(MAX_PRIVATE_PAYLOAD_BYTES + 1)
        .read_to_end(&mut payload)
        .with_context(|| format!("reading {}", file.display()))?;
    if payload.len() as u64 > MAX_PRIVATE_PAYLOAD_BYTES {
        return Err(too_big(payload.len() as u64));
    }
    Ok(payload)
}

/// `sign_submit_wait` for the one-operation commands, reporting the receipt.
async fn commit_and_report(
    url: &NodeUrl,
    signer: &Keypair,
    op: Operation,
    what: String,
    out: Out,
) -> Result<(), Failure> {
    let (hash, committed) = tx::sign_submit_wait(url, signer, &[], vec![op]).await?;
    out.print(
        &json!({"tx_hash": hash, "status": "committed", "height": committed.height, "index": committed.index}),
        &format!(
            "{what}\n  committed {hash} at height {} index {}",
            committed.height, committed.index
        ),
    );
    Ok(())
}

/// A client signed in as `key`, whatever `--as` says: uploads and payload reads must come
/// from the account the ledger checks.
fn client_as(url: &NodeUrl, key: &Keypair) -> Client {
    Client::new(url.node.clone()).as_member(key)
}

pub(crate) async fn private(cmd: PrivateCmd, out: Out) -> Result<(), Failure> {
    match cmd {
        PrivateCmd::Create {
            id,
            file,
            data_type,
            purposes,
            subject,
            retain_until_ms,
            onward_grants,
            key: controller,
            url,
        } => {
            let controller = key(&controller)?;
            let subject = subject.as_deref().map(key).transpose()?;
            let payload = read_payload(&file)?;
            let sealed = prepare(&payload)?;
            let salt_hex = hex::encode(sealed.salt.as_bytes());
            let op = Operation::CreatePrivateRecord(CreatePrivateRecord {
                id: id.clone(),
                data_type: data_type.clone(),
                subject: subject.as_ref().map(Keypair::account),
                commitment: sealed.commitment,
                size: sealed.size,
                policy: UsagePolicy {
                    purposes,
                    retain_until_ms,
                    onward_grants,
                },
            });
            let cosigners: Vec<&Keypair> = subject.iter().collect();
            let (hash, committed) =
                tx::sign_submit_wait(&url, &controller, &cosigners, vec![op]).await?;
            if let Err(e) = client_as(&url, &controller)
                .upload_private_payload(id.as_str(), &sealed.salt, &payload)
                .await
            {
                let mut failure = Failure::from(e);
                failure.message = format!(
                    "{id} is on the ledger (transaction {hash}) but the node did not take its payload: {}\n  \
                     keep the salt {salt_hex} and retry with `weft private upload {id} --file {} --salt {salt_hex} --key ...`",
                    failure.message,
                    file.display()
                );
                return Err(failure);
            }
            out.print(
                &json!({
                    "id": id,
                    "data_type": data_type,
                    "subject": subject.as_ref().map(Keypair::account),
                    "commitment": sealed.commitment,
                    "size": sealed.size,
                    "salt": salt_hex,
                    "tx_hash": hash,
                    "height": committed.height,
                    "stored": true,
                }),
                &format!(
                    "created private record {id} ({data_type}, {} bytes)\n  commitment {}\n  committed  {hash} at height {}\n  salt       {salt_hex}\n  keep the salt with the payload: together they prove what the ledger committed to",
                    sealed.size, sealed.commitment, committed.height
                ),
            );
        }
        PrivateCmd::Upload {
            id,
            file,
            salt,
            key: k,
            url,
        } => {
            let k = key(&k)?;
            let salt = hex::decode(salt.trim())
                .ok()
                .and_then(|b| Salt::from_bytes(b).ok())
                .ok_or_else(|| Failure::usage("--salt: expected 16 to 64 bytes of hex".into()))?;
            let payload = read_payload(&file)?;
            client_as(&url, &k)
                .upload_private_payload(id.as_str(), &salt, &payload)
                .await?;
            out.print(
                &json!({"id": id, "size": payload.len(), "stored": true}),
                &format!(
                    "the node stores the payload of {id} ({} bytes)",
                    payload.len()
                ),
            );
        }
        PrivateCmd::Show { id, url } => {
            let v = record_with_log(&url.client(None)?, &id).await?;
            out.print(&v, &describe(&v));
        }
        PrivateCmd::Read {
            id,
            purpose,
            key: reader,
            out: file,
            url,
        } => {
            // Checked before the access is logged: a payload is served once per access.
            if out.json && file.is_none() {
                return Err(Failure::usage(
                    "with --json, name a file with --out: the payload is served once per access"
                        .into(),
                ));
            }
            if let Some(f) = &file {
                check_writable(f)?;
            }
            let reader = key(&reader)?;
            let op = Operation::AccessPrivateRecord(AccessPrivateRecord {
                id: id.clone(),
                purpose: purpose.clone(),
            });
            let (access, committed) = tx::sign_submit_wait(&url, &reader, &[], vec![op]).await?;
            let got = client_as(&url, &reader)
                .read_private_payload(id.as_str(), &access)
                .await?;
            let summary = format!(
                "read {} bytes of {id} for {purpose} (access {access} at height {}); they open commitment {}",
                got.payload.len(),
                committed.height,
                got.commitment
            );
            match &file {
                Some(f) => {
                    std::fs::write(f, &got.payload)
                        .with_context(|| format!("writing {}", f.display()))?;
                    out.print(
                        &json!({
                            "id": id,
                            "purpose": got.purpose,
                            "access_tx": access,
                            "height": committed.height,
                            "commitment": got.commitment,
                            "size": got.payload.len(),
                            "out": f,
                        }),
                        &format!("{summary}\n  written to {}", f.display()),
                    );
                }
                None => {
                    let mut stdout = std::io::stdout().lock();
                    stdout
                        .write_all(&got.payload)
                        .and_then(|()| stdout.flush())
                        .context("writing the payload to stdout")?;
                    eprintln!("{summary}");
                }
            }
        }
        PrivateCmd::Grant {
            id,
            to,
            purposes,
            expires_ms,
            key: k,
            url,
        } => {
            let grantee = keys::account(&to)?;
            let what = format!(
                "granted {grantee} access to {id} for {}{}",
                join(&purposes),
                expires_ms.map_or_else(|| ", no expiry".into(), |t| format!(" until {}", utc(t)))
            );
            let op = Operation::GrantPrivateAccess(GrantPrivateAccess {
                id,
                grantee,
                purposes,
                expires_at_ms: expires_ms,
            });
            commit_and_report(&url, &key(&k)?, op, what, out).await?;
        }
        PrivateCmd::Revoke {
            id,
            grantee,
            key: k,
            url,
        } => {
            let grantee = keys::account(&grantee)?;
            let what = format!("revoked {grantee}'s grant on {id} and those passed on from it");
            let op = Operation::RevokePrivateAccess(RevokePrivateAccess { id, grantee });
            commit_and_report(&url, &key(&k)?, op, what, out).await?;
        }
        PrivateCmd::Consent {
            id,
            purposes,
            key: k,
            url,
        } => {
            let what = if purposes.is_empty() {
                format!("consent to every use of {id} withdrawn")
            } else {
                format!("consent on {id} now covers {}", join(&purposes))
            };
            let op = Operation::SetPrivateConsent(SetPrivateConsent { id, purposes });
            commit_and_report(&url, &key(&k)?, op, what, out).await?;
        }
        PrivateCmd::Purge {
            id,
            reason,
            key: k,
            url,
        } => {
            let what = format!("purged {id}: its payload is erased, its commitment and log stay");
            let op = Operation::PurgePrivateRecord(PurgePrivateRecord { id, reason });
            commit_and_report(&url, &key(&k)?, op, what, out).await?;
        }
    }
    Ok(())
}

/// Refuses an output path that cannot be written before an access is spent on it.
fn check_writable(file: &Path) -> Result<(), Failure> {
    if file.is_dir() {
        return Err(Failure::usage(format!(
            "--out {} is a directory",
            file.display()
        )));
    }
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(Failure::usage(format!(
            "--out: directory {} does not exist",
            dir.display()
        )));
    }
    Ok(())
}

/// The record with its whole log, paging through the node's answers.
async fn record_with_log(client: &Client, id: &Name) -> Result<Value, Failure> {
    let mut v = client.private_record(id.as_str()).await?;
    let size = v["record"]["log_size"].as_u64().unwrap_or(0);
    let mut log = match v["log"].take() {
        Value::Array(entries) => entries,
        _ => Vec::new(),
    };
    while (log.len() as u64) < size {
        let page: Value = client
            .get(&format!(
                "/v1/private/{id}?from={}&limit={LOG_PAGE}",
                log.len()
            ))
            .await?;
        match page["log"].as_array() {
            Some(entries) if !entries.is_empty() => log.extend(entries.iter().cloned()),
            _ => break,
        }
    }
    v["log"] = Value::Array(log);
    Ok(v)
}

fn join(names: &[Name]) -> String {
    names
        .iter()
        .map(Name::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn strs(v: &Value) -> String {
    let items: Vec<&str> = v
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("?")
}

/// A block time (ms since the epoch) as UTC, e.g. `2026-11-25T10:00:00Z`.
fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm, non-negative days).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn time(v: &Value) -> String {
    v.as_u64().map_or_else(|| "?".into(), utc)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The human summary of `weft private show`.
fn describe(v: &Value) -> String {
    let r = &v["record"];
    let policy = &r["policy"];
    let mut lines = vec![
        format!(
            "private record {} ({}, {} bytes)",
            s(&r["id"]),
            s(&r["data_type"]),
            r["size"]
        ),
        format!("  controller  {}", s(&r["controller"])),
        format!("  subject     {}", r["subject"].as_str().unwrap_or("none")),
        format!("  commitment  {}", s(&r["commitment"])),
        format!(
            "  purposes    {} (retain {}; {})",
            strs(&policy["purposes"]),
            policy["retain_until_ms"]
                .as_u64()
                .map_or_else(|| "without limit".into(), |t| format!("until {}", utc(t))),
            if policy["onward_grants"] == true {
                "onward grants allowed"
            } else {
                "no onward grants"
            }
        ),
        format!("  consent     {}", strs(&r["consent"])),
        format!(
            "  created     at height {} ({})",
            r["created_at"],
            time(&r["created_ms"])
        ),
    ];
    match r["grants"].as_object() {
        Some(grants) if !grants.is_empty() => {
            lines.push("  grants".into());
            let now = now_ms();
            for (grantee, g) in grants {
                let expiry = match g["expires_at_ms"].as_u64() {
                    Some(t) if t <= now => format!("expired {}", utc(t)),
                    Some(t) => format!("until {}", utc(t)),
                    None => "no expiry".into(),
                };
                lines.push(format!(
                    "    {grantee}  for {}, {expiry} (by {} at height {})",
                    strs(&g["purposes"]),
                    s(&g["granted_by"]),
                    g["granted_at"]
                ));
            }
        }
        _ => lines.push("  grants      none".into()),
    }
    match r["purged"].as_object() {
        Some(p) => lines.push(format!(
            "  purged      at height {} ({}) by {}: {}",
            p["height"],
            time(&p["timestamp_ms"]),
            s(&p["by"]),
            s(&p["reason"])
        )),
        None => lines.push("  purged      no".into()),
    }
    lines.push(format!(
        "  this node   {}",
        if v["stored_here"] == true {
            "stores the payload"
        } else {
            "does not store the payload"
        }
    ));
    let log = v["log"].as_array().map(Vec::as_slice).unwrap_or_default();
    lines.push(format!("log ({} entries)", log.len()));
    for e in log {
        let event = s(&e["event"]);
        let detail = match event {
            "created" => format!("commitment {}", s(&e["commitment"])),
            "granted" => format!(
                "to {} for {}{}",
                s(&e["grantee"]),
                strs(&e["purposes"]),
                e["expires_at_ms"]
                    .as_u64()
                    .map_or_else(String::new, |t| format!(" until {}", utc(t)))
            ),
            "revoked" => format!("from {}", strs(&e["grantees"])),
            "consent" if e["purposes"].as_array().is_none_or(Vec::is_empty) => {
                "withdrawn for every purpose".into()
            }
            "consent" => format!("for {}", strs(&e["purposes"])),
            "accessed" => format!("for {}", s(&e["purpose"])),
            "purged" => format!("because {}", s(&e["reason"])),
            _ => String::new(),
        };
        lines.push(format!(
            "  #{:<4} height {:<6} {}  {event:<8} {detail}",
            e["index"].as_u64().unwrap_or(0),
            e["height"].as_u64().unwrap_or(0),
            s(&e["actor"])
        ));
    }
    lines.join("\n")
}
