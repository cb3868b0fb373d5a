//! Issue → present → verify, and every way a presentation is refused.
//!
//! The world is real: DID records built and rotated through `DidRecord::apply`, a Bitstring
//! Status List with real bits, and signatures by Ed25519 keys. Forged credentials are built by
//! hand with `jose::sign_compact`, the same signer an issuer uses, so each refusal is for the
//! reason the test names and not a parse error.

use std::collections::BTreeMap;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::Digest as _;
use weft_credentials::{
    BitstringStatusList, CredentialDraft, Did, DidError, DidRecord, DidResolver, DidUpdate,
    HolderBinding, IssueError, KeyBindingParams, KeyFormat, KeyId, PresentError, ResolveError,
    StatusEntry, StatusListRecord, StatusPurpose, TrustedIssuers, Verifier, VerifyError,
    VerifyOptions, issue, jose, present,
};
use weft_crypto::Keypair;
use weft_types::{ErrorCode, Name};

const T0: i64 = 1_798_761_600; // 2027-01-01T00:00:00Z
const YEAR: i64 = 365 * 24 * 3600;
const AUD: &str = "https://verifier.example";
const NONCE: &str = "n-0S6_WzA2Mj";

fn chain() -> Name {
    Name::new("weft-test").unwrap()
}

fn kp(n: u8) -> Keypair {
    Keypair::from_seed([n; 32])
}

fn did_of(k: &Keypair) -> Did {
    Did::new(chain(), k.account())
}

/// An issuer (an operator attesting identity data), a holder and the verifier's world.
struct World {
    issuer: Keypair,
    holder: Keypair,
    dids: BTreeMap<Did, DidRecord>,
    lists: BTreeMap<String, StatusListRecord>,
    trust: TrustedIssuers,
}

const LIST: &str = "weft://weft-test/status-lists/operator/revocation-1";
const SUSPENSIONS: &str = "weft://weft-test/status-lists/operator/suspension-1";

impl World {
    fn new() -> Self {
        let issuer = kp(1);
        let holder = kp(2);
        let mut dids = BTreeMap::new();
        for k in [&issuer, &holder] {
            dids.insert(did_of(k), DidRecord::new(did_of(k), 1));
        }
        let mut lists = BTreeMap::new();
        lists.insert(
            LIST.to_string(),
            StatusListRecord {
                purpose: StatusPurpose::Revocation,
                list: BitstringStatusList::with_minimum_length(),
            },
        );
        lists.insert(
            SUSPENSIONS.to_string(),
            StatusListRecord {
                purpose: StatusPurpose::Suspension,
                list: BitstringStatusList::with_minimum_length(),
            },
        );
        let trust = TrustedIssuers::new().trust(did_of(&issuer));
        Self {
            issuer,
            holder,
            dids,
            lists,
            trust,
        }
    }

    fn issuer_did(&self) -> Did {
        did_of(&self.issuer)
    }

    fn holder_did(&self) -> Did {
        did_of(&self.holder)
    }

    fn record(&self, did: &Did) -> DidRecord {
        self.dids[did].clone()
    }

    fn update(&mut self, did: &Did, updates: &[DidUpdate]) {
        let r = self.record(did);
        let next = r.apply_all(updates, r.updated_height() + 1).unwrap();
        self.dids.insert(did.clone(), next);
    }

    fn draft(&self) -> CredentialDraft {
        let claims = json!({
            "givenName": "Alice",
            "familyName": "Example",
            "birthDate": "1990-04-01",
            "msisdn": "+3725550100",
            "address": {"locality": "Tallinn", "country": "EE"}
        });
        CredentialDraft {
            id: Some("urn:uuid:6a1b0b5c-4f6e-4d1a-9d53-2d4a0c1e7f10".into()),
            issuer: self.issuer_did().key_url(KeyId(1)),
            subject: self.holder_did(),
            types: vec!["IdentityCredential".into()],
            claims: claims.as_object().unwrap().clone(),
            disclosable: vec![
                "/givenName".into(),
                "/familyName".into(),
                "/birthDate".into(),
                "/msisdn".into(),
                "/address/locality".into(),
            ],
            valid_from: T0,
            valid_until: Some(T0 + YEAR),
            status: StatusEntry {
                purpose: StatusPurpose::Revocation,
                list: LIST.into(),
                index: 94_567,
            },
            holder_binding: HolderBinding::SubjectDid,
            issued_at: T0,
        }
    }

    fn issue(&self, draft: &CredentialDraft) -> String {
        issue(draft, &self.record(&self.issuer_did()), &self.issuer).unwrap()
    }

