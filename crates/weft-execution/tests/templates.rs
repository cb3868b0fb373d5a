//! Workflow templates: the shipped examples validate, malformed templates are refused with
//! the right kind of error at the right line, guards evaluate, and no mutation of a valid
//! template panics the parser or the validator.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use weft_execution::workflow::{
    Approvals, Effect, Guard, GuardError, GuardValue, NameRef, Template, TemplateError,
    TemplateErrorKind as Kind, load_yaml, parse_yaml,
};

fn example(name: &str) -> String {
    let path = format!("{}/../../templates/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn valid(name: &str) -> Template {
    match parse_yaml(&example(name)) {
        Ok(t) => t,
        Err(errors) => panic!("{name} does not validate:\n{errors:#?}"),
    }
}

#[test]
fn bank_guarantee_validates() {
    let t = valid("bank-guarantee.yaml");
    assert_eq!(t.id.as_str(), "bank-guarantee");
    assert_eq!(t.roles.len(), 4);
    assert!(t.visibility.roles.iter().any(|r| r.as_str() == "observer"));
    assert!(!t.visibility.public);
    let claim = t.transitions.iter().find(|x| x.name.as_str() == "claim");
    assert!(claim.unwrap().deadline.is_some());
}

#[test]
fn letter_of_credit_validates() {
    let t = valid("letter-of-credit.yaml");
    let states: Vec<&str> = t.states.iter().map(|s| s.name.as_str()).collect();
    for s in [
        "application",
        "issued",
        "documents_presented",
        "checked",
        "paid",
        "settled",
    ] {
        assert!(states.contains(&s), "{s}");
    }
}

#[test]
fn e_mortgage_validates_with_two_hands() {
    let t = valid("e-mortgage-depository.yaml");
    let two_hands = t
        .transitions
        .iter()
        .filter(|x| matches!(x.approvals, Some(Approvals::TwoHands { .. })))
        .count();
    assert!(two_hands >= 3);
    assert!(
        t.transitions
            .iter()
            .flat_map(|x| &x.effects)
            .any(|e| matches!(e, Effect::TransferAsset { .. }))
    );
}

/// The templates of the UC-23, UC-24 and UC-25 scenarios, which use the extensions.
const SCENARIO_TEMPLATES: [&str; 5] = [
    "public-lending.yaml",
    "trubudget-project.yaml",
    "trubudget-subproject.yaml",
    "trubudget-item.yaml",
    "petition.yaml",
];

#[test]
fn scenario_templates_validate_with_the_extensions() {
    let lending = valid("public-lending.yaml");
    assert!(lending.visibility.public, "the BNDES trail is public");
    let pay = lending
        .transitions
        .iter()
        .find(|t| t.name.as_str() == "pay_contractor")
        .unwrap();
    assert!(pay.inputs.len() == 3);
    assert!(matches!(pay.effects[0], Effect::RequireRole { .. }));
    for name in [
        "trubudget-project.yaml",
        "trubudget-subproject.yaml",
        "trubudget-item.yaml",
    ] {
        let t = valid(name);
        let grants = t
            .transitions
            .iter()
            .flat_map(|x| &x.effects)
            .filter(|e| matches!(e, Effect::Grant { .. } | Effect::Revoke { .. }))
            .count();
        assert!(grants >= 2, "{name} grants and revokes");
        assert!(
            !t.visibility.public,
            "{name} is read by whom its owner grants"
        );
    }
    let petition = valid("petition.yaml");
    assert!(petition.roles.values().any(|r| r.is_open()));
    assert!(petition.transitions.iter().any(|t| t.auto));
    assert!(petition.transitions.iter().any(|t| t.once_per_account));
}

#[test]
fn examples_round_trip_through_json_and_borsh() {
    for name in [
        "bank-guarantee.yaml",
        "letter-of-credit.yaml",
        "e-mortgage-depository.yaml",
    ]
    .into_iter()
    .chain(SCENARIO_TEMPLATES)
    {
        let t = valid(name);
        let json = serde_json::to_string(&t).unwrap();
        let back: Template = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t, "{name} via JSON");
        let bytes = borsh::to_vec(&t).unwrap();
        let back: Template = borsh::from_slice(&bytes).unwrap();
        assert_eq!(back, t, "{name} via borsh");
    }
}

// ---- malformed templates ----

