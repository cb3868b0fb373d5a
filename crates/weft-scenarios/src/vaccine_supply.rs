//! UC-05, a vaccine supply chain with a cold chain (paper §14.2.2), through the
//! `vaccine-lot` template and GS1 EPCIS 2.0 events.
//!
//! The manufacturer commissions serialized vials (one asset per vial, GS1 SGTIN-like ids),
//! packs them into a shipping case (an EPCIS aggregation) with a temperature logger, whose
//! device key signs every reading, and ships two lots to the national store (the
//! distributor), which forwards them to a health facility. Every hand-over is an EPCIS
//! object event by the party holding the lot, and the lot's record moves with it. At the
//! facility a power cut takes lot B to 9.3 °C: the breach is recorded for good and the
//! reading itself quarantines lot B (the template's `on_breach`), so giving a dose from lot B
//! is refused; lot B is destroyed with the regulator as witness. Lot A stayed within 2–8 °C: each of its doses is unpacked, dispensed and
//! administered, and the lot is used up by itself after the last one. The provenance trail of
//! a vial and of its case is read back, as is the regulator's view.
//! Refused: a reading the logger did not sign, a dose from the breached lot, quarantining it
//! a second time, a dose counted out of order.

use anyhow::{Context, Result};
use serde_json::{Value, json};
use weft_client::Keypair;
use weft_types::{
    AccountId, CaptureEpcisEvent, CreateInstance, EpcisAction, EpcisKind, ErrorCode, Name,
    Operation, PostReading, RegisterAsset, RegisterFeed, RetireAsset, SetThreshold, TransferAsset,
    Transition,
};

use crate::{Ctx, Scenario, ScenarioReport, name, now_ms};

const TEMPLATE: &str = include_str!("../../../templates/vaccine-lot.yaml");
const DOSES: usize = 3;
const GTIN: &str = "08901234500019";
const FACTORY: &str = "urn:epc:id:sgln:0890123.00001.0";
const NATIONAL_STORE: &str = "urn:epc:id:sgln:6160000.00010.0";
const HEALTH_CENTRE: &str = "urn:epc:id:sgln:6160000.00452.0";

pub async fn run(ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("vaccine-supply");
    let outcome = steps(ctx, &mut s).await;
    s.finish(outcome)
}

struct Cast {
    manufacturer: Keypair,
    distributor: Keypair,
    clinic: Keypair,
    regulator: Keypair,
}

/// One lot: its shipping case, its vials, its logger and its record.
struct Lot {
    case: String,
    vials: Vec<String>,
    feed: String,
    logger: Keypair,
    instance: String,
    /// Device time of the logger's next reading (strictly increasing per feed).
    next_reading: u64,
}

impl Lot {
    fn new(run: u64, tag: &str, logger: Keypair) -> Self {
        Self {
            case: format!("case-{run}-{tag}"),
            vials: (1..=DOSES)
                .map(|i| format!("vial-{run}-{tag}{i}"))
                .collect(),
            feed: format!("logger-{run}-{tag}"),
            logger,
            instance: format!("vlot-{run}-{tag}"),
            next_reading: now_ms(),
        }
    }

    fn step(&self, transition: &str, args: &[(&str, String)]) -> Operation {
        Operation::Transition(Transition {
            instance: name(&self.instance),
            transition: name(transition),
            args: args.iter().map(|(k, v)| (name(k), v.clone())).collect(),
        })
    }

    fn readings(&mut self, tenths_of_celsius: &[i64]) -> Vec<Operation> {
        tenths_of_celsius
            .iter()
            .map(|value| {
                self.next_reading += 1_000;
                Operation::PostReading(PostReading {
                    feed: name(&self.feed),
                    value: *value,
                    observed_at_ms: self.next_reading,
                })
            })
            .collect()
    }

    /// The vials and, last, the case.
    fn everything(&self) -> Vec<Name> {
        let mut all: Vec<Name> = self.vials.iter().map(|v| name(v)).collect();
        all.push(name(&self.case));
        all
    }
}

/// An EPCIS 2.0 event captured now.
fn epcis(
    id: &str,
    kind: EpcisKind,
    biz_step: &str,
    disposition: &str,
    location: &str,
) -> Operation {
    Operation::CaptureEpcisEvent(CaptureEpcisEvent {
        event_id: name(id),
        kind,
        event_time_ms: now_ms(),
        event_time_zone_offset: "+03:00".into(),
        biz_step: biz_step.into(),
        disposition: disposition.into(),
        read_point: location.into(),
        biz_location: location.into(),
        biz_transactions: vec![],
        sensor_reports: vec![],
    })
}

