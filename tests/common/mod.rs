//! Helpers shared by the integration tests: running the binary, finding captures.
#![allow(dead_code)]

pub mod live;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The wsscope binary built for these tests.
pub fn wsscope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsscope"))
}

/// Runs wsscope with `args`, returning its output.
pub fn run(args: &[&str]) -> Output {
    wsscope().args(args).output().expect("run wsscope")
}

/// `wsscope stats ARGS -r FILE` with one pipeline (`WSSCOPE_DECODERS=1`) when `one`,
/// else as by default (two decoding threads where there are two cores).
pub fn stats_decoders(file: &Path, args: &[&str], one: bool) -> Output {
    let mut c = wsscope();
    c.env_remove("SSLKEYLOGFILE").arg("stats").args(args);
    c.arg("-r").arg(file);
    if one {
        c.env("WSSCOPE_DECODERS", "1");
    } else {
        c.env_remove("WSSCOPE_DECODERS");
    }
    c.output().expect("run wsscope")
}

/// GNU time, which gives a command's peak resident memory (`%M`, KiB).
pub const TIME: &str = "/usr/bin/time";

/// Runs wsscope under `/usr/bin/time -f %M`: its output and its peak RSS in KiB, or
/// None where GNU time is missing (said on stderr; the run still happens).
pub fn run_with_peak(args: &[&str]) -> (Output, Option<u64>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    if !Path::new(TIME).exists() {
        eprintln!("note: {TIME} is missing: peak memory not measured");
        return (run(args), None);
    }
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let tmp = std::env::temp_dir().join(format!(
        "wsscope-peak-{}-{}.time",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    let out = Command::new(TIME)
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&tmp)
        .arg(env!("CARGO_BIN_EXE_wsscope"))
        .args(args)
        .output()
        .expect("run /usr/bin/time wsscope");
    let kb = std::fs::read_to_string(&tmp)
        .ok()
        .and_then(|s| s.lines().last().and_then(|l| l.trim().parse().ok()));
    let _ = std::fs::remove_file(&tmp);
    (out, kb)
}

/// The project's own captures.
pub fn own_captures() -> Vec<PathBuf> {
    captures_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("captures"))
}

/// `../shared/captures`: real captures from other software, with tshark's view beside them.
/// (`../../shared` too, for a git worktree one level further down.)
pub fn shared_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let near = root.join("../shared/captures");
    if near.is_dir() {
        return near;
    }
    root.join("../../shared/captures")
}

/// The captures in `dir`, sorted by name.
pub fn captures_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    n.ends_with(".pcap") || n.ends_with(".pcapng")
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `print --json` of a capture, parsed.
pub fn events(path: &Path) -> Vec<serde_json::Value> {
    events_with(path, &[])
}

/// `print --json` of a capture with more arguments (e.g. `--keylog K`), parsed.
pub fn events_with(path: &Path, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["print", "--json", "-r", path.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    let out = wsscope()
        .env_remove("SSLKEYLOGFILE")
        .args(&args)
        .output()
        .expect("run wsscope");
    assert!(
        out.status.success(),
        "wsscope print --json -r {} {extra:?} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad NDJSON line {l:?}: {e}")))
        .collect()
}
