//! Key files: `{"account": hex, "secret": hex}`, created with owner-only permissions.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use weft_client::Keypair;
use weft_types::AccountId;

#[derive(Serialize, Deserialize)]
struct KeyFile {
    account: AccountId,
    secret: String,
}

/// Where named keys live: `$WEFT_HOME/keys`, default `~/.weft/keys`.
pub fn keys_dir() -> PathBuf {
    let home = std::env::var_os("WEFT_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."))
                .join(".weft")
        });
    home.join("keys")
}

/// A key given as a path, or as a name in [`keys_dir`].
pub fn resolve(name_or_path: &str) -> PathBuf {
    let p = Path::new(name_or_path);
    if p.exists() || name_or_path.contains('/') || name_or_path.ends_with(".key") {
        p.to_path_buf()
    } else {
        keys_dir().join(format!("{name_or_path}.key"))
    }
}

pub fn write(path: &Path, key: &Keypair) -> Result<()> {
    if path.exists() {
        bail!(
            "{} already exists; refusing to overwrite a key",
            path.display()
        );
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let body = serde_json::to_string_pretty(&KeyFile {
        account: key.account(),
        secret: key.secret_hex(),
    })?;
    #[cfg(unix)]
    {
        use std::{io::Write, os::unix::fs::OpenOptionsExt};
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        f.write_all(body.as_bytes())?;
        f.sync_all()?;
    }
    #[cfg(not(unix))]
    std::fs::write(path, body)?;
    Ok(())
}

pub fn read(path: &Path) -> Result<Keypair> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "reading key {} (create one with `weft keys new`)",
            path.display()
        )
    })?;
    let file: KeyFile = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a weft key file", path.display()))?;
    let key = Keypair::from_secret_hex(&file.secret)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if key.account() != file.account {
        bail!(
            "{}: the secret does not match the account it claims",
            path.display()
        );
    }
    Ok(key)
}

/// An account given as hex, or as the name/path of a key file.
pub fn account(text: &str) -> Result<AccountId> {
    if let Ok(a) = text.parse::<AccountId>() {
        return Ok(a);
    }
    read(&resolve(text))
        .map(|k| k.account())
        .with_context(|| format!("{text:?} is neither an account hex nor a key"))
}
