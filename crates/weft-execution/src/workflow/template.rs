//! The template model: roles, parameters, states, transitions (with approvals, guards,
//! deadlines and typed effects) and visibility.
//!
//! Serde gives the YAML/JSON form (see `docs/templates.md`); borsh gives the on-chain form.
//! Only ordered collections are used, so the encoding is canonical.

use std::collections::BTreeMap;
use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};
use weft_types::Name;

/// Bounds on a template, checked by validation (and by the parser for the source size).
pub mod limits {
    /// Most bytes of template source the parser reads.
    pub const MAX_SOURCE_BYTES: usize = 256 * 1024;
    /// Deepest nesting of YAML collections the parser accepts.
    pub const MAX_DEPTH: usize = 32;
    pub const MAX_STATES: usize = 64;
    pub const MAX_TRANSITIONS: usize = 128;
    pub const MAX_ROLES: usize = 32;
    pub const MAX_PARAMETERS: usize = 64;
    /// Most effects on one transition.
    pub const MAX_EFFECTS: usize = 16;
    /// Most bytes of one guard expression.
    pub const MAX_GUARD_BYTES: usize = 1024;
    /// Most bytes of a title, a description or any other free text.
    pub const MAX_TEXT_BYTES: usize = 4096;
    /// Most typed inputs one transition declares.
    pub const MAX_INPUTS: usize = 16;
    /// Most accounts bound to one role of an instance (at creation and by grants).
    pub const MAX_ROLE_ACCOUNTS: usize = 64;
    /// Most automatic transitions that fire after one transition lands, so a transaction
    /// always terminates whatever the template's guards say.
    pub const MAX_AUTO_STEPS: usize = 8;
}

/// A lifecycle template. Instances bind accounts to its roles and values to its parameters
/// when they are created, and keep the `version` they started with.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub id: Name,
    pub version: u32,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Role name → what the role is for and who may hold it.
    pub roles: BTreeMap<Name, RoleSpec>,
    /// Parameter name → its type. Parameter names are CEL identifiers.
    #[serde(default)]
    pub parameters: BTreeMap<Name, ParamType>,
    pub states: Vec<State>,
    pub transitions: Vec<Transition>,
    pub visibility: Visibility,
}

/// A role: bound to accounts per instance (at creation, then by `grant`/`revoke` effects),
/// or open to every registered account that holds a ledger role.
///
/// Written as its description alone (`owner: The project owner`) or as a mapping
/// (`signer: { description: ..., open_to: citizen }`).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct RoleSpec {
    pub description: String,
    /// When set, any registered account holding this ledger role holds the template role;
    /// nobody is bound to it.
    pub open_to: Option<Name>,
    /// May be bound to no account when the instance is created (filled later by `grant`).
    pub optional: bool,
}