/// A small valid template; the tests below change single lines of it, so the expected line
/// numbers can be read off here.
const BASE: &str = "\
id: t
version: 1
title: T
roles:
  a: Role A
  b: Role B
parameters:
  amt: amount
  tok: token
  due: timestamp
  note: string
states:
  - name: s0
    initial: true
  - name: s1
  - name: done
    final: true
transitions:
  - name: go
    from: s0
    to: s1
    by: a
  - name: finish
    from: s1
    to: done
    by: b
visibility:
  roles: [a, b]
";

/// `BASE` with its 1-based line `n` replaced by `text` (which may span several lines).
fn with_line(n: usize, text: &str) -> String {
    let mut lines: Vec<&str> = BASE.lines().collect();
    lines[n - 1] = text;
    lines.join("\n") + "\n"
}

fn errors(src: &str) -> Vec<TemplateError> {
    match parse_yaml(src) {
        Ok(_) => panic!("accepted:\n{src}"),
        Err(e) => {
            assert!(!e.is_empty());
            e
        }
    }
}

/// Asserts that `src` is refused with an error of `kind` at `line`, and that it is the first.
fn rejected(src: &str, kind: Kind, line: usize) -> TemplateError {
    let errs = errors(src);
    let first = errs[0].clone();
    assert!(
        first.kind == kind && first.line == line,
        "wanted {kind:?} at line {line}, got:\n{errs:#?}"
    );
    first
}

#[test]
fn base_is_valid() {
    parse_yaml(BASE).unwrap();
}

#[test]
fn unknown_role_in_by() {
    let e = rejected(&with_line(22, "    by: zed"), Kind::UnknownRole, 22);
    assert_eq!(e.path, "transitions[0].by[0]");
    assert_eq!(e.column, 9);
}

#[test]
fn unknown_state_in_to() {
    let e = rejected(&with_line(21, "    to: nowhere"), Kind::UnknownState, 21);
    assert_eq!(e.column, 9, "points at the value");
    assert!(e.message.contains("nowhere"));
}

#[test]
fn unknown_state_in_from_list() {
    rejected(
        &with_line(24, "    from: [s1, limbo]"),
        Kind::UnknownState,
        24,
    );
}

#[test]
fn unreachable_state() {
    let src = with_line(17, "    final: true\n  - name: orphan");
    let e = rejected(&src, Kind::UnreachableState, 18);
    assert!(e.message.contains("orphan"));
}

#[test]
fn no_initial_state() {
    rejected(
        &with_line(14, "    initial: false"),
        Kind::NoInitialState,
        13,
    );
}

#[test]
fn two_initial_states() {
    let src = with_line(15, "  - name: s1\n    initial: true");
    rejected(&src, Kind::SeveralInitialStates, 16);
}

#[test]
fn no_final_state() {
    rejected(&with_line(17, "    final: false"), Kind::NoFinalState, 13);
}

#[test]
fn transition_out_of_a_final_state() {
    let src = with_line(
        26,
        "    by: b\n  - name: reopen\n    from: done\n    to: s0\n    by: a",
    );
    rejected(&src, Kind::TransitionFromFinalState, 28);
}

#[test]
fn duplicate_state() {
    rejected(&with_line(15, "  - name: s0"), Kind::DuplicateName, 15);
}

#[test]
fn duplicate_transition() {
    rejected(&with_line(23, "  - name: go"), Kind::DuplicateName, 23);
}

#[test]
fn duplicate_role_key() {
    rejected(&with_line(6, "  a: Role A again"), Kind::DuplicateKey, 6);
}

#[test]
fn effect_amount_of_the_wrong_type() {
    let src = with_line(
        26,
        "    by: b\n    effects:\n      - transfer: { token: $tok, from: a, to: b, amount: $note }",
    );
    let e = rejected(&src, Kind::TypeError, 28);
    assert!(e.path.ends_with(".transfer.amount"), "{}", e.path);
}

#[test]
fn effect_token_of_the_wrong_type() {
    let src = with_line(
        26,
        "    by: b\n    effects:\n      - transfer: { token: $amt, from: a, to: b, amount: 5 }",
    );
    rejected(&src, Kind::TypeError, 28);
}

#[test]
fn effect_to_an_unknown_role() {
    let src = with_line(
        26,
        "    by: b\n    effects:\n      - transfer: { token: brl, from: a, to: c, amount: $amt }",
    );
    rejected(&src, Kind::UnknownRole, 28);
}

