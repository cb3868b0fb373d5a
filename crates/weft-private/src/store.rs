//! The private store: one encrypted file per record in a directory owned by the node.
//!
//! Layout of the directory (0700):
//!
//! ```text
//! LOCK                      advisory lock: one PrivateStore per directory at a time
//! master.key                b"WEFTMK\0" || 0x01 || 32-byte master key        (0600)
//! records/<hex(sha256(id))> one record                                        (0600)
//! redeemed/<hex(tx hash)>   empty marker: this access transaction was served  (0600)
//! ```
//!
//! A record file:
//!
//! ```text
//! b"WEFTPRV" || 0x01 || u8(len(id)) || id || commitment(32)     prefix
//! || key_nonce(24) || wrapped_key(32 + 16) || body_nonce(24)    header ends here
//! || body(len(plaintext) + 16)
//! ```
//!
//! `wrapped_key` is the record's fresh data key sealed with XChaCha20-Poly1305 under the
//! master key with the prefix as associated data, so the record id and commitment in the
//! header authenticate without the payload being decrypted (this is what `records` reads).
//! `body` is the salt and payload ([`crate::plaintext`]) sealed under the data key with the
//! whole header as associated data.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Read, Write},
    path::{Path, PathBuf},
    sync::{RwLock, RwLockReadGuard, RwLockWriteGuard},
};

use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce, aead::AeadInOut};
use weft_credentials::commitment::{Commitment, Salt, verify};
use weft_types::Hash;
use zeroize::Zeroizing;

use crate::{
    MAX_PAYLOAD_BYTES, MAX_RECORD_ID_BYTES, PrivateStoreError as Error, check_record_id,
    plaintext::{self, TAG_BYTES},
};

const MAGIC: &[u8; 7] = b"WEFTPRV";
const VERSION: u8 = 1;
const KEY_MAGIC: &[u8; 8] = b"WEFTMK\0\x01";
const KEY_BYTES: usize = 32;
const KEY_FILE_BYTES: usize = KEY_MAGIC.len() + KEY_BYTES;
const NONCE_BYTES: usize = 24;
const WRAPPED_BYTES: usize = KEY_BYTES + TAG_BYTES;
const COMMITMENT_BYTES: usize = 32;
/// Everything in the header but the record id.
const HEADER_FIXED: usize =
    MAGIC.len() + 1 + 1 + COMMITMENT_BYTES + NONCE_BYTES + WRAPPED_BYTES + NONCE_BYTES;
const MAX_HEADER: usize = HEADER_FIXED + MAX_RECORD_ID_BYTES;
/// No record file is larger; bigger files are refused before a byte is read.
const MAX_FILE_BYTES: usize = MAX_HEADER + plaintext::MAX_BYTES + TAG_BYTES;
const KEY_AAD: &[u8] = b"weft/private/key/v1\0";
const BODY_AAD: &[u8] = b"weft/private/body/v1\0";
const MASTER_KEY_FILE: &str = "master.key";
const LOCK_FILE: &str = "LOCK";
const RECORDS_DIR: &str = "records";
const REDEEMED_DIR: &str = "redeemed";
const TMP_SUFFIX: &str = ".tmp";
const SHRED_CHUNK: usize = 64 * 1024;

/// The node's store of confidential payloads. See the module docs for the format.
///
/// One instance per directory (an advisory lock enforces it); share it behind an `Arc`.
/// Writers (`put`, `shred`) exclude readers so that a reader never sees a half-shredded file.
pub struct PrivateStore {
    dir: PathBuf,
    records: PathBuf,
    redeemed: PathBuf,
    master: Zeroizing<[u8; KEY_BYTES]>,
    guard: RwLock<()>,
    // Held for the store's lifetime: the OS releases the advisory lock when it is closed.
    _lock: File,
}

impl std::fmt::Debug for PrivateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// The parsed, not yet authenticated header of a record file.
struct Header<'a> {
    /// Magic to commitment: the key wrap's associated data.
    prefix: &'a [u8],
    record: &'a [u8],
    commitment: &'a [u8],
    key_nonce: &'a [u8],
    wrapped: &'a [u8],
    /// Length of the whole header: the body's associated data.
    len: usize,
}

