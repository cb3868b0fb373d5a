//! The asset module against an in-memory state: each operation, each refusal, lineage,
//! "retired is final", and the single-ownership invariants under random operation sequences.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use weft_crypto::{Keypair, sign_transaction};
use weft_execution::{
    BlockContext, ExecError, check_transaction, execute_block, genesis_writes,
    keys::StateKey,
    model::{Account, Asset, AssetStatus},
};
use weft_types::{
    AccountId, ErrorCode, Event, Genesis, GenesisAccount, GenesisOrganization, GenesisValidator,
    MAX_FAN, MergeAssets, Name, NewAsset, Operation, Receipt, RegisterAsset, RetireAsset,
    SetAssetAttributes, SignedTransaction, SplitAsset, Transaction, TransferAsset, TransformAssets,
    TxStatus, encode, state::WriteSet,
};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn apply(state: &mut State, writes: &WriteSet) {
    for (k, v) in writes {
        match v {
            Some(v) => state.insert(k.clone(), v.clone()),
            None => state.remove(k),
        };
    }
}

struct World {
    state: State,
    height: u64,
    alice: Keypair,
    bob: Keypair,
    carol: Keypair,
    /// Registered, but its role grants no asset permission.
    viewer: Keypair,
    /// Not registered at all.
    outsider: Keypair,
}

fn genesis(admin: &Keypair, people: &[(&Keypair, &str, &str)]) -> Genesis {
    let mut roles = BTreeMap::new();
    roles.insert(name("admin"), vec!["*".to_owned()]);
    roles.insert(name("custodian"), vec!["asset.*".to_owned()]);
    roles.insert(name("member"), vec!["token.transfer".to_owned()]);
    let mut accounts = vec![GenesisAccount {
        account: admin.account(),
        organization: name("ops"),
        roles: vec![name("admin")],
    }];
    for (k, org, role) in people {
        accounts.push(GenesisAccount {
            account: k.account(),
            organization: name(org),
            roles: vec![name(role)],
        });
    }
    Genesis {
        chain_id: name("test-chain"),
        genesis_time_ms: 1_700_000_000_000,
        validators: vec![GenesisValidator {
            account: admin.account(),
            organization: name("ops"),
        }],
        organizations: ["ops", "farm", "plant"]
            .into_iter()
            .map(|id| GenesisOrganization {
                id: name(id),
                display_name: id.to_uppercase(),
            })
            .collect(),
        accounts,
        roles,
        tokens: vec![],
        epoch_length: weft_types::DEFAULT_EPOCH_LENGTH,
        governance: None,
    }
}

impl World {
    fn new() -> Self {
        let k = |i: u8| Keypair::from_seed([i; 32]);
        let (admin, alice, bob, carol, viewer, outsider) = (k(1), k(3), k(4), k(6), k(7), k(5));
        let g = genesis(
            &admin,
            &[
                (&alice, "farm", "custodian"),
                (&bob, "plant", "custodian"),
                (&carol, "plant", "custodian"),
                (&viewer, "plant", "member"),
            ],
        );
        let mut state = State::new();
        apply(&mut state, &genesis_writes(&g).unwrap());
        Self {
            state,
            height: 0,
            alice,
            bob,
            carol,
            viewer,
            outsider,
        }
    }

    fn ctx(&self) -> BlockContext {
        BlockContext {
            chain_id: name("test-chain"),
            height: self.height + 1,
            timestamp_ms: 1_700_000_000_000 + self.height * 1000,
        }
    }

    fn tx(&self, who: &Keypair, ops: Vec<Operation>) -> SignedTransaction {
        sign_transaction(
            Transaction {
                chain_id: name("test-chain"),
                signer: who.account(),
                nonce: weft_execution::next_nonce(&self.state, &who.account()).unwrap(),
                expiry_height: self.height + 10,
                operations: ops,
                memo: String::new(),
            },
            &[who],
        )
    }

    fn block(&mut self, txs: &[SignedTransaction]) -> Vec<Receipt> {
        let out = execute_block(&self.state, &self.ctx(), txs).unwrap();
        apply(&mut self.state, &out.writes);
        self.height += 1;
        out.receipts
    }

    fn receipt(&mut self, who: &Keypair, ops: Vec<Operation>) -> Receipt {
        let tx = self.tx(who, ops);
        self.block(&[tx]).remove(0)
    }

    fn run(&mut self, who: &Keypair, ops: Vec<Operation>) -> TxStatus {
        self.receipt(who, ops).status
    }

    fn ok(&mut self, who: &Keypair, ops: Vec<Operation>) -> Vec<Event> {
        let r = self.receipt(who, ops);
        assert_eq!(r.status, TxStatus::Success);
        r.events
    }

    fn asset(&self, id: &str) -> Option<Asset> {
        self.state
            .get(&StateKey::Asset(name(id)).to_bytes())
            .map(|v| borsh::from_slice(v).unwrap())
    }

    fn get(&self, id: &str) -> Asset {
        self.asset(id)
            .unwrap_or_else(|| panic!("asset {id} missing"))
    }

    /// Every asset in state, by id.
    fn assets(&self) -> BTreeMap<String, Asset> {
        self.state
            .iter()
            .filter_map(|(k, v)| {
                let key = std::str::from_utf8(k).ok()?;
                let id = key.strip_prefix("asset/")?;
                Some((id.to_owned(), borsh::from_slice(v).unwrap()))
            })
            .collect()
    }

