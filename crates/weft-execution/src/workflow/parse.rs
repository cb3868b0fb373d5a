//! YAML front end: reads template source into the model and remembers where every node was
//! written, so that parse and validation errors point at a line and column.
//!
//! YAML events (from `yaml-rust2`) are folded into a JSON value, recording the position of
//! each node under its path (`transitions[2].to`); the value is then deserialized with
//! serde, whose error path (via `serde_path_to_error`) finds the position again. The
//! scalar rules are strict and portable: plain `true`/`false`, `null`/`~`, and decimal
//! integers are typed; quoted scalars are always text; floating-point numbers, aliases and
//! tags are refused.

use std::collections::BTreeMap;

use yaml_rust2::{
    parser::{Event, Parser},
    scanner::{Marker, TScalarStyle},
};

use super::{
    template::{Template, TemplateError, TemplateErrorKind as Kind, limits},
    validate::validate,
};

/// A 1-based line and column in template source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    fn of(m: Marker) -> Self {
        // yaml-rust2 counts lines from 1 and columns from 0.
        Self {
            line: m.line(),
            column: m.col() + 1,
        }
    }
}

/// Where each node of a template was written, by path (`transitions[2].to`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceMap {
    values: BTreeMap<String, Pos>,
    keys: BTreeMap<String, Pos>,
}

impl SourceMap {
    /// The position of the value at `path`, or of its nearest recorded ancestor.
    pub fn value(&self, path: &str) -> Option<Pos> {
        let mut p = path;
        loop {
            if let Some(pos) = self.values.get(p) {
                return Some(*pos);
            }
            p = parent(p)?;
        }
    }

    /// The position of the mapping key that introduces `path` (a role or parameter name),
    /// else that of its value.
    pub fn key(&self, path: &str) -> Option<Pos> {
        self.keys.get(path).copied().or_else(|| self.value(path))
    }

    /// Turns validation issues into located errors.
    pub fn locate(&self, issues: Vec<super::Issue>) -> Vec<TemplateError> {
        let mut errors: Vec<TemplateError> = issues
            .into_iter()
            .map(|i| {
                let pos = if i.at_key {
                    self.key(&i.path)
                } else {
                    self.value(&i.path)
                }
                .unwrap_or_default();
                TemplateError {
                    kind: i.kind,
                    message: i.message,
                    path: i.path,
                    line: pos.line,
                    column: pos.column,
                }
            })
            .collect();
        // Stable: issues at one position keep the order validation found them in.
        errors.sort_by_key(|e| (e.line, e.column));
        errors
    }
}

/// The path one level up: `a.b[2]` → `a.b` → `a` → `` → none.
fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

fn child_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Reads and validates a template: the form used when deploying. Errors are sorted by
/// position; the first is the first problem in the source.
pub fn parse_yaml(source: &str) -> Result<Template, Vec<TemplateError>> {
    let (template, map) = load_yaml(source).map_err(|e| vec![e])?;
    let issues = validate(&template);
    if issues.is_empty() {
        Ok(template)
    } else {
        Err(map.locate(issues))
    }
}

/// Reads a template without validating it, with the positions of its nodes.
pub fn load_yaml(source: &str) -> Result<(Template, SourceMap), TemplateError> {
    if source.len() > limits::MAX_SOURCE_BYTES {
        return Err(err(
            Kind::TooLarge,
            format!(
                "template source is {} bytes, more than the {} allowed",
                source.len(),
                limits::MAX_SOURCE_BYTES
            ),
            "",
            Pos { line: 1, column: 1 },
        ));
    }
    let (value, map) = read_tree(source)?;
    let template: Template = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = serde_path(e.path());
        let pos = map.value(&path).unwrap_or(Pos { line: 1, column: 1 });
        err(Kind::Schema, e.inner().to_string(), &path, pos)
    })?;
    Ok((template, map))
}

fn err(kind: Kind, message: impl Into<String>, path: &str, pos: Pos) -> TemplateError {
    TemplateError {
        kind,
        message: message.into(),
        path: path.to_string(),
        line: pos.line,
        column: pos.column,
    }
}

fn serde_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => out = child_key(&out, key),
            Segment::Enum { variant } => out = child_key(&out, variant),
            Segment::Unknown => break,
        }
    }
    out
}

/// A collection being read.
enum Frame {
    Seq {
        path: String,
        items: Vec<serde_json::Value>,
    },
    Map {
        path: String,
        entries: serde_json::Map<String, serde_json::Value>,
        /// The key whose value comes next.
        key: Option<String>,
    },
}

