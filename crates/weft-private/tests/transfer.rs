//! The transfer envelope: round trips, and refusals of every way it can be wrong.

use proptest::{
    prelude::*,
    test_runner::{Config, TestRunner},
};
use weft_credentials::commitment::commit;
use weft_private::{
    Commitment, Envelope, MAX_PAYLOAD_BYTES, Salt, TransferError, TransferKey, open_envelope,
    seal_for,
};
use weft_types::ErrorCode;

fn sample(payload: &[u8]) -> (Salt, Commitment) {
    let salt = Salt::generate().unwrap();
    let c = commit(payload, &salt);
    (salt, c)
}

const PAYLOAD: &[u8] = b"HbA1c 6.1% (2026-10-02), fasting glucose 5.9 mmol/L";

#[test]
fn round_trip_in_memory_and_as_json() {
    let key = TransferKey::generate();
    let (salt, c) = sample(PAYLOAD);
    let env = seal_for(&key.public(), "lab-7", &c, &salt, PAYLOAD).unwrap();
    assert_eq!(
        open_envelope(&key, "lab-7", &c, &env).unwrap(),
        (salt.clone(), PAYLOAD.to_vec())
    );
    // The payload and salt are not visible in the ciphertext.
    assert!(!env.ciphertext().windows(16).any(|w| w == &PAYLOAD[..16]));
    assert!(
        !env.ciphertext()
            .windows(16)
            .any(|w| w == &salt.as_bytes()[..16])
    );

    let json = serde_json::to_value(&env).unwrap();
    let obj = json.as_object().unwrap();
    assert_eq!(obj.len(), 2);
    assert_eq!(obj["enc"].as_str().unwrap().len(), 44);
    let back: Envelope = serde_json::from_value(json).unwrap();
    assert_eq!(back, env);
    assert_eq!(
        open_envelope(&key, "lab-7", &c, &back).unwrap(),
        (salt, PAYLOAD.to_vec())
    );

    // Sealing twice gives different envelopes (fresh ephemeral key each time).
    let (salt, c) = sample(b"");
    let a = seal_for(&key.public(), "x", &c, &salt, b"").unwrap();
    let b = seal_for(&key.public(), "x", &c, &salt, b"").unwrap();
    assert_ne!(a.enc(), b.enc());
    assert_eq!(
        open_envelope(&key, "x", &c, &a).unwrap().1,
        Vec::<u8>::new()
    );
}

#[test]
fn only_the_recipient_key_opens_it() {
    let key = TransferKey::generate();
    let other = TransferKey::generate();
    assert_ne!(key.public(), other.public());
    let (salt, c) = sample(PAYLOAD);
    let env = seal_for(&key.public(), "lab-7", &c, &salt, PAYLOAD).unwrap();
    let err = open_envelope(&other, "lab-7", &c, &env).unwrap_err();
    assert_eq!(err, TransferError::Unopenable);
    assert_eq!(err.code(), ErrorCode::Malformed);
    // The Debug form shows the public half only.
    assert_eq!(
        format!("{key:?}"),
        format!("TransferKey(public {})", hex::encode(key.public()))
    );
}

#[test]
fn the_envelope_is_bound_to_record_and_commitment() {
    let key = TransferKey::generate();
    let (salt, c) = sample(PAYLOAD);
    let (_, other_c) = sample(PAYLOAD);
    let env = seal_for(&key.public(), "lab-7", &c, &salt, PAYLOAD).unwrap();
    assert_eq!(
        open_envelope(&key, "lab-8", &c, &env),
        Err(TransferError::Unopenable)
    );
    assert_eq!(
        open_envelope(&key, "lab-7", &other_c, &env),
        Err(TransferError::Unopenable)
    );
    assert_eq!(
        open_envelope(&key, "", &c, &env),
        Err(TransferError::InvalidRecordId(0))
    );
}

#[test]
fn every_tampered_byte_is_refused() {
    let key = TransferKey::generate();
    let (salt, c) = sample(PAYLOAD);
    let env = seal_for(&key.public(), "lab-7", &c, &salt, PAYLOAD).unwrap();
    for i in 0..32 {
        let mut enc = *env.enc();
        enc[i] ^= 0x40;
        let bad = Envelope::from_parts(enc, env.ciphertext().to_vec()).unwrap();
        assert_eq!(
            open_envelope(&key, "lab-7", &c, &bad),
            Err(TransferError::Unopenable),
            "enc byte {i}"
        );
    }
    for i in 0..env.ciphertext().len() {
        let mut ct = env.ciphertext().to_vec();
        ct[i] ^= 1;
        let bad = Envelope::from_parts(*env.enc(), ct).unwrap();
        assert_eq!(
            open_envelope(&key, "lab-7", &c, &bad),
            Err(TransferError::Unopenable),
            "ciphertext byte {i}"
        );
    }
    // Cut or extended ciphertexts (still within the bounds) fail too.
    let ct = env.ciphertext();
    for bad in [ct[..ct.len() - 1].to_vec(), [ct, &[0]].concat()] {
        let bad = Envelope::from_parts(*env.enc(), bad).unwrap();
        assert_eq!(
            open_envelope(&key, "lab-7", &c, &bad),
            Err(TransferError::Unopenable)
        );
    }
}

