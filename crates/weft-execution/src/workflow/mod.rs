//! Workflow templates: a use-case lifecycle as data (DESIGN §6).
//!
//! This part holds the template *model* ([`template`]), its YAML front end with line and
//! column for every error ([`parse`]), the deterministic validation run when a template is
//! deployed ([`validate`]) and the CEL guard helper ([`guard`]). Instances are executed by
//! the workflow module (`modules/workflow.rs`).

pub mod guard;
pub mod parse;
pub mod template;
pub mod validate;

pub use guard::{Guard, GuardError, GuardValue};
pub use parse::{SourceMap, load_yaml, parse_yaml};
pub use template::{
    AmountRef, Approvals, Deadline, Effect, NameRef, OnBreach, ParamRef, ParamType, PartyRef,
    RoleSpec, State, Template, TemplateError, TemplateErrorKind, Transition, ValueRef, Visibility,
    limits,
};
pub use validate::{Issue, validate};
