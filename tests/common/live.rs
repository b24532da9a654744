//! Live capture for the tests: `wsscope print -i IFACE -f "tcp port PORT"` started,
//! waited for until it captures, and stopped with Ctrl-C (SIGINT).
//!
//! Capture needs CAP_NET_RAW (root in CI). Without it, wsscope must say so in one line
//! with the `setcap` remedy and exit 1: [`start`] checks exactly that and returns None.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running capture: wsscope, and its stderr read to the end by a thread.
pub struct Capture {
    pub child: Child,
    stderr: JoinHandle<String>,
}

/// Starts `wsscope print -i IFACE -f "tcp port PORT" ARGS...` with SSLKEYLOGFILE
/// removed from its environment (and `env` set, if given), and waits until it says it
/// is capturing. None when capture is not permitted here (the error checked instead).
pub fn start(iface: &str, port: u16, args: &[&str], env: Option<(&str, &Path)>) -> Option<Capture> {
    let filter = format!("tcp port {port}");
    let mut cmd = super::wsscope();
    cmd.env_remove("SSLKEYLOGFILE");
    if let Some((k, v)) = env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .args(["print", "-i", iface, "-f", &filter])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wsscope");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    // The SSLKEYLOGFILE line may come before or after the capture's (the capture is
    // opened first): lines until the one that says whether the capture started.
    let line = loop {
        let mut line = String::new();
        err.read_line(&mut line).expect("read stderr");
        seen.push_str(&line);
        if line.is_empty() || !line.contains("SSLKEYLOGFILE") {
            break line;
        }
        assert!(env.is_some(), "{line}");
    };
    if line.contains("permission denied") {
        assert!(
            line.contains("setcap cap_net_raw,cap_net_admin=eip"),
            "{line}"
        );
        assert_eq!(child.wait().unwrap().code(), Some(1));
        eprintln!("live capture not permitted here; checked the error instead: {line}");
        return None;
    }
    assert!(
        line.contains(&format!("capturing on {iface}")),
        "unexpected first line: {line}"
    );
    let stderr = std::thread::spawn(move || {
        let _ = err.read_to_string(&mut seen);
        seen
    });
    Some(Capture { child, stderr })
}

impl Capture {
    /// Ctrl-C (SIGINT), which must end wsscope within 5 s; then its stdout and stderr.
    pub fn stop(self) -> (String, String) {
        let pid = self.child.id().to_string();
        let started = Instant::now();
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill -INT");
        let out = self.output();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "Ctrl-C took too long"
        );
        out
    }

    /// Ctrl-C, then the NDJSON events it wrote (`print --json`).
    pub fn stop_events(self) -> Vec<Value> {
        ndjson(&self.stop().0)
    }

    /// Reads stdout to its end and waits for wsscope, which must succeed; its stdout
    /// and stderr.
    pub fn output(self) -> (String, String) {
        let Capture { mut child, stderr } = self;
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "wsscope exited with {status:?}");
        (out, stderr.join().unwrap())
    }
}

/// NDJSON lines, parsed.
pub fn ndjson(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON"))
        .collect()
}