fn parse_header(bytes: &[u8]) -> Result<Header<'_>, &'static str> {
    if bytes.len() < MAGIC.len() + 2 || &bytes[..MAGIC.len()] != MAGIC {
        return Err("not a private record file");
    }
    if bytes[MAGIC.len()] != VERSION {
        return Err("unknown format version");
    }
    let id_len = usize::from(bytes[MAGIC.len() + 1]);
    if id_len == 0 || id_len > MAX_RECORD_ID_BYTES {
        return Err("record id length out of range");
    }
    let len = HEADER_FIXED + id_len;
    if bytes.len() < len {
        return Err("truncated header");
    }
    let mut at = MAGIC.len() + 2;
    let mut take = |n: usize| {
        let part = &bytes[at..at + n];
        at += n;
        part
    };
    let record = take(id_len);
    let commitment = take(COMMITMENT_BYTES);
    let prefix_len = MAGIC.len() + 2 + id_len + COMMITMENT_BYTES;
    let key_nonce = take(NONCE_BYTES);
    let wrapped = take(WRAPPED_BYTES);
    // The body nonce, last in the header, is read by `get` from the header's end.
    Ok(Header {
        prefix: &bytes[..prefix_len],
        record,
        commitment,
        key_nonce,
        wrapped,
        len,
    })
}

fn aad(domain: &[u8], bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(domain.len() + bytes.len());
    out.extend_from_slice(domain);
    out.extend_from_slice(bytes);
    out
}

fn cipher(key: &[u8; KEY_BYTES]) -> XChaCha20Poly1305 {
    // From a slice, so that no unwiped copy of the key is made on the stack (the cipher
    // wipes its own copy when dropped).
    match XChaCha20Poly1305::new_from_slice(key) {
        Ok(c) => c,
        // A 32-byte slice is always a valid key length.
        Err(_) => unreachable!("XChaCha20-Poly1305 takes 32-byte keys"),
    }
}

fn random<const N: usize>() -> Result<[u8; N], Error> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| Error::Entropy(e.to_string()))?;
    Ok(out)
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn file_name(bytes: &[u8]) -> String {
    hex::encode(weft_crypto::sha256(bytes).0)
}

/// Makes a rename, creation or unlink inside `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_at(dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn create_private_dir(dir: &Path) -> Result<(), Error> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io_at(dir))?;
    let meta = fs::metadata(dir).map_err(io_at(dir))?;
    if !meta.is_dir() {
        return Err(Error::Io {
            path: dir.to_path_buf(),
            source: io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // An existing directory others can read would expose ciphertexts and the master key.
        if meta.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_at(dir))?;
        }
    }
    Ok(())
}

/// Creates a file that must not exist yet, readable by the owner only.
fn create_new_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Overwrites a file with zeros, syncs it and unlinks it. `Ok(false)` if it did not exist.
fn shred_file(path: &Path) -> Result<bool, Error> {
    let mut file = match OpenOptions::new().write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io_at(path)(e)),
    };
    let mut left = file.metadata().map_err(io_at(path))?.len();
    let zeros = vec![0u8; SHRED_CHUNK];
    while left > 0 {
        let n = usize::try_from(left).map_or(SHRED_CHUNK, |l| l.min(SHRED_CHUNK));
        file.write_all(&zeros[..n]).map_err(io_at(path))?;
        left -= n as u64;
    }
    file.sync_all().map_err(io_at(path))?;
    drop(file);
    fs::remove_file(path).map_err(io_at(path))?;
    Ok(true)
}

/// Reads at most `limit` bytes of a file; `None` if it does not exist. Refuses (without
/// reading) a file whose length exceeds `refuse_over`.
fn read_bounded(path: &Path, limit: usize, refuse_over: usize) -> Result<Option<Vec<u8>>, Error> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_at(path)(e)),
    };
    let len = file.metadata().map_err(io_at(path))?.len();
    if len > refuse_over as u64 {
        return Err(Error::FileTooLarge {
            path: path.to_path_buf(),
            len,
        });
    }
    let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(limit).min(limit));
    // `take` bounds the read even if the file grows after the length check.
    file.take(limit as u64)
        .read_to_end(&mut out)
        .map_err(io_at(path))?;
    Ok(Some(out))
}