impl RoleSpec {
    /// Whether the role is open to holders of a ledger role rather than bound.
    pub const fn is_open(&self) -> bool {
        self.open_to.is_some()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    open_to: Option<Name>,
    #[serde(default, skip_serializing_if = "is_false")]
    optional: bool,
}

impl Serialize for RoleSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.open_to.is_none() && !self.optional {
            return s.serialize_str(&self.description);
        }
        RawRole {
            description: self.description.clone(),
            open_to: self.open_to.clone(),
            optional: self.optional,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for RoleSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RoleSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a role description (text) or a mapping with `description`, `open_to` \
                     and `optional`",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RoleSpec, E> {
                Ok(RoleSpec {
                    description: v.to_owned(),
                    ..RoleSpec::default()
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RoleSpec, A::Error> {
                let raw = RawRole::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(RoleSpec {
                    description: raw.description,
                    open_to: raw.open_to,
                    optional: raw.optional,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// The type of a template parameter.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    /// A signed 64-bit integer.
    Int,
    /// UTF-8 text.
    String,
    /// An account id.
    Account,
    Bool,
    /// A token quantity in the token's smallest unit.
    Amount,
    /// A token symbol.
    Token,
    /// A unique asset id.
    Asset,
    /// An anchored document id.
    Document,
    /// Unix milliseconds, compared with the block time `now`.
    Timestamp,
    /// The id of an existing workflow instance: links instances (a subproject to its
    /// project).
    Instance,
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Int => "int",
            Self::String => "string",
            Self::Account => "account",
            Self::Bool => "bool",
            Self::Amount => "amount",
            Self::Token => "token",
            Self::Asset => "asset",
            Self::Document => "document",
            Self::Timestamp => "timestamp",
            Self::Instance => "instance",
        };
        f.write_str(s)
    }
}

/// A lifecycle state.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub name: Name,
    /// Exactly one state is initial: instances start there.
    #[serde(default, skip_serializing_if = "is_false")]
    pub initial: bool,
    /// No transition leaves a final state.
    #[serde(default, rename = "final", skip_serializing_if = "is_false")]
    pub is_final: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
const fn is_false(b: &bool) -> bool {
    !*b
}

/// A step from one of the `from` states to `to`, taken by an account bound to one of the
/// `by` roles, once approvals, guard and deadline allow; its effects apply atomically with it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub name: Name,
    /// Source states: one name or a list.
    #[serde(deserialize_with = "one_or_many")]
    pub from: Vec<Name>,
    pub to: Name,
    /// Roles allowed to take the transition: one name or a list. Empty only for automatic
    /// transitions, which nobody takes.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub by: Vec<Name>,
    /// Typed values the account taking the transition supplies (name → type); guards and
    /// effects see them like parameters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<Name, ParamType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals: Option<Approvals>,
    /// A CEL expression over the parameters, inputs, `instance`, `state`, `now` and
    /// `count`; must be true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Deadline>,
    /// An account may take this transition at most once per instance.
    #[serde(default, skip_serializing_if = "is_false")]
    pub once_per_account: bool,
    /// Taken by the ledger, not by an account: right after another transition lands, the
    /// first automatic transition (in declaration order) leaving the new state whose guard
    /// holds fires.
    #[serde(default, skip_serializing_if = "is_false")]
    pub auto: bool,
    /// Taken by the ledger when a reading first breaches a threshold of a feed, in the
    /// reading's transaction, if the instance is in one of `from`. `by` may then be empty
    /// (only the ledger takes it) or name roles that may also take it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_breach: Option<OnBreach>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub effects: Vec<Effect>,
}

/// The oracle threshold whose first breach fires a transition: `feed` is a feed id or a
/// `$string` parameter holding one.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnBreach {
    pub feed: NameRef,
    pub threshold: Name,
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Name>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        One(Name),
        Many(Vec<Name>),
    }
    match <Repr as Deserialize>::deserialize(d) {
        Ok(Repr::One(n)) => Ok(vec![n]),
        Ok(Repr::Many(v)) => Ok(v),
        Err(_) => Err(D::Error::custom(
            "expected a name ([a-z0-9._-], at most 64 bytes) or a list of names",
        )),
    }
}

/// Who must approve a transition besides the account that takes it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Approvals {
    /// At least `k` distinct accounts bound to the roles in `of` (k-of-n).
    KOfN { k: u32, of: Vec<Name> },
    /// The two-hands rule: an `operator` account initiates and a different `controller`
    /// account confirms.
    TwoHands { operator: Name, controller: Name },
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApprovals {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    of: Option<Vec<Name>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    two_hands: Option<RawTwoHands>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTwoHands {
    operator: Name,
    controller: Name,
}

impl Serialize for Approvals {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw = match self {
            Self::KOfN { k, of } => RawApprovals {
                k: Some(*k),
                of: Some(of.clone()),
                two_hands: None,
            },
            Self::TwoHands {
                operator,
                controller,
            } => RawApprovals {
                k: None,
                of: None,
                two_hands: Some(RawTwoHands {
                    operator: operator.clone(),
                    controller: controller.clone(),
                }),
            },
        };
        raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Approvals {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <RawApprovals as Deserialize>::deserialize(d)?;
        match raw {
            RawApprovals {
                k: Some(k),
                of: Some(of),
                two_hands: None,
            } => Ok(Self::KOfN { k, of }),
            RawApprovals {
                k: None,
                of: None,
                two_hands: Some(t),
            } => Ok(Self::TwoHands {
                operator: t.operator,
                controller: t.controller,
            }),
            _ => Err(D::Error::custom(
                "approvals are either `k` with `of` (k-of-n) or `two_hands`, not both or neither",
            )),
        }
    }
}

/// A deadline against block time: once `now` reaches the timestamp parameter `param`, the
/// transition is no longer allowed and `on_expiry` (a transition leaving the same state)
/// becomes the way out.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    pub param: ParamRef,
    pub on_expiry: Name,
}

/// A reference to a parameter, written `$name` (the `$` is optional where only a parameter
/// can stand).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub struct ParamRef(pub Name);

impl Serialize for ParamRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("${}", self.0))
    }
}

