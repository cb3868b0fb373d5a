//! Transition guards: CEL expressions (the `cel` crate) compiled once and evaluated against
//! integer, unsigned, text, boolean and timestamp variables.
//!
//! Guards are pure and deterministic. Compilation refuses what could make two nodes differ
//! or bring floating point in: double literals and the `double()` conversion, map literals
//! and comprehension macros (`all`, `exists`, `map`, `filter`…, which would iterate the
//! interpreter's unordered maps), and any variable that is not declared. Inputs carry no
//! floats by construction. The interpreter is called behind `catch_unwind`, so a defect in
//! it refuses the guard instead of stopping the node.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
};

use cel::{
    Context, Env, Program, Value,
    common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue},
};
use serde::{Serialize, Serializer, ser::Error as _};

use super::template::{TemplateErrorKind, limits};

/// Variables every guard may use besides the template's parameters and the transition's
/// inputs. `count` maps each transition name to how many distinct accounts took it.
pub const BUILTIN_VARIABLES: [&str; 4] = ["instance", "state", "now", "count"];

/// Why a guard could not be compiled or evaluated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error("guard is {0} bytes, more than the {max} allowed", max = limits::MAX_GUARD_BYTES)]
    TooLong(usize),
    #[error("guard does not compile: {0}")]
    Syntax(String),
    #[error("guard uses floating point ({0}); guards use integers only")]
    Float(String),
    #[error("guard uses {0}, which is not allowed in guards")]
    Unsupported(String),
    #[error(
        "guard refers to `{0}`, which is not a parameter, an input, `instance`, `state`, `now` \
         or `count`"
    )]
    UnknownVariable(String),
    #[error("guard counts `{0}`, which is not a transition of this template")]
    UnknownCounter(String),
    #[error("guard input `{0}` cannot be given to CEL: {1}")]
    BadInput(String, String),
    #[error("guard failed: {0}")]
    Evaluation(String),
    #[error("guard evaluated to {0}, not a bool")]
    NotBool(String),
}

impl GuardError {
    /// The template validation error kind for a compile-time failure.
    pub const fn kind(&self) -> TemplateErrorKind {
        match self {
            Self::TooLong(_) => TemplateErrorKind::TooLarge,
            Self::Float(_) => TemplateErrorKind::GuardFloat,
            Self::UnknownVariable(_) => TemplateErrorKind::GuardUnknownVariable,
            Self::UnknownCounter(_) => TemplateErrorKind::UnknownTransition,
            _ => TemplateErrorKind::GuardSyntax,
        }
    }
}

/// A value given to a guard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GuardValue {
    Int(i64),
    UInt(u64),
    Bool(bool),
    Str(String),
    /// Unix milliseconds; an int in CEL, comparable with `now`.
    Timestamp(u64),
    /// Read by key only (`instance.parties.beneficiary`): guards cannot iterate maps.
    Map(BTreeMap<String, GuardValue>),
    List(Vec<GuardValue>),
}

impl GuardValue {
    /// A token amount: a CEL uint when it fits in 64 bits.
    pub fn amount(amount: u128) -> Result<Self, GuardError> {
        u64::try_from(amount).map(Self::UInt).map_err(|_| {
            GuardError::BadInput(
                amount.to_string(),
                "amounts above 2^64-1 do not fit a CEL uint".into(),
            )
        })
    }
}

impl Serialize for GuardValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Int(i) => s.serialize_i64(*i),
            Self::UInt(u) => s.serialize_u64(*u),
            Self::Bool(b) => s.serialize_bool(*b),
            Self::Str(t) => s.serialize_str(t),
            Self::Timestamp(ms) => {
                let ms = i64::try_from(*ms).map_err(|_| S::Error::custom("timestamp too large"))?;
                s.serialize_i64(ms)
            }
            Self::Map(m) => s.collect_map(m),
            Self::List(l) => s.collect_seq(l),
        }
    }
}

