//! Tidy checks for this crate (house style 14–15): every source and test file opens with a `//!`
//! comment saying what it is, and library code has no `unsafe`, `dbg!`, `todo!`, `panic!`,
//! `.unwrap()` or `.expect(`: the engine reports problems as data and never stops a step.

use std::path::{Path, PathBuf};

#[test]
fn sources_are_tidy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("tests"), &mut files);
    let mut problems = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable source");
        let name = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        if !text.starts_with("//!") {
            problems.push(format!(
                "{name}: does not start with a `//!` module comment"
            ));
        }
        if !name.starts_with("src") {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let banned = [
                "unsafe ",
                "dbg!(",
                "todo!(",
                ".unwrap()",
                ".expect(",
                "panic!(",
            ];
            if let Some(b) = banned.iter().find(|b| code.contains(*b)) {
                problems.push(format!("{name}:{}: `{b}` in library code", n + 1));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("readable directory")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}