impl PrivateStore {
    /// Opens the store in `dir`, creating it (mode 0700) and its master key (`master.key`,
    /// mode 0600, 32 random bytes) on first use. A master key file that is not one is an
    /// error, never replaced. Another open store on the same directory is
    /// [`Error::Locked`]. Leftovers of interrupted writes are shredded.
    pub fn open(dir: &Path) -> Result<Self, Error> {
        create_private_dir(dir)?;
        let lock_path = dir.join(LOCK_FILE);
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let lock = options.open(&lock_path).map_err(io_at(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(Error::Locked(dir.to_path_buf())),
            Err(fs::TryLockError::Error(e)) => return Err(io_at(&lock_path)(e)),
        }
        let master = load_or_create_master_key(dir)?;
        let records = dir.join(RECORDS_DIR);
        let redeemed = dir.join(REDEEMED_DIR);
        create_private_dir(&records)?;
        create_private_dir(&redeemed)?;
        let store = Self {
            dir: dir.to_path_buf(),
            records,
            redeemed,
            master,
            guard: RwLock::new(()),
            _lock: lock,
        };
        store.shred_leftovers(|_| true)?;
        sync_dir(dir)?;
        Ok(store)
    }

    /// The directory the store lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keeps `payload` for `record`, replacing any copy it had. Refused (nothing written) when
    /// the record id is invalid, the payload is larger than [`MAX_PAYLOAD_BYTES`] or
    /// `payload` and `salt` do not open `commitment`. The file is replaced atomically and
    /// durably: written to a temporary file, synced, renamed, directory synced.
    pub fn put(
        &self,
        record: &str,
        commitment: &Commitment,
        salt: &Salt,
        payload: &[u8],
    ) -> Result<(), Error> {
        check_record_id(record).map_err(Error::InvalidRecordId)?;
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(Error::PayloadTooLarge(payload.len()));
        }
        if !verify(payload, salt, commitment) {
            return Err(Error::CommitmentMismatch);
        }

        let mut header = Vec::with_capacity(HEADER_FIXED + record.len());
        header.extend_from_slice(MAGIC);
        header.push(VERSION);
        // check_record_id bounds the length to 128.
        header.push(record.len() as u8);
        header.extend_from_slice(record.as_bytes());
        header.extend_from_slice(&commitment.0.0);

        // A fresh data key per write: a key never encrypts two payloads, and shredding one
        // record's file destroys the only wrapped copy of its key.
        let data_key = Zeroizing::new(random::<KEY_BYTES>()?);
        let key_nonce = random::<NONCE_BYTES>()?;
        let mut wrapped = Zeroizing::new([0u8; WRAPPED_BYTES]);
        wrapped[..KEY_BYTES].copy_from_slice(data_key.as_slice());
        let tag = cipher(&self.master)
            .encrypt_inout_detached(
                &XNonce::from(key_nonce),
                &aad(KEY_AAD, &header),
                (&mut wrapped[..KEY_BYTES]).into(),
            )
            .map_err(|_| Error::Corrupt {
                path: self.records.clone(),
                reason: "key wrap refused",
            })?;
        wrapped[KEY_BYTES..].copy_from_slice(&tag);
        let body_nonce = random::<NONCE_BYTES>()?;
        header.extend_from_slice(&key_nonce);
        header.extend_from_slice(wrapped.as_slice());
        header.extend_from_slice(&body_nonce);

        let mut body = plaintext::encode(salt, payload);
        let tag = cipher(&data_key)
            .encrypt_inout_detached(
                &XNonce::from(body_nonce),
                &aad(BODY_AAD, &header),
                body.as_mut_slice().into(),
            )
            .map_err(|_| Error::Corrupt {
                path: self.records.clone(),
                reason: "payload encryption refused",
            })?;
        // `encode` reserved room for the tag, so this does not reallocate.
        body.extend_from_slice(&tag);

        let name = file_name(record.as_bytes());
        let path = self.records.join(&name);
        let tmp = self.records.join(format!(
            "{name}.{}{TMP_SUFFIX}",
            hex::encode(random::<8>()?)
        ));
        let _w = self.write_guard();
        let written = (|| {
            let mut file = create_new_private(&tmp)?;
            file.write_all(&header)?;
            file.write_all(&body)?;
            file.sync_all()?;
            fs::rename(&tmp, &path)
        })();
        if let Err(e) = written {
            // Best effort: the leftover holds only ciphertext and `open` shreds it anyway.
            let _ = shred_file(&tmp);
            return Err(io_at(&path)(e));
        }
        sync_dir(&self.records)
    }