    fn is_registered(&self, who: &AccountId) -> bool {
        self.state
            .get(&StateKey::Account(*who).to_bytes())
            .is_some_and(|v| borsh::from_slice::<Account>(v).is_ok())
    }
}

fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    attrs(pairs).into_iter().collect()
}

fn names(ids: &[&str]) -> Vec<Name> {
    ids.iter().map(|s| name(s)).collect()
}

fn new_asset(id: &str, class: &str) -> NewAsset {
    NewAsset {
        id: name(id),
        class: name(class),
        attributes: vec![],
    }
}

fn register(id: &str, owner: AccountId) -> Operation {
    Operation::RegisterAsset(RegisterAsset {
        id: name(id),
        class: name("lot"),
        owner,
        attributes: vec![],
    })
}
fn transfer(id: &str, to: AccountId) -> Operation {
    Operation::TransferAsset(TransferAsset { id: name(id), to })
}
fn split(id: &str, parts: &[&str]) -> Operation {
    Operation::SplitAsset(SplitAsset {
        id: name(id),
        parts: parts.iter().map(|p| new_asset(p, "lot")).collect(),
    })
}
fn merge(inputs: &[&str], output: &str) -> Operation {
    Operation::MergeAssets(MergeAssets {
        inputs: names(inputs),
        output: new_asset(output, "lot"),
    })
}
fn transform(inputs: &[&str], outputs: &[&str], process: &str) -> Operation {
    Operation::TransformAssets(TransformAssets {
        inputs: names(inputs),
        outputs: outputs.iter().map(|o| new_asset(o, "pack")).collect(),
        process: process.to_owned(),
    })
}
fn set_attrs(id: &str, set: &[(&str, &str)], remove: &[&str]) -> Operation {
    Operation::SetAssetAttributes(SetAssetAttributes {
        id: name(id),
        set: attrs(set),
        remove: remove.iter().map(|s| (*s).to_owned()).collect(),
    })
}
fn retire(id: &str, reason: &str) -> Operation {
    Operation::RetireAsset(RetireAsset {
        id: name(id),
        reason: reason.to_owned(),
    })
}

fn code(status: &TxStatus) -> Option<ErrorCode> {
    match status {
        TxStatus::Success => None,
        TxStatus::Failed { code, .. } => Some(*code),
    }
}

fn event(topic: &str, accounts: Vec<AccountId>, attributes: &[(&str, &str)]) -> Event {
    Event {
        topic: topic.to_owned(),
        accounts,
        attributes: attrs(attributes),
    }
}

fn active(
    class: &str,
    owner: AccountId,
    attributes: &[(&str, &str)],
    parents: &[&str],
    at: u64,
) -> Asset {
    Asset {
        class: name(class),
        owner,
        attributes: map(attributes),
        status: AssetStatus::Active,
        parents: names(parents),
        children: vec![],
        registered_at: at,
        updated_at: at,
    }
}

fn retired_as(mut asset: Asset, at: u64, reason: &str, children: &[&str]) -> Asset {
    asset.status = AssetStatus::Retired {
        at_height: at,
        reason: reason.to_owned(),
    };
    asset.children = names(children);
    asset.updated_at = at;
    asset
}

#[test]
fn register_creates_an_active_asset_for_the_named_owner() {
    let mut w = World::new();
    let (alice, bob) = (w.alice.clone(), w.bob.clone());
    let events = w.ok(
        &alice,
        vec![Operation::RegisterAsset(RegisterAsset {
            id: name("lot-1"),
            class: name("coffee"),
            owner: bob.account(),
            attributes: attrs(&[("origin", "minas"), ("kg", "1200")]),
        })],
    );
    let h = w.height;
    assert_eq!(
        w.get("lot-1"),
        active(
            "coffee",
            bob.account(),
            &[("origin", "minas"), ("kg", "1200")],
            &[],
            h
        )
    );
    let (a, b) = (alice.account().to_string(), bob.account().to_string());
    assert_eq!(
        events,
        vec![event(
            "asset.registered",
            vec![alice.account(), bob.account()],
            &[("asset", "lot-1"), ("class", "coffee"), ("owner", &b)],
        )]
    );
    // Registering for oneself lists the account once.
    let events = w.ok(&alice, vec![register("lot-2", alice.account())]);
    assert_eq!(events[0].accounts, vec![alice.account()]);
    assert_eq!(events[0].attributes[2], ("owner".to_owned(), a));
}

#[test]
fn transfer_hands_the_asset_to_one_new_owner() {
    let mut w = World::new();
    let (alice, bob) = (w.alice.clone(), w.bob.clone());
    w.ok(&alice, vec![register("lot-1", alice.account())]);
    let registered = w.height;
    let events = w.ok(&alice, vec![transfer("lot-1", bob.account())]);
    let mut expected = active("lot", bob.account(), &[], &[], registered);
    expected.updated_at = w.height;
    assert_eq!(w.get("lot-1"), expected);
    let (a, b) = (alice.account().to_string(), bob.account().to_string());
    assert_eq!(
        events,
        vec![event(
            "asset.transferred",
            vec![alice.account(), bob.account()],
            &[("asset", "lot-1"), ("from", &a), ("to", &b)],
        )]
    );
    // The previous owner has no say any more; the new one does.
    assert_eq!(
        code(&w.run(&alice, vec![transfer("lot-1", alice.account())])),
        Some(ErrorCode::Unauthorized)
    );
    w.ok(&bob, vec![transfer("lot-1", alice.account())]);
    assert_eq!(w.get("lot-1").owner, alice.account());
}