    fn verifier(&self) -> Verifier<'_> {
        Verifier {
            resolver: &self.dids,
            status_lists: &self.lists,
            trust: &self.trust,
        }
    }

    /// A presentation disclosing `disclose`, bound to AUD/NONCE by holder key-1.
    fn present(&self, credential: &str, disclose: &[&str]) -> String {
        present(
            credential,
            disclose,
            Some((&self.kb_params(T0 + 10, KeyId(1)), &self.holder)),
        )
        .unwrap()
    }

    fn kb_params(&self, issued_at: i64, key: KeyId) -> KeyBindingParams<'static> {
        KeyBindingParams {
            audience: AUD,
            nonce: NONCE,
            issued_at,
            holder_key: Some(key),
        }
    }

    fn verify(
        &self,
        presentation: &str,
    ) -> Result<weft_credentials::VerifiedCredential, VerifyError> {
        self.verifier().verify(
            presentation,
            &VerifyOptions::at(T0 + 20).with_key_binding(AUD, NONCE),
        )
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn digest(disclosure: &str) -> String {
    b64(&sha2::Sha256::digest(disclosure.as_bytes()))
}

/// A credential built by hand and signed by `key`: for payloads the issuer API refuses to
/// produce.
fn forge(header: Value, payload: Value, disclosures: &[String], key: &Keypair) -> String {
    let jwt = jose::sign_compact(header.as_object().unwrap(), &payload, key).unwrap();
    let mut out = jwt;
    for d in disclosures {
        out.push('~');
        out.push_str(d);
    }
    out.push('~');
    out
}

fn vc_payload(w: &World) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": w.issuer_did().to_string(),
        "validFrom": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": w.holder_did().to_string(), "name": "Alice"},
        "credentialStatus": {
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "5",
            "statusListCredential": LIST
        }
    })
}

fn vc_header(w: &World) -> Value {
    json!({"typ": "vc+sd-jwt", "kid": w.issuer_did().key_url(KeyId(1)).to_string()})
}

/// Options of a verifier that does not ask for key binding.
fn bearer() -> VerifyOptions<'static> {
    VerifyOptions::at(T0 + 20)
}

// ---------------------------------------------------------------------------------------
// The happy path.

