//! The envelope that carries a payload from a node that holds it to another authorized node.
//!
//! The request for a payload is signed by the requester's member key (the node's code checks
//! that); this module gives confidentiality to the requester only. The requester makes an
//! ephemeral [`TransferKey`] per request and sends its public half; the holder seals the salt
//! and payload to it with HPKE (RFC 9180, base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
//! ChaCha20-Poly1305), with
//!
//! ```text
//! info = "weft/private/transfer/v1"
//! aad  = u8(len(record id)) || record id || commitment(32)
//! ```
//!
//! so an envelope opens only for the record and commitment it was sealed for. The requester
//! re-checks the commitment after opening: a holder that seals other bytes is caught.
//!
//! JSON form: `{"enc": "<base64 of 32 bytes>", "ciphertext": "<base64>"}`, both standard
//! base64 with padding; lengths are bounded before decoding.

use base64::{Engine, engine::general_purpose::STANDARD};
use hpke::{
    Deserializable, OpModeR, OpModeS, Serializable,
    aead::ChaCha20Poly1305,
    kdf::HkdfSha256,
    kem::{Kem as KemTrait, X25519HkdfSha256},
};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};
use weft_credentials::commitment::{Commitment, Salt, verify};
use zeroize::Zeroizing;

use crate::{
    MAX_PAYLOAD_BYTES, TransferError as Error, check_record_id,
    plaintext::{self, TAG_BYTES},
};

type Kem = X25519HkdfSha256;
const INFO: &[u8] = b"weft/private/transfer/v1";
/// Length of an X25519 public key and of the encapsulated key.
const KEY_BYTES: usize = 32;
const MIN_CIPHERTEXT: usize = plaintext::MIN_BYTES + TAG_BYTES;
const MAX_CIPHERTEXT: usize = plaintext::MAX_BYTES + TAG_BYTES;

/// The requester's ephemeral X25519 key for one transfer. The secret is wiped when dropped.
pub struct TransferKey {
    secret: <Kem as KemTrait>::PrivateKey,
    public: <Kem as KemTrait>::PublicKey,
}

impl std::fmt::Debug for TransferKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TransferKey(public {})", hex::encode(self.public()))
    }
}

impl TransferKey {
    /// A fresh key from the operating system's random source.
    ///
    /// # Panics
    /// If the operating system's random source fails (as every key generation here does).
    pub fn generate() -> Self {
        let (secret, public) = Kem::gen_keypair();
        Self { secret, public }
    }

    /// The public half, to send with the request.
    pub fn public(&self) -> [u8; KEY_BYTES] {
        self.public.to_bytes().into()
    }
}

/// A sealed payload in transit. Only the holder of the [`TransferKey`] it was sealed to can
/// open it, and only for the record and commitment it was sealed for.
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    enc: [u8; KEY_BYTES],
    ciphertext: Vec<u8>,
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Envelope({} ciphertext bytes)", self.ciphertext.len())
    }
}

impl Envelope {
    /// An envelope from its parts, with the ciphertext's length checked.
    pub fn from_parts(enc: [u8; KEY_BYTES], ciphertext: Vec<u8>) -> Result<Self, Error> {
        check_ciphertext_len(ciphertext.len())?;
        Ok(Self { enc, ciphertext })
    }

    /// The encapsulated key (the sender's ephemeral X25519 public key).
    pub fn enc(&self) -> &[u8; KEY_BYTES] {
        &self.enc
    }

    /// The sealed salt and payload, tag included.
    pub fn ciphertext(&self) -> &[u8] {
        &self.ciphertext
    }
}

fn check_ciphertext_len(len: usize) -> Result<(), Error> {
    if len < MIN_CIPHERTEXT {
        return Err(Error::Malformed("ciphertext too short"));
    }
    if len > MAX_CIPHERTEXT {
        return Err(Error::Malformed("ciphertext too long"));
    }
    Ok(())
}

fn aad(record: &str, commitment: &Commitment) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + record.len() + 32);
    // Callers have checked the record id: at most 128 bytes.
    out.push(record.len() as u8);
    out.extend_from_slice(record.as_bytes());
    out.extend_from_slice(&commitment.0.0);
    out
}

/// Seals `payload` and its `salt` for the holder of the transfer key whose public half is
/// `recipient`, bound to `record` and `commitment`. Refused when the record id is invalid,
/// the payload is too large, the payload and salt do not open the commitment, or the key is
/// unusable.
///
/// # Panics
/// If the operating system's random source fails.
pub fn seal_for(
    recipient: &[u8; KEY_BYTES],
    record: &str,
    commitment: &Commitment,
    salt: &Salt,
    payload: &[u8],
) -> Result<Envelope, Error> {
    check_record_id(record).map_err(Error::InvalidRecordId)?;
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(Error::PayloadTooLarge(payload.len()));
    }
    if !verify(payload, salt, commitment) {
        return Err(Error::CommitmentMismatch);
    }
    seal_unchecked(recipient, record, commitment, salt, payload)
}

