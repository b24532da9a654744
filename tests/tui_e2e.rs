//! The terminal interface end to end, as a person runs it: the real binary in
//! a real terminal (tmux), keys typed, the screen read back.
//!
//! Each test runs its own tmux server (`tmux -L <socket>`) with
//! `remain-on-exit`, so after the program quits its pane stays: the shell
//! that ran it prints its exit status there, and the terminal modes it left
//! behind (alternate screen, cursor, mouse) can be read from tmux.
//! Without tmux the tests say so and pass; CI installs it.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// What the shell prints after the program, before its exit status.
const EXIT_MARK: &str = "[wsscope exited:";

/// One tmux server with one session running one command.
struct Tmux {
    socket: String,
    session: String,
    conf: std::path::PathBuf,
}

impl Tmux {
    /// False (after saying why) when tmux is not installed.
    fn available() -> bool {
        let ok = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            eprintln!("tmux is not installed: skipping the end-to-end TUI test");
        }
        ok
    }

    /// Starts `args` (the wsscope binary's arguments) in a detached session
    /// of `w`x`h`, in the crate's directory.
    fn start(name: &str, args: &[&str], w: u16, h: u16) -> Tmux {
        let id = format!("wsscope-e2e-{name}-{}", std::process::id());
        let conf = std::env::temp_dir().join(format!("{id}.conf"));
        // remain-on-exit keeps the pane (and what it shows) after quitting.
        std::fs::write(&conf, "set -g remain-on-exit on\nset -g status off\n")
            .expect("write tmux config");
        let t = Tmux {
            socket: id.clone(),
            session: id,
            conf,
        };
        let mut cmd = shell_quote(env!("CARGO_BIN_EXE_wsscope"));
        for a in args {
            cmd.push(' ');
            cmd.push_str(&shell_quote(a));
        }
        // The shell prints the exit status on the screen the program left,
        // then stays (a dead pane reports no cursor state) until the test
        // ends its tmux server.
        let cmd = format!(
            "sh -c {}",
            shell_quote(&format!("{cmd}; echo \"{EXIT_MARK} $?]\"; exec sleep 120"))
        );
        let out = t.tmux(&[
            "new-session",
            "-d",
            "-s",
            &t.session,
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
            "-c",
            env!("CARGO_MANIFEST_DIR"),
            &cmd,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("-f")
            .arg(&self.conf)
            .args(args)
            .output()
            .expect("run tmux")
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let out = self.tmux(&["send-keys", "-t", &self.session, k]);
            assert!(out.status.success(), "send-keys {k}");
            // One key at a time, as typed: each gets its own screen.
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn screen(&self) -> String {
        // -J: a line the terminal wrapped comes back as one line.
        let out = self.tmux(&["capture-pane", "-p", "-J", "-S", "-", "-t", &self.session]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A tmux format of the pane (`#{pane_dead}`...).
    fn pane(&self, format: &str) -> String {
        let out = self.tmux(&["display-message", "-p", "-t", &self.session, format]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits until the screen satisfies `want`; the last screen either way.
    fn wait_for(&self, timeout: Duration, want: impl Fn(&str) -> bool) -> (bool, String) {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if want(&s) {
                return (true, s);
            }
            if start.elapsed() > timeout {
                return (false, s);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Waits for the program to end; its exit status, as the shell that
    /// ran it printed it (tmux's own `pane_dead_status` is not reliable
    /// when its server was started from a test harness).
    fn wait_exit(&self, timeout: Duration) -> Option<i32> {
        let (_, s) = self.wait_for(timeout, |s| s.contains(EXIT_MARK));
        let at = s.rfind(EXIT_MARK)? + EXIT_MARK.len();
        s.get(at..)?.split(']').next()?.trim().parse().ok()
    }

    /// The program has quit with status 0 and left the terminal as it
    /// found it: main screen, cursor shown, no mouse reporting.
    fn assert_quit_cleanly(&self) {
        let status = self.wait_exit(Duration::from_secs(5));
        assert_eq!(status, Some(0), "exit status\n{}", self.screen());
        let modes = self.pane("#{alternate_on} #{cursor_flag} #{mouse_any_flag}");
        assert_eq!(
            modes,
            "0 1 0",
            "alternate screen, cursor, mouse after quitting\n{}",
            self.screen()
        );
        let s = self.screen();
        assert!(!s.contains("Timeline"), "the TUI is still on screen:\n{s}");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // Ends this test's own tmux server (and what runs in it), by socket.
        let _ = self.tmux(&["kill-server"]);
        let _ = std::fs::remove_file(&self.conf);
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[test]
fn replay_steps_through_the_handshake_and_quits_cleanly() {
    if !Tmux::available() {
        return;
    }
    let t = Tmux::start("replay", &["captures/crafted-basic.pcap"], 100, 30);
    let (ok, s) = t.wait_for(Duration::from_secs(10), |s| {
        s.contains("10.0.0.1:50000 → 10.0.0.2:8080") && s.contains("32 pkts")
    });
    assert!(ok, "the connection never showed:\n{s}");

    // Home, then one arrow per → : SYN, SYN-ACK, ACK, GET, 101.
    t.keys(&["Home"]);
    t.keys(&["Right"; 6]);
    let (ok, s) = t.wait_for(Duration::from_secs(3), |s| {
        s.contains("101 Switching Protocols")
    });
    assert!(ok, "no 101 after stepping:\n{s}");
    let arrow = |label: &str, c2s: bool| {
        s.lines().any(|l| {
            let Some(at) = l.find(label) else {
                return false;
            };
            if c2s {
                l[at..].contains('▶') && !l[..at].contains('◀')
            } else {
                l[..at].contains('◀') && !l[at..].contains('▶')
            }
        })
    };
    for (label, c2s) in [
        ("─ SYN ─", true),
        (" SYN-ACK ─", false),
        ("─ ACK ", true),
        ("─ GET /chat HTTP/1.1 ", true),
        (" 101 Switching Protocols ─", false),
    ] {
        assert!(arrow(label, c2s), "no {label:?} arrow:\n{s}");
    }
    // Nothing after the 101 is shown yet.
    assert!(!s.contains("hello server"), "{s}");
    assert!(s.contains("more event"), "{s}");

    // ? opens the help over the screen; ? closes it.
    t.keys(&["?"]);
    let help = "Keys (? or Esc to close)";
    let (ok, s) = t.wait_for(Duration::from_secs(3), |s| {
        s.contains(help) && s.contains("next phase")
    });
    assert!(ok, "no help:\n{s}");
    t.keys(&["?"]);
    let (ok, s) = t.wait_for(Duration::from_secs(3), |s| !s.contains(help));
    assert!(ok, "help did not close:\n{s}");

    t.keys(&["q"]);
    t.assert_quit_cleanly();
}

#[test]
fn a_bad_file_is_one_line_and_status_1_without_touching_the_screen() {
    if !Tmux::available() {
        return;
    }
    let t = Tmux::start("missing", &["no-such-file.pcap"], 100, 30);
    assert_eq!(t.wait_exit(Duration::from_secs(10)), Some(1));
    let s = t.screen();
    let lines: Vec<&str> = s.lines().filter(|l| l.contains("no-such-file")).collect();
    assert_eq!(lines.len(), 1, "{s}");
    assert_eq!(t.pane("#{alternate_on}"), "0");
}

/// A WebSocket exchange on 127.0.0.1:`port`: text, binary, ping, close.
async fn talk(port: u16) {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut ws = tokio_tungstenite::accept_async(tcp).await.expect("upgrade");
        // Reading on after the client's close sends the echo of it; the
        // stream ends when the closing handshake is done.
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(t) = msg {
                let _ = ws.send(Message::Text(format!("echo: {t}").into())).await;
            }
        }
    });
    let (mut ws, resp) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/live"))
        .await
        .expect("connect");
    assert_eq!(resp.status(), 101);
    ws.send(Message::Text("hello tui".into()))
        .await
        .expect("send");
    ws.next().await.expect("echo").expect("echo");
    ws.send(Message::Binary(vec![7u8; 40].into()))
        .await
        .expect("send");
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    }))
    .await
    .expect("close");
    while let Some(Ok(_)) = ws.next().await {}
    server.await.expect("server");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn live_view_shows_a_real_connection_within_a_second() {
    if !Tmux::available() {
        return;
    }
    let port = free_port();
    let filter = format!("tcp port {port}");
    let t = Tmux::start("live", &["view", "-i", "lo", "-f", &filter], 120, 40);
    let (ok, s) = t.wait_for(Duration::from_secs(10), |s| {
        s.contains("Waiting for packets on lo") || s.contains("permission denied")
    });
    assert!(ok, "neither the live view nor an error:\n{s}");
    if s.contains("permission denied") {
        // Not root: the one-line error with its remedy, status 1.
        assert_eq!(t.wait_exit(Duration::from_secs(5)), Some(1));
        let s = t.screen();
        let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(
            lines
                .first()
                .is_some_and(|l| l.contains("cannot capture on lo: permission denied")),
            "{s}"
        );
        assert!(s.contains("setcap"), "{s}");
        eprintln!("live capture not permitted here; checked the error instead");
        return;
    }
    assert!(s.contains("● live lo"), "{s}");

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(talk(port));
    let done = Instant::now();
    let (ok, s) = t.wait_for(Duration::from_secs(5), |s| {
        s.contains(&format!("127.0.0.1:{port}"))
            && s.contains("WS✓")
            && s.contains("close 1000")
            && s.contains("FIN")
    });
    let took = done.elapsed();
    assert!(ok, "the connection never showed in full:\n{s}");
    assert!(
        took < Duration::from_secs(1),
        "the connection took {took:?} to show"
    );
    // Its frames are on the timeline: the messages and the close.
    assert!(s.contains("3msg"), "{s}");
    for want in [
        "binary FIN=1 MASK=1 len=40",
        "close FIN=1 MASK=1",
        "close FIN=1 MASK=0",
    ] {
        assert!(s.contains(want), "no {want:?}:\n{s}");
    }
    t.keys(&["q"]);
    t.assert_quit_cleanly();
}

/// The terminal is resized under a running replay: the screen is redrawn at the new
/// size each time (borders meet the edge, the status bar stays), down to 80x24 and up.
#[test]
fn a_running_replay_follows_the_terminal_size() {
    if !Tmux::available() {
        return;
    }
    let t = Tmux::start("resize", &["captures/crafted-basic.pcap"], 100, 30);
    let (ok, s) = t.wait_for(Duration::from_secs(10), |s| s.contains("32 pkts"));
    assert!(ok, "the replay never showed:\n{s}");
    t.keys(&["Home", "Right", "Right", "Right"]);
    for (w, h) in [(80u16, 24u16), (140, 40), (100, 30)] {
        let out = t.tmux(&[
            "resize-window",
            "-t",
            &t.session,
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
        ]);
        assert!(out.status.success(), "resize-window {w}x{h}");
        // The top border of the connections panel spans the whole new width.
        let (ok, s) = t.wait_for(Duration::from_secs(3), |s| {
            s.lines().next().is_some_and(|l| {
                l.starts_with("┌ Connections")
                    && l.ends_with('┐')
                    && l.chars().count() == w as usize
            }) && s.contains("? help")
                && s.lines().count() >= h as usize
        });
        assert!(ok, "not redrawn at {w}x{h}:\n{s}");
    }
    t.keys(&["q"]);
    t.assert_quit_cleanly();
}

/// `--lang zh`: the whole view in Chinese; the explanation pane (on for a
/// replay) follows the selection, `e` hides it, `L` switches to English.
#[test]
fn the_chinese_view_explains_each_step() {
    if !Tmux::available() {
        return;
    }
    let t = Tmux::start(
        "zh",
        &["view", "-r", "captures/crafted-basic.pcap", "--lang", "zh"],
        120,
        40,
    );
    // Opens paused on the first WebSocket event, saying how to play.
    let (ok, s) = t.wait_for(Duration::from_secs(10), |s| {
        s.contains("连接（1）") && s.contains("空格 播放") && s.contains("? 帮助")
    });
    assert!(ok, "the Chinese view never showed:\n{s}");
    assert!(s.contains("讲解（e 隐藏）"), "no explanation pane:\n{s}");
    assert!(s.contains("⏸"), "not paused:\n{s}");
    // → : the SYN, and the pane explains the three-way handshake.
    t.keys(&["Right"]);
    let (ok, s) = t.wait_for(Duration::from_secs(3), |s| {
        s.contains("TCP 三次握手：客户端")
    });
    assert!(ok, "no explanation of the SYN:\n{s}");
    // Tab to the close: the story in the article's words.
    for _ in 0..8 {
        t.keys(&["Tab"]);
        if t.screen().contains("── 关闭握手") {
            break;
        }
    }
    t.keys(&["Right", "Right", "z"]);
    let (ok, s) = t.wait_for(Duration::from_secs(3), |s| {
        s.contains("主动关闭") && s.contains("被动关闭") && s.contains("四次挥手")
    });
    assert!(ok, "no close story:\n{s}");
    t.keys(&["z", "e"]);
    let (ok, s) = t.wait_for(Duration::from_secs(3), |s| !s.contains("讲解（e 隐藏）"));
    assert!(ok, "e did not hide the pane:\n{s}");
    t.keys(&["L"]);
    let (ok, s) = t.wait_for(Duration::from_secs(3), |s| {
        s.contains("Timeline #0") && s.contains("? help")
    });
    assert!(ok, "L did not switch to English:\n{s}");
    t.keys(&["q"]);
    t.assert_quit_cleanly();
}

/// Without a terminal, without a source or with a speed that is no speed:
/// one line that says what to do, and the contract's exit status.
#[test]
fn the_view_needs_a_terminal_a_source_and_a_speed() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_wsscope"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run wsscope")
    };
    for args in [
        &["view", "-r", "captures/crafted-basic.pcap"][..],
        &["captures/crafted-basic.pcap"][..],
    ] {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(
            err.trim(),
            "wsscope: the view needs a terminal; use `wsscope print` for text on stdout",
            "{args:?}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = run(&["view"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("-r <FILE>") && err.contains("-i <IFACE>"),
        "{err}"
    );
    for speed in [
        "--speed=0",
        "--speed=-1",
        "--speed=NaN",
        "--speed=inf",
        "--speed=fast",
    ] {
        let out = run(&["view", "-r", "captures/crafted-basic.pcap", speed]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{speed}: {err}");
        assert!(err.contains("--speed"), "{speed}: {err}");
    }
}