impl<'de> Deserialize<'de> for ParamRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as Deserialize>::deserialize(d)?;
        let name = s.strip_prefix('$').unwrap_or(&s);
        Name::new(name)
            .map(ParamRef)
            .map_err(|_| D::Error::custom(format!("`{s}` is not a parameter reference ($name)")))
    }
}

/// A name given literally (`brl`) or taken from a parameter (`$currency`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum NameRef {
    Literal(Name),
    Param(Name),
}

impl Serialize for NameRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Literal(n) => s.serialize_str(n.as_str()),
            Self::Param(n) => s.serialize_str(&format!("${n}")),
        }
    }
}

impl<'de> Deserialize<'de> for NameRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as Deserialize>::deserialize(d)?;
        let bad = || D::Error::custom(format!("`{s}` is neither a name nor a $parameter"));
        match s.strip_prefix('$') {
            Some(p) => Name::new(p).map(Self::Param).map_err(|_| bad()),
            None => Name::new(s.as_str()).map(Self::Literal).map_err(|_| bad()),
        }
    }
}

/// Whose account an effect uses: the account(s) of a role (`guarantor`) or an `account`
/// parameter or input (`$contractor`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum PartyRef {
    Role(Name),
    Account(Name),
}

impl Serialize for PartyRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Role(n) => s.serialize_str(n.as_str()),
            Self::Account(n) => s.serialize_str(&format!("${n}")),
        }
    }
}

impl<'de> Deserialize<'de> for PartyRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as Deserialize>::deserialize(d)?;
        let bad = || D::Error::custom(format!("`{s}` is neither a role nor an $account"));
        match s.strip_prefix('$') {
            Some(p) => Name::new(p).map(Self::Account).map_err(|_| bad()),
            None => Name::new(s.as_str()).map(Self::Role).map_err(|_| bad()),
        }
    }
}

/// The value a `set` effect gives a parameter: a parameter or input (`$new_amount`) or a
/// literal, written as the parameter's text form (`500`, `true`, `brl`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ValueRef {
    Ref(Name),
    Literal(String),
}

impl Serialize for ValueRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Ref(n) => s.serialize_str(&format!("${n}")),
            Self::Literal(t) => s.serialize_str(t),
        }
    }
}

impl<'de> Deserialize<'de> for ValueRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Bool(bool),
            Int(i64),
            UInt(u64),
            Text(String),
        }
        let bad =
            || D::Error::custom("a value is a $parameter, a $input, an integer, a bool or text");
        Ok(
            match <Repr as Deserialize>::deserialize(d).map_err(|_| bad())? {
                Repr::Bool(b) => Self::Literal(b.to_string()),
                Repr::Int(i) => Self::Literal(i.to_string()),
                Repr::UInt(u) => Self::Literal(u.to_string()),
                Repr::Text(t) => match t.strip_prefix('$') {
                    Some(p) => Name::new(p).map(Self::Ref).map_err(|_| bad())?,
                    None => Self::Literal(t),
                },
            },
        )
    }
}

