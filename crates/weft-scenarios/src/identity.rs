//! UC-27 (digital identity as a service) and UC-26 (AlastriaID-style self-sovereign
//! identity): a mobile operator verifies a subscriber's personal data, publishes only
//! salted commitments to it ("publish hashes of validated personal data", paper L3083),
//! and issues a W3C verifiable credential (SD-JWT, selective disclosure) whose revocation
//! bit lives in an on-chain Bitstring Status List. The consortium's registrar has put the
//! operator in the trusted-issuer registry. The subscriber shows a bank only what the bank
//! needs (over 18, phone number) with key binding by a device key in its `did:weft`
//! document; the bank verifies through `POST /v1/credentials/verify` and offline with the
//! library over records it read from the ledger, and checks the phone number against the
//! operator's commitment. Then the illegal and failing steps: an unregistered issuer's
//! credential is refused, a rogue member cannot put itself in the registry, a device key
//! rotated out of the DID can neither bind a presentation nor update the DID, the operator
//! revokes the credential and it never verifies again, and the revocation cannot be undone.

use std::collections::BTreeMap;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value, json};
use weft_client::Keypair;
use weft_credentials::{
    CredentialDraft, DidRecord, HolderBinding, KeyBindingParams, KeyId, StatusEntry,
    StatusListRecord, TrustedIssuers, Verifier, VerifyError, VerifyOptions,
    commitment::{AttributeCommitments, Commitment, verify_attribute},
    status_list::{BitstringStatusList, MIN_STATUS_LIST_BITS},
};
use weft_types::{
    CreateStatusList, ErrorCode, Hash, Operation, PublishCommitment, RegisterIssuer,
    SetCredentialStatus, UpdateDid,
    did::{Did, DidUpdate, KeyFormat, StatusPurpose},
};

use crate::{Ctx, Scenario, ScenarioReport, name, now_ms};

const CREDENTIAL_TYPE: &str = "IdentityCredential";

pub async fn run(ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("identity");
    let outcome = steps(ctx, &mut s).await;
    s.finish(outcome)
}

fn now_s() -> i64 {
    i64::try_from(now_ms() / 1000).unwrap_or(i64::MAX)
}

fn did_of(ctx: &Ctx, key: &Keypair) -> Did {
    Did::new(ctx.genesis.chain_id.clone(), key.account())
}

/// The DID record of `key`'s account as the ledger holds it: the stored record, or (never
/// updated) the one its registration implies.
async fn did_record(ctx: &Ctx, key: &Keypair) -> Result<DidRecord> {
    let stored = ctx.value(&format!("did/{}", key.account())).await?;
    if stored.is_object() {
        return serde_json::from_value(stored).context("DID record");
    }
    let account = ctx.value(&format!("account/{}", key.account())).await?;
    let height = account["registered_at"]
        .as_u64()
        .ok_or_else(|| anyhow!("{} is not registered", key.account()))?;
    Ok(DidRecord::new(did_of(ctx, key), height))
}

/// The id of the verification method holding `key` in `record`.
fn key_id_of(record: &DidRecord, key: &Keypair) -> Option<KeyId> {
    record
        .verification_methods()
        .iter()
        .find(|m| m.public_key == key.account())
        .map(|m| m.id)
}