fn observe(id: &str, epcs: Vec<Name>, biz_step: &str, disposition: &str, at: &str) -> Operation {
    let kind = EpcisKind::ObjectEvent {
        action: EpcisAction::Observe,
        epc_list: epcs,
    };
    epcis(id, kind, biz_step, disposition, at)
}

async fn onboard(ctx: &Ctx, s: &mut Scenario, c: &Cast) -> Result<()> {
    let holder: &[&str] = &[
        "custodian",
        "sensor-operator",
        "member",
        "workflow-participant",
    ];
    ctx.onboard(
        s,
        "vaccine-maker",
        "Vaccine manufacturer",
        &[(&c.manufacturer, holder)],
    )
    .await?;
    ctx.onboard(
        s,
        "national-store",
        "National vaccine store",
        &[(&c.distributor, holder)],
    )
    .await?;
    ctx.onboard(s, "health-centre", "Health centre", &[(&c.clinic, holder)])
        .await?;
    ctx.onboard(
        s,
        "drug-regulator",
        "National regulatory authority",
        &[(&c.regulator, &["regulator"])],
    )
    .await?;
    ctx.ensure_template(s, "vaccine-lot", 1, TEMPLATE).await
}

/// Commissions and packs a lot, attaches its logger (2.0–8.0 °C) and opens its record.
async fn commission(ctx: &Ctx, s: &mut Scenario, c: &Cast, lot: &Lot, tag: &str) -> Result<()> {
    let m = c.manufacturer.account();
    let lot_number = format!("L{}", lot.case.replace("case-", "").to_uppercase());
    let mut ops: Vec<Operation> = lot
        .vials
        .iter()
        .enumerate()
        .map(|(i, vial)| {
            Operation::RegisterAsset(RegisterAsset {
                id: name(vial),
                class: name("vaccine-vial"),
                owner: m,
                attributes: vec![
                    ("gtin".into(), GTIN.into()),
                    ("serial".into(), format!("{lot_number}-{:05}", i + 1)),
                    ("lot".into(), lot_number.clone()),
                    ("expiry".into(), "2027-06-30".into()),
                    ("vaccine".into(), "measles-rubella, 1 dose".into()),
                ],
            })
        })
        .collect();
    ops.push(Operation::RegisterAsset(RegisterAsset {
        id: name(&lot.case),
        class: name("vaccine-case"),
        owner: m,
        attributes: vec![
            (
                "sscc".into(),
                format!("urn:epc:id:sscc:0890123.{}", lot.case),
            ),
            ("lot".into(), lot_number),
            ("doses".into(), DOSES.to_string()),
        ],
    }));
    ops.push(epcis(
        &format!("{}-commissioned", lot.case),
        EpcisKind::ObjectEvent {
            action: EpcisAction::Add,
            epc_list: lot.everything(),
        },
        "commissioning",
        "active",
        FACTORY,
    ));
    ops.push(epcis(
        &format!("{}-packed", lot.case),
        EpcisKind::AggregationEvent {
            action: EpcisAction::Add,
            parent_id: name(&lot.case),
            child_epcs: lot.vials.iter().map(|v| name(v)).collect(),
        },
        "packing",
        "in_progress",
        FACTORY,
    ));
    s.commit(
        ctx,
        &c.manufacturer,
        &format!("manufacturer commissions {DOSES} vials of lot {tag} and packs them"),
        ops,
    )
    .await?;
    s.commit(
        ctx,
        &c.manufacturer,
        &format!("lot {tag} gets its logger (2.0–8.0 °C) and its record"),
        vec![
            Operation::RegisterFeed(RegisterFeed {
                id: name(&lot.feed),
                kind: name("temperature"),
                unit: "Cel".into(),
                scale: 1,
                device: lot.logger.account(),
                issues: None,
            }),
            Operation::SetThreshold(SetThreshold {
                feed: name(&lot.feed),
                name: name("cold-chain"),
                min: Some(20),
                max: Some(80),
            }),
            Operation::CreateInstance(CreateInstance {
                instance: name(&lot.instance),
                template: name("vaccine-lot"),
                version: 1,
                parties: vec![
                    (name("manufacturer"), m),
                    (name("distributor"), c.distributor.account()),
                    (name("clinic"), c.clinic.account()),
                    (name("regulator"), c.regulator.account()),
                ],
                params: vec![
                    (name("lot"), lot.case.clone()),
                    (name("logger"), lot.feed.clone()),
                    (name("doses"), DOSES.to_string()),
                    (name("administered"), "0".into()),
                ],
            }),
        ],
    )
    .await
}

