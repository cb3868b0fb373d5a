//! A guard on the executor's sources: nothing that could make two nodes compute different
//! state from the same blocks may appear in them — unordered collections, clocks, floats,
//! randomness, or I/O. Comments are ignored; a genuine need must change this list on purpose.

use std::path::Path;

const FORBIDDEN: &[(&str, &str)] = &[
    (
        "HashMap",
        "iteration order differs between processes; use BTreeMap",
    ),
    (
        "HashSet",
        "iteration order differs between processes; use BTreeSet",
    ),
    ("SystemTime", "execution sees only the block timestamp"),
    ("Instant", "execution sees only the block timestamp"),
    ("f32", "no floating point in execution"),
    ("f64", "no floating point in execution"),
    ("rand::", "no randomness in execution"),
    ("getrandom", "no randomness in execution"),
    ("std::fs", "execution does no I/O"),
    ("std::net", "execution does no I/O"),
    ("tokio", "execution is synchronous and pure"),
    ("thread::spawn", "execution is single-threaded per block"),
];

/// Whether `code` uses `token` as a whole identifier (`f64`, not `buf64`).
fn mentions(code: &str, token: &str) -> bool {
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    code.match_indices(token).any(|(i, _)| {
        let before = code[..i].chars().last();
        let after = code[i + token.len()..].chars().next();
        !ident(before) && (token.ends_with(':') || !ident(after))
    })
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn execution_sources_use_nothing_nondeterministic() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        files.len() >= 5,
        "expected the executor's sources under {}",
        src.display()
    );
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (token, why) in FORBIDDEN {
                if mentions(code, token) {
                    found.push(format!("{}:{}: `{token}` — {why}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "nondeterminism risks in execution:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_guard_catches_what_it_should() {
    // The same matcher, on lines that must and must not trip it.
    let trips = |line: &str| FORBIDDEN.iter().any(|(token, _)| mentions(line, token));
    assert!(trips("let m: HashMap<u8, u8> = HashMap::new();"));
    assert!(trips("let x = 1.5f64 as u64;") || trips("let x: f64 = 1.5;"));
    assert!(trips("let now = SystemTime::now();"));
    assert!(!trips("let buf64 = BTreeMap::new();"));
    assert!(!trips("let instantaneous = 3;"));
}
