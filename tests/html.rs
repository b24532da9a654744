//! `print --format html`: one self-contained page per capture, rendered by headless
//! Chromium. The test skips (saying why) only when `chromium` is not installed; `.ci/run`
//! installs it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file())
}

/// A fresh directory under the target dir (kept for a look after a failure).
fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn chromium_cmd(bin: &Path, profile: &Path) -> Command {
    let mut c = Command::new(bin);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

fn render(lang: &str, capture: &str, headings: &[&str]) {
    let Some(bin) = chromium() else {
        println!("skipped: chromium is not installed (apt-get install -y chromium)");
        return;
    };
    let dir = scratch(&format!("html-{lang}-{capture}"));
    let cap = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(capture);
    let out = common::run(&[
        "print",
        "--format",
        "html",
        "--lang",
        lang,
        "-r",
        cap.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = String::from_utf8(out.stdout).expect("utf-8");
    // Self-contained: nothing that runs, nothing fetched. (The one `http://` allowed is
    // the SVG namespace name, an identifier that is never fetched.)
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "a script");
    let refs = lower.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(
        !refs.contains("http://") && !refs.contains("https://"),
        "a URL"
    );
    for bad in ["<link", "<img", "<iframe", "@import", "url(http", "src="] {
        assert!(!refs.contains(bad), "{bad}");
    }
    assert!(html.contains("<svg"), "no diagram");
    let page = dir.join("lesson.html");
    std::fs::write(&page, &html).unwrap();
    let url = format!("file://{}", page.display());

    let png = dir.join("shot.png");
    let shot = chromium_cmd(&bin, &dir.join("profile-shot"))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1200,3000")
        .arg(&url)
        .output()
        .expect("run chromium");
    assert!(
        shot.status.success(),
        "chromium --screenshot: {}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // Width and height from the IHDR chunk: the window asked for.
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((w, h), (1200, 3000));
    // A page with text, tables and a diagram compresses far worse than a blank one (a
    // blank 1200×3000 PNG is a few kB).
    assert!(bytes.len() > 40_000, "screenshot of {} bytes", bytes.len());

    let dom = chromium_cmd(&bin, &dir.join("profile-dom"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("run chromium");
    assert!(dom.status.success());
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("<h2>") && dom.contains("<table>"), "{dom}");
    for h in headings {
        assert!(dom.contains(h), "heading {h:?} not in the rendered page");
    }
    let dom_lower = dom.to_ascii_lowercase();
    assert!(!dom_lower.contains("<script"));
    let dom_refs = dom_lower.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!dom_refs.contains("https://") && !dom_refs.contains("http://"));
}

#[test]
fn the_chinese_lesson_renders_with_its_phases() {
    render(
        "zh",
        "crafted-basic.pcap",
        &[
            "逐包看 WebSocket",
            "TCP 三次握手",
            "HTTP 升级",
            "数据帧",
            "心跳",
            "关闭握手",
            "TCP 四次挥手",
            "小结",
        ],
    );
}

#[test]
fn the_english_lesson_renders_with_its_phases() {
    render(
        "en",
        "crafted-basic.pcap",
        &[
            "WebSocket, packet by packet",
            "TCP three-way handshake",
            "HTTP Upgrade",
            "Data frames",
            "Closing handshake",
            "TCP teardown",
            "Summary",
        ],
    );
}

#[test]
fn every_capture_makes_one_whole_page() {
    let mut caps = common::own_captures();
    caps.extend(common::captures_in(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/hostile"),
    ));
    for cap in caps {
        let out = common::run(&["print", "--format", "html", "-r", cap.to_str().unwrap()]);
        assert!(out.status.success());
        let html = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
        assert!(!html.contains("<script"), "{}", cap.display());
        assert_eq!(html.matches("<html").count(), 1, "{}", cap.display());
        assert!(html.trim_end().ends_with("</html>"), "{}", cap.display());
    }
}
