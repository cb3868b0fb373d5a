//! Workflow templates: a use-case lifecycle as data (DESIGN §6).
//!
//! This part holds the template *model* ([`template`]), its YAML front end with line and
//! column for every error ([`parse`]), the deterministic validation run when a template is
//! deployed ([`validate`]) and the CEL guard helper ([`guard`]). The state machine that
//! executes instances, its operations and API come later.

pub mod guard;
pub mod parse;
pub mod template;
pub mod validate;

pub use guard::{Guard, GuardError, GuardValue};
pub use parse::{SourceMap, load_yaml, parse_yaml};
pub use template::{
    AmountRef, Approvals, Deadline, Effect, NameRef, ParamRef, ParamType, State, Template,
    TemplateError, TemplateErrorKind, Transition, Visibility, limits,
};
pub use validate::{Issue, validate};
