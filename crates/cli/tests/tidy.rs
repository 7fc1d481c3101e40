//! Tidy checks: code invariants that ARCHITECTURE.md states, checked by a test so they stay
//! true (house style point 15).

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
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

fn crate_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(workspace().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_source_file_opens_with_a_module_doc_and_has_no_dbg() {
    let mut problems = Vec::new();
    for dir in crate_dirs() {
        let mut files = Vec::new();
        for sub in ["src", "tests"] {
            if dir.join(sub).is_dir() {
                rust_files(&dir.join(sub), &mut files);
            }
        }
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            if !text.trim_start().starts_with("//!") {
                problems.push(format!(
                    "{}: does not open with a //! doc comment",
                    file.display()
                ));
            }
            let in_src = file.components().any(|c| c.as_os_str() == "src");
            if in_src && text.contains(concat!("dbg", "!(")) {
                problems.push(format!("{}: contains dbg!", file.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The direct dependencies named in a crate's `[dependencies]` table.
fn dependencies(crate_dir: &str) -> Vec<String> {
    let manifest = std::fs::read_to_string(
        workspace()
            .join("crates")
            .join(crate_dir)
            .join("Cargo.toml"),
    )
    .unwrap();
    let section = manifest.split("[dependencies]").nth(1).unwrap_or_default();
    let section = section.split("\n[").next().unwrap_or_default();
    section
        .lines()
        .filter_map(|line| line.split(['.', '=', ' ']).next())
        .filter(|name| !name.is_empty() && !name.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_core_does_no_io_and_arrows_point_inward() {
    let banned_in_core = [
        "tokio",
        "tokio-util",
        "reqwest",
        "axum",
        "hyper",
        "rusqlite",
        "sqlx",
        "async-trait",
        "uuid",
    ];
    let outer = [
        "hookflow-store",
        "hookflow-store-sqlite",
        "hookflow-runtime",
        "hookflow-server",
        "hookflow-api",
    ];
    let mut problems = Vec::new();
    for core in ["expr", "model", "engine"] {
        for dependency in dependencies(core) {
            if banned_in_core.contains(&dependency.as_str()) || outer.contains(&dependency.as_str())
            {
                problems.push(format!("crates/{core} depends on {dependency}"));
            }
        }
    }
    for dependency in dependencies("store") {
        if ["hookflow-runtime", "hookflow-server", "rusqlite"].contains(&dependency.as_str()) {
            problems.push(format!("crates/store depends on {dependency}"));
        }
    }
    if dependencies("api")
        .iter()
        .any(|d| d.starts_with("hookflow-"))
    {
        problems.push(
            "crates/api depends on an internal crate: it must stay a plain wire-format crate"
                .into(),
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn only_the_server_knows_axum_among_the_libraries() {
    for library in [
        "expr",
        "model",
        "engine",
        "store",
        "store-sqlite",
        "runtime",
        "api",
    ] {
        assert!(
            !dependencies(library).contains(&"axum".to_owned()),
            "crates/{library} depends on axum"
        );
    }
}