/// A compiled guard.
pub struct Guard {
    source: String,
    env: Arc<Env>,
    program: Program,
    /// The variables the expression reads, so callers build only those.
    uses: BTreeSet<String>,
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Guard {
    /// Compiles `source`, allowing the variables in `parameters` and the built-ins.
    pub fn compile(source: &str, parameters: &BTreeSet<&str>) -> Result<Self, GuardError> {
        Self::compile_in(source, parameters, None)
    }

    /// Compiles `source` like [`Guard::compile`]; when `transitions` is given, the fields read
    /// from `count` by name (`count.sign`, `count['sign']`) must be among them.
    pub fn compile_in(
        source: &str,
        parameters: &BTreeSet<&str>,
        transitions: Option<&BTreeSet<&str>>,
    ) -> Result<Self, GuardError> {
        if source.len() > limits::MAX_GUARD_BYTES {
            return Err(GuardError::TooLong(source.len()));
        }
        let env = standard_env();
        let compiled = catch_unwind(AssertUnwindSafe(|| env.compile(source)))
            .map_err(|_| GuardError::Syntax("the CEL parser failed on this input".into()))?;
        let program = compiled.map_err(|e| GuardError::Syntax(one_line(&e.to_string())))?;
        let mut walk = Walk {
            parameters,
            transitions,
            scope: Vec::new(),
            uses: BTreeSet::new(),
        };
        walk.check(program.expression())?;
        let uses = walk.uses;
        Ok(Self {
            source: source.to_string(),
            env,
            program,
            uses,
        })
    }

    /// Whether the expression reads the variable `name`.
    pub fn uses(&self, name: &str) -> bool {
        self.uses.contains(name)
    }

    /// The guard's source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the guard with `variables`; the result must be a bool.
    pub fn evaluate(&self, variables: &BTreeMap<String, GuardValue>) -> Result<bool, GuardError> {
        let mut context = Context::with_env(Arc::clone(&self.env));
        for (name, value) in variables {
            let v = cel::to_value(value)
                .map_err(|e| GuardError::BadInput(name.clone(), e.to_string()))?;
            context
                .add_variable(name.as_str(), v)
                .map_err(|e| GuardError::BadInput(name.clone(), format!("{e:?}")))?;
        }
        let result = catch_unwind(AssertUnwindSafe(|| self.program.execute(&context)))
            .map_err(|_| GuardError::Evaluation("the CEL interpreter failed".into()))?;
        match result {
            Ok(Value::Bool(b)) => Ok(b),
            Ok(other) => Err(GuardError::NotBool(format!("{:?}", other.type_of()))),
            Err(e) => Err(GuardError::Evaluation(e.to_string())),
        }
    }
}

/// The CEL standard environment, built once: it is immutable after construction and building
/// it is the costliest part of compiling a guard.
fn standard_env() -> Arc<Env> {
    static ENV: std::sync::OnceLock<Arc<Env>> = std::sync::OnceLock::new();
    Arc::clone(ENV.get_or_init(|| Arc::new(Env::stdlib())))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Walks the AST: no floats, no map literals or comprehensions, only known variables, and
/// only known transitions counted; records the variables read.
struct Walk<'p> {
    parameters: &'p BTreeSet<&'p str>,
    transitions: Option<&'p BTreeSet<&'p str>>,
    scope: Vec<String>,
    uses: BTreeSet<String>,
}

impl Walk<'_> {
    fn counter(&self, field: &str) -> Result<(), GuardError> {
        match self.transitions {
            Some(known) if !known.contains(field) => {
                Err(GuardError::UnknownCounter(field.to_owned()))
            }
            _ => Ok(()),
        }
    }

    fn is_count(e: &IdedExpr) -> bool {
        matches!(&e.expr, Expr::Ident(n) if n == "count")
    }

