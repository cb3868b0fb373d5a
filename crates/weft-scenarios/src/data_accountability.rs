//! UC-31 (smart contracts for data accountability, JRC) on UC-09 data (My Health Data): a
//! hospital, the data controller, records a patient's lab result. The patient, the data
//! subject, co-signs the record and its usage policy; only the salted commitment, the policy
//! and the log go on the ledger, while the result itself stays encrypted in the private
//! store of the nodes allowed to hold it. The hospital grants a lab (a processor) access for
//! treatment; the patient grants a university access for research, then withdraws consent to
//! research and revokes the lab. Every read is an access transaction the ledger checks and
//! logs before a node hands the payload over, once. The data-protection authority audits the
//! log — who read what, for which purpose — without being able to read the data. Finally the
//! patient demands erasure: the payload is shredded, and the commitment still proves what
//! was recorded. Refused on the way: a record without the subject's signature, a read
//! without a grant, a reused access, a purpose outside the policy, reads after consent
//! withdrawal and after revocation, the auditor reading the data, an outsider reading the
//! record, and any read after the purge.

use anyhow::{Context, Result};
use weft_client::private::prepare;
use weft_credentials::commitment::{Commitment, verify};
use weft_types::{
    AccessPrivateRecord, CreatePrivateRecord, ErrorCode, GrantPrivateAccess, Hash, Operation,
    PurgePrivateRecord, RevokePrivateAccess, SetPrivateConsent, UsagePolicy,
};

use crate::{Ctx, Scenario, ScenarioReport, name, now_ms};

pub async fn run(ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("data-accountability");
    let outcome = steps(ctx, &mut s).await;
    s.finish(outcome)
}

fn access(id: &str, purpose: &str) -> Vec<Operation> {
    vec![Operation::AccessPrivateRecord(AccessPrivateRecord {
        id: name(id),
        purpose: name(purpose),
    })]
}

fn grant(
    id: &str,
    to: &weft_client::Keypair,
    purpose: &str,
    expires: Option<u64>,
) -> Vec<Operation> {
    vec![Operation::GrantPrivateAccess(GrantPrivateAccess {
        id: name(id),
        grantee: to.account(),
        purposes: vec![name(purpose)],
        expires_at_ms: expires,
    })]
}

