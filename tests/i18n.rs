//! The message catalogue (`locales/*.yml`, rust-i18n's format 2): every key has
//! both languages, with the same placeholders; and the commands speak Chinese.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

/// (key, language, text) of a format-2 file: `key:` at column 0, `  lang: text` under it.
fn entries(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut key: Option<String> = None;
    for line in text.lines() {
        if line.trim_start().starts_with('#')
            || line.trim().is_empty()
            || line.starts_with("_version")
        {
            continue;
        }
        if !line.starts_with(' ') {
            key = Some(line.trim_end_matches(':').trim().to_string());
        } else if let (Some(k), Some((lang, value))) = (&key, line.trim().split_once(':')) {
            let v = value.trim().trim_matches('"').to_string();
            out.push((k.clone(), lang.trim().to_string(), v));
        }
    }
    out
}

fn placeholders(s: &str) -> BTreeSet<String> {
    s.split("%{")
        .skip(1)
        .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
        .collect()
}

#[test]
fn every_key_has_english_and_chinese_with_the_same_placeholders() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
    let mut keys = 0;
    for f in std::fs::read_dir(&dir).unwrap() {
        let path = f.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("_version: 2"), "{}", path.display());
        let all = entries(&text);
        let names: BTreeSet<&str> = all.iter().map(|(k, _, _)| k.as_str()).collect();
        for k in names {
            let of = |lang: &str| {
                all.iter()
                    .find(|(kk, l, _)| kk == k && l == lang)
                    .map(|(_, _, v)| v.clone())
            };
            let (en, zh) = (of("en"), of("zh"));
            let (Some(en), Some(zh)) = (en, zh) else {
                panic!("{}: {k} lacks a language", path.display());
            };
            assert!(!en.is_empty() && !zh.is_empty(), "{k}");
            assert_eq!(
                placeholders(&en),
                placeholders(&zh),
                "{k}: placeholders differ"
            );
            keys += 1;
        }
    }
    assert!(keys > 0);
}

#[test]
fn accept_explains_in_chinese() {
    let out = common::run(&[
        "accept",
        "dGhlIHNhbXBsZSBub25jZQ==",
        "--explain",
        "--lang",
        "zh",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("密钥 + GUID"), "{text}");
    assert!(text.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{text}");
    let bad = common::run(&["accept", "short", "--lang", "zh"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("不是合法的"));
}

#[test]
fn command_line_errors_and_warnings_speak_chinese() {
    let missing = common::run(&["print", "--lang", "zh", "-r", "/no/such/capture.pcap"]);
    assert_eq!(missing.status.code(), Some(1));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("无法读取") && err.contains("请检查路径和权限"),
        "{err}"
    );
    let english = common::run(&["print", "--lang", "en", "-r", "/no/such/capture.pcap"]);
    assert!(String::from_utf8_lossy(&english.stderr).contains("cannot read"));

    let damaged = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/damaged-truncated.pcap");
    let out = common::run(&["stats", "--lang", "zh", "-r", damaged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("警告") && err.contains("第 11 个包"), "{err}");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("连接"), "{table}");
    assert!(
        table.contains("! = 不干净"),
        "the legend of the close column: {table}"
    );
}

#[test]
fn stats_help_reads_the_close_column() {
    let out = common::run(&["stats", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--lang"), "{help}");
    assert!(help.contains("! when it was not clean"), "{help}");
}

/// The views hold no words of their own: every Chinese text is in the catalogue, so no
/// hand-rolled English/Chinese pair can come back unnoticed. (Tests and comments aside.)
#[test]
fn the_views_keep_their_chinese_in_the_catalogue() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join("src/output"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for f in [
        "src/main.rs",
        "src/help.rs",
        "src/keys.rs",
        "src/capture/mod.rs",
        "src/capture/file.rs",
    ] {
        files.push(root.join(f));
    }
    let cjk = |c: char| {
        ('\u{4e00}'..='\u{9fff}').contains(&c)
            || ('\u{3000}'..='\u{303f}').contains(&c)
            || ('\u{ff00}'..='\u{ffef}').contains(&c)
    };
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (i, line) in code.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            if line.chars().any(cjk) {
                found.push(format!("{}:{}: {line}", f.display(), i + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "Chinese outside locales/:\n{}",
        found.join("\n")
    );
}