#[test]
fn split_retires_the_input_and_creates_the_parts() {
    let mut w = World::new();
    let alice = w.alice.clone();
    w.ok(&alice, vec![register("lot-1", alice.account())]);
    let registered = w.height;
    let before = w.get("lot-1");
    let events = w.ok(
        &alice,
        vec![split("lot-1", &["lot-1a", "lot-1b", "lot-1c"])],
    );
    let h = w.height;
    assert_eq!(
        w.get("lot-1"),
        retired_as(before, h, "split", &["lot-1a", "lot-1b", "lot-1c"])
    );
    assert_eq!(registered + 1, h);
    for part in ["lot-1a", "lot-1b", "lot-1c"] {
        assert_eq!(
            w.get(part),
            active("lot", alice.account(), &[], &["lot-1"], h)
        );
    }
    assert_eq!(
        events,
        vec![event(
            "asset.split",
            vec![alice.account()],
            &[("inputs", "lot-1"), ("outputs", "lot-1a,lot-1b,lot-1c")],
        )]
    );
}

#[test]
fn merge_retires_the_inputs_and_creates_one_output() {
    let mut w = World::new();
    let alice = w.alice.clone();
    w.ok(
        &alice,
        vec![
            register("a", alice.account()),
            register("b", alice.account()),
        ],
    );
    let (a, b) = (w.get("a"), w.get("b"));
    let events = w.ok(
        &alice,
        vec![Operation::MergeAssets(MergeAssets {
            inputs: names(&["b", "a"]),
            output: NewAsset {
                id: name("ab"),
                class: name("blend"),
                attributes: attrs(&[("grade", "1")]),
            },
        })],
    );
    let h = w.height;
    assert_eq!(w.get("a"), retired_as(a, h, "merged", &["ab"]));
    assert_eq!(w.get("b"), retired_as(b, h, "merged", &["ab"]));
    assert_eq!(
        w.get("ab"),
        active("blend", alice.account(), &[("grade", "1")], &["b", "a"], h)
    );
    assert_eq!(
        events,
        vec![event(
            "asset.merged",
            vec![alice.account()],
            &[("inputs", "b,a"), ("outputs", "ab")],
        )]
    );
}

#[test]
fn transform_turns_a_batch_into_packs() {
    let mut w = World::new();
    let bob = w.bob.clone();
    w.ok(
        &bob,
        vec![
            register("batch-7", bob.account()),
            register("vials", bob.account()),
        ],
    );
    let (batch, vials) = (w.get("batch-7"), w.get("vials"));
    let events = w.ok(
        &bob,
        vec![transform(
            &["batch-7", "vials"],
            &["pack-1", "pack-2"],
            "filling",
        )],
    );
    let h = w.height;
    let reason = "transformed: filling";
    assert_eq!(
        w.get("batch-7"),
        retired_as(batch, h, reason, &["pack-1", "pack-2"])
    );
    assert_eq!(
        w.get("vials"),
        retired_as(vials, h, reason, &["pack-1", "pack-2"])
    );
    for pack in ["pack-1", "pack-2"] {
        assert_eq!(
            w.get(pack),
            active("pack", bob.account(), &[], &["batch-7", "vials"], h)
        );
    }
    assert_eq!(
        events,
        vec![event(
            "asset.transformed",
            vec![bob.account()],
            &[
                ("inputs", "batch-7,vials"),
                ("outputs", "pack-1,pack-2"),
                ("process", "filling"),
            ],
        )]
    );
    // One input into one output is a transformation too (e.g. roasting).
    w.ok(&bob, vec![transform(&["pack-1"], &["roasted"], "roasting")]);
    assert_eq!(w.get("roasted").parents, names(&["pack-1"]));
}

