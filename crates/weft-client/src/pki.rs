//! X.509 for the key registry (UC-28 "X.509 continuity", UC-29): certificates for live
//! bindings, and their verification against the ledger.
//!
//! Profile (see `docs/pki.md`): X.509 v3, Ed25519 (RFC 8410), **self-signed by the bound
//! key**: the trust comes from the ledger's endorsed binding, not from a CA chain (UC-29:
//! no root CA), and the self-signature proves the presenter holds the bound private key.
//! Subject `CN=<name>`, SAN `dNSName=<name>`, `basicConstraints CA:FALSE`, key usage
//! `digitalSignature`, extended key usage `serverAuth, clientAuth`, serial = the first 16
//! bytes of `SHA-256(name || public key || binding serial)` with the top bit cleared.
//!
//! A certificate verifies when it parses, its signature verifies under its own key, its
//! validity covers the given time, its SAN (or CN, when there is no SAN) names exactly one
//! DNS name, and that key is the name's **currently live** binding on the ledger. A key
//! rotated out or revoked fails even though the certificate itself is intact.
//!
//! The certificate is built with `rcgen` (signing through [`rcgen::SigningKey`] with the
//! node's own Ed25519 implementation, so no second crypto backend is linked) and parsed
//! with `x509-parser`.

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose,
    PublicKeyData, SanType, SerialNumber, SignatureAlgorithm, SigningKey,
};
use weft_crypto::{Keypair, sha256, verify_signature};
use weft_types::{AccountId, SignatureBytes, registry::DnsName};
use x509_parser::{
    extensions::GeneralName,
    prelude::{FromDer, X509Certificate},
};

/// The OID of Ed25519 (RFC 8410).
const ED25519_OID: &str = "1.3.101.112";

/// Why a certificate was not issued or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// Not a DER or PEM X.509 certificate of this profile.
    #[error("malformed certificate: {0}")]
    Malformed(String),
    /// Not an Ed25519 key or signature.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The self-signature does not verify under the certificate's key.
    #[error("the certificate's signature does not verify")]
    BadSignature,
    /// The time is outside the certificate's validity.
    #[error("the certificate is not valid at {0}")]
    NotValidAt(i64),
    /// The name has no live binding on the ledger.
    #[error("{0} has no live binding on the ledger")]
    NotBound(String),
    /// The certificate's key is not the name's live key (rotated out, revoked, or never bound).
    #[error("the certificate's key {presented} is not the live key {live} of {name}")]
    KeyMismatch {
        name: String,
        presented: AccountId,
        live: AccountId,
    },
    /// The signing key is not the key to certify.
    #[error("the signing key is not the bound key")]
    WrongKey,
}

struct Ed25519Signer<'a> {
    key: &'a Keypair,
    public: [u8; 32],
}

impl PublicKeyData for Ed25519Signer<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_ED25519
    }
}

impl SigningKey for Ed25519Signer<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(self.key.sign(msg).0.to_vec())
    }
}

/// Issues the certificate of `name`'s binding number `serial` to `key`, self-signed by
/// `key`, valid from `not_before` for `days` days (unix seconds). Returns PEM.
pub fn issue_certificate(
    name: &DnsName,
    key: &Keypair,
    binding_serial: u32,
    not_before: i64,
    days: u32,
) -> Result<String, CertError> {
    let mut params = CertificateParams::new(vec![name.to_string()])
        .map_err(|e| CertError::Malformed(e.to_string()))?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name.as_str());
    params.distinguished_name = dn;
    params.subject_alt_names =
        vec![SanType::DnsName(name.as_str().try_into().map_err(
            |e: rcgen::Error| CertError::Malformed(e.to_string()),
        )?)];
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let mut seed = name.as_str().as_bytes().to_vec();
    seed.extend_from_slice(key.account().as_bytes());
    seed.extend_from_slice(&binding_serial.to_be_bytes());
    let mut serial = sha256(&seed).0[..16].to_vec();
    serial[0] &= 0x7f;
    params.serial_number = Some(SerialNumber::from(serial));
    let start = time::OffsetDateTime::from_unix_timestamp(not_before)
        .map_err(|e| CertError::Malformed(e.to_string()))?;
    params.not_before = start;
    params.not_after = start + time::Duration::days(i64::from(days));
    let signer = Ed25519Signer {
        key,
        public: key.account().0,
    };
    let cert = params
        .self_signed(&signer)
        .map_err(|e| CertError::Malformed(e.to_string()))?;
    Ok(cert.pem())
}

/// What a certificate says, once its form and self-signature are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub name: DnsName,
    pub public_key: AccountId,
    pub not_before: i64,
    pub not_after: i64,
    pub serial_hex: String,
}

fn der_of(cert: &[u8]) -> Result<Vec<u8>, CertError> {
    if cert.starts_with(b"-----BEGIN") {
        let (_, pem) = x509_parser::pem::parse_x509_pem(cert)
            .map_err(|e| CertError::Malformed(format!("PEM: {e}")))?;
        if pem.label != "CERTIFICATE" {
            return Err(CertError::Malformed(format!("PEM label {}", pem.label)));
        }
        Ok(pem.contents)
    } else {
        Ok(cert.to_vec())
    }
}

