//! The stack's shape, checked on the source: no protocol layer imports the layers
//! above it, the analysis, the views or the binary (their unit-test files aside,
//! which may read events through the contract mapping).

use std::path::Path;

/// The layers, lowest first, and what each must not name.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "wire",
        &[
            "tcp", "stack", "tls", "http", "h2", "ws", "app", "analysis", "output",
        ],
    ),
    (
        "tcp",
        &[
            "stack", "tls", "http", "h2", "ws", "app", "analysis", "output",
        ],
    ),
    (
        "tls",
        &["stack", "http", "h2", "ws", "app", "analysis", "output"],
    ),
    ("http", &["stack", "h2", "app", "analysis", "output"]),
    ("h2", &["stack", "app", "analysis", "output"]),
    ("ws", &["stack", "tls", "h2", "app", "analysis", "output"]),
    ("app", &["stack", "tls", "h2", "analysis", "output"]),
    ("stack", &["analysis", "output"]),
    ("analysis", &["output"]),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_layer_imports_upward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for (layer, above) in LAYERS {
        let mut files = Vec::new();
        rust_files(&src.join(layer), &mut files);
        assert!(!files.is_empty(), "src/{layer}");
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy();
            if name == "tests.rs" || name.ends_with("_tests.rs") || name == "captures.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&f).unwrap();
            // Code before the file's own test module.
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for up in *above {
                if code.contains(&format!("crate::{up}::"))
                    || code.contains(&format!("crate::{up};"))
                {
                    broken.push(format!("{} names crate::{up}", f.display()));
                }
            }
            for view in ["tui", "capture"] {
                if code.contains(&format!("crate::{view}")) {
                    broken.push(format!("{} names the binary's {view}", f.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}