    /// The salt and payload kept for `record`, or `None` if none is kept. Errors when the
    /// copy was kept under another commitment, when the file is another record's (renamed or
    /// swapped), when any byte of it was altered or it was written under another master key,
    /// and when the decrypted payload does not open the commitment.
    pub fn get(
        &self,
        record: &str,
        commitment: &Commitment,
    ) -> Result<Option<(Salt, Vec<u8>)>, Error> {
        check_record_id(record).map_err(Error::InvalidRecordId)?;
        let path = self.records.join(file_name(record.as_bytes()));
        let _r = self.read_guard();
        let Some(mut bytes) = read_bounded(&path, MAX_FILE_BYTES, MAX_FILE_BYTES)? else {
            return Ok(None);
        };
        let (header_len, data_key) = {
            let header = self.authenticate(&path, &bytes)?;
            if header.record != record.as_bytes() {
                return Err(Error::Misplaced { path });
            }
            if header.commitment != commitment.0.0.as_slice() {
                return Err(Error::WrongCommitment {
                    record: record.to_string(),
                });
            }
            (header.len, header.data_key)
        };
        let unauthentic = || Error::Unauthentic { path: path.clone() };
        let (head, body) = bytes.split_at_mut(header_len);
        let Some(tag_at) = body.len().checked_sub(TAG_BYTES) else {
            return Err(Error::Corrupt {
                path,
                reason: "truncated body",
            });
        };
        let (ciphertext, tag) = body.split_at_mut(tag_at);
        let body_nonce = &head[header_len - NONCE_BYTES..];
        let nonce = XNonce::try_from(body_nonce).map_err(|_| unauthentic())?;
        let tag = chacha20poly1305::Tag::try_from(&*tag).map_err(|_| unauthentic())?;
        cipher(&data_key)
            .decrypt_inout_detached(&nonce, &aad(BODY_AAD, head), ciphertext.into(), &tag)
            .map_err(|_| unauthentic())?;
        // From here on `bytes` holds plaintext: wipe it whatever happens.
        let bytes = Zeroizing::new(std::mem::take(&mut bytes));
        let plain = &bytes[header_len..bytes.len() - TAG_BYTES];
        let Some((salt, payload)) = plaintext::decode(plain) else {
            return Err(Error::Corrupt {
                path,
                reason: "authenticated body is not salt and payload",
            });
        };
        if !verify(&payload, &salt, commitment) {
            drop(Zeroizing::new(payload));
            return Err(Error::Corrupt {
                path,
                reason: "payload does not open the commitment it was stored under",
            });
        }
        Ok(Some((salt, payload)))
    }

    /// Whether a copy of `record` is kept (without authenticating it).
    pub fn contains(&self, record: &str) -> bool {
        check_record_id(record).is_ok()
            && fs::symlink_metadata(self.records.join(file_name(record.as_bytes())))
                .is_ok_and(|m| m.is_file())
    }