/// A token quantity given literally (an integer) or taken from a parameter (`$amount`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum AmountRef {
    Literal(u128),
    Param(Name),
}

impl Serialize for AmountRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            // u128 does not fit every JSON reader: literals travel as decimal strings.
            Self::Literal(n) => s.serialize_str(&n.to_string()),
            Self::Param(n) => s.serialize_str(&format!("${n}")),
        }
    }
}

impl<'de> Deserialize<'de> for AmountRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Number(u64),
            Text(String),
        }
        let bad = || D::Error::custom("an amount is a non-negative integer or a $parameter");
        match <Repr as Deserialize>::deserialize(d).map_err(|_| bad())? {
            Repr::Number(n) => Ok(Self::Literal(u128::from(n))),
            Repr::Text(s) => match s.strip_prefix('$') {
                Some(p) => Name::new(p).map(Self::Param).map_err(|_| bad()),
                None if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                    s.parse::<u128>().map(Self::Literal).map_err(|_| bad())
                }
                None => Err(bad()),
            },
        }
    }
}

/// What a transition does besides changing state; all effects of a transition apply
/// atomically with it, or none does. Roles stand for the accounts bound to them.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Effect {
    /// Moves `amount` of `token` from the account of `from` to that of `to`.
    Transfer {
        token: NameRef,
        from: PartyRef,
        to: PartyRef,
        amount: AmountRef,
    },
    /// Puts `amount` of `token` of `from` in escrow for `to`, under the instance-local hold
    /// name `id`.
    Hold {
        id: Name,
        token: NameRef,
        from: PartyRef,
        to: PartyRef,
        amount: AmountRef,
    },
    /// Pays the hold `id` out to its beneficiary.
    ReleaseHold { id: Name },
    /// Returns the hold `id` to its holder.
    CancelHold { id: Name },
    /// Transfers the asset parameter to the account of `to`.
    TransferAsset { asset: ParamRef, to: PartyRef },
    /// Retires the asset parameter (final).
    RetireAsset {
        asset: ParamRef,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        reason: String,
    },
    /// Requires the latest version of the document parameter to be signed by the accounts
    /// bound to every role in `by`.
    RequireDocumentSigned { document: ParamRef, by: Vec<Name> },
    /// Requires that no reading of oracle feed `feed` ever breached its threshold
    /// `threshold` (the oracle module's sticky breach record).
    RequireNotBreached { feed: NameRef, threshold: Name },
    /// Gives the instance parameter `param` a new value (an input, another parameter of the
    /// same type, or a literal).
    Set { param: ParamRef, value: ValueRef },
    /// Adds `value` to the `amount` or `int` parameter `param` (checked: overflow refuses
    /// the transition); e.g. a running total of disbursements.
    Add { param: ParamRef, value: ValueRef },
    /// Binds `account` (an `$account` parameter or input, or the account of a role) to
    /// `role` in this instance.
    Grant { role: Name, account: PartyRef },
    /// Unbinds `account` from `role` in this instance.
    Revoke { role: Name, account: PartyRef },
    /// Requires `account` to hold `role` in this instance (bound to it, or, for an open
    /// role, holding its ledger role): e.g. that a payee passed KYC.
    RequireRole { role: Name, account: PartyRef },
    /// Creates `amount` new units of `token` on the account of `to`. Only for a token whose
    /// `controller` is this template (and this instance was created by the token's issuer).
    Mint {
        token: NameRef,
        to: PartyRef,
        amount: AmountRef,
    },
    /// Destroys `amount` units of `token` held by the account of `from`, who must sign. Only
    /// for a token whose `controller` is this template, as `mint`.
    Burn {
        token: NameRef,
        from: PartyRef,
        amount: AmountRef,
    },
}

