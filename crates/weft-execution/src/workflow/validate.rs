//! Deploy-time validation: pure and deterministic, on the model alone (so it runs the same
//! on a template decoded from a transaction as on one read from YAML). Each issue names the
//! path of the offending node; [`super::SourceMap::locate`] turns paths into lines.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use weft_types::{AccountId, Name};

use super::{
    guard::{BUILTIN_VARIABLES, Guard},
    template::{
        AmountRef, Approvals, Effect, NameRef, ParamRef, ParamType, PartyRef, Template,
        TemplateErrorKind as Kind, ValueRef, limits,
    },
};

/// One problem found by validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    pub kind: Kind,
    pub message: String,
    /// Where: `transitions[2].to`, `roles.observer`…
    pub path: String,
    /// Whether the problem is the mapping key at `path` (a role or parameter name) rather
    /// than its value.
    pub at_key: bool,
}

/// CEL keywords and reserved words, which cannot name a parameter.
const CEL_RESERVED: [&str; 21] = [
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

struct Checker<'t> {
    t: &'t Template,
    issues: Vec<Issue>,
    states: BTreeSet<&'t Name>,
    transitions: BTreeMap<&'t Name, usize>,
    /// The inputs of the transition being checked: `$name` may refer to them too.
    inputs: Option<&'t BTreeMap<Name, ParamType>>,
}

impl Checker<'_> {
    fn push(&mut self, kind: Kind, path: String, message: String) {
        self.issues.push(Issue {
            kind,
            message,
            path,
            at_key: false,
        });
    }

    fn role(&mut self, role: &Name, path: String) {
        if !self.t.roles.contains_key(role) {
            self.push(
                Kind::UnknownRole,
                path,
                format!("`{role}` is not a role of this template"),
            );
        }
    }

    fn roles(&mut self, roles: &[Name], path: &str) {
        let mut seen = BTreeSet::new();
        for (j, r) in roles.iter().enumerate() {
            self.role(r, format!("{path}[{j}]"));
            if !seen.insert(r) {
                self.push(
                    Kind::DuplicateName,
                    format!("{path}[{j}]"),
                    format!("role `{r}` is listed twice"),
                );
            }
        }
    }

    /// Checks that the role exists and is not open (it has bindings to change).
    fn bound_role(&mut self, role: &Name, path: String) {
        match self.t.roles.get(role) {
            None => self.role(role, path),
            Some(spec) if spec.is_open() => self.push(
                Kind::OpenRoleBinding,
                path,
                format!(
                    "`{role}` is open to every holder of a ledger role: it has no accounts to \
                     grant or revoke"
                ),
            ),
            Some(_) => {}
        }
    }

    fn party_ref(&mut self, r: &PartyRef, path: String) {
        match r {
            PartyRef::Role(role) => self.role(role, path),
            PartyRef::Account(p) => self.param(p, &[ParamType::Account], path, "an account"),
        }
    }

    /// The type of `$p`: a parameter, or an input of the transition being checked.
    fn type_of(&self, p: &Name) -> Option<ParamType> {
        self.t
            .parameters
            .get(p)
            .or_else(|| self.inputs.and_then(|i| i.get(p)))
            .copied()
    }

    /// Checks that parameter (or input) `p` exists and has one of `types`.
    fn param(&mut self, p: &Name, types: &[ParamType], path: String, what: &str) {
        match self.type_of(p).as_ref() {
            None => self.push(
                Kind::UnknownParameter,
                path,
                if self.inputs.is_some_and(|i| !i.is_empty()) {
                    format!(
                        "`${p}` is neither a parameter of this template nor an input of this \
                         transition"
                    )
                } else {
                    format!("`${p}` is not a parameter of this template")
                },
            ),
            Some(ty) if !types.contains(ty) => {
                let want: Vec<String> = types.iter().map(ToString::to_string).collect();
                self.push(
                    Kind::TypeError,
                    path,
                    format!(
                        "{what} must be a parameter of type {}; `${p}` is {ty}",
                        want.join(" or ")
                    ),
                );
            }
            Some(_) => {}
        }
    }

    fn name_ref(&mut self, r: &NameRef, ty: ParamType, path: String, what: &str) {
        if let NameRef::Param(p) = r {
            self.param(p, &[ty], path, what);
        }
    }

    fn amount_ref(&mut self, r: &AmountRef, path: String) {
        if let AmountRef::Param(p) = r {
            self.param(p, &[ParamType::Amount, ParamType::Int], path, "an amount");
        }
    }

    fn param_ref(&mut self, r: &ParamRef, ty: ParamType, path: String, what: &str) {
        self.param(&r.0, &[ty], path, what);
    }
}