/// Parses `cert` (PEM or DER), checks its profile, its self-signature and that `now` (unix
/// seconds) is within its validity. Says nothing yet about the ledger.
pub fn inspect_certificate(cert: &[u8], now: i64) -> Result<CertInfo, CertError> {
    let der = der_of(cert)?;
    let (rest, x509) =
        X509Certificate::from_der(&der).map_err(|e| CertError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(CertError::Malformed("trailing bytes".into()));
    }
    let spki = &x509.tbs_certificate.subject_pki;
    if spki.algorithm.algorithm.to_id_string() != ED25519_OID
        || x509.signature_algorithm.algorithm.to_id_string() != ED25519_OID
    {
        return Err(CertError::UnsupportedAlgorithm(
            x509.signature_algorithm.algorithm.to_id_string(),
        ));
    }
    let key: [u8; 32] = spki
        .subject_public_key
        .data
        .as_ref()
        .try_into()
        .map_err(|_| CertError::Malformed("an Ed25519 key has 32 bytes".into()))?;
    let public_key = AccountId(key);
    let sig: [u8; 64] = x509
        .signature_value
        .data
        .as_ref()
        .try_into()
        .map_err(|_| CertError::Malformed("an Ed25519 signature has 64 bytes".into()))?;
    if !verify_signature(
        &public_key,
        x509.tbs_certificate.as_ref(),
        &SignatureBytes(sig),
    ) {
        return Err(CertError::BadSignature);
    }
    let not_before = x509.validity().not_before.timestamp();
    let not_after = x509.validity().not_after.timestamp();
    if now < not_before || now > not_after {
        return Err(CertError::NotValidAt(now));
    }
    let mut names = Vec::new();
    if let Some(san) = x509
        .subject_alternative_name()
        .map_err(|e| CertError::Malformed(e.to_string()))?
    {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => names.push((*d).to_owned()),
                other => {
                    return Err(CertError::Malformed(format!(
                        "unexpected subject alternative name {other:?}"
                    )));
                }
            }
        }
    } else {
        for cn in x509.subject().iter_common_name() {
            names.push(
                cn.as_str()
                    .map_err(|e| CertError::Malformed(e.to_string()))?
                    .to_owned(),
            );
        }
    }
    let [name] = names.as_slice() else {
        return Err(CertError::Malformed(format!(
            "a certificate of this profile names exactly one DNS name, not {names:?}"
        )));
    };
    let name: DnsName = name
        .parse()
        .map_err(|e: weft_types::registry::BadDnsName| CertError::Malformed(e.to_string()))?;
    Ok(CertInfo {
        name,
        public_key,
        not_before,
        not_after,
        serial_hex: hex::encode(x509.raw_serial()),
    })
}

/// Checks an inspected certificate against the name's live key on the ledger (`None`: the
/// name has no live binding).
pub fn check_against_ledger(info: &CertInfo, live: Option<AccountId>) -> Result<(), CertError> {
    match live {
        None => Err(CertError::NotBound(info.name.to_string())),
        Some(live) if live != info.public_key => Err(CertError::KeyMismatch {
            name: info.name.to_string(),
            presented: info.public_key,
            live,
        }),
        Some(_) => Ok(()),
    }
}

/// The live key in a `GET /v1/registry/{name}` answer.
pub fn live_key_of(record: &serde_json::Value) -> Option<AccountId> {
    record["live"]["public_key"].as_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn issued_certificates_verify_and_tampering_fails() {
        let key = Keypair::from_seed([7; 32]);
        let name: DnsName = "www.example.com".parse().unwrap();
        let pem = issue_certificate(&name, &key, 0, NOW - 10, 30).unwrap();
        let info = inspect_certificate(pem.as_bytes(), NOW).unwrap();
        assert_eq!(info.name, name);
        assert_eq!(info.public_key, key.account());
        check_against_ledger(&info, Some(key.account())).unwrap();
        let other = Keypair::from_seed([8; 32]).account();
        assert!(matches!(
            check_against_ledger(&info, Some(other)),
            Err(CertError::KeyMismatch { .. })
        ));
        assert!(matches!(
            check_against_ledger(&info, None),
            Err(CertError::NotBound(_))
        ));
        assert_eq!(
            inspect_certificate(pem.as_bytes(), NOW + 31 * 86_400),
            Err(CertError::NotValidAt(NOW + 31 * 86_400))
        );
        // Flip one byte of the signed part: the signature no longer verifies (or it no
        // longer parses).
        let mut der = der_of(pem.as_bytes()).unwrap();
        let pos = der
            .windows(name.as_str().len())
            .position(|w| w == name.as_str().as_bytes())
            .unwrap();
        der[pos] = b'v';
        assert!(inspect_certificate(&der, NOW).is_err());
        assert!(matches!(
            inspect_certificate(b"not a certificate", NOW),
            Err(CertError::Malformed(_))
        ));
    }
}