#[test]
fn issue_present_verify_discloses_only_what_the_holder_chose() {
    let w = World::new();
    let credential = w.issue(&w.draft());
    let presentation = w.present(&credential, &["/birthDate", "/address/locality"]);

    // Withheld values are not in the presentation at all, not merely ignored.
    let decoded: String = presentation
        .split(['~', '.'])
        .filter_map(|s| URL_SAFE_NO_PAD.decode(s).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    assert!(decoded.contains("1990-04-01") && decoded.contains("Tallinn"));
    for secret in ["Alice", "Example", "+3725550100"] {
        assert!(!decoded.contains(secret), "{secret} leaked");
    }

    let v = w.verify(&presentation).unwrap();
    assert_eq!(v.issuer, w.issuer_did());
    assert_eq!(v.issuer_key, KeyId(1));
    assert_eq!(v.subject, w.holder_did());
    assert_eq!(v.types, ["VerifiableCredential", "IdentityCredential"]);
    assert!(v.holder_bound);
    assert_eq!(
        Value::Object(v.claims.clone()),
        json!({"birthDate": "1990-04-01", "address": {"locality": "Tallinn", "country": "EE"}})
    );
    assert_eq!(v.valid_from, T0);
    assert_eq!(v.valid_until, Some(T0 + YEAR));
    assert_eq!(v.status, [w.draft().status]);
    assert_eq!(v.credential["validUntil"], "2028-01-01T00:00:00Z");
    assert_eq!(v.credential["credentialStatus"]["statusListIndex"], "94567");
    assert!(v.credential.get("cnf").is_none() && v.credential.get("iat").is_none());
}

#[test]
fn the_issued_form_carries_every_disclosure() {
    let w = World::new();
    let credential = w.issue(&w.draft());
    assert_eq!(credential.matches('~').count(), 6, "jwt + 5 disclosures");
    let v = w.verifier().verify(&credential, &bearer()).unwrap();
    assert!(!v.holder_bound);
    assert_eq!(v.claims.len(), 5);
    assert_eq!(v.claims["givenName"], "Alice");

    // Presenting nothing discloses nothing but the clear claims.
    let none = present(&credential, &[], None).unwrap();
    let v = w.verifier().verify(&none, &bearer()).unwrap();
    assert_eq!(
        Value::Object(v.claims),
        json!({"address": {"country": "EE"}})
    );
}

#[test]
fn jws_header_is_the_vc_jose_cose_profile() {
    let w = World::new();
    let credential = w.issue(&w.draft());
    let header = jsonwebtoken::decode_header(credential.split('~').next().unwrap()).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    assert_eq!(header.typ.as_deref(), Some("vc+sd-jwt"));
    assert_eq!(header.cty.as_deref(), Some("vc"));
    assert_eq!(
        header.kid.as_deref(),
        Some(w.issuer_did().key_url(KeyId(1)).to_string().as_str())
    );
}

// ---------------------------------------------------------------------------------------
// Signatures and keys.

#[test]
fn a_bad_issuer_signature_is_refused() {
    let w = World::new();
    let credential = w.issue(&w.draft());
    let (jwt, rest) = credential.split_once('~').unwrap();
    let (signing_input, _) = jwt.rsplit_once('.').unwrap();
    // A well-formed signature by another key over the same bytes.
    let forged_sig = b64(&kp(9).sign(signing_input.as_bytes()).0);
    let forged = format!("{signing_input}.{forged_sig}~{rest}");
    let err = w.verifier().verify(&forged, &bearer()).unwrap_err();
    assert_eq!(err, VerifyError::BadSignature);
    assert_eq!(err.code(), ErrorCode::BadSignature);

    // Changing a signed claim (extending validity) breaks the signature.
    let (h, p) = signing_input.split_once('.').unwrap();
    let mut payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap();
    payload["validUntil"] = json!("2099-01-01T00:00:00Z");
    let sig = jwt.rsplit_once('.').unwrap().1;
    let tampered = format!("{h}.{}.{sig}~{rest}", b64(payload.to_string().as_bytes()));
    assert_eq!(
        w.verifier().verify(&tampered, &bearer()).unwrap_err(),
        VerifyError::BadSignature
    );
}

#[test]
fn a_key_rotated_out_no_longer_signs_for_the_issuer() {
    let mut w = World::new();
    let credential = w.issue(&w.draft());
    w.verifier().verify(&credential, &bearer()).unwrap();

    let issuer = w.issuer_did();
    let new_key = kp(11);
    w.update(
        &issuer,
        &[
            DidUpdate::AddKey {
                public_key: new_key.account(),
                format: KeyFormat::JsonWebKey,
                authentication: true,
                assertion_method: true,
            },
            DidUpdate::RemoveKey { id: KeyId(1) },
        ],
    );
    let err = w.verifier().verify(&credential, &bearer()).unwrap_err();
    assert_eq!(err, VerifyError::KeyNotCurrent(issuer.key_url(KeyId(1))));
    assert_eq!(err.code(), ErrorCode::Unauthorized);

    // The old key cannot issue any more; the new one can, under the same DID.
    assert!(matches!(
        issue(&w.draft(), &w.record(&issuer), &w.issuer),
        Err(IssueError::Did(DidError::KeyNotCurrent { .. }))
    ));
    let mut draft = w.draft();
    draft.issuer = issuer.key_url(KeyId(2));
    let fresh = issue(&draft, &w.record(&issuer), &new_key).unwrap();
    assert_eq!(
        w.verifier().verify(&fresh, &bearer()).unwrap().issuer,
        issuer
    );
}

#[test]
fn a_routine_rotation_can_keep_old_credentials_valid() {
    let mut w = World::new();
    let credential = w.issue(&w.draft());
    let issuer = w.issuer_did();
    // New key for everything; the old one demoted to assertionMethod only, not removed.
    w.update(
        &issuer,
        &[
            DidUpdate::AddKey {
                public_key: kp(13).account(),
                format: KeyFormat::default(),
                authentication: true,
                assertion_method: true,
            },
            DidUpdate::SetRelationships {
                id: KeyId(1),
                authentication: false,
                assertion_method: true,
            },
        ],
    );
    assert!(!w.record(&issuer).is_authentication_key(&w.issuer.account()));
    w.verifier().verify(&credential, &bearer()).unwrap();
}

#[test]
fn an_authentication_only_key_cannot_issue() {
    let mut w = World::new();
    let issuer = w.issuer_did();
    w.update(
        &issuer,
        &[DidUpdate::AddKey {
            public_key: kp(12).account(),
            format: KeyFormat::default(),
            authentication: true,
            assertion_method: false,
        }],
    );
    let mut draft = w.draft();
    draft.issuer = issuer.key_url(KeyId(2));
    assert!(matches!(
        issue(&draft, &w.record(&issuer), &kp(12)),
        Err(IssueError::Did(DidError::KeyNotCurrent { .. }))
    ));
    // And a credential forged with it is refused by the verifier.
    let mut header = vc_header(&w);
    header["kid"] = json!(issuer.key_url(KeyId(2)).to_string());
    let forged = forge(header, vc_payload(&w), &[], &kp(12));
    assert_eq!(
        w.verifier().verify(&forged, &bearer()).unwrap_err(),
        VerifyError::KeyNotCurrent(issuer.key_url(KeyId(2)))
    );
}

#[test]
fn a_deactivated_issuer_verifies_nothing() {
    let mut w = World::new();
    let credential = w.issue(&w.draft());
    let issuer = w.issuer_did();
    w.update(&issuer, &[DidUpdate::Deactivate]);
    assert_eq!(
        w.verifier().verify(&credential, &bearer()).unwrap_err(),
        VerifyError::IssuerDeactivated(issuer.clone())
    );
    assert!(matches!(
        issue(&w.draft(), &w.record(&issuer), &w.issuer),
        Err(IssueError::Did(DidError::Deactivated(_)))
    ));
}

#[test]
fn an_unknown_or_untrusted_issuer_is_refused() {
    let mut w = World::new();
    let credential = w.issue(&w.draft());

    w.trust = TrustedIssuers::new().trust_for(w.issuer_did(), ["DrivingLicence"]);
    assert_eq!(
        w.verifier().verify(&credential, &bearer()).unwrap_err(),
        VerifyError::UntrustedIssuer(w.issuer_did())
    );
    w.trust = TrustedIssuers::new().trust_for(w.issuer_did(), ["IdentityCredential"]);
    w.verifier().verify(&credential, &bearer()).unwrap();
    w.trust = TrustedIssuers::new().trust(did_of(&kp(3)));
    assert_eq!(
        w.verifier().verify(&credential, &bearer()).unwrap_err(),
        VerifyError::UntrustedIssuer(w.issuer_did())
    );

    let issuer = w.issuer_did();
    w.dids.remove(&issuer);
    assert_eq!(
        w.verifier().verify(&credential, &bearer()).unwrap_err(),
        VerifyError::UnknownIssuer(issuer)
    );
}

struct Unreachable;

impl DidResolver for Unreachable {
    fn resolve(&self, _: &Did) -> Result<Option<DidRecord>, ResolveError> {
        Err(ResolveError("node unreachable".into()))
    }
}

#[test]
fn a_failed_lookup_refuses_instead_of_guessing() {
    let w = World::new();
    let credential = w.issue(&w.draft());
    let verifier = Verifier {
        resolver: &Unreachable,
        ..w.verifier()
    };
    let err = verifier.verify(&credential, &bearer()).unwrap_err();
    assert_eq!(
        err,
        VerifyError::Resolver(ResolveError("node unreachable".into()))
    );
    assert_eq!(err.code(), ErrorCode::Internal);
}

// ---------------------------------------------------------------------------------------
// Validity period.

#[test]
fn validity_period_is_judged_at_the_given_time() {
    let w = World::new();
    let credential = w.issue(&w.draft());
    let at = |now| w.verifier().verify(&credential, &VerifyOptions::at(now));
    assert_eq!(
        at(T0 - 1).unwrap_err(),
        VerifyError::NotYetValid {
            valid_from: T0,
            now: T0 - 1
        }
    );
    at(T0).unwrap();
    at(T0 + YEAR).unwrap();
    assert_eq!(
        at(T0 + YEAR + 1).unwrap_err(),
        VerifyError::Expired {
            valid_until: T0 + YEAR,
            now: T0 + YEAR + 1
        }
    );
}

#[test]
fn a_holder_cannot_hide_the_expiry_or_status() {
    let w = World::new();
    // validUntil concealed in a top-level disclosure: a holder could simply withhold it.
    let disclosure = b64(
        json!(["salt-salt-salt-salt", "validUntil", "2027-02-01T00:00:00Z"])
            .to_string()
            .as_bytes(),
    );
    let mut payload = vc_payload(&w);
    payload["_sd"] = json!([digest(&disclosure)]);
    let forged = forge(vc_header(&w), payload, &[], &w.issuer);
    assert_eq!(
        w.verifier().verify(&forged, &bearer()).unwrap_err(),
        VerifyError::ConcealedRequiredClaim("a top-level credential member".into())
    );

    // The subject id concealed.
    let mut payload = vc_payload(&w);
    payload["credentialSubject"] = json!({"_sd": ["x"], "name": "Alice"});
    let forged = forge(vc_header(&w), payload, &[], &w.issuer);
    assert_eq!(
        w.verifier().verify(&forged, &bearer()).unwrap_err(),
        VerifyError::ConcealedRequiredClaim("credentialSubject.id".into())
    );

    // No status at all: by default refused, since revocation could never be seen.
    let mut payload = vc_payload(&w);
    payload.as_object_mut().unwrap().remove("credentialStatus");
    let forged = forge(vc_header(&w), payload, &[], &w.issuer);
    assert_eq!(
        w.verifier().verify(&forged, &bearer()).unwrap_err(),
        VerifyError::MissingStatus
    );
    let lenient = VerifyOptions {
        require_status: false,
        ..bearer()
    };
    w.verifier().verify(&forged, &lenient).unwrap();
}

// ---------------------------------------------------------------------------------------
// Status.

#[test]
fn a_revoked_credential_never_verifies() {
    let mut w = World::new();
    let credential = w.issue(&w.draft());
    let presentation = w.present(&credential, &["/birthDate"]);
    w.verify(&presentation).unwrap();

    let snapshot = w.lists.get_mut(LIST).unwrap();
    snapshot.list.set(94_567, true).unwrap();
    // Revocation travels the way a verifier receives it: as an encodedList.
    snapshot.list = BitstringStatusList::decode(&snapshot.list.encode()).unwrap();
    let revoked = VerifyError::Revoked {
        list: LIST.into(),
        index: 94_567,
    };
    assert_eq!(w.verify(&presentation).unwrap_err(), revoked);
    assert_eq!(
        w.verifier().verify(&credential, &bearer()).unwrap_err(),
        revoked
    );
    // At any time, with or without key binding, fully or barely disclosed.
    for now in [T0, T0 + 100, T0 + YEAR] {
        assert_eq!(
            w.verifier()
                .verify(&credential, &VerifyOptions::at(now))
                .unwrap_err(),
            revoked
        );
    }
    let bare = present(&credential, &[], None).unwrap();
    assert_eq!(w.verifier().verify(&bare, &bearer()).unwrap_err(), revoked);
    assert_eq!(revoked.code(), ErrorCode::Unauthorized);
    // A neighbouring index is unaffected.
    let mut draft = w.draft();
    draft.status.index = 94_568;
    w.verifier().verify(&w.issue(&draft), &bearer()).unwrap();
}

#[test]
fn suspension_can_be_lifted() {
    let mut w = World::new();
    let mut draft = w.draft();
    draft.status = StatusEntry {
        purpose: StatusPurpose::Suspension,
        list: SUSPENSIONS.into(),
        index: 7,
    };
    let credential = w.issue(&draft);
    w.lists
        .get_mut(SUSPENSIONS)
        .unwrap()
        .list
        .set(7, true)
        .unwrap();
    assert_eq!(
        w.verifier().verify(&credential, &bearer()).unwrap_err(),
        VerifyError::Suspended {
            list: SUSPENSIONS.into(),
            index: 7
        }
    );
    w.lists
        .get_mut(SUSPENSIONS)
        .unwrap()
        .list
        .set(7, false)
        .unwrap();
    w.verifier().verify(&credential, &bearer()).unwrap();
}

#[test]
fn status_lists_that_cannot_answer_refuse() {
    let mut w = World::new();
    let mut draft = w.draft();
    draft.status.index = 131_072; // one past the end of a minimum-length list
    let out_of_range = w.issue(&draft);
    assert!(matches!(
        w.verifier().verify(&out_of_range, &bearer()).unwrap_err(),
        VerifyError::StatusIndexOutOfRange(_)
    ));

    let mut draft = w.draft();
    draft.status.list = SUSPENSIONS.into(); // a suspension list named as revocation
    let mismatch = w.issue(&draft);
    assert_eq!(
        w.verifier().verify(&mismatch, &bearer()).unwrap_err(),
        VerifyError::StatusPurposeMismatch {
            list: SUSPENSIONS.into(),
            expected: StatusPurpose::Revocation,
            found: StatusPurpose::Suspension
        }
    );

    let credential = w.issue(&w.draft());
    w.lists.remove(LIST);
    assert_eq!(
        w.verifier().verify(&credential, &bearer()).unwrap_err(),
        VerifyError::StatusListNotFound(LIST.into())
    );

    // An entry type this verifier does not know is refused, not skipped.
    let mut payload = vc_payload(&w);
    payload["credentialStatus"]["type"] = json!("StatusList2021Entry");
    let forged = forge(vc_header(&w), payload, &[], &w.issuer);
    assert!(matches!(
        w.verifier().verify(&forged, &bearer()).unwrap_err(),
        VerifyError::UnsupportedStatus(_)
    ));
}

// ---------------------------------------------------------------------------------------
// Disclosures.

fn edit_disclosure(presentation: &str, claim: &str, new_value: Value) -> String {
    presentation
        .split('~')
        .map(|segment| {
            let Ok(bytes) = URL_SAFE_NO_PAD.decode(segment) else {
                return segment.to_string();
            };
            match serde_json::from_slice::<Vec<Value>>(&bytes) {
                Ok(mut d) if d.len() == 3 && d[1] == claim => {
                    d[2] = new_value.clone();
                    b64(Value::Array(d).to_string().as_bytes())
                }
                _ => segment.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("~")
}

#[test]
fn a_tampered_disclosure_is_refused() {
    let w = World::new();
    let credential = w.issue(&w.draft());
    let presentation = present(&credential, &["/birthDate"], None).unwrap();
    let tampered = edit_disclosure(&presentation, "birthDate", json!("1970-01-01"));
    assert_ne!(tampered, presentation);
    let err = w.verifier().verify(&tampered, &bearer()).unwrap_err();
    assert!(matches!(err, VerifyError::TamperedDisclosure(_)), "{err:?}");
    assert_eq!(err.code(), ErrorCode::Malformed);

    // A disclosure lifted from another credential of the same holder.
    let other = w.issue(&w.draft());
    let foreign = other.split('~').nth(1).unwrap();
    let (head, _) = presentation.rsplit_once('~').unwrap();
    let grafted = format!("{head}~{foreign}~");
    assert!(matches!(
        w.verifier().verify(&grafted, &bearer()).unwrap_err(),
        VerifyError::TamperedDisclosure(_)
    ));

    // The same disclosure twice.
    let d = presentation.split('~').nth(1).unwrap();
    let doubled = format!("{head}~{d}~");
    assert!(matches!(
        w.verifier().verify(&doubled, &bearer()).unwrap_err(),
        VerifyError::TamperedDisclosure(_)
    ));

    // A disclosure claiming the reserved name "_sd".
    let reserved = b64(json!(["salt-salt-salt-salt", "_sd", ["x"]])
        .to_string()
        .as_bytes());
    let mut payload = vc_payload(&w);
    payload["credentialSubject"]["_sd"] = json!([digest(&reserved)]);
    let forged = forge(vc_header(&w), payload, &[reserved], &w.issuer);
    assert!(matches!(
        w.verifier().verify(&forged, &bearer()).unwrap_err(),
        VerifyError::TamperedDisclosure(_)
    ));
}

// ---------------------------------------------------------------------------------------
// Key binding.

#[test]
fn key_binding_is_required_when_the_verifier_asks() {
    let w = World::new();
    let credential = w.issue(&w.draft());
    let unbound = present(&credential, &["/birthDate"], None).unwrap();
    let err = w.verify(&unbound).unwrap_err();
    assert_eq!(err, VerifyError::MissingKeyBinding);
    assert_eq!(err.code(), ErrorCode::MissingSignature);

    let mut draft = w.draft();
    draft.holder_binding = HolderBinding::None;
    let bearer_credential = w.issue(&draft);
    assert_eq!(
        w.verify(&bearer_credential).unwrap_err(),
        VerifyError::NoHolderBinding
    );
    assert_eq!(
        present(
            &bearer_credential,
            &[],
            Some((&w.kb_params(T0, KeyId(1)), &w.holder))
        )
        .unwrap_err(),
        PresentError::NotHolderBound
    );
}

#[test]
fn audience_and_nonce_must_match() {
    let w = World::new();
    let credential = w.issue(&w.draft());
    let presentation = w.present(&credential, &["/birthDate"]);
    let verify = |aud, nonce| {
        w.verifier().verify(
            &presentation,
            &VerifyOptions::at(T0 + 20).with_key_binding(aud, nonce),
        )
    };
    verify(AUD, NONCE).unwrap();
    assert_eq!(
        verify("https://other.example", NONCE).unwrap_err(),
        VerifyError::WrongAudience
    );
    assert_eq!(
        verify(AUD, "another-nonce").unwrap_err(),
        VerifyError::WrongNonce
    );
}

#[test]
fn a_key_binding_jwt_covers_exactly_its_presentation() {
    let w = World::new();
    let credential = w.issue(&w.draft());
    let a = w.present(&credential, &["/birthDate"]);
    let b = present(&credential, &["/givenName"], None).unwrap();
    // Lift A's key-binding JWT onto B.
    let kb = a.rsplit_once('~').unwrap().1;
    let lifted = format!("{b}{kb}");
    assert_eq!(
        w.verify(&lifted).unwrap_err(),
        VerifyError::KeyBindingMismatch
    );

    // Stale and future-dated bindings.
    for iat in [T0 + 20 - 301, T0 + 20 + 61] {
        let p = present(
            &credential,
            &["/birthDate"],
            Some((&w.kb_params(iat, KeyId(1)), &w.holder)),
        )
        .unwrap();
        assert_eq!(
            w.verify(&p).unwrap_err(),
            VerifyError::KeyBindingStale { iat, now: T0 + 20 }
        );
    }
}

#[test]
fn the_binding_must_be_signed_by_a_current_holder_key() {
    let mut w = World::new();
    let credential = w.issue(&w.draft());

    // Signed by someone else under the holder's key id.
    let thief = present(
        &credential,
        &["/birthDate"],
        Some((&w.kb_params(T0 + 10, KeyId(1)), &kp(66))),
    )
    .unwrap();
    assert_eq!(
        w.verify(&thief).unwrap_err(),
        VerifyError::KeyBindingSignature
    );

    // The holder rotates: the old key stops working, the new one works, and the credential
    // (bound to the DID, not to a key) survives.
    let old = w.present(&credential, &["/birthDate"]);
    let holder = w.holder_did();
    let new_key = kp(22);
    w.update(
        &holder,
        &[
            DidUpdate::AddKey {
                public_key: new_key.account(),
                format: KeyFormat::default(),
                authentication: true,
                assertion_method: false,
            },
            DidUpdate::RemoveKey { id: KeyId(1) },
        ],
    );
    assert_eq!(
        w.verify(&old).unwrap_err(),
        VerifyError::HolderKeyNotCurrent(holder.key_url(KeyId(1)).to_string())
    );
    let fresh = present(
        &credential,
        &["/birthDate"],
        Some((&w.kb_params(T0 + 10, KeyId(2)), &new_key)),
    )
    .unwrap();
    assert!(w.verify(&fresh).unwrap().holder_bound);

    // A deactivated holder can no longer present.
    w.update(&holder, &[DidUpdate::Deactivate]);
    assert_eq!(
        w.verify(&fresh).unwrap_err(),
        VerifyError::HolderDeactivated(holder)
    );
}

#[test]
fn a_credential_can_pin_one_holder_key() {
    let w = World::new();
    let mut draft = w.draft();
    draft.holder_binding = HolderBinding::Key(w.holder.account());
    let credential = w.issue(&draft);
    let params = KeyBindingParams {
        holder_key: None,
        ..w.kb_params(T0 + 10, KeyId(1))
    };
    let p = present(&credential, &["/msisdn"], Some((&params, &w.holder))).unwrap();
    assert_eq!(w.verify(&p).unwrap().claims["msisdn"], "+3725550100");
    assert_eq!(
        present(&credential, &["/msisdn"], Some((&params, &kp(5)))).unwrap_err(),
        PresentError::KeyMismatch
    );
}

// ---------------------------------------------------------------------------------------
// Shape of the input.

#[test]
fn headers_and_issuer_must_match_the_profile() {
    let w = World::new();
    let mut header = vc_header(&w);
    header["typ"] = json!("JWT");
    assert_eq!(
        w.verifier()
            .verify(&forge(header, vc_payload(&w), &[], &w.issuer), &bearer())
            .unwrap_err(),
        VerifyError::UnsupportedType("JWT".into())
    );

    let mut header = vc_header(&w);
    header["kid"] = json!("did:web:issuer.example#key-1");
    assert!(matches!(
        w.verifier()
            .verify(&forge(header, vc_payload(&w), &[], &w.issuer), &bearer())
            .unwrap_err(),
        VerifyError::BadKeyId(_)
    ));

    let mut payload = vc_payload(&w);
    payload["issuer"] = json!(did_of(&kp(3)).to_string());
    assert!(matches!(
        w.verifier()
            .verify(&forge(vc_header(&w), payload, &[], &w.issuer), &bearer())
            .unwrap_err(),
        VerifyError::IssuerMismatch { .. }
    ));

    let mut payload = vc_payload(&w);
    payload["@context"] = json!(["https://www.w3.org/2018/credentials/v1"]);
    assert!(matches!(
        w.verifier()
            .verify(&forge(vc_header(&w), payload, &[], &w.issuer), &bearer())
            .unwrap_err(),
        VerifyError::Malformed(_)
    ));

    // "alg": "none" with an empty signature.
    let none_header = b64(
        json!({"alg": "none", "typ": "vc+sd-jwt", "kid": vc_header(&w)["kid"]})
            .to_string()
            .as_bytes(),
    );
    let body = b64(vc_payload(&w).to_string().as_bytes());
    assert!(matches!(
        w.verifier()
            .verify(&format!("{none_header}.{body}.~"), &bearer())
            .unwrap_err(),
        VerifyError::UnsupportedAlgorithm(a) if a == "none"
    ));
}

#[test]
fn garbage_and_oversized_input_are_refused() {
    let w = World::new();
    for junk in ["", "~", "abc", "a.b.c~", "~~~"] {
        assert!(
            matches!(
                w.verifier().verify(junk, &bearer()).unwrap_err(),
                VerifyError::Malformed(_) | VerifyError::UnsupportedType(_)
            ),
            "{junk:?}"
        );
    }
    let huge = "a".repeat(weft_credentials::vc::MAX_PRESENTATION_BYTES + 1);
    assert_eq!(
        w.verifier().verify(&huge, &bearer()).unwrap_err(),
        VerifyError::Oversized
    );
}

// ---------------------------------------------------------------------------------------
// Issuer and holder API refusals.

#[test]
fn issue_refuses_inconsistent_drafts() {
    let w = World::new();
    let record = w.record(&w.issuer_did());
    let refuse = |edit: &dyn Fn(&mut CredentialDraft)| {
        let mut d = w.draft();
        edit(&mut d);
        issue(&d, &record, &w.issuer).unwrap_err()
    };
    assert_eq!(
        refuse(&|d| {
            d.claims.insert("id".into(), json!("x"));
        }),
        IssueError::ReservedClaim
    );
    assert_eq!(
        refuse(&|d| d.disclosable.push("/id".into())),
        IssueError::BadPointer("/id".into())
    );
    assert_eq!(
        refuse(&|d| d.disclosable.push("/nickname".into())),
        IssueError::BadPointer("/nickname".into())
    );
    assert!(matches!(
        refuse(&|d| d.valid_until = Some(T0 - 1)),
        IssueError::InvalidPeriod(_)
    ));
    assert!(matches!(
        refuse(&|d| d.status.list = "ftp://x".into()),
        IssueError::InvalidStatus(_)
    ));
    assert!(matches!(
        refuse(&|d| d.types = vec!["VerifiableCredential".into()]),
        IssueError::InvalidTypes(_)
    ));
    assert!(matches!(
        refuse(&|d| d.types = vec!["A".into(), "A".into()]),
        IssueError::InvalidTypes(_)
    ));
    assert_eq!(
        issue(&w.draft(), &record, &kp(9)).unwrap_err(),
        IssueError::KeyMismatch(w.issuer_did().key_url(KeyId(1)))
    );
    assert!(matches!(
        issue(&w.draft(), &w.record(&w.holder_did()), &w.holder).unwrap_err(),
        IssueError::IssuerMismatch { .. }
    ));
}

#[test]
fn present_refuses_what_it_cannot_do() {
    let w = World::new();
    let credential = w.issue(&w.draft());
    assert_eq!(
        present(&credential, &["/nickname"], None).unwrap_err(),
        PresentError::UnknownClaim("/nickname".into())
    );
    let params = KeyBindingParams {
        holder_key: None,
        ..w.kb_params(T0, KeyId(1))
    };
    assert_eq!(
        present(&credential, &[], Some((&params, &w.holder))).unwrap_err(),
        PresentError::HolderKeyIdRequired(w.holder_did())
    );
    let bound = w.present(&credential, &[]);
    assert_eq!(
        present(&bound, &[], None).unwrap_err(),
        PresentError::AlreadyBound
    );
    assert!(matches!(
        present("not an sd-jwt", &[], None).unwrap_err(),
        PresentError::Malformed(_)
    ));
}

#[test]
fn every_verify_error_has_an_api_code() {
    // The mapping is total by construction (a match); spot-check the families.
    let did = did_of(&kp(1));
    let cases: Vec<(VerifyError, ErrorCode)> = vec![
        (VerifyError::Oversized, ErrorCode::Oversized),
        (VerifyError::UnknownIssuer(did.clone()), ErrorCode::NotFound),
        (VerifyError::UntrustedIssuer(did), ErrorCode::Unauthorized),
        (
            VerifyError::Expired {
                valid_until: 0,
                now: 1,
            },
            ErrorCode::InvalidArgument,
        ),
        (VerifyError::WrongNonce, ErrorCode::InvalidArgument),
    ];
    for (err, code) in cases {
        assert_eq!(err.code(), code, "{err}");
    }
}