impl Effect {
    /// The effect's key in the template source.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Transfer { .. } => "transfer",
            Self::Hold { .. } => "hold",
            Self::ReleaseHold { .. } => "release_hold",
            Self::CancelHold { .. } => "cancel_hold",
            Self::TransferAsset { .. } => "transfer_asset",
            Self::RetireAsset { .. } => "retire_asset",
            Self::RequireDocumentSigned { .. } => "require_document_signed",
            Self::RequireNotBreached { .. } => "require_not_breached",
            Self::Set { .. } => "set",
            Self::Add { .. } => "add",
            Self::Grant { .. } => "grant",
            Self::Revoke { .. } => "revoke",
            Self::RequireRole { .. } => "require_role",
            Self::Mint { .. } => "mint",
            Self::Burn { .. } => "burn",
        }
    }
}

/// Who may read an instance: the accounts bound to `roles`, or everyone when `public`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Visibility {
    #[serde(default)]
    pub roles: Vec<Name>,
    #[serde(default)]
    pub public: bool,
}

/// What is wrong with a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateErrorKind {
    /// Not well-formed YAML.
    Syntax,
    /// YAML features templates do not use: aliases, tags, several documents.
    UnsupportedYaml,
    /// A key appears twice in one mapping.
    DuplicateKey,
    /// A floating-point number: templates use integers only.
    FloatNotAllowed,
    /// Well-formed YAML that does not have the template's shape: a missing or unknown key,
    /// a value of the wrong kind, a malformed name.
    Schema,
    /// Over one of the [`limits`].
    TooLarge,
    /// Two states, transitions or holds share a name, or a list names one thing twice.
    DuplicateName,
    /// A parameter name that is not a CEL identifier or is reserved.
    BadName,
    UnknownRole,
    UnknownState,
    UnknownParameter,
    UnknownTransition,
    /// `release_hold`/`cancel_hold` of a hold no `hold` effect creates.
    UnknownHold,
    NoInitialState,
    SeveralInitialStates,
    NoFinalState,
    /// Not reachable from the initial state.
    UnreachableState,
    TransitionFromFinalState,
    /// A parameter or literal of the wrong type for where it is used.
    TypeError,
    /// k-of-n with k outside 1..=n, or an empty or repeated `of`.
    BadApprovals,
    /// Two-hands with the same role as operator and controller.
    TwoHandsSameRole,
    /// The guard does not parse as CEL.
    GuardSyntax,
    /// The guard uses a floating-point literal or conversion.
    GuardFloat,
    /// The guard names a variable that is not a parameter, `instance`, `state` or `now`.
    GuardUnknownVariable,
    /// The deadline's `on_expiry` does not leave any state the transition leaves, or is
    /// automatic.
    BadDeadline,
    /// An automatic transition with something only a taken transition has: `by`, `inputs`,
    /// `approvals`, a `deadline` or `once_per_account`.
    BadAuto,
    /// Automatic transitions without guards that could fire one another for ever.
    AutoCycle,
    /// An `on_breach` transition with something the ledger cannot supply (`inputs`,
    /// `approvals`, a `deadline`, `once_per_account`) or that is also `auto`, or whose feed is
    /// not a `string` parameter.
    BadOnBreach,
    /// An open role used where only bound roles make sense (`grant`, `revoke`, `optional`).
    OpenRoleBinding,
}

/// One problem with a template, with where it is: `path` in the template's structure
/// (`transitions[2].to`) and, when the template came from source, the 1-based `line` and
/// `column` of the offending node (0 when unknown).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{line}:{column}: {message} (at {path}; {kind:?})")]
pub struct TemplateError {
    pub kind: TemplateErrorKind,
    pub message: String,
    pub path: String,
    pub line: usize,
    pub column: usize,
}