#[test]
fn asset_effect_needs_an_asset_parameter() {
    let src = with_line(
        26,
        "    by: b\n    effects:\n      - transfer_asset: { asset: $note, to: b }",
    );
    rejected(&src, Kind::TypeError, 28);
}

#[test]
fn release_of_an_unknown_hold() {
    let src = with_line(
        26,
        "    by: b\n    effects:\n      - release_hold: { id: cover }",
    );
    rejected(&src, Kind::UnknownHold, 28);
}

#[test]
fn deadline_param_must_be_a_timestamp() {
    let src = with_line(
        22,
        "    by: a\n    deadline: { param: $amt, on_expiry: finish }",
    );
    rejected(&src, Kind::TypeError, 23);
}

#[test]
fn deadline_expiry_must_be_a_transition() {
    let src = with_line(
        22,
        "    by: a\n    deadline: { param: $due, on_expiry: vanish }",
    );
    rejected(&src, Kind::UnknownTransition, 23);
}

#[test]
fn guard_that_does_not_compile() {
    let e = rejected(
        &with_line(22, "    by: a\n    guard: \"amt >\""),
        Kind::GuardSyntax,
        23,
    );
    assert_eq!(e.path, "transitions[0].guard");
}

#[test]
fn guard_with_a_float_literal() {
    rejected(
        &with_line(22, "    by: a\n    guard: now > 1.5"),
        Kind::GuardFloat,
        23,
    );
}

#[test]
fn guard_with_a_double_conversion() {
    rejected(
        &with_line(22, "    by: a\n    guard: double(amt) > 1"),
        Kind::GuardFloat,
        23,
    );
}

#[test]
fn guard_referencing_an_undeclared_variable() {
    let e = rejected(
        &with_line(22, "    by: a\n    guard: balance > 0 && now < due"),
        Kind::GuardUnknownVariable,
        23,
    );
    assert!(e.message.contains("balance"));
}

#[test]
fn guard_that_is_too_long() {
    let guard = format!("    by: a\n    guard: \"{}true\"", "true && ".repeat(200));
    rejected(&with_line(22, &guard), Kind::TooLarge, 23);
}

#[test]
fn k_of_n_with_k_above_n() {
    let src = with_line(22, "    by: a\n    approvals: { k: 3, of: [a, b] }");
    let e = rejected(&src, Kind::BadApprovals, 23);
    assert_eq!(e.path, "transitions[0].approvals.k");
}

#[test]
fn k_of_n_with_k_zero() {
    let src = with_line(22, "    by: a\n    approvals: { k: 0, of: [a] }");
    rejected(&src, Kind::BadApprovals, 23);
}

#[test]
fn two_hands_with_the_same_role_twice() {
    let src = with_line(
        22,
        "    by: a\n    approvals:\n      two_hands: { operator: a, controller: a }",
    );
    rejected(&src, Kind::TwoHandsSameRole, 24);
}

#[test]
fn oversized_template_too_many_states() {
    let mut states = String::from("  - name: s0\n    initial: true\n  - name: s1\n");
    for i in 0..63 {
        states.push_str(&format!("  - name: x{i}\n"));
    }
    states.push_str("  - name: done\n    final: true");
    // BASE lines 13..=17 are the states; put the long list in their place.
    let mut lines: Vec<String> = BASE.lines().map(str::to_string).collect();
    lines.splice(12..17, [states]);
    let src = lines.join("\n") + "\n";
    // 66 states from line 13 (s0 takes two lines, x0 is on line 16): the 65th, `states[64]`
    // (x62), is the first over the limit, on line 16 + 62.
    let e = rejected(&src, Kind::TooLarge, 78);
    assert_eq!(e.path, "states[64]");
}

#[test]
fn oversized_source() {
    let src = format!("{BASE}description: \"{}\"\n", "x".repeat(300 * 1024));
    rejected(&src, Kind::TooLarge, 1);
}

#[test]
fn float_in_a_yaml_value() {
    let e = rejected(&with_line(2, "version: 1.5"), Kind::FloatNotAllowed, 2);
    assert_eq!(e.column, 10);
}

#[test]
fn unknown_key_is_a_schema_error() {
    let e = rejected(
        &with_line(22, "    by: a\n    colour: red"),
        Kind::Schema,
        23,
    );
    assert!(e.message.contains("colour"));
}

