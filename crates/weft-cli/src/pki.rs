//! `weft pki`: the key registry from the command line: show a name's bindings, issue an
//! X.509 certificate for a live binding and verify a presented certificate against the
//! ledger (see `weft_client::pki` for the profile). Binding, endorsing, rotating and
//! revoking are transactions (`bind_name`, `endorse_binding`, `rotate_binding`,
//! `revoke_binding`) sent with `weft tx raw`.

use std::path::PathBuf;

use anyhow::{Context, anyhow};
use clap::Subcommand;
use serde_json::json;
use weft_client::pki::{check_against_ledger, inspect_certificate, issue_certificate, live_key_of};
use weft_types::registry::DnsName;

use crate::{
    NodeUrl, keys,
    output::{Failure, Out},
};

#[derive(Subcommand)]
pub(crate) enum PkiCmd {
    /// A name's record: owner, endorsement policy, live and pending bindings, history.
    Show {
        name: String,
        #[command(flatten)]
        url: NodeUrl,
    },
    /// X.509 certificates for live bindings.
    #[command(subcommand)]
    Cert(CertCmd),
}

#[derive(Subcommand)]
pub(crate) enum CertCmd {
    /// Issue a certificate for a name, self-signed by its bound key. The key must be the
    /// name's live binding on the ledger.
    Issue {
        /// The DNS name (subject CN and SAN).
        #[arg(long)]
        name: String,
        /// The bound key (name or file) that signs the certificate.
        #[arg(long)]
        key: String,
        /// Days of validity from now.
        #[arg(long, default_value_t = 90)]
        days: u32,
        /// Where to write the PEM certificate.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        url: NodeUrl,
    },
    /// Verify a certificate (PEM or DER) against the ledger: its key must be the live
    /// binding of the name it certifies. Exits 4 when it does not verify.
    Verify {
        file: PathBuf,
        #[command(flatten)]
        url: NodeUrl,
    },
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

pub(crate) async fn pki(cmd: PkiCmd, out: Out) -> Result<(), Failure> {
    match cmd {
        PkiCmd::Show { name, url } => {
            let v = url.client(None)?.registry_name(&name).await?;
            out.print(&v, &serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        PkiCmd::Cert(CertCmd::Issue {
            name,
            key,
            days,
            out: path,
            url,
        }) => {
            let name: DnsName = name.parse().map_err(|e| anyhow!("{e}"))?;
            let key = keys::read(&keys::resolve(&key))?;
            let record = url.client(None)?.registry_name(name.as_str()).await?;
            if live_key_of(&record) != Some(key.account()) {
                return Err(Failure::invalid(
                    "not_live",
                    format!("{} is not the live key of {name}", key.account()),
                ));
            }
            let serial = record["live"]["serial"]
                .as_u64()
                .and_then(|s| u32::try_from(s).ok())
                .context("the live binding's serial")?;
            let pem = issue_certificate(&name, &key, serial, now_s() - 60, days)
                .map_err(|e| anyhow!("{e}"))?;
            std::fs::write(&path, &pem).with_context(|| format!("writing {}", path.display()))?;
            let v =
                json!({"name": name, "public_key": key.account(), "serial": serial, "file": path});
            out.print(
                &v,
                &format!("certificate for {name} written to {}", path.display()),
            );
        }
        PkiCmd::Cert(CertCmd::Verify { file, url }) => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let info = inspect_certificate(&bytes, now_s())
                .map_err(|e| Failure::verification(e.to_string()))?;
            let record = url.client(None)?.registry_name(info.name.as_str()).await;
            let live = match record {
                Ok(r) => live_key_of(&r),
                Err(e) if e.code() == Some(weft_types::ErrorCode::NotFound) => None,
                Err(e) => return Err(e.into()),
            };
            check_against_ledger(&info, live).map_err(|e| Failure::verification(e.to_string()))?;
            let v = json!({
                "verified": true,
                "name": info.name,
                "public_key": info.public_key,
                "serial": info.serial_hex,
                "not_after": info.not_after,
            });
            out.print(
                &v,
                &format!(
                    "verified: {} is the live key of {}",
                    info.public_key, info.name
                ),
            );
        }
    }
    Ok(())
}