/// The personal data the operator checked at the shop (never on the ledger).
fn personal_data(run: u64) -> BTreeMap<String, String> {
    [
        ("given_name", "Maria".to_string()),
        ("family_name", "Example".to_string()),
        ("birth_date", "1990-04-01".to_string()),
        ("msisdn", format!("+3725550{:03}", run % 1000)),
        ("address", "Tartu mnt 1, Tallinn".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn draft(
    issuer: &DidRecord,
    subject: Did,
    data: &BTreeMap<String, String>,
    status: StatusEntry,
    run: u64,
) -> CredentialDraft {
    let mut claims = Map::new();
    for (k, v) in data {
        claims.insert(k.clone(), Value::String(v.clone()));
    }
    claims.insert("over_18".into(), Value::Bool(true));
    let disclosable = claims.keys().map(|k| format!("/{k}")).collect();
    let now = now_s();
    CredentialDraft {
        id: Some(format!("urn:weft:credential:{run}")),
        issuer: issuer.did().key_url(KeyId(1)),
        subject,
        types: vec![CREDENTIAL_TYPE.into()],
        claims,
        disclosable,
        valid_from: now - 60,
        valid_until: Some(now + 365 * 24 * 3600),
        status,
        holder_binding: HolderBinding::SubjectDid,
        issued_at: now,
    }
}

/// The subscriber presents `credential` to `audience`, disclosing only `disclose`, with a
/// key-binding JWT signed by `holder` (method `key` of its DID).
fn present(
    credential: &str,
    disclose: &[&str],
    audience: &str,
    nonce: &str,
    key: KeyId,
    holder: &Keypair,
) -> Result<String> {
    let params = KeyBindingParams {
        audience,
        nonce,
        issued_at: now_s(),
        holder_key: Some(key),
    };
    weft_credentials::present(credential, disclose, Some((&params, holder)))
        .map_err(|e| anyhow!("present: {e}"))
}

/// The bank's verification through the node; returns the answer. The bank signs its
/// request like every member read (the records it needs are public anyway).
async fn verify_online(
    ctx: &Ctx,
    bank: &Keypair,
    presentation: &str,
    audience: &str,
    nonce: &str,
) -> Result<Value> {
    Ok(ctx
        .reader(bank)
        .verify_credential(presentation, Some((audience, nonce)))
        .await?)
}

/// Records a check that the node refused a presentation for `reason`.
fn expect_refusal(s: &mut Scenario, label: &str, answer: &Value, reason: &str) {
    let got = answer["error"]["reason"].as_str().unwrap_or_default();
    s.check(
        label,
        answer["verified"] == false && got == reason,
        format!(
            "verified={} reason={got}: {}",
            answer["verified"], answer["error"]["message"]
        ),
    );
}

async fn steps(ctx: &Ctx, s: &mut Scenario) -> Result<()> {
    let operator = ctx.cast.operator()?;
    let mno = ctx.key("mobile-operator")?;
    let subscriber = ctx.key("subscriber")?;
    let bank = ctx.key("bank")?;
    let rogue = ctx.key("rogue-issuer")?;
    ctx.onboard(
        s,
        "telco",
        "Mobile operator",
        &[(&mno, &["credential-issuer"])],
    )
    .await?;
    ctx.onboard(s, "bank", "Bank", &[(&bank, &["member"])])
        .await?;
    ctx.onboard(
        s,
        "subscribers",
        "Subscribers",
        &[(&subscriber, &["member"])],
    )
    .await?;
    ctx.onboard(
        s,
        "grey-market",
        "Unlicensed reseller",
        &[(&rogue, &["credential-issuer"])],
    )
    .await?;
    let run = ctx.run_id().await?;
    let chain = ctx.genesis.chain_id.clone();
    let mno_did = did_of(ctx, &mno);
    let subscriber_did = did_of(ctx, &subscriber);
    let audience = did_of(ctx, &bank).to_string();

    // The consortium's registrar trusts the operator for identity credentials.
    if ctx
        .value(&format!("issuer/{}", mno.account()))
        .await?
        .is_null()
    {
        s.commit(
            ctx,
            &operator,
            "registrar adds the mobile operator to the trusted-issuer registry",
            vec![Operation::RegisterIssuer(RegisterIssuer {
                did: mno_did.clone(),
                credential_types: vec![CREDENTIAL_TYPE.into()],
            })],
        )
        .await?;
    }
    s.refused(
        ctx,
        &rogue,
        "a reseller cannot add itself to the trusted-issuer registry",
        ErrorCode::Unauthorized,
        vec![Operation::RegisterIssuer(RegisterIssuer {
            did: did_of(ctx, &rogue),
            credential_types: vec![],
        })],
    )
    .await?;

    // UC-27: the operator verifies the subscriber's data and publishes only commitments.
    let data = personal_data(run);
    let commitments = AttributeCommitments::commit(&data).map_err(|e| anyhow!("{e}"))?;
    let ids: BTreeMap<String, String> = data
        .keys()
        .map(|attr| {
            (
                attr.clone(),
                format!("kyc-{run}-{}", attr.replace('_', "-")),
            )
        })
        .collect();
    let ops = commitments
        .public
        .iter()
        .map(|(attr, c)| {
            Operation::PublishCommitment(PublishCommitment {
                id: name(&ids[attr]),
                commitment: c.0,
                attribute: attr.clone(),
            })
        })
        .collect();
    s.commit(
        ctx,
        &mno,
        "operator publishes salted commitments to the verified data",
        ops,
    )
    .await?;
    let msisdn_record = ctx.value(&format!("commitment/{}", ids["msisdn"])).await?;
    let on_chain: Hash =
        serde_json::from_value(msisdn_record["commitment"].clone()).context("commitment hash")?;
    let stored_text = msisdn_record.to_string();
    s.check(
        "the ledger holds the commitment and the attribute name, not the value",
        on_chain == commitments.public["msisdn"].0
            && msisdn_record["attribute"] == "msisdn"
            && !stored_text.contains(&data["msisdn"]),
        stored_text,
    );

    // The operator's revocation list for this batch of credentials.
    let list = format!("rev-{run}");
    s.commit(
        ctx,
        &mno,
        "operator publishes a revocation status list",
        vec![Operation::CreateStatusList(CreateStatusList {
            name: name(&list),
            purpose: StatusPurpose::Revocation,
            entries: MIN_STATUS_LIST_BITS as u32,
        })],
    )
    .await?;
    let list_vc = ctx
        .client
        .status_list(&mno.account().to_string(), &list)
        .await?;
    let reference = list_vc["id"]
        .as_str()
        .ok_or_else(|| anyhow!("status list credential without id"))?
        .to_string();
    s.check(
        "the status list is public as a BitstringStatusListCredential",
        list_vc["type"][1] == "BitstringStatusListCredential"
            && list_vc["credentialSubject"]["statusPurpose"] == "revocation",
        reference.clone(),
    );
    let index = (run * 7919) % MIN_STATUS_LIST_BITS as u64;
    let status = StatusEntry {
        purpose: StatusPurpose::Revocation,
        list: reference.clone(),
        index,
    };

    // The subscriber's phone gets its own key in the subscriber's DID.
    let device = Keypair::generate()?;
    s.commit(
        ctx,
        &subscriber,
        "subscriber adds its phone's key to its DID",
        vec![Operation::UpdateDid(UpdateDid {
            did: subscriber_did.clone(),
            updates: vec![DidUpdate::AddKey {
                public_key: device.account(),
                format: KeyFormat::JsonWebKey,
                authentication: true,
                assertion_method: false,
            }],
        })],
    )
    .await?;
    let holder_record = did_record(ctx, &subscriber).await?;
    let device_key = key_id_of(&holder_record, &device)
        .ok_or_else(|| anyhow!("the phone key is not in the DID"))?;
    let account_key =
        key_id_of(&holder_record, &subscriber).ok_or_else(|| anyhow!("no account key"))?;
    let resolved = ctx
        .client
        .resolve_did(&subscriber_did.to_string(), None)
        .await?;
    let device_url = format!("{subscriber_did}#{}", device_key.fragment());
    s.check(
        "the DID document lists the phone key for authentication",
        resolved["didDocument"]["authentication"]
            .as_array()
            .is_some_and(|a| a.iter().any(|k| k == device_url.as_str())),
        resolved["didDocumentMetadata"].to_string(),
    );

    // Issue.
    let issuer_record = did_record(ctx, &mno).await?;
    let credential = weft_credentials::issue(
        &draft(
            &issuer_record,
            subscriber_did.clone(),
            &data,
            status.clone(),
            run,
        ),
        &issuer_record,
        &mno,
    )
    .map_err(|e| anyhow!("issue: {e}"))?;
    s.check(
        "operator issues an SD-JWT identity credential to the subscriber",
        credential.matches('~').count() == data.len() + 2,
        format!("{} bytes, {} disclosures", credential.len(), data.len() + 1),
    );

    // Selective disclosure with key binding, verified by the bank through the node.
    let nonce = format!("bank-{run}-{}", now_ms());
    let shown = present(
        &credential,
        &["/over_18", "/msisdn"],
        &audience,
        &nonce,
        device_key,
        &device,
    )?;
    let answer = verify_online(ctx, &bank, &shown, &audience, &nonce).await?;
    let claims = answer["claims"].as_object().cloned().unwrap_or_default();
    s.check(
        "the bank verifies the presentation through the node",
        answer["verified"] == true && answer["holder_bound"] == true,
        answer["error"].to_string(),
    );
    s.check(
        "only the chosen claims are disclosed",
        claims.get("over_18") == Some(&json!(true))
            && claims.get("msisdn") == Some(&json!(data["msisdn"]))
            && !claims.contains_key("birth_date")
            && !claims.contains_key("given_name")
            && !claims.contains_key("address"),
        format!("{claims:?}"),
    );
    let replay = verify_online(ctx, &bank, &shown, &audience, "another-nonce").await?;
    expect_refusal(
        s,
        "a replayed presentation answers the wrong nonce",
        &replay,
        "wrong_nonce",
    );

    // The bank also verifies offline, over records it read from the ledger.
    let offline = offline_verify(
        ctx,
        (&mno, &subscriber),
        (&list, &reference),
        &shown,
        (&audience, &nonce),
    )
    .await;
    s.check(
        "the bank verifies the same presentation offline with the library",
        offline.as_ref().is_ok_and(|r| r.is_ok()),
        format!("{offline:?}").chars().take(300).collect::<String>(),
    );
    // UC-27: the subscriber opens the phone number's commitment for the bank.
    let salt = &commitments.openings["msisdn"];
    let published = Commitment(on_chain);
    let opened = verify_attribute("msisdn", &data["msisdn"], salt, &published);
    let wrong = verify_attribute("msisdn", "+3725550999x", salt, &published);
    s.check(
        "the disclosed phone number opens the operator's commitment on the ledger",
        opened && !wrong,
        format!("opened={opened} wrong_value_opens={wrong}"),
    );

    // An issuer outside the registry.
    let rogue_list = format!("rogue-{run}");
    s.commit(
        ctx,
        &rogue,
        "an unregistered reseller publishes its own status list",
        vec![Operation::CreateStatusList(CreateStatusList {
            name: name(&rogue_list),
            purpose: StatusPurpose::Revocation,
            entries: MIN_STATUS_LIST_BITS as u32,
        })],
    )
    .await?;
    let rogue_record = did_record(ctx, &rogue).await?;
    let rogue_status = StatusEntry {
        purpose: StatusPurpose::Revocation,
        list: ctx
            .client
            .status_list(&rogue.account().to_string(), &rogue_list)
            .await?["id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        index: 1,
    };
    let forged = weft_credentials::issue(
        &draft(
            &rogue_record,
            subscriber_did.clone(),
            &data,
            rogue_status,
            run,
        ),
        &rogue_record,
        &rogue,
    )
    .map_err(|e| anyhow!("issue: {e}"))?;
    let nonce2 = format!("bank-{run}-rogue");
    let shown_rogue = present(
        &forged,
        &["/over_18"],
        &audience,
        &nonce2,
        device_key,
        &device,
    )?;
    let answer = verify_online(ctx, &bank, &shown_rogue, &audience, &nonce2).await?;
    expect_refusal(
        s,
        "a credential by an issuer outside the registry is refused",
        &answer,
        "untrusted_issuer",
    );

    // The phone is lost: its key is rotated out of the DID.
    s.commit(
        ctx,
        &subscriber,
        "subscriber removes the lost phone's key from its DID",
        vec![Operation::UpdateDid(UpdateDid {
            did: subscriber_did.clone(),
            updates: vec![DidUpdate::RemoveKey { id: device_key }],
        })],
    )
    .await?;
    let nonce3 = format!("bank-{run}-stolen");
    let stolen = present(
        &credential,
        &["/over_18"],
        &audience,
        &nonce3,
        device_key,
        &device,
    )?;
    let answer = verify_online(ctx, &bank, &stolen, &audience, &nonce3).await?;
    expect_refusal(
        s,
        "a presentation bound by the rotated-out phone key is refused",
        &answer,
        "holder_key_not_current",
    );
    s.refused_signed(
        ctx,
        &[&bank, &device],
        "the rotated-out phone key can no longer update the subscriber's DID",
        ErrorCode::Unauthorized,
        vec![Operation::UpdateDid(UpdateDid {
            did: subscriber_did.clone(),
            updates: vec![DidUpdate::AddKey {
                public_key: bank.account(),
                format: KeyFormat::JsonWebKey,
                authentication: true,
                assertion_method: true,
            }],
        })],
    )
    .await?;
    let before_removal = ctx
        .client
        .resolve_did(
            &subscriber_did.to_string(),
            Some(
                resolved["didDocumentMetadata"]["updatedHeight"]
                    .as_u64()
                    .unwrap_or(0),
            ),
        )
        .await?;
    s.check(
        "resolving at an earlier height still shows the phone key",
        before_removal["didDocument"]["authentication"]
            .as_array()
            .is_some_and(|a| a.iter().any(|k| k == device_url.as_str())),
        before_removal["didDocumentMetadata"].to_string(),
    );

    // The subscriber's own key still works, until the operator revokes the credential.
    let nonce4 = format!("bank-{run}-account");
    let good = present(
        &credential,
        &["/over_18"],
        &audience,
        &nonce4,
        account_key,
        &subscriber,
    )?;
    let answer = verify_online(ctx, &bank, &good, &audience, &nonce4).await?;
    s.check(
        "a presentation bound by the subscriber's current key verifies",
        answer["verified"] == true,
        answer["error"].to_string(),
    );
    s.commit(
        ctx,
        &mno,
        "operator revokes the credential in its status list",
        vec![Operation::SetCredentialStatus(SetCredentialStatus {
            list: name(&list),
            index,
            value: true,
        })],
    )
    .await?;
    let list_vc = ctx.client.status_list(&mno_did.to_string(), &list).await?;
    let bits = BitstringStatusList::decode(
        list_vc["credentialSubject"]["encodedList"]
            .as_str()
            .unwrap_or_default(),
    )
    .map_err(|e| anyhow!("{e}"))?;
    s.check(
        "the published encodedList has the revocation bit set",
        bits.get(index) == Ok(true) && bits.count_set() == 1,
        format!("index {index}"),
    );
    let nonce5 = format!("bank-{run}-revoked");
    let revoked = present(
        &credential,
        &["/over_18"],
        &audience,
        &nonce5,
        account_key,
        &subscriber,
    )?;
    let answer = verify_online(ctx, &bank, &revoked, &audience, &nonce5).await?;
    expect_refusal(
        s,
        "the revoked credential no longer verifies through the node",
        &answer,
        "revoked",
    );
    let offline = offline_verify(
        ctx,
        (&mno, &subscriber),
        (&list, &reference),
        &revoked,
        (&audience, &nonce5),
    )
    .await?;
    s.check(
        "nor offline",
        matches!(offline, Err(VerifyError::Revoked { .. })),
        format!("{offline:?}").chars().take(300).collect::<String>(),
    );
    s.refused(
        ctx,
        &mno,
        "the operator cannot un-revoke the credential",
        ErrorCode::InvalidArgument,
        vec![Operation::SetCredentialStatus(SetCredentialStatus {
            list: name(&list),
            index,
            value: false,
        })],
    )
    .await?;
    s.final_state(format!(
        "credential {run} issued by {mno_did}, shown selectively, then revoked (bit {index} of {chain}/{list})"
    ));
    Ok(())
}

/// Verifies `presentation` with the library over the operator's and subscriber's DID
/// records, the operator's registry entry and its status list `list` (published as
/// `reference`), all read from the ledger.
async fn offline_verify(
    ctx: &Ctx,
    (issuer, holder): (&Keypair, &Keypair),
    (list, reference): (&str, &str),
    presentation: &str,
    (audience, nonce): (&str, &str),
) -> Result<Result<weft_credentials::VerifiedCredential, VerifyError>> {
    let mut dids = BTreeMap::new();
    for key in [issuer, holder] {
        dids.insert(did_of(ctx, key), did_record(ctx, key).await?);
    }
    let entry = ctx.value(&format!("issuer/{}", issuer.account())).await?;
    let types: Vec<String> = serde_json::from_value(entry["credential_types"].clone())?;
    let trust = TrustedIssuers::new().trust_for(did_of(ctx, issuer), types);
    let list_vc = ctx
        .client
        .status_list(&issuer.account().to_string(), list)
        .await?;
    if list_vc["id"] != reference {
        bail!("the list served is not the one referenced");
    }
    let bits = BitstringStatusList::decode(
        list_vc["credentialSubject"]["encodedList"]
            .as_str()
            .unwrap_or_default(),
    )
    .map_err(|e| anyhow!("{e}"))?;
    let mut lists = BTreeMap::new();
    lists.insert(
        reference.to_string(),
        StatusListRecord {
            purpose: StatusPurpose::Revocation,
            list: bits,
        },
    );
    let verifier = Verifier {
        resolver: &dids,
        status_lists: &lists,
        trust: &trust,
    };
    Ok(verifier.verify(
        presentation,
        &VerifyOptions::at(now_s()).with_key_binding(audience, nonce),
    ))
}