/// Hands a lot and its vials from `from` to `to`: the shipment and the receipt.
async fn hand_over(
    ctx: &Ctx,
    s: &mut Scenario,
    lot: &mut Lot,
    (from, from_site): (&Keypair, &str),
    (to, to_site): (&Keypair, &str),
    (ship, receive): (&str, &str),
    label: &str,
) -> Result<()> {
    let mut ops = vec![lot.step(ship, &[])];
    ops.extend(lot.vials.iter().map(|v| {
        Operation::TransferAsset(TransferAsset {
            id: name(v),
            to: to.account(),
        })
    }));
    ops.push(observe(
        &format!("{}-{ship}", lot.case),
        vec![name(&lot.case)],
        "shipping",
        "in_transit",
        from_site,
    ));
    s.commit(ctx, from, &format!("{label}: shipped"), ops)
        .await?;
    let readings = lot.readings(&[52, 58]);
    s.commit_signed(
        ctx,
        &[to, &lot.logger],
        &format!("{label}: the logger reports 5.2 and 5.8 °C in transit"),
        readings,
    )
    .await?;
    s.commit(
        ctx,
        to,
        &format!("{label}: received"),
        vec![
            lot.step(receive, &[]),
            observe(
                &format!("{}-{receive}", lot.case),
                vec![name(&lot.case)],
                "receiving",
                "in_progress",
                to_site,
            ),
        ],
    )
    .await
}

/// The transaction that gives dose `dose` from `vial`: unpack, dispense, administer.
fn dose_ops(lot: &Lot, vial: &str, dose: usize) -> Vec<Operation> {
    vec![
        epcis(
            &format!("{vial}-unpacked"),
            EpcisKind::AggregationEvent {
                action: EpcisAction::Delete,
                parent_id: name(&lot.case),
                child_epcs: vec![name(vial)],
            },
            "unpacking",
            "in_progress",
            HEALTH_CENTRE,
        ),
        observe(
            &format!("{vial}-dispensed"),
            vec![name(vial)],
            "dispensing",
            "dispensed",
            HEALTH_CENTRE,
        ),
        lot.step(
            "administer",
            &[("vial", vial.to_owned()), ("dose", dose.to_string())],
        ),
    ]
}

async fn trail(ctx: &Ctx, reader: &Keypair, asset: &str) -> Result<Vec<String>> {
    let answer = ctx
        .reader(reader)
        .state(&format!("epcis/trail/{asset}"), false, None)
        .await?;
    Ok(answer["value"]
        .as_array()
        .context("trail")?
        .iter()
        .filter_map(|e| e.as_str().map(str::to_owned))
        .collect())
}

