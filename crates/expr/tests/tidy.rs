//! Tidy checks for this crate's sources: every file opens with a `//!` doc comment saying what
//! it is, and no source uses `unsafe`, `dbg!` or `.unwrap()`/`.expect(` on data.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("readable source dir")
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
        let in_src = name.starts_with("src");
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
            if in_src && let Some(b) = banned.iter().find(|b| code.contains(*b)) {
                problems.push(format!("{name}:{}: `{b}` in library code", n + 1));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