#[test]
fn senders_refuse_what_they_should_not_seal() {
    let key = TransferKey::generate();
    let (salt, c) = sample(PAYLOAD);
    let err = seal_for(&key.public(), "lab-7", &c, &salt, b"another payload").unwrap_err();
    assert_eq!(err, TransferError::CommitmentMismatch);
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert_eq!(
        seal_for(&key.public(), &"r".repeat(129), &c, &salt, PAYLOAD),
        Err(TransferError::InvalidRecordId(129))
    );
    let big = vec![1u8; MAX_PAYLOAD_BYTES + 1];
    let err = seal_for(&key.public(), "big", &commit(&big, &salt), &salt, &big).unwrap_err();
    assert_eq!(err, TransferError::PayloadTooLarge(MAX_PAYLOAD_BYTES + 1));
    assert_eq!(err.code(), ErrorCode::Oversized);
    // The all-zero point gives an all-zero shared secret, which HPKE refuses.
    assert_eq!(
        seal_for(&[0; 32], "lab-7", &c, &salt, PAYLOAD),
        Err(TransferError::BadRecipientKey)
    );
}

#[test]
fn decoding_is_bounded_and_strict() {
    let key = TransferKey::generate();
    let (salt, c) = sample(PAYLOAD);
    let env = seal_for(&key.public(), "lab-7", &c, &salt, PAYLOAD).unwrap();
    let json = serde_json::to_value(&env).unwrap();
    let enc = json["enc"].as_str().unwrap().to_string();
    let ct = json["ciphertext"].as_str().unwrap().to_string();
    let b64 = |bytes: &[u8]| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    let refused = [
        serde_json::json!({"enc": b64(&[1; 31]), "ciphertext": ct}),
        serde_json::json!({"enc": b64(&[1; 33]), "ciphertext": ct}),
        serde_json::json!({"enc": "not base64!", "ciphertext": ct}),
        serde_json::json!({"enc": enc, "ciphertext": b64(&[0; 36])}),
        serde_json::json!({"enc": enc, "ciphertext": "A".repeat(23_000_000)}),
        serde_json::json!({"enc": enc, "ciphertext": ct, "extra": 1}),
        serde_json::json!({"enc": enc}),
        serde_json::json!({"enc": enc, "ciphertext": 5}),
    ];
    for bad in refused {
        let shown = bad.to_string().chars().take(80).collect::<String>();
        assert!(
            serde_json::from_value::<Envelope>(bad).is_err(),
            "accepted {shown}"
        );
    }
    assert_eq!(
        Envelope::from_parts([1; 32], vec![0; 36]),
        Err(TransferError::Malformed("ciphertext too short"))
    );
    assert_eq!(
        Envelope::from_parts([1; 32], vec![0; MAX_PAYLOAD_BYTES + 64 + 4 + 1 + 16 + 1]),
        Err(TransferError::Malformed("ciphertext too long"))
    );
    // The smallest valid ciphertext length is accepted (and then fails to open).
    let smallest = Envelope::from_parts([1; 32], vec![0; 37]).unwrap();
    assert_eq!(
        open_envelope(&key, "lab-7", &c, &smallest),
        Err(TransferError::Unopenable)
    );
}

#[test]
fn random_payloads_seal_and_open() {
    let key = TransferKey::generate();
    let other = TransferKey::generate();
    let strategy = (
        "\\PC{1,32}",
        proptest::collection::vec(any::<u8>(), 16..=64),
        proptest::collection::vec(any::<u8>(), 0..4096),
    );
    let mut runner = TestRunner::new(Config {
        cases: 64,
        ..Config::default()
    });
    runner
        .run(&strategy, |(record, salt, payload)| {
            prop_assume!(record.len() <= 128);
            let salt = Salt::from_bytes(salt).unwrap();
            let c = commit(&payload, &salt);
            let env = seal_for(&key.public(), &record, &c, &salt, &payload).unwrap();
            let json = serde_json::to_string(&env).unwrap();
            let env: Envelope = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(
                open_envelope(&key, &record, &c, &env).unwrap(),
                (salt, payload)
            );
            prop_assert_eq!(
                open_envelope(&other, &record, &c, &env),
                Err(TransferError::Unopenable)
            );
            Ok(())
        })
        .unwrap();
}
