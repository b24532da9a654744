//! The two file readers agree: pcap-parser (the default, faster) and libpcap
//! (`WSSCOPE_READER=libpcap`, also the live reader and the BPF engine) give the same
//! events on every shipped capture, the hostile ones included.

mod common;

use std::path::{Path, PathBuf};

fn all_captures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = common::shared_dir();
    let mut v = Vec::new();
    for d in [
        root.join("captures"),
        root.join("captures/hostile"),
        shared.clone(),
        shared.join("../captures-apps"),
        shared.join("../captures-tls"),
    ] {
        v.extend(common::captures_in(&d));
    }
    v
}

fn run(path: &Path, reader: Option<&str>) -> (Vec<u8>, String) {
    let mut cmd = common::wsscope();
    cmd.env_remove("SSLKEYLOGFILE");
    if let Some(r) = reader {
        cmd.env("WSSCOPE_READER", r);
    }
    let out = cmd
        .args(["print", "--json", "-r", path.to_str().unwrap()])
        .output()
        .unwrap();
    (
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn pcap_parser_and_libpcap_read_every_capture_alike() {
    let caps = all_captures();
    assert!(caps.len() >= 40, "{} captures", caps.len());
    let mut differ = Vec::new();
    for cap in &caps {
        let (fast, fast_err) = run(cap, None);
        let (slow, slow_err) = run(cap, Some("libpcap"));
        if fast != slow {
            differ.push(cap.display().to_string());
        }
        // Damage is reported at the same packet (the words of the reason differ).
        let at = |e: &str| {
            e.lines()
                .find(|l| l.contains("damaged after packet"))
                .map(|l| l.split('(').next().unwrap_or("").to_string())
        };
        assert_eq!(at(&fast_err), at(&slow_err), "{}", cap.display());
    }
    assert!(differ.is_empty(), "the readers differ on {differ:?}");
}
