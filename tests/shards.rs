//! `stats` of a file runs on two decoding threads (connections shared by their IP
//! addresses, rows put back in order): it must write exactly what one pipeline
//! (`WSSCOPE_DECODERS=1`) writes, on every capture within the bounds, and be the same
//! run after run when the memory budget or the flow table is pressed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::stats_decoders as stats;

/// The connection rows of `stats` (table or `--json`) come in connection order.
fn rows_in_order(o: &Output) -> bool {
    let conns: Vec<u64> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| {
            if l.starts_with('{') {
                let r: serde_json::Value = serde_json::from_str(l).ok()?;
                r.get("stream")
                    .is_none()
                    .then(|| r["conn"].as_u64())
                    .flatten()
            } else {
                l.split_whitespace().next()?.parse().ok()
            }
        })
        .collect();
    !conns.is_empty() && conns.windows(2).all(|w| w[0] < w[1])
}

/// Every capture the tests read: the project's, the shared real ones, the apps', the
/// hostile ones, and the wss ones (with their key logs).
fn captures() -> Vec<(PathBuf, Vec<String>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = common::shared_dir();
    let mut v: Vec<(PathBuf, Vec<String>)> = Vec::new();
    for dir in [
        root.join("captures"),
        root.join("captures/hostile"),
        shared.clone(),
        shared.with_file_name("captures-apps"),
    ] {
        v.extend(
            common::captures_in(&dir)
                .into_iter()
                .map(|p| (p, Vec::new())),
        );
    }
    for p in common::captures_in(&shared.with_file_name("captures-tls")) {
        let keylog = p.with_extension("keylog");
        let extra = if keylog.exists() {
            vec![
                "--keylog".to_string(),
                keylog.to_string_lossy().into_owned(),
            ]
        } else {
            Vec::new()
        };
        v.push((p, extra));
    }
    v
}

#[test]
fn two_decoding_threads_write_what_one_pipeline_writes() {
    let caps = captures();
    assert!(caps.len() > 40, "captures missing: {}", caps.len());
    let mut differ = Vec::new();
    let mut pressed_caps = 0;
    for (cap, extra) in &caps {
        for json in [false, true] {
            let mut args: Vec<&str> = extra.iter().map(String::as_str).collect();
            if json {
                args.push("--json");
            }
            let one = stats(cap, &args, true);
            let two = stats(cap, &args, false);
            // A capture that presses the budget or the flow table (a decoding thread
            // holds a share of each) may end other connections early (and which ones,
            // under the budget, varies from run to run with one pipeline too: the flow
            // table's hash is seeded at random, and its room is counted): then every
            // row still comes, in order.
            let pressed = |o: &Output| {
                let e = String::from_utf8_lossy(&o.stderr);
                e.contains("--max-memory") || e.contains("--max-flows")
            };
            if pressed(&one) || pressed(&two) {
                if !two.status.success() || !rows_in_order(&two) {
                    differ.push(format!("{} {args:?} (pressed)", cap.display()));
                }
                pressed_caps += 1;
                continue;
            }
            if (one.status.code(), &one.stdout, &one.stderr)
                != (two.status.code(), &two.stdout, &two.stderr)
            {
                differ.push(format!("{} {args:?}", cap.display()));
            }
        }
    }
    assert!(differ.is_empty(), "differ: {differ:#?}");
    // Only the hostile captures built to exceed the bounds.
    assert!(pressed_caps <= 8, "{pressed_caps} runs pressed the bounds");
}

/// With a flow table of 2 (half of it each thread's), which connections end early can
/// differ from one pipeline's, but the rows are the same from run to run, in order.
#[test]
fn a_pressed_flow_table_gives_the_same_rows_every_run() {
    let shared = common::shared_dir();
    let caps = [
        Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/compare-polling-vs-websocket.pcap"),
        shared
            .with_file_name("captures-apps")
            .join("socketio_polling_upgrade.pcap"),
    ];
    for cap in caps.iter().filter(|c| c.exists()) {
        let args = ["--json", "--max-flows", "2"];
        let first = stats(cap, &args, false);
        assert!(
            first.status.success(),
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        for _ in 0..3 {
            let again = stats(cap, &args, false);
            assert_eq!(again.stdout, first.stdout, "{}", cap.display());
            assert_eq!(again.stderr, first.stderr, "{}", cap.display());
        }
        let conns: Vec<u64> = String::from_utf8_lossy(&first.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|r| r.get("stream").is_none())
            .filter_map(|r| r["conn"].as_u64())
            .collect();
        // Connections ended early come back as new ones (mid-stream): more rows than
        // connections, each its own number, in order.
        assert!(!conns.is_empty(), "{}", cap.display());
        assert!(
            conns.windows(2).all(|w| w[0] < w[1]),
            "{}: {conns:?}",
            cap.display()
        );
    }
}

/// `-c N` stops where one pipeline stops: damage after packet N is not reported, the
/// connections still open are ended the same way.
#[test]
fn a_count_stops_both_the_same() {
    let own = common::own_captures();
    let damaged: Vec<&PathBuf> = own
        .iter()
        .filter(|p| p.to_string_lossy().contains("damaged"))
        .collect();
    assert!(!damaged.is_empty());
    for cap in damaged.into_iter().chain(own.iter().take(5)) {
        for n in ["1", "3", "10"] {
            let one = stats(cap, &["-c", n], true);
            let two = stats(cap, &["-c", n], false);
            assert_eq!(
                (one.status.code(), &one.stdout, &one.stderr),
                (two.status.code(), &two.stdout, &two.stderr),
                "{} -c {n}",
                cap.display()
            );
        }
    }
}