/// Validates `t`; an empty list means it may be deployed. Issues come in a fixed order for
/// a given template.
pub fn validate(t: &Template) -> Vec<Issue> {
    let mut c = Checker {
        t,
        issues: Vec::new(),
        states: BTreeSet::new(),
        transitions: BTreeMap::new(),
        inputs: None,
    };
    if !limits_hold(&mut c) {
        // Bounded work: an oversized template is refused before anything costly.
        return c.issues;
    }

    // Parameters: CEL identifiers, not reserved.
    for name in t.parameters.keys() {
        if !is_variable_name(name) {
            c.issues.push(Issue {
                kind: Kind::BadName,
                message: format!(
                    "parameter `{name}` must be an identifier ([a-z_][a-z0-9_]*) and not a \
                     CEL keyword, `instance`, `state`, `now` or `count`"
                ),
                path: format!("parameters.{name}"),
                at_key: true,
            });
        }
    }

    // Roles: an open role is never bound, so it cannot be optional either.
    for (name, spec) in &t.roles {
        if spec.is_open() && spec.optional {
            c.push(
                Kind::OpenRoleBinding,
                format!("roles.{name}.optional"),
                format!(
                    "`{name}` is open to a ledger role: no account is bound to it, so it cannot \
                     be optional"
                ),
            );
        }
    }

    // States.
    let mut initial = Vec::new();
    for (i, s) in t.states.iter().enumerate() {
        if !c.states.insert(&s.name) {
            c.push(
                Kind::DuplicateName,
                format!("states[{i}].name"),
                format!("state `{}` is declared twice", s.name),
            );
        }
        if s.initial {
            initial.push(i);
        }
    }
    match initial.as_slice() {
        [] => c.push(
            Kind::NoInitialState,
            "states".into(),
            "no state is marked `initial: true`".into(),
        ),
        [_] => {}
        [first, rest @ ..] => {
            for i in rest {
                let message = format!(
                    "state `{}` is initial, but so is `{}`; exactly one state is initial",
                    t.states[*i].name, t.states[*first].name
                );
                c.push(
                    Kind::SeveralInitialStates,
                    format!("states[{i}].initial"),
                    message,
                );
            }
        }
    }
    if !t.states.iter().any(|s| s.is_final) {
        c.push(
            Kind::NoFinalState,
            "states".into(),
            "no state is marked `final: true`".into(),
        );
    }
    let finals: BTreeSet<&Name> = t
        .states
        .iter()
        .filter(|s| s.is_final)
        .map(|s| &s.name)
        .collect();

    // Transitions: names first, so `on_expiry` can refer forward.
    for (i, tr) in t.transitions.iter().enumerate() {
        if c.transitions.insert(&tr.name, i).is_some() {
            c.push(
                Kind::DuplicateName,
                format!("transitions[{i}].name"),
                format!("transition `{}` is declared twice", tr.name),
            );
        }
    }
    let holds: BTreeSet<&Name> = t
        .transitions
        .iter()
        .flat_map(|tr| &tr.effects)
        .filter_map(|e| match e {
            Effect::Hold { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    let param_names: BTreeSet<&str> = t.parameters.keys().map(Name::as_str).collect();
    let transition_names: BTreeSet<&str> = t.transitions.iter().map(|x| x.name.as_str()).collect();
    let mut dangling = false;
    for (i, tr) in t.transitions.iter().enumerate() {
        let at = format!("transitions[{i}]");
        c.inputs = None;
        for name in tr.inputs.keys() {
            if !is_variable_name(name) {
                c.issues.push(Issue {
                    kind: Kind::BadName,
                    message: format!(
                        "input `{name}` must be an identifier ([a-z_][a-z0-9_]*) and not a CEL \
                         keyword, `instance`, `state`, `now` or `count`"
                    ),
                    path: format!("{at}.inputs.{name}"),
                    at_key: true,
                });
            } else if t.parameters.contains_key(name) {
                c.issues.push(Issue {
                    kind: Kind::DuplicateName,
                    message: format!(
                        "input `{name}` has the name of a parameter; `${name}` would be ambiguous"
                    ),
                    path: format!("{at}.inputs.{name}"),
                    at_key: true,
                });
            }
        }
        if tr.auto {
            let mut not_auto = |present: bool, key: &str, what: &str| {
                if present {
                    c.push(
                        Kind::BadAuto,
                        format!("{at}.{key}"),
                        format!(
                            "`{}` is automatic: nobody takes it, so it has no {what}",
                            tr.name
                        ),
                    );
                }
            };
            not_auto(!tr.by.is_empty(), "by", "`by` roles");
            not_auto(!tr.inputs.is_empty(), "inputs", "inputs");
            not_auto(tr.approvals.is_some(), "approvals", "approvals");
            not_auto(tr.deadline.is_some(), "deadline", "deadline");
            not_auto(
                tr.once_per_account,
                "once_per_account",
                "once-per-account rule",
            );
        }
        if let Some(b) = &tr.on_breach {
            on_breach(&mut c, tr, b, &at);
        }
        if tr.from.is_empty() {
            c.push(
                Kind::Schema,
                format!("{at}.from"),
                "`from` names no state".into(),
            );
        }
        let mut seen = BTreeSet::new();
        for (j, f) in tr.from.iter().enumerate() {
            let path = format!("{at}.from[{j}]");
            if !c.states.contains(f) {
                dangling = true;
                c.push(
                    Kind::UnknownState,
                    path,
                    format!("`from` names `{f}`, which is not a state"),
                );
            } else if finals.contains(f) {
                c.push(
                    Kind::TransitionFromFinalState,
                    path,
                    format!("`{f}` is final: no transition may leave it"),
                );
            } else if !seen.insert(f) {
                c.push(
                    Kind::DuplicateName,
                    path,
                    format!("`from` names `{f}` twice"),
                );
            }
        }
        if !c.states.contains(&tr.to) {
            dangling = true;
            c.push(
                Kind::UnknownState,
                format!("{at}.to"),
                format!("`to` names `{}`, which is not a state", tr.to),
            );
        }
        if tr.by.is_empty() && !tr.auto && tr.on_breach.is_none() {
            c.push(
                Kind::Schema,
                format!("{at}.by"),
                "`by` names no role (only an `auto: true` or `on_breach` transition has none)"
                    .into(),
            );
        }
        c.roles(&tr.by, &format!("{at}.by"));

        match &tr.approvals {
            None => {}
            Some(Approvals::KOfN { k, of }) => {
                let path = format!("{at}.approvals.of");
                c.roles(of, &path);
                let n = of.len();
                if *k == 0 || usize::try_from(*k).map_or(true, |k| k > n) {
                    c.push(
                        Kind::BadApprovals,
                        format!("{at}.approvals.k"),
                        format!("k-of-n needs 1 <= k <= n; here k = {k}, n = {n}"),
                    );
                }
            }
            Some(Approvals::TwoHands {
                operator,
                controller,
            }) => {
                let path = format!("{at}.approvals.two_hands");
                c.role(operator, format!("{path}.operator"));
                c.role(controller, format!("{path}.controller"));
                if operator == controller {
                    c.push(
                        Kind::TwoHandsSameRole,
                        format!("{path}.controller"),
                        format!(
                            "two hands needs two different roles; `{operator}` is both operator \
                             and controller"
                        ),
                    );
                }
            }
        }

        if let Some(src) = &tr.guard {
            let mut names = param_names.clone();
            names.extend(tr.inputs.keys().map(Name::as_str));
            if let Err(e) = Guard::compile_in(src, &names, Some(&transition_names)) {
                c.push(e.kind(), format!("{at}.guard"), e.to_string());
            }
        }

        if let Some(d) = &tr.deadline {
            c.param_ref(
                &d.param,
                ParamType::Timestamp,
                format!("{at}.deadline.param"),
                "a deadline",
            );
            match c.transitions.get(&d.on_expiry).copied() {
                None => c.push(
                    Kind::UnknownTransition,
                    format!("{at}.deadline.on_expiry"),
                    format!("`{}` is not a transition of this template", d.on_expiry),
                ),
                Some(k) if k == i => c.push(
                    Kind::BadDeadline,
                    format!("{at}.deadline.on_expiry"),
                    "a transition cannot be its own expiry".into(),
                ),
                Some(k) if t.transitions[k].auto => c.push(
                    Kind::BadDeadline,
                    format!("{at}.deadline.on_expiry"),
                    format!(
                        "`{}` is automatic: nobody can take it as the way out",
                        d.on_expiry
                    ),
                ),
                Some(k) => {
                    let other = &t.transitions[k];
                    if !other.from.iter().any(|f| tr.from.contains(f)) {
                        c.push(
                            Kind::BadDeadline,
                            format!("{at}.deadline.on_expiry"),
                            format!(
                                "`{}` leaves none of the states `{}` leaves",
                                other.name, tr.name
                            ),
                        );
                    }
                }
            }
        }

        c.inputs = Some(&tr.inputs);
        for (j, e) in tr.effects.iter().enumerate() {
            let at = format!("{at}.effects[{j}].{}", e.kind());
            match e {
                Effect::Transfer {
                    token,
                    from,
                    to,
                    amount,
                } => {
                    c.name_ref(token, ParamType::Token, format!("{at}.token"), "a token");
                    c.party_ref(from, format!("{at}.from"));
                    c.party_ref(to, format!("{at}.to"));
                    c.amount_ref(amount, format!("{at}.amount"));
                }
                Effect::Hold {
                    token,
                    from,
                    to,
                    amount,
                    ..
                } => {
                    c.name_ref(token, ParamType::Token, format!("{at}.token"), "a token");
                    c.party_ref(from, format!("{at}.from"));
                    c.party_ref(to, format!("{at}.to"));
                    c.amount_ref(amount, format!("{at}.amount"));
                }
                Effect::ReleaseHold { id } | Effect::CancelHold { id } => {
                    if !holds.contains(id) {
                        c.push(
                            Kind::UnknownHold,
                            format!("{at}.id"),
                            format!("no `hold` effect of this template creates hold `{id}`"),
                        );
                    }
                }
                Effect::TransferAsset { asset, to } => {
                    c.param_ref(asset, ParamType::Asset, format!("{at}.asset"), "an asset");
                    c.party_ref(to, format!("{at}.to"));
                }
                Effect::RetireAsset { asset, reason } => {
                    c.param_ref(asset, ParamType::Asset, format!("{at}.asset"), "an asset");
                    text(&mut c, reason, format!("{at}.reason"));
                }
                Effect::RequireDocumentSigned { document, by } => {
                    c.param_ref(
                        document,
                        ParamType::Document,
                        format!("{at}.document"),
                        "a document",
                    );
                    if by.is_empty() {
                        c.push(
                            Kind::Schema,
                            format!("{at}.by"),
                            "`by` names no role".into(),
                        );
                    }
                    c.roles(by, &format!("{at}.by"));
                }
                Effect::RequireNotBreached { feed, .. } => {
                    c.name_ref(feed, ParamType::String, format!("{at}.feed"), "a feed");
                }
                Effect::Set { param, value } => {
                    let target = &param.0;
                    match t.parameters.get(target).copied() {
                        None => c.push(
                            Kind::UnknownParameter,
                            format!("{at}.param"),
                            format!("`set` changes parameters; `{target}` is not one"),
                        ),
                        Some(ty) => match value {
                            ValueRef::Ref(r) => {
                                c.param(r, &[ty], format!("{at}.value"), "the new value");
                            }
                            ValueRef::Literal(text) => {
                                if !literal_fits(ty, text) {
                                    c.push(
                                        Kind::TypeError,
                                        format!("{at}.value"),
                                        format!("`{text}` is not a valid {ty} for `{target}`"),
                                    );
                                }
                            }
                        },
                    }
                }
                Effect::Add { param, value } => {
                    let target = &param.0;
                    match t.parameters.get(target).copied() {
                        None => c.push(
                            Kind::UnknownParameter,
                            format!("{at}.param"),
                            format!("`add` changes parameters; `{target}` is not one"),
                        ),
                        Some(ty @ (ParamType::Amount | ParamType::Int)) => match value {
                            ValueRef::Ref(r) => {
                                c.param(r, &[ty], format!("{at}.value"), "the addend")
                            }
                            ValueRef::Literal(text) => {
                                if !literal_fits(ty, text) {
                                    c.push(
                                        Kind::TypeError,
                                        format!("{at}.value"),
                                        format!(
                                            "`{text}` is not a valid {ty} to add to `{target}`"
                                        ),
                                    );
                                }
                            }
                        },
                        Some(ty) => c.push(
                            Kind::TypeError,
                            format!("{at}.param"),
                            format!("`add` needs an amount or int parameter; `{target}` is {ty}"),
                        ),
                    }
                }
                Effect::Grant { role, account } | Effect::Revoke { role, account } => {
                    c.bound_role(role, format!("{at}.role"));
                    c.party_ref(account, format!("{at}.account"));
                }
                Effect::RequireRole { role, account } => {
                    c.role(role, format!("{at}.role"));
                    c.party_ref(account, format!("{at}.account"));
                }
                Effect::Mint { token, to, amount } => {
                    c.name_ref(token, ParamType::Token, format!("{at}.token"), "a token");
                    c.party_ref(to, format!("{at}.to"));
                    c.amount_ref(amount, format!("{at}.amount"));
                }
                Effect::Burn {
                    token,
                    from,
                    amount,
                } => {
                    c.name_ref(token, ParamType::Token, format!("{at}.token"), "a token");
                    c.party_ref(from, format!("{at}.from"));
                    c.amount_ref(amount, format!("{at}.amount"));
                }
            }
        }
        c.inputs = None;
    }

    auto_cycles(&mut c);

    c.roles(&t.visibility.roles, "visibility.roles");
    if !t.visibility.public && t.visibility.roles.is_empty() {
        c.push(
            Kind::Schema,
            "visibility".into(),
            "visibility names no role and is not public: nobody could read an instance".into(),
        );
    }

    // Reachability, once every reference resolves (otherwise it would only echo them).
    if !dangling && let [start] = initial.as_slice() {
        let mut reached = BTreeSet::from([&t.states[*start].name]);
        let mut queue = VecDeque::from([&t.states[*start].name]);
        while let Some(s) = queue.pop_front() {
            for tr in &t.transitions {
                if tr.from.contains(s) && reached.insert(&tr.to) {
                    queue.push_back(&tr.to);
                }
            }
        }
        for (i, s) in t.states.iter().enumerate() {
            if !reached.contains(&s.name) {
                c.push(
                    Kind::UnreachableState,
                    format!("states[{i}].name"),
                    format!(
                        "state `{}` cannot be reached from the initial state `{}`",
                        s.name, t.states[*start].name
                    ),
                );
            }
        }
    }
    c.issues
}

/// Whether `s` may name a parameter or input: a CEL identifier that is neither a keyword nor
/// a built-in variable.
fn is_variable_name(name: &Name) -> bool {
    let s = name.as_str();
    let ident = s
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    ident && !CEL_RESERVED.contains(&s) && !BUILTIN_VARIABLES.contains(&s)
}

/// Whether the literal `text` parses as a value of type `ty` (existence of tokens, assets
/// and documents is checked when the effect runs).
fn literal_fits(ty: ParamType, text: &str) -> bool {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match ty {
        ParamType::Int => text.parse::<i64>().is_ok(),
        ParamType::String => text.len() <= weft_types::limits::MAX_TEXT_BYTES,
        ParamType::Account => text.parse::<AccountId>().is_ok(),
        ParamType::Bool => text == "true" || text == "false",
        ParamType::Amount => digits && text.parse::<u128>().is_ok(),
        ParamType::Timestamp => digits && text.parse::<u64>().is_ok(),
        ParamType::Token | ParamType::Asset | ParamType::Document | ParamType::Instance => {
            Name::new(text).is_ok()
        }
    }
}

/// A transition the ledger takes when a reading breaches a threshold: nobody supplies inputs,
/// approvals or a deadline for it, and its feed is a feed id or a `string` parameter.
fn on_breach(c: &mut Checker<'_>, tr: &super::Transition, b: &super::OnBreach, at: &str) {
    let mut not_here = |present: bool, key: &str, what: &str| {
        if present {
            c.push(
                Kind::BadOnBreach,
                format!("{at}.{key}"),
                format!(
                    "`{}` fires on a breach, when nobody can supply {what}",
                    tr.name
                ),
            );
        }
    };
    not_here(!tr.inputs.is_empty(), "inputs", "inputs");
    not_here(tr.approvals.is_some(), "approvals", "approvals");
    not_here(tr.deadline.is_some(), "deadline", "a deadline");
    not_here(
        tr.once_per_account,
        "once_per_account",
        "a once-per-account taker",
    );
    if tr.auto {
        c.push(
            Kind::BadOnBreach,
            format!("{at}.auto"),
            format!(
                "`{}` fires on a breach; it cannot also be automatic",
                tr.name
            ),
        );
    }
    if let NameRef::Param(p) = &b.feed {
        match c.t.parameters.get(p).copied() {
            None => c.push(
                Kind::UnknownParameter,
                format!("{at}.on_breach.feed"),
                format!("`${p}` is not a parameter of this template"),
            ),
            Some(ParamType::String) => {}
            Some(ty) => c.push(
                Kind::BadOnBreach,
                format!("{at}.on_breach.feed"),
                format!("a watched feed must be a parameter of type string; `${p}` is {ty}"),
            ),
        }
    }
}

/// Automatic transitions without a guard fire whenever their state is entered; if they can
/// lead back to where they started, they would only stop at the step bound. Refused.
fn auto_cycles(c: &mut Checker<'_>) {
    let t = c.t;
    let unguarded: Vec<&super::Transition> = t
        .transitions
        .iter()
        .filter(|x| x.auto && x.guard.is_none())
        .collect();
    for (i, tr) in t.transitions.iter().enumerate() {
        if !tr.auto || tr.guard.is_some() {
            continue;
        }
        // States reachable from `tr.to` through unguarded automatic transitions.
        let mut reached = BTreeSet::from([&tr.to]);
        let mut queue = VecDeque::from([&tr.to]);
        while let Some(s) = queue.pop_front() {
            for u in &unguarded {
                if u.from.contains(s) && reached.insert(&u.to) {
                    queue.push_back(&u.to);
                }
            }
        }
        if let Some(back) = tr.from.iter().find(|f| reached.contains(f)) {
            c.push(
                Kind::AutoCycle,
                format!("transitions[{i}].auto"),
                format!(
                    "`{}` is automatic and unguarded, and unguarded automatic transitions lead \
                     from `{}` back to `{back}`: they would fire one another for ever",
                    tr.name, tr.to
                ),
            );
        }
    }
}

fn text(c: &mut Checker<'_>, s: &str, path: String) {
    if s.len() > limits::MAX_TEXT_BYTES {
        c.push(
            Kind::TooLarge,
            path,
            format!(
                "text of {} bytes, more than {}",
                s.len(),
                limits::MAX_TEXT_BYTES
            ),
        );
    }
}

/// Checks the size limits; false when any is exceeded.
fn limits_hold(c: &mut Checker<'_>) -> bool {
    let t = c.t;
    let before = c.issues.len();
    let mut over = |len: usize, max: usize, path: &str, what: &str| {
        if len > max {
            c.issues.push(Issue {
                kind: Kind::TooLarge,
                message: format!("{len} {what}, more than the {max} allowed"),
                // Point at the first one over the limit where there is a list.
                path: if path == "states" || path == "transitions" || path.ends_with(".effects") {
                    format!("{path}[{max}]")
                } else {
                    path.to_string()
                },
                at_key: false,
            });
        }
    };
    over(t.states.len(), limits::MAX_STATES, "states", "states");
    over(
        t.transitions.len(),
        limits::MAX_TRANSITIONS,
        "transitions",
        "transitions",
    );
    over(t.roles.len(), limits::MAX_ROLES, "roles", "roles");
    over(
        t.parameters.len(),
        limits::MAX_PARAMETERS,
        "parameters",
        "parameters",
    );
    for (i, tr) in t.transitions.iter().enumerate() {
        over(
            tr.effects.len(),
            limits::MAX_EFFECTS,
            &format!("transitions[{i}].effects"),
            "effects",
        );
        if let Some(Approvals::KOfN { of, .. }) = &tr.approvals {
            over(
                of.len(),
                limits::MAX_ROLES,
                &format!("transitions[{i}].approvals.of"),
                "approving roles",
            );
        }
        if let Some(g) = &tr.guard {
            over(
                g.len(),
                limits::MAX_GUARD_BYTES,
                &format!("transitions[{i}].guard"),
                "bytes of guard",
            );
        }
        over(
            tr.inputs.len(),
            limits::MAX_INPUTS,
            &format!("transitions[{i}].inputs"),
            "inputs",
        );
        over(
            tr.by.len() + tr.from.len(),
            limits::MAX_ROLES + limits::MAX_STATES,
            &format!("transitions[{i}]"),
            "roles and states named",
        );
    }
    for (i, s) in t.states.iter().enumerate() {
        over(
            s.description.len(),
            limits::MAX_TEXT_BYTES,
            &format!("states[{i}].description"),
            "bytes of description",
        );
    }
    over(
        t.title.len(),
        limits::MAX_TEXT_BYTES,
        "title",
        "bytes of title",
    );
    over(
        t.description.len(),
        limits::MAX_TEXT_BYTES,
        "description",
        "bytes of description",
    );
    for (name, about) in &t.roles {
        over(
            about.description.len(),
            limits::MAX_TEXT_BYTES,
            &format!("roles.{name}"),
            "bytes of role description",
        );
    }
    over(
        t.visibility.roles.len(),
        limits::MAX_ROLES,
        "visibility.roles",
        "roles",
    );
    c.issues.len() == before
}
