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
    /// Role name → what the role is for.
    pub roles: BTreeMap<Name, String>,
    /// Parameter name → its type. Parameter names are CEL identifiers.
    #[serde(default)]
    pub parameters: BTreeMap<Name, ParamType>,
    pub states: Vec<State>,
    pub transitions: Vec<Transition>,
    pub visibility: Visibility,
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
    /// Roles allowed to take the transition: one name or a list.
    #[serde(deserialize_with = "one_or_many")]
    pub by: Vec<Name>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals: Option<Approvals>,
    /// A CEL expression over the parameters, `instance`, `state` and `now`; must be true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Deadline>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub effects: Vec<Effect>,
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
    /// Moves `amount` of `token` from the account of role `from` to that of role `to`.
    Transfer {
        token: NameRef,
        from: Name,
        to: Name,
        amount: AmountRef,
    },
    /// Puts `amount` of `token` of role `from` in escrow for role `to`, under the
    /// instance-local hold name `id`.
    Hold {
        id: Name,
        token: NameRef,
        from: Name,
        to: Name,
        amount: AmountRef,
    },
    /// Pays the hold `id` out to its beneficiary.
    ReleaseHold { id: Name },
    /// Returns the hold `id` to its holder.
    CancelHold { id: Name },
    /// Transfers the asset parameter to the account of role `to`.
    TransferAsset { asset: ParamRef, to: Name },
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
    /// The deadline's `on_expiry` does not leave any state the transition leaves.
    BadDeadline,
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