    fn check(&mut self, e: &IdedExpr) -> Result<(), GuardError> {
        match &e.expr {
            Expr::Unspecified => Ok(()),
            Expr::Literal(LiteralValue::Double(_)) => {
                Err(GuardError::Float("a floating-point literal".into()))
            }
            Expr::Literal(_) => Ok(()),
            Expr::Ident(name) => {
                if name.starts_with('@') || self.scope.iter().any(|s| s == name) {
                    Ok(())
                } else if self.parameters.contains(name.as_str())
                    || BUILTIN_VARIABLES.contains(&name.as_str())
                {
                    self.uses.insert(name.clone());
                    Ok(())
                } else {
                    Err(GuardError::UnknownVariable(name.clone()))
                }
            }
            Expr::Call(call) => {
                if call.func_name == "double" {
                    return Err(GuardError::Float("the double() conversion".into()));
                }
                if call.func_name == "_[_]"
                    && let [target, index] = call.args.as_slice()
                    && Self::is_count(target)
                    && let Expr::Literal(LiteralValue::String(field)) = &index.expr
                {
                    self.counter(field.inner())?;
                }
                if let Some(target) = &call.target {
                    self.check(target)?;
                }
                call.args.iter().try_for_each(|a| self.check(a))
            }
            Expr::Select(select) => {
                if Self::is_count(&select.operand) {
                    self.counter(&select.field)?;
                }
                self.check(&select.operand)
            }
            Expr::List(list) => list.elements.iter().try_for_each(|a| self.check(a)),
            Expr::Map(_) => Err(GuardError::Unsupported("a map literal".into())),
            Expr::Struct(s) => {
                for entry in &s.entries {
                    if let EntryExpr::StructField(field) = &entry.expr {
                        self.check(&field.value)?;
                    }
                }
                Err(GuardError::Unsupported(format!(
                    "a `{}` message",
                    s.type_name
                )))
            }
            Expr::Comprehension(_) => Err(GuardError::Unsupported(
                "a comprehension macro (all, exists, exists_one, map, filter)".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> BTreeSet<&'static str> {
        ["amount", "limit", "expiry", "flag", "who"].into()
    }

    fn vars(pairs: &[(&str, GuardValue)]) -> BTreeMap<String, GuardValue> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn comparisons_and_timestamps() {
        let g = Guard::compile("amount <= limit && now < expiry", &params()).unwrap();
        let mut v = vars(&[
            ("amount", GuardValue::Int(5)),
            ("limit", GuardValue::Int(10)),
            ("expiry", GuardValue::Timestamp(2_000)),
            ("now", GuardValue::Timestamp(1_000)),
        ]);
        assert_eq!(g.evaluate(&v), Ok(true));
        v.insert("now".into(), GuardValue::Timestamp(3_000));
        assert_eq!(g.evaluate(&v), Ok(false));
    }

    #[test]
    fn maps_are_read_by_key() {
        let g = Guard::compile("instance.parties.applicant == who", &params()).unwrap();
        let parties =
            GuardValue::Map([("applicant".to_string(), GuardValue::Str("a1".into()))].into());
        let instance = GuardValue::Map([("parties".to_string(), parties)].into());
        let v = vars(&[
            ("instance", instance),
            ("who", GuardValue::Str("a1".into())),
        ]);
        assert_eq!(g.evaluate(&v), Ok(true));
    }

    #[test]
    fn refusals() {
        let p = params();
        assert!(matches!(
            Guard::compile("amount > 1.5", &p),
            Err(GuardError::Float(_))
        ));
        assert!(matches!(
            Guard::compile("double(amount) > 1", &p),
            Err(GuardError::Float(_))
        ));
        assert!(matches!(
            Guard::compile("[1, 2].all(x, x > 0)", &p),
            Err(GuardError::Unsupported(_))
        ));
        assert!(matches!(
            Guard::compile("{'a': 1}['a'] == 1", &p),
            Err(GuardError::Unsupported(_))
        ));
        assert!(matches!(
            Guard::compile("balance > 1", &p),
            Err(GuardError::UnknownVariable(v)) if v == "balance"
        ));
        assert!(matches!(
            Guard::compile("amount >", &p),
            Err(GuardError::Syntax(_))
        ));
    }
}
