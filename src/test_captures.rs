//! Unit tests' list of capture files, for the library's tests and the binary's
//! (each compiles this file as its own module; integration tests have
//! `tests/common`).

use std::path::{Path, PathBuf};

/// Every capture file under the project's and the shared capture folders (one
/// of each, sorted).
pub fn capture_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("captures")];
    for shared in [root.join("../shared"), root.join("../../shared")] {
        for sub in ["captures", "captures-apps", "captures-tls"] {
            dirs.push(shared.join(sub));
        }
    }
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "pcap" || e == "pcapng") {
                files.push(p);
            }
        }
    }
    files.sort();
    files.dedup_by(|a, b| a.canonicalize().ok() == b.canonicalize().ok());
    assert!(files.len() >= 40, "captures not found: {files:?}");
    files
}