#[test]
fn attributes_are_set_replaced_and_removed_by_the_owner() {
    let mut w = World::new();
    let alice = w.alice.clone();
    w.ok(
        &alice,
        vec![Operation::RegisterAsset(RegisterAsset {
            id: name("lot-1"),
            class: name("lot"),
            owner: alice.account(),
            attributes: attrs(&[("temp", "4"), ("site", "a"), ("note", "x")]),
        })],
    );
    let registered = w.height;
    let events = w.ok(
        &alice,
        vec![set_attrs(
            "lot-1",
            &[("temp", "6"), ("seal", "ok")],
            &["note"],
        )],
    );
    let mut expected = active(
        "lot",
        alice.account(),
        &[("temp", "6"), ("site", "a"), ("seal", "ok")],
        &[],
        registered,
    );
    expected.updated_at = w.height;
    assert_eq!(w.get("lot-1"), expected);
    assert_eq!(
        events,
        vec![event(
            "asset.updated",
            vec![alice.account()],
            &[
                ("asset", "lot-1"),
                ("set", r#"["temp","seal"]"#),
                ("removed", r#"["note"]"#),
            ],
        )]
    );
}

#[test]
fn retire_is_recorded_with_its_reason() {
    let mut w = World::new();
    let alice = w.alice.clone();
    w.ok(&alice, vec![register("cert-1", alice.account())]);
    let before = w.get("cert-1");
    let events = w.ok(&alice, vec![retire("cert-1", "offset claimed")]);
    let h = w.height;
    assert_eq!(
        w.get("cert-1"),
        retired_as(before, h, "offset claimed", &[])
    );
    assert_eq!(
        events,
        vec![event(
            "asset.retired",
            vec![alice.account()],
            &[("asset", "cert-1"), ("reason", "offset claimed")],
        )]
    );
}

/// Fixture for refusals: alice owns `a`, `b`, `c` (`c` with attribute `k`), bob owns `x`,
/// and `dead` is retired (alice was its owner).
fn refusal_world() -> World {
    let mut w = World::new();
    let (alice, bob) = (w.alice.clone(), w.bob.clone());
    w.ok(
        &alice,
        vec![
            register("a", alice.account()),
            register("b", alice.account()),
            Operation::RegisterAsset(RegisterAsset {
                id: name("c"),
                class: name("lot"),
                owner: alice.account(),
                attributes: attrs(&[("k", "v")]),
            }),
            register("x", bob.account()),
            register("dead", alice.account()),
            retire("dead", "spoiled"),
        ],
    );
    w
}

#[test]
fn each_refusal_has_its_code_and_changes_nothing() {
    let w0 = refusal_world();
    let (alice, bob, viewer, outsider) = (
        w0.alice.clone(),
        w0.bob.clone(),
        w0.viewer.clone(),
        w0.outsider.clone(),
    );
    let (me, you, nobody) = (alice.account(), bob.account(), outsider.account());
    let many_keys: Vec<(String, String)> = (0..32).map(|i| (format!("k{i}"), "v".into())).collect();
    let cases: Vec<(&str, &Keypair, Operation, ErrorCode)> = vec![
        // register
        (
            "register twice",
            &alice,
            register("a", me),
            ErrorCode::AlreadyExists,
        ),
        (
            "reuse a retired id",
            &alice,
            register("dead", me),
            ErrorCode::AlreadyExists,
        ),
        (
            "owner not registered",
            &alice,
            register("new", nobody),
            ErrorCode::UnknownAccount,
        ),
        (
            "no asset permission",
            &viewer,
            register("new", me),
            ErrorCode::Unauthorized,
        ),
        (
            "duplicate attribute key",
            &alice,
            Operation::RegisterAsset(RegisterAsset {
                id: name("new"),
                class: name("lot"),
                owner: me,
                attributes: attrs(&[("k", "1"), ("k", "2")]),
            }),
            ErrorCode::InvalidArgument,
        ),
        (
            "empty attribute key",
            &alice,
            Operation::RegisterAsset(RegisterAsset {
                id: name("new"),
                class: name("lot"),
                owner: me,
                attributes: attrs(&[("", "1")]),
            }),
            ErrorCode::InvalidArgument,
        ),
        // transfer
        (
            "transfer unknown",
            &alice,
            transfer("ghost", you),
            ErrorCode::NotFound,
        ),
        (
            "transfer not owner",
            &bob,
            transfer("a", you),
            ErrorCode::Unauthorized,
        ),
        (
            "transfer to unknown",
            &alice,
            transfer("a", nobody),
            ErrorCode::UnknownAccount,
        ),
        (
            "transfer to self",
            &alice,
            transfer("a", me),
            ErrorCode::InvalidArgument,
        ),
        (
            "transfer retired",
            &alice,
            transfer("dead", you),
            ErrorCode::InvalidArgument,
        ),
        // split
        (
            "split into one",
            &alice,
            split("a", &["a1"]),
            ErrorCode::InvalidArgument,
        ),
        (
            "split into none",
            &alice,
            split("a", &[]),
            ErrorCode::InvalidArgument,
        ),
        (
            "split unknown",
            &alice,
            split("ghost", &["g1", "g2"]),
            ErrorCode::NotFound,
        ),
        (
            "split not owner",
            &alice,
            split("x", &["x1", "x2"]),
            ErrorCode::Unauthorized,
        ),
        (
            "split retired",
            &alice,
            split("dead", &["d1", "d2"]),
            ErrorCode::InvalidArgument,
        ),
        (
            "split onto existing",
            &alice,
            split("a", &["a1", "b"]),
            ErrorCode::AlreadyExists,
        ),
        (
            "split onto itself",
            &alice,
            split("a", &["a", "a1"]),
            ErrorCode::AlreadyExists,
        ),
        (
            "split onto retired id",
            &alice,
            split("a", &["a1", "dead"]),
            ErrorCode::AlreadyExists,
        ),
        (
            "split parts collide",
            &alice,
            split("a", &["a1", "a1"]),
            ErrorCode::AlreadyExists,
        ),
        // merge
        (
            "merge one",
            &alice,
            merge(&["a"], "m"),
            ErrorCode::InvalidArgument,
        ),
        (
            "merge same twice",
            &alice,
            merge(&["a", "a"], "m"),
            ErrorCode::InvalidArgument,
        ),
        (
            "merge unknown",
            &alice,
            merge(&["a", "ghost"], "m"),
            ErrorCode::NotFound,
        ),
        (
            "merge not owner",
            &alice,
            merge(&["a", "x"], "m"),
            ErrorCode::Unauthorized,
        ),
        (
            "merge retired",
            &alice,
            merge(&["a", "dead"], "m"),
            ErrorCode::InvalidArgument,
        ),
        (
            "merge onto existing",
            &alice,
            merge(&["a", "b"], "c"),
            ErrorCode::AlreadyExists,
        ),
        (
            "merge onto input",
            &alice,
            merge(&["a", "b"], "a"),
            ErrorCode::AlreadyExists,
        ),
        // transform
        (
            "transform no input",
            &alice,
            transform(&[], &["p"], "pack"),
            ErrorCode::InvalidArgument,
        ),
        (
            "transform no output",
            &alice,
            transform(&["a"], &[], "pack"),
            ErrorCode::InvalidArgument,
        ),
        (
            "transform no process",
            &alice,
            transform(&["a"], &["p"], ""),
            ErrorCode::InvalidArgument,
        ),
        (
            "transform same input twice",
            &alice,
            transform(&["a", "a"], &["p"], "pack"),
            ErrorCode::InvalidArgument,
        ),
        (
            "transform unknown",
            &alice,
            transform(&["ghost"], &["p"], "pack"),
            ErrorCode::NotFound,
        ),
        (
            "transform not owner",
            &alice,
            transform(&["a", "x"], &["p"], "pack"),
            ErrorCode::Unauthorized,
        ),
        (
            "transform retired",
            &alice,
            transform(&["dead"], &["p"], "pack"),
            ErrorCode::InvalidArgument,
        ),
        (
            "transform onto existing",
            &alice,
            transform(&["a"], &["p", "b"], "pack"),
            ErrorCode::AlreadyExists,
        ),
        (
            "transform outputs collide",
            &alice,
            transform(&["a"], &["p", "p"], "pack"),
            ErrorCode::AlreadyExists,
        ),
        // attributes
        (
            "update unknown",
            &alice,
            set_attrs("ghost", &[("k", "v")], &[]),
            ErrorCode::NotFound,
        ),
        (
            "update not owner",
            &bob,
            set_attrs("a", &[("k", "v")], &[]),
            ErrorCode::Unauthorized,
        ),
        (
            "update retired",
            &alice,
            set_attrs("dead", &[("k", "v")], &[]),
            ErrorCode::InvalidArgument,
        ),
        (
            "update nothing",
            &alice,
            set_attrs("a", &[], &[]),
            ErrorCode::InvalidArgument,
        ),
        (
            "remove missing key",
            &alice,
            set_attrs("c", &[], &["nope"]),
            ErrorCode::NotFound,
        ),
        (
            "set and remove a key",
            &alice,
            set_attrs("c", &[("k", "w")], &["k"]),
            ErrorCode::InvalidArgument,
        ),
        (
            "remove a key twice",
            &alice,
            set_attrs("c", &[], &["k", "k"]),
            ErrorCode::InvalidArgument,
        ),
        (
            "too many attributes",
            &alice,
            Operation::SetAssetAttributes(SetAssetAttributes {
                id: name("c"),
                set: many_keys,
                remove: vec![],
            }),
            ErrorCode::InvalidArgument,
        ),
        // retire
        (
            "retire unknown",
            &alice,
            retire("ghost", "r"),
            ErrorCode::NotFound,
        ),
        (
            "retire not owner",
            &alice,
            retire("x", "r"),
            ErrorCode::Unauthorized,
        ),
        (
            "retire twice",
            &alice,
            retire("dead", "r"),
            ErrorCode::InvalidArgument,
        ),
        (
            "retire without reason",
            &alice,
            retire("a", ""),
            ErrorCode::InvalidArgument,
        ),
    ];

    let mut w = w0;
    for (what, who, op, expected) in cases {
        let tx = w.tx(who, vec![op]);
        match check_transaction(&w.state, &w.ctx(), &tx) {
            Err(ExecError::Tx(e)) => assert_eq!(e.code, expected, "{what}: {e}"),
            other => panic!("{what}: expected {expected}, got {other:?}"),
        }
        let before = w.state.clone();
        let receipts = w.block(&[tx]);
        assert_eq!(code(&receipts[0].status), Some(expected), "{what}");
        assert!(receipts[0].events.is_empty(), "{what}");
        let changed: Vec<String> = w
            .state
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(*v))
            .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
            .chain(
                before
                    .keys()
                    .filter(|k| !w.state.contains_key(*k))
                    .map(|k| String::from_utf8_lossy(k).into_owned()),
            )
            .collect();
        for key in &changed {
            assert!(
                key == "meta/height" || key.starts_with("nonce/"),
                "{what}: {key} changed"
            );
        }
    }
}

#[test]
fn retired_is_final_for_every_operation() {
    let mut w = refusal_world();
    let (alice, bob) = (w.alice.clone(), w.bob.clone());
    // Retire through each path: explicit, split, merge and transform.
    w.ok(&alice, vec![split("a", &["a1", "a2"])]);
    w.ok(&alice, vec![merge(&["a1", "a2"], "m")]);
    w.ok(&alice, vec![transform(&["m"], &["p"], "packing")]);
    for dead in ["dead", "a", "a1", "m"] {
        let snapshot = w.get(dead);
        let attempts = [
            (register(dead, alice.account()), ErrorCode::AlreadyExists),
            (transfer(dead, bob.account()), ErrorCode::InvalidArgument),
            (split(dead, &["n1", "n2"]), ErrorCode::InvalidArgument),
            (merge(&[dead, "b"], "n3"), ErrorCode::InvalidArgument),
            (merge(&["b", dead], "n3"), ErrorCode::InvalidArgument),
            (
                transform(&[dead], &["n4"], "again"),
                ErrorCode::InvalidArgument,
            ),
            (
                set_attrs(dead, &[("k", "v")], &[]),
                ErrorCode::InvalidArgument,
            ),
            (retire(dead, "again"), ErrorCode::InvalidArgument),
        ];
        for (op, expected) in attempts {
            let status = w.run(&alice, vec![op.clone()]);
            assert_eq!(code(&status), Some(expected), "{dead}: {op:?}");
            assert_eq!(w.get(dead), snapshot, "{dead} changed");
        }
        // Its last owner being someone else changes nothing either.
        let status = w.run(&bob, vec![transfer(dead, alice.account())]);
        assert_eq!(code(&status), Some(ErrorCode::InvalidArgument));
    }
    // None of the would-be outputs came to exist, and `b` is untouched.
    for id in ["n1", "n2", "n3", "n4"] {
        assert!(w.asset(id).is_none(), "{id}");
    }
    assert!(w.get("b").is_active());
}

#[test]
fn lineage_is_kept_through_split_merge_and_transform() {
    let mut w = World::new();
    let (alice, bob) = (w.alice.clone(), w.bob.clone());
    w.ok(
        &alice,
        vec![
            register("harvest", alice.account()),
            register("other", alice.account()),
        ],
    );
    // harvest → h1, h2; h2 + other → blend; (hand blend to bob) h1 stays with alice.
    w.ok(&alice, vec![split("harvest", &["h1", "h2"])]);
    w.ok(&alice, vec![merge(&["h2", "other"], "blend")]);
    w.ok(&alice, vec![transfer("blend", bob.account())]);
    // bob transforms blend into packs; alice transforms h1 into a single sack.
    w.ok(
        &bob,
        vec![transform(&["blend"], &["p1", "p2", "p3"], "packing")],
    );
    w.ok(&alice, vec![transform(&["h1"], &["sack"], "bagging")]);

    let parents = |w: &World, id: &str| w.get(id).parents;
    let children = |w: &World, id: &str| w.get(id).children;
    assert_eq!(children(&w, "harvest"), names(&["h1", "h2"]));
    assert_eq!(parents(&w, "h1"), names(&["harvest"]));
    assert_eq!(children(&w, "h2"), names(&["blend"]));
    assert_eq!(children(&w, "other"), names(&["blend"]));
    assert_eq!(parents(&w, "blend"), names(&["h2", "other"]));
    assert_eq!(children(&w, "blend"), names(&["p1", "p2", "p3"]));
    assert_eq!(parents(&w, "p2"), names(&["blend"]));
    assert_eq!(children(&w, "h1"), names(&["sack"]));
    assert_eq!(w.get("p3").owner, bob.account());
    assert_eq!(w.get("sack").owner, alice.account());

    // Walking up from a pack reaches every ancestor; walking down from the harvest reaches
    // every descendant.
    let walk = |start: &str, up: bool| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![name(start)];
        while let Some(id) = todo.pop() {
            let a = w.get(id.as_str());
            for next in if up { a.parents } else { a.children } {
                if seen.insert(next.to_string()) {
                    todo.push(next);
                }
            }
        }
        seen
    };
    let set = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
    assert_eq!(walk("p1", true), set(&["blend", "h2", "other", "harvest"]));
    assert_eq!(
        walk("harvest", false),
        set(&["h1", "h2", "blend", "p1", "p2", "p3", "sack"])
    );
    // Every retired ancestor records why.
    let reason = |id: &str| match w.get(id).status {
        AssetStatus::Retired { reason, .. } => reason,
        AssetStatus::Active => panic!("{id} still active"),
    };
    assert_eq!(reason("harvest"), "split");
    assert_eq!(reason("h2"), "merged");
    assert_eq!(reason("blend"), "transformed: packing");
    assert_eq!(reason("h1"), "transformed: bagging");
}