    /// The ids of the records kept, sorted, read from the authenticated headers (payloads are
    /// not decrypted). Any file that does not authenticate or sits under another record's name
    /// is an error.
    pub fn records(&self) -> Result<Vec<String>, Error> {
        let _r = self.read_guard();
        let mut out = Vec::new();
        let entries = fs::read_dir(&self.records).map_err(io_at(&self.records))?;
        for entry in entries {
            let entry = entry.map_err(io_at(&self.records))?;
            let path = entry.path();
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(Error::Corrupt {
                    path,
                    reason: "file name is not a record's",
                });
            };
            if name.ends_with(TMP_SUFFIX) {
                // A write in progress (writers are excluded now, so only a leftover).
                continue;
            }
            let Some(bytes) = read_bounded(&path, MAX_HEADER, MAX_FILE_BYTES)? else {
                continue;
            };
            let header = self.authenticate(&path, &bytes)?;
            if file_name(header.record) != name {
                return Err(Error::Misplaced { path });
            }
            let Ok(record) = std::str::from_utf8(header.record) else {
                return Err(Error::Corrupt {
                    path,
                    reason: "record id is not UTF-8",
                });
            };
            out.push(record.to_string());
        }
        out.sort();
        Ok(out)
    }

    /// Erases the copy of `record`: overwrites the file with zeros, syncs, unlinks and syncs
    /// the directory, and does the same to any leftover of an interrupted write of it.
    /// `Ok(false)` if no copy was kept.
    pub fn shred(&self, record: &str) -> Result<bool, Error> {
        check_record_id(record).map_err(Error::InvalidRecordId)?;
        let name = file_name(record.as_bytes());
        let _w = self.write_guard();
        let existed = shred_file(&self.records.join(&name))?;
        let prefix = format!("{name}.");
        self.shred_leftovers_locked(|file| file.starts_with(&prefix))?;
        sync_dir(&self.records)?;
        Ok(existed)
    }

    /// Marks `access_tx` as served. `Ok(true)` the first time for this hash, `Ok(false)`
    /// every time after, across restarts: the marker is created atomically and made durable
    /// before `true` is returned. A crash after creation but before the caller serves the
    /// payload leaves the access used, which errs on the side of not serving twice.
    pub fn redeem(&self, access_tx: &Hash) -> Result<bool, Error> {
        let path = self.redeemed.join(hex::encode(access_tx.0));
        match create_new_private(&path) {
            Ok(file) => {
                file.sync_all().map_err(io_at(&path))?;
                sync_dir(&self.redeemed)?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io_at(&path)(e)),
        }
    }

    /// Parses a header and unwraps its data key, which authenticates the record id and the
    /// commitment under the master key.
    fn authenticate<'a>(&self, path: &Path, bytes: &'a [u8]) -> Result<Authenticated<'a>, Error> {
        let header = parse_header(bytes).map_err(|reason| Error::Corrupt {
            path: path.to_path_buf(),
            reason,
        })?;
        let unauthentic = || Error::Unauthentic {
            path: path.to_path_buf(),
        };
        let nonce = XNonce::try_from(header.key_nonce).map_err(|_| unauthentic())?;
        let tag = chacha20poly1305::Tag::try_from(&header.wrapped[KEY_BYTES..])
            .map_err(|_| unauthentic())?;
        let mut data_key = Zeroizing::new([0u8; KEY_BYTES]);
        data_key.copy_from_slice(&header.wrapped[..KEY_BYTES]);
        cipher(&self.master)
            .decrypt_inout_detached(
                &nonce,
                &aad(KEY_AAD, header.prefix),
                data_key.as_mut_slice().into(),
                &tag,
            )
            .map_err(|_| unauthentic())?;
        Ok(Authenticated {
            record: header.record,
            commitment: header.commitment,
            len: header.len,
            data_key,
        })
    }

    fn shred_leftovers(&self, matches: impl Fn(&str) -> bool) -> Result<(), Error> {
        let _w = self.write_guard();
        self.shred_leftovers_locked(matches)
    }

    /// Shreds the temporary files of interrupted writes whose names `matches`.
    fn shred_leftovers_locked(&self, matches: impl Fn(&str) -> bool) -> Result<(), Error> {
        let entries = fs::read_dir(&self.records).map_err(io_at(&self.records))?;
        for entry in entries {
            let entry = entry.map_err(io_at(&self.records))?;
            let name = entry.file_name();
            if let Some(name) = name.to_str()
                && name.ends_with(TMP_SUFFIX)
                && matches(name)
            {
                shred_file(&entry.path())?;
            }
        }
        Ok(())
    }

    fn read_guard(&self) -> RwLockReadGuard<'_, ()> {
        // The guarded value is `()`: a panic elsewhere cannot leave it inconsistent.
        self.guard.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_guard(&self) -> RwLockWriteGuard<'_, ()> {
        self.guard.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// A header whose record id and commitment authenticated, with its unwrapped data key.