async fn steps(ctx: &Ctx, s: &mut Scenario) -> Result<()> {
    let hospital = ctx.key("health-hospital")?;
    let patient = ctx.key("health-patient")?;
    let lab = ctx.key("health-lab")?;
    let university = ctx.key("health-university")?;
    let dpa = ctx.key("health-dpa")?;
    let broker = ctx.key("health-data-broker")?;
    ctx.onboard(
        s,
        "st-mary-hospital",
        "St Mary Hospital",
        &[(&hospital, &["member"])],
    )
    .await?;
    ctx.onboard(s, "citizens", "Citizens", &[(&patient, &["citizen"])])
        .await?;
    ctx.onboard(s, "city-lab", "City Laboratory", &[(&lab, &["member"])])
        .await?;
    ctx.onboard(
        s,
        "uni-research",
        "University research unit",
        &[(&university, &["member"])],
    )
    .await?;
    ctx.onboard(
        s,
        "dpa",
        "Data protection authority",
        &[(&dpa, &["auditor"])],
    )
    .await?;
    ctx.onboard(s, "adtech", "Data broker", &[(&broker, &["member"])])
        .await?;

    let run = ctx.run_id().await?;
    let id = format!("lab-result-{run}");
    let payload = format!(
        r#"{{"patient":"{}","test":"HbA1c","value":"6.1%","ldl":"2.4 mmol/L","taken":"2026-11-25"}}"#,
        patient.account()
    )
    .into_bytes();
    let sealed = prepare(&payload)?;
    let create = vec![Operation::CreatePrivateRecord(CreatePrivateRecord {
        id: name(&id),
        data_type: name("lab-result"),
        subject: Some(patient.account()),
        commitment: sealed.commitment,
        size: sealed.size,
        policy: UsagePolicy {
            purposes: vec![name("treatment"), name("research")],
            retain_until_ms: Some(now_ms() + 10 * 365 * 24 * 3600 * 1000),
            onward_grants: false,
        },
    })];
    s.refused(
        ctx,
        &hospital,
        "the hospital records the result without the patient's signature",
        ErrorCode::MissingSignature,
        create.clone(),
    )
    .await?;
    s.commit_signed(
        ctx,
        &[&hospital, &patient],
        "hospital and patient record the commitment and the usage policy (treatment, research)",
        create,
    )
    .await?;
    let hospital_api = ctx.reader(&hospital);
    hospital_api
        .upload_private_payload(&id, &sealed.salt, &payload)
        .await
        .context("uploading the payload")?;
    let r = hospital_api.private_record(&id).await?;
    s.check(
        "the payload is in the node's encrypted private store; the ledger holds only its commitment",
        r["stored_here"] == true && r["record"]["commitment"] == sealed.commitment.to_hex(),
        format!("stored_here {}", r["stored_here"]),
    );

    s.commit(
        ctx,
        &hospital,
        "the hospital grants the lab access for treatment, for one hour",
        grant(&id, &lab, "treatment", Some(now_ms() + 3_600_000)),
    )
    .await?;
    let read = s
        .commit_hashed(
            ctx,
            &[&lab],
            "the lab logs an access for treatment",
            access(&id, "treatment"),
        )
        .await?;
    let lab_api = ctx.reader(&lab);
    let got = lab_api.read_private_payload(&id, &read).await?;
    s.check(
        "the lab gets the result, and it opens the commitment on the ledger",
        got.payload == payload && got.commitment == sealed.commitment,
        format!("{} bytes for {}", got.payload.len(), got.purpose),
    );
    s.read_refused(
        "the same access presented again",
        ErrorCode::AccessUsed,
        &lab_api.read_private_payload(&id, &read).await,
    );
    s.refused(
        ctx,
        &broker,
        "a data broker without a grant logs an access",
        ErrorCode::Unauthorized,
        access(&id, "research"),
    )
    .await?;
    s.read_refused(
        "the data broker reads the record",
        ErrorCode::Forbidden,
        &ctx.reader(&broker).private_record(&id).await,
    );
    s.refused(
        ctx,
        &hospital,
        "the hospital grants the broker a purpose outside the policy (marketing)",
        ErrorCode::InvalidArgument,
        grant(&id, &broker, "marketing", None),
    )
    .await?;

    s.commit(
        ctx,
        &patient,
        "the patient grants the university access for research",
        grant(&id, &university, "research", None),
    )
    .await?;
    let research_read = s
        .commit_hashed(
            ctx,
            &[&university],
            "the university logs an access for research",
            access(&id, "research"),
        )
        .await?;
    let got = ctx
        .reader(&university)
        .read_private_payload(&id, &research_read)
        .await?;
    s.check(
        "the university reads the result",
        got.payload == payload,
        format!("{} bytes", got.payload.len()),
    );
    s.commit(
        ctx,
        &patient,
        "the patient withdraws consent to research (keeps treatment)",
        vec![Operation::SetPrivateConsent(SetPrivateConsent {
            id: name(&id),
            purposes: vec![name("treatment")],
        })],
    )
    .await?;
    s.refused(
        ctx,
        &university,
        "the university reads for research after consent was withdrawn",
        ErrorCode::Unauthorized,
        access(&id, "research"),
    )
    .await?;
    s.commit(
        ctx,
        &patient,
        "the patient revokes the lab's grant",
        vec![Operation::RevokePrivateAccess(RevokePrivateAccess {
            id: name(&id),
            grantee: lab.account(),
        })],
    )
    .await?;
    s.refused(
        ctx,
        &lab,
        "the lab reads after its grant was revoked",
        ErrorCode::Unauthorized,
        access(&id, "treatment"),
    )
    .await?;

    // The authority audits: every read with reader and purpose, without the data.
    let audit = ctx.reader(&dpa).private_record(&id).await?;
    let log = audit["log"].as_array().cloned().unwrap_or_default();
    let reads: Vec<(String, String)> = log
        .iter()
        .filter(|e| e["event"] == "accessed")
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or_default().to_owned(),
                e["purpose"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    s.check(
        "the authority's audit shows both reads, with reader and purpose, plus the consent change and the revocation",
        reads
            == vec![
                (lab.account().to_hex(), "treatment".to_owned()),
                (university.account().to_hex(), "research".to_owned()),
            ]
            && log.iter().any(|e| e["event"] == "consent")
            && log.iter().any(|e| e["event"] == "revoked"),
        format!("{} log entries, {} reads", log.len(), reads.len()),
    );
    s.refused(
        ctx,
        &dpa,
        "the authority tries to read the data itself",
        ErrorCode::Unauthorized,
        access(&id, "treatment"),
    )
    .await?;

    let own = s
        .commit_hashed(
            ctx,
            &[&patient],
            "the patient reads their own record",
            access(&id, "own-copy"),
        )
        .await?;
    let mine = ctx.reader(&patient).read_private_payload(&id, &own).await?;
    s.check(
        "the patient sees their result",
        mine.payload == payload,
        format!("{} bytes", mine.payload.len()),
    );
    s.commit(
        ctx,
        &patient,
        "the patient demands erasure: the record is purged",
        vec![Operation::PurgePrivateRecord(PurgePrivateRecord {
            id: name(&id),
            reason: "GDPR art. 17 erasure request".into(),
        })],
    )
    .await?;
    let after = ctx.reader(&patient).private_record(&id).await?;
    let commitment: Hash = serde_json::from_value(after["record"]["commitment"].clone())?;
    s.check(
        "the payload is gone from the node; the commitment on the ledger still opens with the patient's copy",
        after["stored_here"] == false
            && after["record"]["purged"].is_object()
            && verify(&mine.payload, &mine.salt, &Commitment(commitment)),
        format!("purged at height {}", after["record"]["purged"]["height"]),
    );
    s.refused(
        ctx,
        &hospital,
        "the hospital reads after the purge",
        ErrorCode::Purged,
        access(&id, "treatment"),
    )
    .await?;
    s.final_state(format!(
        "record erased; commitment and {}-entry log kept",
        after["record"]["log_size"]
    ));
    Ok(())
}