/// Folds the YAML events of `source` into a JSON value and the positions of its nodes.
fn read_tree(source: &str) -> Result<(serde_json::Value, SourceMap), TemplateError> {
    let mut parser = Parser::new_from_str(source);
    let mut map = SourceMap::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<serde_json::Value> = None;
    let mut documents = 0usize;
    loop {
        let (event, mark) = parser.next_token().map_err(|e| {
            let pos = Pos::of(*e.marker());
            err(Kind::Syntax, e.info().to_string(), "", pos)
        })?;
        let pos = Pos::of(mark);
        // The path of the node this event starts, or `None` when it is a mapping key.
        let node_path = |stack: &[Frame]| -> Option<String> {
            match stack.last() {
                None => Some(String::new()),
                Some(Frame::Seq { path, items }) => Some(format!("{path}[{}]", items.len())),
                Some(Frame::Map { path, key, .. }) => key.as_ref().map(|k| child_key(path, k)),
            }
        };
        match event {
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => {}
            Event::StreamEnd => break,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(err(
                        Kind::UnsupportedYaml,
                        "a template is a single YAML document",
                        "",
                        pos,
                    ));
                }
            }
            Event::Alias(_) => {
                return Err(err(
                    Kind::UnsupportedYaml,
                    "aliases (*name) are not used in templates",
                    node_path(&stack).as_deref().unwrap_or(""),
                    pos,
                ));
            }
            Event::Scalar(text, style, _anchor, tag) => {
                if tag.is_some() {
                    return Err(err(
                        Kind::UnsupportedYaml,
                        "tags (!name) are not used in templates",
                        "",
                        pos,
                    ));
                }
                match node_path(&stack) {
                    None => {
                        // A mapping key.
                        let Some(Frame::Map { path, entries, key }) = stack.last_mut() else {
                            return Err(err(Kind::Syntax, "unexpected key", "", pos));
                        };
                        let full = child_key(path, &text);
                        if entries.contains_key(&text) {
                            return Err(err(
                                Kind::DuplicateKey,
                                format!("key `{text}` appears twice in this mapping"),
                                &full,
                                pos,
                            ));
                        }
                        map.keys.insert(full, pos);
                        *key = Some(text);
                    }
                    Some(path) => {
                        let value = scalar(&text, style)
                            .map_err(|m| err(Kind::FloatNotAllowed, m, &path, pos))?;
                        map.values.insert(path, pos);
                        attach(&mut stack, &mut root, value);
                    }
                }
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                let Some(path) = node_path(&stack) else {
                    return Err(err(
                        Kind::UnsupportedYaml,
                        "mapping keys must be plain text",
                        "",
                        pos,
                    ));
                };
                if stack.len() >= limits::MAX_DEPTH {
                    return Err(err(
                        Kind::TooLarge,
                        format!("nested deeper than {} levels", limits::MAX_DEPTH),
                        &path,
                        pos,
                    ));
                }
                map.values.insert(path.clone(), pos);
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        path,
                        items: Vec::new(),
                    }
                } else {
                    Frame::Map {
                        path,
                        entries: serde_json::Map::new(),
                        key: None,
                    }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let value = match stack.pop() {
                    Some(Frame::Seq { items, .. }) => serde_json::Value::Array(items),
                    Some(Frame::Map { entries, .. }) => serde_json::Value::Object(entries),
                    None => return Err(err(Kind::Syntax, "unbalanced collection", "", pos)),
                };
                attach(&mut stack, &mut root, value);
            }
        }
    }
    match root {
        Some(v) => Ok((v, map)),
        None => Err(err(
            Kind::Schema,
            "empty template",
            "",
            Pos { line: 1, column: 1 },
        )),
    }
}

/// Adds a finished node to its parent, or makes it the root.
fn attach(stack: &mut [Frame], root: &mut Option<serde_json::Value>, value: serde_json::Value) {
    match stack.last_mut() {
        None => *root = Some(value),
        Some(Frame::Seq { items, .. }) => items.push(value),
        Some(Frame::Map { entries, key, .. }) => {
            if let Some(k) = key.take() {
                entries.insert(k, value);
            }
        }
    }
}

/// Types a scalar. Only plain scalars are typed; floats are refused.
fn scalar(text: &str, style: TScalarStyle) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    if style != TScalarStyle::Plain {
        return Ok(Value::String(text.to_string()));
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        "true" | "True" | "TRUE" => return Ok(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Ok(Value::Bool(false)),
        _ => {}
    }
    if is_integer(text) {
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = text.parse::<u64>() {
            return Ok(Value::from(u));
        }
        // Larger than 64 bits: kept as its digits (an amount literal may be that large).
        return Ok(Value::String(text.to_string()));
    }
    if looks_like_float(text) {
        return Err(format!(
            "`{text}` is a floating-point number; templates use integers (quote it for text)"
        ));
    }
    Ok(Value::String(text.to_string()))
}

fn is_integer(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// YAML 1.2 core-schema floats: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
/// and the infinities and NaN.
fn looks_like_float(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if matches!(
        body.to_ascii_lowercase().as_str(),
        ".inf" | ".nan" | "inf" | "nan" | "infinity"
    ) {
        return true;
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (!int.is_empty() || !frac.is_empty())
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(is_integer);
    mantissa_ok && exponent_ok && (exponent.is_some() || mantissa.contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_recognised() {
        for f in [
            "1.5", "-0.5", ".5", "1e3", "1.", "+2E-4", ".inf", "-.Inf", ".NaN",
        ] {
            assert!(looks_like_float(f), "{f}");
        }
        for s in ["1", "abc", "1.2.3", "e3", ".", "v1.0", "1e", "-"] {
            assert!(!looks_like_float(s), "{s}");
        }
    }

    #[test]
    fn parents() {
        assert_eq!(parent("a.b[2].c"), Some("a.b[2]"));
        assert_eq!(parent("a.b[2]"), Some("a.b"));
        assert_eq!(parent("a"), Some(""));
        assert_eq!(parent(""), None);
    }
}
