//! What the handlers under `routes/` may not do: reach the store. A handler parses, calls one use
//! case and shapes the answer; storage is behind the domain's ports.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

/// Where a source text names the store: the store crate, its type, or a `store` field or method
/// (`state.store`, `hub.store()`), each as `file:line: text`. Comments are skipped.
fn store_uses(name: &str, source: &str) -> Vec<String> {
    let mut found = Vec::new();
    // `.store` ending a line counts too: a method chain may break the line after the field.
    for (number, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let named = code.contains("messaging_store")
            || code.contains("Store::")
            || code.contains(": Store")
            || code.contains("<Store")
            || code.match_indices(".store").any(|(at, m)| {
                !code[at + m.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
        if named {
            found.push(format!("{name}:{}: {}", number + 1, line.trim()));
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
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
fn no_handler_names_the_store() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() > 40, "the routes were not found: {files:?}");
    let this = Path::new(file!()).file_name().unwrap();
    let found: Vec<String> = files
        .iter()
        .filter(|path| path.file_name() != Some(this))
        .flat_map(|path| {
            let name = path.strip_prefix(&root).unwrap().display().to_string();
            store_uses(&name, &std::fs::read_to_string(path).unwrap())
        })
        .collect();
    assert!(
        found.is_empty(),
        "handlers reach the store instead of calling a use case:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_finds_every_way_a_handler_could_name_the_store() {
    for (case, source) in [
        (
            "field",
            "let online = state.store.presence_online(id, since).await?;",
        ),
        (
            "chain broken after the field",
            "let users = state\n    .store\n    .users(ids)",
        ),
        ("clone", "let store = state.store.clone();"),
        ("method", "hub.store().presence_leave(i, None)"),
        ("crate", "use messaging_store::audit::AuditFilter;"),
        ("type", "fn f(store: Store) {}"),
        ("path", "Store::connect(url)"),
    ] {
        assert!(!store_uses(case, source).is_empty(), "{case} was missed");
    }
    for (case, source) in [
        (
            "a use case",
            "state.admin.verify_audit_chain(&actor).await?",
        ),
        (
            "a header",
            ".insert_header((header::CACHE_CONTROL, \"private, no-store\"))",
        ),
        ("a domain error", "PeopleError::Store(e) => e.into(),"),
        (
            "a comment",
            "// the store is behind the ports: state.store is not here",
        ),
        ("another field", "state.stored_at"),
    ] {
        assert!(
            store_uses(case, source).is_empty(),
            "{case} was taken for the store"
        );
    }
}