#[test]
fn a_failing_operation_undoes_the_whole_transaction() {
    let mut w = refusal_world();
    let (alice, bob) = (w.alice.clone(), w.bob.clone());
    let before = w.assets();
    let status = w.run(
        &alice,
        vec![
            split("a", &["a1", "a2"]),
            transfer("a1", bob.account()),
            // `a` was just retired by the split, so this fails and undoes all three.
            transfer("a", bob.account()),
        ],
    );
    assert!(matches!(
        status,
        TxStatus::Failed {
            code: ErrorCode::InvalidArgument,
            operation: Some(2),
            ..
        }
    ));
    assert_eq!(w.assets(), before);
    // Operations in one transaction see each other's effects.
    let carol = w.carol.clone();
    w.ok(
        &alice,
        vec![
            split("a", &["a1", "a2"]),
            transfer("a1", carol.account()),
            merge(&["a2", "b"], "ab"),
        ],
    );
    assert_eq!(w.get("a1").owner, carol.account());
    assert_eq!(w.get("ab").parents, names(&["a2", "b"]));
}

#[test]
fn asset_operations_encode_with_their_tags_and_check_limits() {
    let a = Keypair::from_seed([9; 32]).account();
    let ops = [
        (register("x", a), 20u8, "asset.register"),
        (transfer("x", a), 21, "asset.transfer"),
        (split("x", &["y", "z"]), 22, "asset.split"),
        (merge(&["y", "z"], "x"), 23, "asset.merge"),
        (transform(&["x"], &["y"], "p"), 24, "asset.transform"),
        (set_attrs("x", &[("k", "v")], &["j"]), 25, "asset.update"),
        (retire("x", "r"), 26, "asset.retire"),
    ];
    for (op, tag, permission) in ops {
        assert_eq!(op.tag(), tag);
        assert_eq!(op.permission(), permission);
        assert!(Operation::ALL_PERMISSIONS.contains(&permission));
        let bytes = encode(&op);
        assert_eq!(bytes[0], tag);
        assert_eq!(borsh::from_slice::<Operation>(&bytes).unwrap(), op);
        let json = serde_json::to_string(&op).unwrap();
        assert_eq!(serde_json::from_str::<Operation>(&json).unwrap(), op);
        op.check_limits().unwrap();
    }
    let fan: Vec<String> = (0..=MAX_FAN).map(|i| format!("p{i}")).collect();
    let fan: Vec<&str> = fan.iter().map(String::as_str).collect();
    let long = "x".repeat(257);
    let many: Vec<(String, String)> = (0..33).map(|i| (format!("k{i}"), String::new())).collect();
    for op in [
        split("x", &fan),
        merge(&fan, "x"),
        transform(&fan, &["y"], "p"),
        transform(&["x"], &fan, "p"),
        transform(&["x"], &["y"], &long),
        retire("x", &long),
        set_attrs("x", &[("k", &long)], &[]),
        set_attrs("x", &[(&"k".repeat(65), "v")], &[]),
        set_attrs("x", &[], &[&"k".repeat(65)]),
        Operation::RegisterAsset(RegisterAsset {
            id: name("x"),
            class: name("c"),
            owner: a,
            attributes: many,
        }),
    ] {
        assert!(op.check_limits().is_err(), "{op:?}");
    }
}