#[allow(clippy::too_many_lines)] // the lifecycle reads best as one script
async fn steps(ctx: &Ctx, s: &mut Scenario) -> Result<()> {
    let c = Cast {
        manufacturer: ctx.key("manufacturer")?,
        distributor: ctx.key("national-store")?,
        clinic: ctx.key("clinic")?,
        regulator: ctx.key("drug-regulator")?,
    };
    onboard(ctx, s, &c).await?;
    let run = ctx.run_id().await?;
    let mut a = Lot::new(run, "a", ctx.key("logger-a")?);
    let mut b = Lot::new(run, "b", ctx.key("logger-b")?);
    commission(ctx, s, &c, &a, "A").await?;
    commission(ctx, s, &c, &b, "B").await?;

    let mut at_factory = a.readings(&[46, 49]);
    at_factory.extend(b.readings(&[45, 47]));
    s.commit_signed(
        ctx,
        &[&c.manufacturer, &a.logger, &b.logger],
        "both loggers report 4.5–4.9 °C at the factory",
        at_factory,
    )
    .await?;
    let unsigned = a.readings(&[40]);
    s.refused(
        ctx,
        &c.manufacturer,
        "a reading the logger did not sign is refused",
        ErrorCode::MissingSignature,
        unsigned,
    )
    .await?;

    for (lot, tag) in [(&mut a, "A"), (&mut b, "B")] {
        hand_over(
            ctx,
            s,
            lot,
            (&c.manufacturer, FACTORY),
            (&c.distributor, NATIONAL_STORE),
            ("ship_to_distributor", "receive_at_distributor"),
            &format!("lot {tag} to the national store"),
        )
        .await?;
        hand_over(
            ctx,
            s,
            lot,
            (&c.distributor, NATIONAL_STORE),
            (&c.clinic, HEALTH_CENTRE),
            ("ship_to_clinic", "receive_at_clinic"),
            &format!("lot {tag} to the health centre"),
        )
        .await?;
    }

    let readings = a.readings(&[44]);
    s.commit_signed(
        ctx,
        &[&c.clinic, &a.logger],
        "lot A's logger reports 4.4 °C in the clinic's fridge",
        readings,
    )
    .await?;
    let readings = b.readings(&[93, 61]);
    s.commit_signed(
        ctx,
        &[&c.clinic, &b.logger],
        "a power cut: lot B's logger reports 9.3 °C, then 6.1 °C",
        readings,
    )
    .await?;
    let feed = ctx
        .reader(&c.clinic)
        .state(&format!("feed/{}", b.feed), false, None)
        .await?["value"]
        .clone();
    let breach = &feed["thresholds"]["cold-chain"]["breach"];
    s.check(
        "the breach is recorded and stays after the fridge recovers",
        breach["last_value"] == 93 && breach["count"] == 1 && feed["last"]["value"] == 61,
        format!("breach {breach}"),
    );
    let record = |lot: &Lot| {
        let key = format!("instance/{}", lot.instance);
        let reader = ctx.reader(&c.clinic);
        async move {
            Ok::<Value, anyhow::Error>(reader.state(&key, false, None).await?["value"].clone())
        }
    };
    let (rec_a, rec_b) = (record(&a).await?, record(&b).await?);
    let quarantine = &rec_b["history"][4];
    s.check(
        "the 9.3 °C reading alone quarantined lot B, citing the reading",
        rec_b["state"] == "quarantined"
            && quarantine["transition"] == "quarantine"
            && quarantine["automatic"] == true
            && quarantine["by"] == json!(c.clinic.account())
            && quarantine["cause"]["kind"] == "breach"
            && quarantine["cause"]["feed"] == b.feed.as_str()
            && quarantine["cause"]["threshold"] == "cold-chain"
            && quarantine["cause"]["value"] == 93,
        format!("lot B {}: {quarantine}", rec_b["state"]),
    );
    s.check(
        "lot A, always within 2–8 °C, stays at the clinic",
        rec_a["state"] == "at_clinic",
        format!("lot A {}", rec_a["state"]),
    );

    s.refused(
        ctx,
        &c.clinic,
        "a dose from the breached lot B is refused",
        ErrorCode::InvalidArgument,
        dose_ops(&b, &b.vials[0], 1),
    )
    .await?;
    s.refused(
        ctx,
        &c.clinic,
        "quarantining lot B again is refused: it already is",
        ErrorCode::InvalidArgument,
        vec![b.step("quarantine", &[])],
    )
    .await?;
    s.commit(
        ctx,
        &c.clinic,
        "the cold-chain officer records the lot's hold (EPCIS)",
        vec![observe(
            &format!("{}-quarantined", b.case),
            vec![name(&b.case)],
            "holding",
            "non_sellable_other",
            HEALTH_CENTRE,
        )],
    )
    .await?;
    let mut destroy = vec![
        observe(
            &format!("{}-destroyed", b.case),
            b.everything(),
            "destroying",
            "destroyed",
            HEALTH_CENTRE,
        ),
        b.step("destroy", &[]),
    ];
    destroy.extend(b.vials.iter().map(|v| {
        Operation::RetireAsset(RetireAsset {
            id: name(v),
            reason: "destroyed after a cold-chain breach".into(),
        })
    }));
    s.commit_signed(
        ctx,
        &[&c.clinic, &c.regulator],
        "lot B is destroyed, the regulator witnessing",
        destroy,
    )
    .await?;

    s.refused(
        ctx,
        &c.clinic,
        "a dose counted out of order is refused",
        ErrorCode::InvalidArgument,
        dose_ops(&a, &a.vials[0], 2),
    )
    .await?;
    for (i, vial) in a.vials.iter().enumerate() {
        s.commit(
            ctx,
            &c.clinic,
            &format!("dose {} of lot A is administered to a child", i + 1),
            dose_ops(&a, vial, i + 1),
        )
        .await?;
    }

    // Read back as the regulator: the records, the assets and the provenance.
    let r = &c.regulator;
    let value = |key: String| async move {
        Ok::<Value, anyhow::Error>(ctx.reader(r).state(&key, false, None).await?["value"].clone())
    };
    let (rec_a, rec_b) = (
        value(format!("instance/{}", a.instance)).await?,
        value(format!("instance/{}", b.instance)).await?,
    );
    let names = |rec: &Value| -> Vec<String> {
        rec["history"].as_array().map_or_else(Vec::new, |h| {
            h.iter()
                .filter_map(|e| e["transition"].as_str().map(str::to_owned))
                .collect()
        })
    };
    let mut expected_a = vec![
        "ship_to_distributor",
        "receive_at_distributor",
        "ship_to_clinic",
        "receive_at_clinic",
    ];
    expected_a.extend(["administer"; DOSES]);
    expected_a.push("use_up");
    s.check(
        "lot A is used up after its last dose, by itself",
        rec_a["state"] == "used_up"
            && rec_a["params"]["administered"]["value"] == DOSES
            && names(&rec_a) == expected_a
            && rec_a["history"][DOSES + 4]["automatic"] == true,
        names(&rec_a).join(" → "),
    );
    let expected_b = [
        "ship_to_distributor",
        "receive_at_distributor",
        "ship_to_clinic",
        "receive_at_clinic",
        "quarantine",
        "destroy",
    ];
    s.check(
        "lot B was quarantined by its breach and destroyed, no dose given",
        rec_b["state"] == "destroyed"
            && names(&rec_b) == expected_b
            && rec_b["history"][4]["automatic"] == true
            && rec_b["history"][5]["approvals"] == json!([c.regulator.account()])
            && rec_b["params"]["administered"]["value"] == 0,
        names(&rec_b).join(" → "),
    );

    let clinic: AccountId = c.clinic.account();
    let mut assets_ok = true;
    let mut detail = Vec::new();
    for (id, reason) in a
        .vials
        .iter()
        .map(|v| (v, "administered"))
        .chain([(&a.case, "all doses administered")])
        .chain(
            b.vials
                .iter()
                .map(|v| (v, "destroyed after a cold-chain breach")),
        )
        .chain([(&b.case, "destroyed after a cold-chain breach")])
    {
        let asset = value(format!("asset/{id}")).await?;
        let ok = asset["owner"] == json!(clinic)
            && asset["status"]["state"] == "retired"
            && asset["status"]["reason"] == reason;
        assets_ok &= ok;
        if !ok {
            detail.push(format!("{id}: {}", asset["status"]));
        }
    }
    s.check(
        "every vial and case ended at the health centre, retired for its reason",
        assets_ok,
        if detail.is_empty() {
            format!("{} assets", 2 * (DOSES + 1))
        } else {
            detail.join("; ")
        },
    );

    let vial = &a.vials[0];
    let vial_trail = trail(ctx, r, vial).await?;
    let expected_vial = [
        format!("{}-commissioned", a.case),
        format!("{}-packed", a.case),
        format!("{vial}-unpacked"),
        format!("{vial}-dispensed"),
    ];
    let case_trail = trail(ctx, r, &a.case).await?;
    let mut expected_case = vec![
        format!("{}-commissioned", a.case),
        format!("{}-packed", a.case),
    ];
    for step in [
        "ship_to_distributor",
        "receive_at_distributor",
        "ship_to_clinic",
        "receive_at_clinic",
    ] {
        expected_case.push(format!("{}-{step}", a.case));
    }
    expected_case.extend(a.vials.iter().map(|v| format!("{v}-unpacked")));
    s.check(
        "a vial's provenance: commissioned, packed, unpacked and dispensed at the clinic",
        vial_trail == expected_vial,
        vial_trail.join(" → "),
    );
    s.check(
        "its case's provenance: factory → national store → health centre",
        case_trail == expected_case,
        case_trail.join(" → "),
    );
    let dispensed = value(format!("epcis/event/{vial}-dispensed")).await?;
    s.check(
        "the dispensing event says where, what and who",
        dispensed["event"]["biz_step"] == "dispensing"
            && dispensed["event"]["read_point"] == HEALTH_CENTRE
            && dispensed["recorder"] == json!(clinic),
        format!("{}", dispensed["event"]["kind"]),
    );
    s.final_state(format!(
        "lot A: {DOSES} doses administered; lot B quarantined by its 9.3 °C reading and destroyed"
    ));
    Ok(())
}