/// Seals without checking the commitment; the tests use it to play a lying sender.
fn seal_unchecked(
    recipient: &[u8; KEY_BYTES],
    record: &str,
    commitment: &Commitment,
    salt: &Salt,
    payload: &[u8],
) -> Result<Envelope, Error> {
    let public =
        <Kem as KemTrait>::PublicKey::from_bytes(recipient).map_err(|_| Error::BadRecipientKey)?;
    let plain = plaintext::encode(salt, payload);
    let (enc, ciphertext) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeS::Base,
        &public,
        INFO,
        &plain,
        &aad(record, commitment),
    )
    .map_err(|e| match e {
        // DHKEM refuses a public key whose shared secret is all zeros (a low-order point).
        hpke::HpkeError::EncapError => Error::BadRecipientKey,
        _ => Error::Seal,
    })?;
    Envelope::from_parts(enc.to_bytes().into(), ciphertext)
}

/// Opens an envelope sealed to `key` for `record` and `commitment` and returns the salt and
/// payload, after checking that they open the commitment.
pub fn open_envelope(
    key: &TransferKey,
    record: &str,
    commitment: &Commitment,
    env: &Envelope,
) -> Result<(Salt, Vec<u8>), Error> {
    check_record_id(record).map_err(Error::InvalidRecordId)?;
    check_ciphertext_len(env.ciphertext.len())?;
    let enc = <Kem as KemTrait>::EncappedKey::from_bytes(&env.enc)
        .map_err(|_| Error::Malformed("encapsulated key"))?;
    let plain = Zeroizing::new(
        hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
            &OpModeR::Base,
            &key.secret,
            &enc,
            INFO,
            &env.ciphertext,
            &aad(record, commitment),
        )
        .map_err(|_| Error::Unopenable)?,
    );
    let (salt, payload) = plaintext::decode(&plain)
        .ok_or(Error::Malformed("sealed bytes are not salt and payload"))?;
    if !verify(&payload, &salt, commitment) {
        drop(Zeroizing::new(payload));
        return Err(Error::Forged);
    }
    Ok((salt, payload))
}

fn decode_b64(text: &str, max_bytes: usize) -> Result<Vec<u8>, &'static str> {
    // Checked before decoding, so an oversized field costs no second allocation.
    if text.len() > base64::encoded_len(max_bytes, true).unwrap_or(usize::MAX) {
        return Err("too long");
    }
    STANDARD.decode(text).map_err(|_| "not base64")
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire<T> {
    enc: T,
    ciphertext: T,
}

impl Serialize for Envelope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Wire {
            enc: STANDARD.encode(self.enc),
            ciphertext: STANDARD.encode(&self.ciphertext),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = Wire::<std::borrow::Cow<'de, str>>::deserialize(d)?;
        let enc =
            decode_b64(&wire.enc, KEY_BYTES).map_err(|e| D::Error::custom(format!("enc: {e}")))?;
        let enc: [u8; KEY_BYTES] = enc
            .try_into()
            .map_err(|_| D::Error::custom("enc: not 32 bytes"))?;
        let ciphertext = decode_b64(&wire.ciphertext, MAX_CIPHERTEXT)
            .map_err(|e| D::Error::custom(format!("ciphertext: {e}")))?;
        Envelope::from_parts(enc, ciphertext).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_credentials::commitment::commit;

    #[test]
    fn a_sender_who_seals_other_bytes_is_caught() {
        let key = TransferKey::generate();
        let salt = Salt::from_bytes(vec![4; 32]).unwrap();
        let committed = commit(b"the real lab result", &salt);
        // The holder seals a different payload under the right record and commitment: the
        // envelope authenticates, but the contents do not open the commitment.
        let env = seal_unchecked(
            &key.public(),
            "rec-1",
            &committed,
            &salt,
            b"a forged result",
        )
        .unwrap();
        assert_eq!(
            open_envelope(&key, "rec-1", &committed, &env),
            Err(Error::Forged)
        );
        // Right payload, wrong salt: caught the same way.
        let other_salt = Salt::from_bytes(vec![5; 32]).unwrap();
        let env = seal_unchecked(
            &key.public(),
            "rec-1",
            &committed,
            &other_salt,
            b"the real lab result",
        )
        .unwrap();
        assert_eq!(
            open_envelope(&key, "rec-1", &committed, &env),
            Err(Error::Forged)
        );
        // The honest path refuses to seal it in the first place.
        assert_eq!(
            seal_for(
                &key.public(),
                "rec-1",
                &committed,
                &salt,
                b"a forged result"
            ),
            Err(Error::CommitmentMismatch)
        );
    }

    #[test]
    fn bounds_are_those_of_the_plaintext() {
        assert_eq!(MIN_CIPHERTEXT, 1 + 16 + 4 + 16);
        assert_eq!(MAX_CIPHERTEXT, 1 + 64 + 4 + MAX_PAYLOAD_BYTES + 16);
    }
}