// ---- random sequences against a model ----

/// What the model expects of one asset.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ModelAsset {
    owner: usize,
    active: bool,
    parents: Vec<String>,
    children: Vec<String>,
}

const POOL: usize = 10;

fn pool_id(i: usize) -> String {
    format!("id{i}")
}

/// Picks the expected refusal of an operation on `ids` as inputs, with the module's order of
/// checks: existence, then "retired is final", then ownership.
fn check_owned(
    model: &BTreeMap<String, ModelAsset>,
    ids: &[String],
    signer: usize,
) -> Result<(), ErrorCode> {
    for id in ids {
        let a = model.get(id).ok_or(ErrorCode::NotFound)?;
        if !a.active {
            return Err(ErrorCode::InvalidArgument);
        }
        if a.owner != signer {
            return Err(ErrorCode::Unauthorized);
        }
    }
    Ok(())
}

fn check_outputs(model: &BTreeMap<String, ModelAsset>, outs: &[String]) -> Result<(), ErrorCode> {
    let mut seen = BTreeSet::new();
    for o in outs {
        if !seen.insert(o) || model.contains_key(o) {
            return Err(ErrorCode::AlreadyExists);
        }
    }
    Ok(())
}

fn s(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn has_dups(ids: &[String]) -> bool {
    ids.iter().collect::<BTreeSet<_>>().len() != ids.len()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Random asset operations by three custodians (and transfers or registrations naming an
    /// unregistered fourth): outcomes and state match a simple model, and after every step
    /// every active asset has exactly one owner who is registered, retired assets never
    /// change again, ids are never reused, and lineage links are symmetric.
    #[test]
    fn asset_invariants_hold_under_random_sequences(
        steps in prop::collection::vec(
            (
                0u8..7,
                0usize..3,
                0usize..4,
                prop::collection::vec((0u8..10, any::<usize>()), 0..5),
                prop::collection::vec((0u8..10, any::<usize>()), 0..5),
            ),
            1..60,
        )
    ) {
        let mut w = World::new();
        let people = [w.alice.clone(), w.bob.clone(), w.carol.clone(), w.outsider.clone()];
        let mut model: BTreeMap<String, ModelAsset> = BTreeMap::new();
        // Every retired asset's exact record when it was first seen retired.
        let mut frozen: BTreeMap<String, Asset> = BTreeMap::new();
        // Every id ever created, with its registration height.
        let mut born: BTreeMap<String, u64> = BTreeMap::new();
        let mut serial = 0u32;
        // Each custodian starts with three assets.
        for (p, person) in people.iter().take(3).enumerate() {
            let ids: Vec<String> = (0..3).map(|j| format!("s{p}-{j}")).collect();
            w.ok(person, ids.iter().map(|id| register(id, person.account())).collect());
            for id in ids {
                model.insert(id, ModelAsset { owner: p, active: true, parents: vec![], children: vec![] });
            }
        }

        for (kind, signer, who, ins, outs) in steps {
            serial += 1;
            // Inputs: mostly the signer's own active assets, sometimes any asset (retired
            // or another's), sometimes an id from a small pool that may not exist.
            let own: Vec<String> = model
                .iter()
                .filter(|(_, a)| a.active && a.owner == signer)
                .map(|(id, _)| id.clone())
                .collect();
            let all: Vec<String> = model.keys().cloned().collect();
            let ins: Vec<String> = ins
                .into_iter()
                .map(|(r, i)| match r {
                    0..=6 if !own.is_empty() => own[i % own.len()].clone(),
                    7 | 8 if !all.is_empty() => all[i % all.len()].clone(),
                    _ => pool_id(i % POOL),
                })
                .collect();
            // Outputs: mostly fresh ids, sometimes an existing or pooled one.
            let outs: Vec<String> = outs
                .into_iter()
                .enumerate()
                .map(|(k, (r, i))| match r {
                    8 if !all.is_empty() => all[i % all.len()].clone(),
                    9 => pool_id(i % POOL),
                    _ => format!("n{serial}-{k}"),
                })
                .collect();
            let first = ins.first().cloned().unwrap_or_else(|| pool_id(serial as usize % POOL));
            let target = people[who].account();
            let (op, expected, created, consumed): (Operation, Result<(), ErrorCode>, Vec<String>, Vec<String>) = match kind {
                0 => {
                    // Mostly a fresh id; a pooled or existing one when the input says so.
                    let first = if ins.is_empty() { format!("r{serial}") } else { first.clone() };
                    let exp = if model.contains_key(&first) {
                        Err(ErrorCode::AlreadyExists)
                    } else if who == 3 {
                        Err(ErrorCode::UnknownAccount)
                    } else {
                        Ok(())
                    };
                    (register(&first, target), exp, vec![first.clone()], vec![])
                }
                1 => {
                    let to_check = if who == 3 {
                        Err(ErrorCode::UnknownAccount)
                    } else if who == signer {
                        Err(ErrorCode::InvalidArgument)
                    } else {
                        Ok(())
                    };
                    let exp = check_owned(&model, std::slice::from_ref(&first), signer).and(to_check);
                    (transfer(&first, target), exp, vec![], vec![])
                }
                2 => {
                    let exp = if outs.len() < 2 {
                        Err(ErrorCode::InvalidArgument)
                    } else {
                        check_owned(&model, std::slice::from_ref(&first), signer)
                            .and_then(|()| check_outputs(&model, &outs))
                    };
                    (split(&first, &s(&outs)), exp, outs.clone(), vec![first.clone()])
                }
                3 => {
                    let out = outs.first().cloned().unwrap_or_else(|| pool_id(POOL - 1));
                    let exp = if ins.len() < 2 || has_dups(&ins) {
                        Err(ErrorCode::InvalidArgument)
                    } else {
                        check_owned(&model, &ins, signer)
                            .and_then(|()| check_outputs(&model, std::slice::from_ref(&out)))
                    };
                    (merge(&s(&ins), &out), exp, vec![out.clone()], ins.clone())
                }
                4 => {
                    let exp = if ins.is_empty() || outs.is_empty() || has_dups(&ins) {
                        Err(ErrorCode::InvalidArgument)
                    } else {
                        check_owned(&model, &ins, signer).and_then(|()| check_outputs(&model, &outs))
                    };
                    (transform(&s(&ins), &s(&outs), "process"), exp, outs.clone(), ins.clone())
                }
                5 => {
                    let v = serial.to_string();
                    let exp = check_owned(&model, std::slice::from_ref(&first), signer);
                    (set_attrs(&first, &[("k", &v)], &[]), exp, vec![], vec![])
                }
                _ => {
                    let exp = check_owned(&model, std::slice::from_ref(&first), signer);
                    (retire(&first, "done"), exp, vec![], vec![first.clone()])
                }
            };
            let status = w.run(&people[signer], vec![op.clone()]);
            prop_assert_eq!(code(&status), expected.err(), "{:?}", op);

            if expected.is_ok() {
                match kind {
                    0 => {
                        model.insert(created[0].clone(), ModelAsset { owner: who, active: true, parents: vec![], children: vec![] });
                    }
                    1 => model.get_mut(&first).unwrap().owner = who,
                    5 => {}
                    _ => {
                        for id in &consumed {
                            let a = model.get_mut(id).unwrap();
                            a.active = false;
                            a.children.extend(created.iter().cloned());
                        }
                        for id in &created {
                            model.insert(id.clone(), ModelAsset {
                                owner: signer,
                                active: true,
                                parents: consumed.clone(),
                                children: vec![],
                            });
                        }
                    }
                }
            }

            // The state matches the model exactly.
            let assets = w.assets();
            let seen: BTreeMap<String, ModelAsset> = assets.iter().map(|(id, a)| {
                let owner = people.iter().position(|p| p.account() == a.owner).unwrap();
                (id.clone(), ModelAsset {
                    owner,
                    active: a.is_active(),
                    parents: a.parents.iter().map(ToString::to_string).collect(),
                    children: a.children.iter().map(ToString::to_string).collect(),
                })
            }).collect();
            prop_assert_eq!(&seen, &model);

            for (id, a) in &assets {
                // Exactly one owner, and a registered one.
                prop_assert!(w.is_registered(&a.owner), "{} owned by an unknown account", id);
                // Retired is final.
                match &a.status {
                    AssetStatus::Retired { .. } => {
                        if let Some(then) = frozen.get(id) {
                            prop_assert_eq!(then, a, "retired asset {} changed", id);
                        } else {
                            frozen.insert(id.clone(), a.clone());
                        }
                    }
                    AssetStatus::Active => prop_assert!(!frozen.contains_key(id)),
                }
                // Ids are never reused: an id keeps the height it was created at.
                let at = *born.entry(id.clone()).or_insert(a.registered_at);
                prop_assert_eq!(at, a.registered_at, "{} was created again", id);
                // Lineage is symmetric.
                for p in &a.parents {
                    prop_assert!(assets[p.as_str()].children.contains(&name(id)), "{} -> {}", p, id);
                }
                for c in &a.children {
                    prop_assert!(assets[c.as_str()].parents.contains(&name(id)), "{} <- {}", c, id);
                }
            }
            // Nothing that existed disappears.
            for id in born.keys() {
                prop_assert!(assets.contains_key(id), "{} vanished", id);
            }
        }
    }
}