#[test]
fn wrong_parameter_type_name() {
    rejected(&with_line(11, "  note: text"), Kind::Schema, 11);
}

#[test]
fn parameter_named_like_a_builtin() {
    rejected(&with_line(11, "  now: string"), Kind::BadName, 11);
}

#[test]
fn yaml_syntax_error() {
    let e = rejected(&with_line(21, "    to: [s1"), Kind::Syntax, 22);
    assert!(e.column > 0);
}

#[test]
fn aliases_are_refused() {
    let src = with_line(22, "    by: &who a").replace("    by: b", "    by: *who");
    rejected(&src, Kind::UnsupportedYaml, 26);
}

#[test]
fn validation_reports_every_problem_in_source_order() {
    let src = with_line(22, "    by: zed").replace("    to: done", "    to: nowhere");
    let errs = errors(&src);
    let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![22, 25], "{errs:#?}");
}

#[test]
fn load_without_validation_keeps_positions() {
    let (t, map) = load_yaml(BASE).unwrap();
    assert_eq!(t.transitions.len(), 2);
    let pos = map.value("transitions[1].to").unwrap();
    assert_eq!((pos.line, pos.column), (25, 9));
    let key = map.key("parameters.due").unwrap();
    assert_eq!((key.line, key.column), (10, 3));
}

// ---- guards ----

fn declared() -> BTreeSet<&'static str> {
    ["amount", "limit", "expires_at", "urgent", "currency"].into()
}