struct Authenticated<'a> {
    record: &'a [u8],
    commitment: &'a [u8],
    len: usize,
    data_key: Zeroizing<[u8; KEY_BYTES]>,
}

/// Called with the directory locked.
fn load_or_create_master_key(dir: &Path) -> Result<Zeroizing<[u8; KEY_BYTES]>, Error> {
    let path = dir.join(MASTER_KEY_FILE);
    for entry in fs::read_dir(dir).map_err(io_at(dir))? {
        let entry = entry.map_err(io_at(dir))?;
        if entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with("master.key.") && n.ends_with(TMP_SUFFIX))
        {
            // Unlink, never overwrite: a crash between linking and unlinking leaves a
            // temporary name for the live key's inode. An unlinked one never encrypted data.
            fs::remove_file(entry.path()).map_err(io_at(dir))?;
        }
    }
    let bad = |reason| Error::MasterKey {
        path: path.clone(),
        reason,
    };
    if !path.exists() {
        // A lost key with records left would otherwise be replaced by a fresh one under which
        // none of them opens.
        let records = dir.join(RECORDS_DIR);
        if fs::read_dir(&records).is_ok_and(|mut entries| entries.next().is_some()) {
            return Err(bad("missing, but records written under it remain"));
        }
        create_master_key(dir, &path)?;
    }
    let mut file = File::open(&path).map_err(io_at(&path))?;
    let len = file.metadata().map_err(io_at(&path))?.len();
    if len != KEY_FILE_BYTES as u64 {
        return Err(bad("not 40 bytes long"));
    }
    let mut bytes = Zeroizing::new([0u8; KEY_FILE_BYTES]);
    file.read_exact(bytes.as_mut_slice())
        .map_err(io_at(&path))?;
    if &bytes[..KEY_MAGIC.len()] != KEY_MAGIC {
        return Err(bad("not a Weft master key (wrong magic or version)"));
    }
    let mut key = Zeroizing::new([0u8; KEY_BYTES]);
    key.copy_from_slice(&bytes[KEY_MAGIC.len()..]);
    if key.iter().all(|&b| b == 0) {
        return Err(bad("the key is all zeros"));
    }
    Ok(key)
}

/// Writes a fresh key to a temporary file, syncs it and hard-links it into place: the link
/// fails if a key already exists, and nobody ever sees a partly written key file (a crash
/// mid-write leaves only a temporary file, removed here on the next attempt).
fn create_master_key(dir: &Path, path: &Path) -> Result<(), Error> {
    let mut bytes = Zeroizing::new([0u8; KEY_FILE_BYTES]);
    bytes[..KEY_MAGIC.len()].copy_from_slice(KEY_MAGIC);
    getrandom::fill(&mut bytes[KEY_MAGIC.len()..]).map_err(|e| Error::Entropy(e.to_string()))?;
    let tmp = dir.join(format!(
        "{MASTER_KEY_FILE}.{}{TMP_SUFFIX}",
        hex::encode(random::<8>()?)
    ));
    let written = (|| {
        let mut file = create_new_private(&tmp)?;
        file.write_all(bytes.as_slice())?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = shred_file(&tmp);
        return Err(io_at(&tmp)(e));
    }
    match fs::hard_link(&tmp, path) {
        Ok(()) => {
            // Unlink only: the temporary name is now the same inode as the key, and
            // shredding it would zero the key.
            fs::remove_file(&tmp).map_err(io_at(&tmp))?;
            sync_dir(dir)
        }
        // Lost a race with another opener: use its key, and wipe the unused one.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => shred_file(&tmp).map(|_| ()),
        Err(e) => {
            let _ = shred_file(&tmp);
            Err(io_at(path)(e))
        }
    }
}