fn vars(now: u64) -> BTreeMap<String, GuardValue> {
    [
        ("amount", GuardValue::amount(500).unwrap()),
        ("limit", GuardValue::amount(1_000).unwrap()),
        ("expires_at", GuardValue::Timestamp(10_000)),
        ("urgent", GuardValue::Bool(false)),
        ("currency", GuardValue::Str("brl".into())),
        ("now", GuardValue::Timestamp(now)),
        ("state", GuardValue::Str("in_force".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[test]
fn guard_evaluates_true() {
    let g = Guard::compile(
        "amount <= limit && now < expires_at && currency == 'brl' && !urgent",
        &declared(),
    )
    .unwrap();
    assert_eq!(g.evaluate(&vars(5_000)), Ok(true));
}

#[test]
fn guard_evaluates_false() {
    let g = Guard::compile("now < expires_at && state == 'in_force'", &declared()).unwrap();
    assert_eq!(g.evaluate(&vars(10_000)), Ok(false));
}

#[test]
fn guard_with_a_non_bool_result_is_a_type_error() {
    let g = Guard::compile("amount + limit", &declared()).unwrap();
    assert!(matches!(g.evaluate(&vars(0)), Err(GuardError::NotBool(_))));
}

#[test]
fn guard_with_mismatched_operands_fails() {
    let g = Guard::compile("currency > 3", &declared()).unwrap();
    assert!(matches!(
        g.evaluate(&vars(0)),
        Err(GuardError::Evaluation(_))
    ));
}

#[test]
fn guard_missing_input_fails_closed() {
    let g = Guard::compile("amount > 0u", &declared()).unwrap();
    assert!(matches!(
        g.evaluate(&BTreeMap::new()),
        Err(GuardError::Evaluation(_))
    ));
}

#[test]
fn guard_is_deterministic() {
    let g = Guard::compile("amount * 2u > limit || now / 2 == 2500", &declared()).unwrap();
    let first = g.evaluate(&vars(5_000));
    for _ in 0..20 {
        assert_eq!(g.evaluate(&vars(5_000)), first);
    }
    assert_eq!(first, Ok(true));
}

// ---- robustness ----

const ALPHABET: &[u8] = b" \n:-[]{}$#'\",&*!|>0123456789.abcdefgnotruel_";

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    DropLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    ReplaceWord(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..16).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (
            any::<usize>(),
            prop::collection::vec(prop::sample::select(ALPHABET.to_vec()), 1..8)
        )
            .prop_map(|(a, v)| Mutation::Insert(a, v)),
        any::<usize>().prop_map(Mutation::DropLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::ReplaceWord(a, b)),
    ]
}

fn apply(src: &str, m: &Mutation) -> String {
    let bytes = src.as_bytes();
    let mut lines: Vec<&str> = src.lines().collect();
    let n = lines.len().max(1);
    match m {
        Mutation::Delete(at, len) => {
            let at = at % bytes.len();
            let end = (at + len).min(bytes.len());
            let mut out = bytes[..at].to_vec();
            out.extend_from_slice(&bytes[end..]);
            String::from_utf8_lossy(&out).into_owned()
        }
        Mutation::Insert(at, ins) => {
            let at = at % bytes.len();
            let mut out = bytes[..at].to_vec();
            out.extend_from_slice(ins);
            out.extend_from_slice(&bytes[at..]);
            String::from_utf8_lossy(&out).into_owned()
        }
        Mutation::DropLine(i) => {
            lines.remove(i % n);
            lines.join("\n")
        }
        Mutation::DuplicateLine(i) => {
            let l = lines[i % n];
            lines.insert(i % n, l);
            lines.join("\n")
        }
        Mutation::SwapLines(a, b) => {
            lines.swap(a % n, b % n);
            lines.join("\n")
        }
        Mutation::ReplaceWord(a, b) => {
            // Put one word of the source in place of another: names, states, keys, values.
            let words: Vec<&str> = src.split_whitespace().collect();
            let from = words[a % words.len()];
            let to = words[b % words.len()];
            src.replacen(from, to, 1)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutations_never_panic(
        which in 0usize..6,
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut src = match which {
            0 => example("bank-guarantee.yaml"),
            1 => example("letter-of-credit.yaml"),
            2 => example("e-mortgage-depository.yaml"),
            3 => example("petition.yaml"),
            4 => example("public-lending.yaml"),
            _ => BASE.to_string(),
        };
        for m in &mutations {
            src = apply(&src, m);
        }
        // Whatever the outcome, no panic, and errors carry a position.
        match parse_yaml(&src) {
            Ok(t) => {
                // What validates also round-trips.
                let bytes = borsh::to_vec(&t).unwrap();
                prop_assert_eq!(borsh::from_slice::<Template>(&bytes).unwrap(), t);
            }
            Err(errs) => {
                prop_assert!(!errs.is_empty());
                for e in &errs {
                    prop_assert!(e.line >= 1, "{:?}", e);
                }
            }
        }
    }
}

#[test]
fn the_documented_example_validates() {
    let path = format!("{}/../../docs/templates.md", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(path).unwrap();
    let start = doc.find("```yaml\n").unwrap() + "```yaml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let t = parse_yaml(&doc[start..end]).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(t.id.as_str(), "simple-escrow");
}

#[test]
fn error_display_names_line_column_and_path() {
    let e = rejected(&with_line(21, "    to: nowhere"), Kind::UnknownState, 21);
    assert_eq!(
        e.to_string(),
        "21:9: `to` names `nowhere`, which is not a state (at transitions[0].to; UnknownState)"
    );
}

// ---- inputs, set, grants, open roles, once per account, counters, automatic transitions ----

/// `BASE` with `finish` (lines 23–26) replaced by `text`.
fn with_finish(text: &str) -> String {
    let mut lines: Vec<&str> = BASE.lines().collect();
    lines.splice(22..26, [text]);
    lines.join("\n") + "\n"
}

/// `BASE` with `go` given extra keys after its `by` (line 22).
fn go_with(extra: &str) -> String {
    with_line(22, &format!("    by: a\n{extra}"))
}

#[test]
fn the_new_keys_validate_and_round_trip() {
    let src = "\
id: all-keys
version: 1
title: Every key of the extensions
roles:
  owner: Owns
  helper: { description: Helps when granted, optional: true }
  citizen: { description: Any verified citizen, open_to: citizen }
parameters:
  amount: amount
  threshold: int
states:
  - name: open
    initial: true
  - name: done
    final: true
transitions:
  - name: amend
    from: open
    to: open
    by: owner
    inputs:
      new_amount: amount
      who: account
    guard: new_amount > amount && count.support < threshold
    effects:
      - set: { param: amount, value: $new_amount }
      - set: { param: threshold, value: 3 }
      - require_role: { role: citizen, account: $who }
      - grant: { role: helper, account: $who }
      - revoke: { role: helper, account: $who }
      - transfer: { token: brl, from: owner, to: $who, amount: $new_amount }
  - name: support
    from: open
    to: open
    by: citizen
    once_per_account: true
  - name: close
    from: open
    to: done
    auto: true
    guard: count['support'] >= threshold
visibility:
  roles: [owner, helper, citizen]
";
    let t = parse_yaml(src).unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(t.roles[&weft_types::Name::new("citizen").unwrap()].is_open());
    assert!(t.roles[&weft_types::Name::new("helper").unwrap()].optional);
    let close = &t.transitions[2];
    assert!(close.auto && close.by.is_empty());
    assert!(t.transitions[1].once_per_account);
    assert_eq!(t.transitions[0].inputs.len(), 2);
    let json = serde_json::to_string(&t).unwrap();
    assert_eq!(serde_json::from_str::<Template>(&json).unwrap(), t);
    // The JSON form is itself a template source.
    assert_eq!(parse_yaml(&json).unwrap(), t);
    let bytes = borsh::to_vec(&t).unwrap();
    assert_eq!(borsh::from_slice::<Template>(&bytes).unwrap(), t);
}

#[test]
fn automatic_transition_with_by() {
    let src =
        with_finish("  - name: finish\n    from: s1\n    to: done\n    by: b\n    auto: true");
    let e = rejected(&src, Kind::BadAuto, 26);
    assert_eq!(e.path, "transitions[1].by");
}

#[test]
fn automatic_transition_with_inputs_approvals_or_once_per_account() {
    let base = "  - name: finish\n    from: s1\n    to: done\n    auto: true";
    rejected(
        &with_finish(&format!("{base}\n    inputs: {{ x: int }}")),
        Kind::BadAuto,
        27,
    );
    rejected(
        &with_finish(&format!("{base}\n    once_per_account: true")),
        Kind::BadAuto,
        27,
    );
    rejected(
        &with_finish(&format!("{base}\n    approvals: {{ k: 1, of: [a] }}")),
        Kind::BadAuto,
        27,
    );
    // Without any of them it is fine.
    parse_yaml(&with_finish(base)).unwrap();
}

#[test]
fn a_taken_transition_needs_by() {
    let src = with_finish("  - name: finish\n    from: s1\n    to: done");
    let e = rejected(&src, Kind::Schema, 23);
    assert!(e.message.contains("auto"), "{}", e.message);
}

#[test]
fn unguarded_automatic_transitions_in_a_cycle() {
    let lines = "  - name: finish\n    from: s1\n    to: done\n    by: b\n  - name: spin\n    \
                 from: s1\n    to: s1\n    auto: true";
    let e = rejected(&with_finish(lines), Kind::AutoCycle, 30);
    assert_eq!(e.path, "transitions[2].auto");
    // Two states feeding each other.
    let pair = "  - name: finish\n    from: s1\n    to: done\n    by: b\n  - name: back\n    \
                from: s1\n    to: s0\n    auto: true\n  - name: forth\n    from: s0\n    to: s1\n    \
                auto: true";
    let errs = errors(&with_finish(pair));
    assert!(errs.iter().all(|e| e.kind == Kind::AutoCycle), "{errs:#?}");
    assert_eq!(errs.len(), 2);
    // A guard makes the loop the author's business (and the step bound's).
    parse_yaml(&with_finish(&format!("{lines}\n    guard: amt > 0u"))).unwrap();
}

#[test]
fn grant_of_an_open_role() {
    let src = with_line(6, "  b: { description: Role B, open_to: citizen }");
    let src = src.replace(
        "    by: a\n",
        "    by: a\n    inputs: { who: account }\n    effects:\n      - grant: { role: b, account: $who }\n",
    );
    let e = rejected(&src, Kind::OpenRoleBinding, 25);
    assert_eq!(e.path, "transitions[0].effects[0].grant.role");
}

#[test]
fn an_open_role_cannot_be_optional() {
    let src = with_line(
        6,
        "  b: { description: Role B, open_to: citizen, optional: true }",
    );
    rejected(&src, Kind::OpenRoleBinding, 6);
}

#[test]
fn role_mapping_with_an_unknown_key() {
    let src = with_line(6, "  b: { description: Role B, opento: citizen }");
    let e = rejected(&src, Kind::Schema, 6);
    assert!(e.message.contains("opento"), "{}", e.message);
}

#[test]
fn input_names_are_identifiers_and_do_not_shadow_parameters() {
    let e = rejected(&go_with("    inputs: { now: int }"), Kind::BadName, 23);
    assert_eq!(e.path, "transitions[0].inputs.now");
    let e = rejected(
        &go_with("    inputs:\n      amt: amount"),
        Kind::DuplicateName,
        24,
    );
    assert_eq!(e.column, 7, "points at the input's name");
}

#[test]
fn too_many_inputs() {
    let inputs: Vec<String> = (0..17).map(|i| format!("      i{i}: int")).collect();
    rejected(
        &go_with(&format!("    inputs:\n{}", inputs.join("\n"))),
        Kind::TooLarge,
        24,
    );
}

#[test]
fn references_to_undeclared_inputs() {
    let e = rejected(
        &go_with("    effects:\n      - set: { param: note, value: $nope }"),
        Kind::UnknownParameter,
        24,
    );
    assert_eq!(e.path, "transitions[0].effects[0].set.value");
    // An input of another transition is not in scope.
    let src =
        go_with("    inputs: { x: int }").replace("    by: b\n", "    by: b\n    guard: x > 1\n");
    rejected(&src, Kind::GuardUnknownVariable, 28);
    // An input of this one is.
    parse_yaml(&go_with(
        "    inputs: { x: int }\n    guard: x > 1 && now < due",
    ))
    .unwrap();
}

#[test]
fn set_needs_a_parameter_and_a_value_of_its_type() {
    rejected(
        &go_with("    effects:\n      - set: { param: nope, value: 1 }"),
        Kind::UnknownParameter,
        24,
    );
    rejected(
        &go_with("    effects:\n      - set: { param: amt, value: lots }"),
        Kind::TypeError,
        24,
    );
    rejected(
        &go_with("    effects:\n      - set: { param: amt, value: $note }"),
        Kind::TypeError,
        24,
    );
    rejected(
        &go_with("    inputs: { n: int }\n    effects:\n      - set: { param: amt, value: $n }"),
        Kind::TypeError,
        25,
    );
    parse_yaml(&go_with(
        "    inputs: { n: amount }\n    effects:\n      - set: { param: amt, value: $n }\n      \
         - set: { param: note, value: done }\n      - set: { param: due, value: 1700000000000 }",
    ))
    .unwrap();
}

#[test]
fn grants_need_a_bound_role_and_an_account() {
    rejected(
        &go_with("    effects:\n      - grant: { role: zed, account: $note }"),
        Kind::UnknownRole,
        24,
    );
    rejected(
        &go_with("    effects:\n      - revoke: { role: b, account: $note }"),
        Kind::TypeError,
        24,
    );
    rejected(
        &go_with("    effects:\n      - require_role: { role: zed, account: $note }"),
        Kind::UnknownRole,
        24,
    );
    rejected(
        &go_with("    effects:\n      - transfer: { token: $tok, from: a, to: $note, amount: 1 }"),
        Kind::TypeError,
        24,
    );
}

#[test]
fn guard_counting_an_unknown_transition() {
    let e = rejected(
        &go_with("    guard: count.nope > 0"),
        Kind::UnknownTransition,
        23,
    );
    assert!(e.message.contains("nope"));
    rejected(
        &go_with("    guard: count['nope'] > 0"),
        Kind::UnknownTransition,
        23,
    );
    parse_yaml(&go_with("    guard: count.go + count['finish'] < 3")).unwrap();
}

#[test]
fn an_automatic_transition_is_no_way_out_of_a_deadline() {
    let src = go_with("    deadline: { param: $due, on_expiry: lapse }").replace(
        "visibility:",
        "  - name: lapse\n    from: s0\n    to: done\n    auto: true\n    guard: now >= due\nvisibility:",
    );
    let e = rejected(&src, Kind::BadDeadline, 23);
    assert!(e.message.contains("automatic"));
}

#[test]
fn add_needs_a_numeric_parameter_and_a_value_of_its_type() {
    rejected(
        &go_with("    effects:\n      - add: { param: note, value: 1 }"),
        Kind::TypeError,
        24,
    );
    rejected(
        &go_with("    effects:\n      - add: { param: amt, value: -1 }"),
        Kind::TypeError,
        24,
    );
    rejected(
        &go_with("    effects:\n      - add: { param: nope, value: 1 }"),
        Kind::UnknownParameter,
        24,
    );
    parse_yaml(&go_with(
        "    inputs: { more: amount }\n    effects:\n      - add: { param: amt, value: $more }",
    ))
    .unwrap();
}

#[test]
fn instance_parameters_are_names() {
    let src = with_line(11, "  note: string\n  parent: instance");
    let t = parse_yaml(&src).unwrap();
    assert_eq!(
        t.parameters[&weft_types::Name::new("parent").unwrap()].to_string(),
        "instance"
    );
}

// ---- on_breach: transitions the ledger takes on a feed's first breach ----

#[test]
fn on_breach_needs_no_by_and_names_a_feed_or_a_string_parameter() {
    let t = parse_yaml(&with_line(
        22,
        "    on_breach: { feed: $note, threshold: cold-chain }",
    ))
    .unwrap();
    let b = t.transitions[0].on_breach.as_ref().unwrap();
    assert_eq!(
        b.feed,
        NameRef::Param(weft_types::Name::new("note").unwrap())
    );
    assert_eq!(b.threshold.as_str(), "cold-chain");
    assert!(t.transitions[0].by.is_empty());
    let t = parse_yaml(&with_line(
        22,
        "    by: a\n    on_breach: { feed: fridge-1, threshold: cold }",
    ))
    .unwrap();
    let b = t.transitions[0].on_breach.as_ref().unwrap();
    assert_eq!(
        b.feed,
        NameRef::Literal(weft_types::Name::new("fridge-1").unwrap())
    );
    assert_eq!(t.transitions[0].by.len(), 1, "others may take it too");
    // Round trip through the on-chain and JSON forms.
    let bytes = borsh::to_vec(&t).unwrap();
    assert_eq!(borsh::from_slice::<Template>(&bytes).unwrap(), t);
    let json = serde_json::to_string(&t).unwrap();
    assert_eq!(serde_json::from_str::<Template>(&json).unwrap(), t);
}

#[test]
fn on_breach_feed_of_the_wrong_type() {
    let e = rejected(
        &with_line(22, "    on_breach: { feed: $amt, threshold: cold }"),
        Kind::BadOnBreach,
        22,
    );
    assert_eq!(e.path, "transitions[0].on_breach.feed");
    assert_eq!(e.column, 24, "points at `$amt`");
    assert!(e.message.contains("string"), "{}", e.message);
}

#[test]
fn on_breach_feed_of_an_unknown_parameter() {
    let e = rejected(
        &with_line(22, "    on_breach: { feed: $logger, threshold: cold }"),
        Kind::UnknownParameter,
        22,
    );
    assert_eq!(e.path, "transitions[0].on_breach.feed");
}

#[test]
fn on_breach_with_inputs_approvals_or_auto() {
    let e = rejected(
        &with_line(
            22,
            "    on_breach: { feed: $note, threshold: cold }\n    inputs: { level: int }",
        ),
        Kind::BadOnBreach,
        23,
    );
    assert_eq!(e.path, "transitions[0].inputs");
    let e = rejected(
        &with_line(
            22,
            "    by: a\n    on_breach: { feed: $note, threshold: cold }\n    approvals: { k: 1, of: [b] }",
        ),
        Kind::BadOnBreach,
        24,
    );
    assert_eq!(e.path, "transitions[0].approvals");
    let e = rejected(
        &with_line(
            22,
            "    auto: true\n    on_breach: { feed: $note, threshold: cold }",
        ),
        Kind::BadOnBreach,
        22,
    );
    assert_eq!((e.path.as_str(), e.column), ("transitions[0].auto", 11));
    let e = rejected(
        &with_line(
            22,
            "    once_per_account: true\n    on_breach: { feed: $note, threshold: cold }",
        ),
        Kind::BadOnBreach,
        22,
    );
    assert_eq!(e.path, "transitions[0].once_per_account");
}

#[test]
fn on_breach_with_an_unknown_key_or_a_bad_threshold() {
    let e = rejected(
        &with_line(
            22,
            "    on_breach: { feed: $note, threshold: cold, when: now }",
        ),
        Kind::Schema,
        22,
    );
    assert!(e.message.contains("when"), "{}", e.message);
    rejected(
        &with_line(22, "    on_breach: { feed: $note, threshold: Cold }"),
        Kind::Schema,
        22,
    );
    // Without `on_breach` (or `auto`), `by` is still required (reported at the transition).
    let e = rejected(&with_line(22, "    guard: \"true\""), Kind::Schema, 19);
    assert_eq!(e.path, "transitions[0].by");
}
