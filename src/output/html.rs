//! `print --format html`: the Markdown lesson as one self-contained HTML page. The
//! lesson is written once ([`super::Lesson`]) and each of its blocks (headings, lists,
//! tables, fenced text) is turned into HTML here; the sequence diagram is drawn as
//! inline SVG by wsscope ([`super::mermaid::ConnDiagram::svg`]). No script, no font, no
//! style sheet or image from anywhere: the page needs nothing but itself.
//!
//! All text is escaped for HTML ([`xml`]): the lesson's Markdown escapes are undone first,
//! so wire text reaches the page exactly as the capture carried it, and inert.

use super::mermaid::xml;
use super::Lang;

/// The page's opening, up to `<body>`, in `lang`.
pub fn head(lang: Lang) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        lang.code(),
        xml(&msg!(lang, "lesson.html_title"))
    )
}

/// The page's end.
pub const TAIL: &str = "</body>\n</html>\n";

const STYLE: &str = "body{font-family:sans-serif;max-width:1100px;margin:1em auto;padding:0 1em;color:#222;line-height:1.5}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top}\
th{background:#f3f3f3}td{overflow-wrap:anywhere}td.n{white-space:nowrap}td.n{text-align:right}pre{background:#f6f6f6;padding:.5em;overflow-x:auto}\
h2{border-bottom:2px solid #336;margin-top:2em}svg.seq{display:block;margin:.5em 0;max-width:100%;height:auto}";

/// Markdown text as the lesson writes it (`md`-escaped) back to plain text.
fn unmd(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut cs = s.chars();
    while let Some(c) = cs.next() {
        if c == '\\' {
            if let Some(n) = cs.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Plain text of a Markdown fragment, escaped for HTML.
fn text(s: &str) -> String {
    xml(&unmd(s))
}

/// The cells of a table row `| a | b \| c |` (escaped `\|` stays in its cell).
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut cs = inner.chars();
    while let Some(c) = cs.next() {
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = cs.next() {
                    cur.push(n);
                }
            }
            '|' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|c| c.trim().to_string()).collect()
}

/// A block of the lesson's Markdown as HTML; a ```` ```mermaid ```` fence becomes `svg`.
pub fn from_markdown(md: &str, svg: Option<&str>) -> String {
    let mut out = String::with_capacity(md.len() * 2);
    let mut lines = md.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(lang) = line.strip_prefix("```") {
            let mut body = Vec::new();
            for l in lines.by_ref() {
                if l.starts_with("```") {
                    break;
                }
                body.push(l);
            }
            match (lang, svg) {
                ("mermaid", Some(svg)) => {
                    out.push_str(svg);
                    out.push('\n');
                }
                _ => {
                    out.push_str("<pre>");
                    out.push_str(&xml(&body.join("\n")));
                    out.push_str("</pre>\n");
                }
            }
        } else if let Some(h) = line.strip_prefix("### ") {
            out.push_str(&format!("<h3>{}</h3>\n", text(h)));
        } else if let Some(h) = line.strip_prefix("## ") {
            out.push_str(&format!("<h2>{}</h2>\n", text(h)));
        } else if let Some(h) = line.strip_prefix("# ") {
            out.push_str(&format!("<h1>{}</h1>\n", text(h)));
        } else if line.starts_with("- ") {
            out.push_str("<ul>\n");
            let mut item = Some(line);
            while let Some(l) = item {
                out.push_str(&format!("<li>{}</li>\n", text(&l[2..])));
                item = lines.next_if(|l| l.starts_with("- "));
            }
            out.push_str("</ul>\n");
        } else if line.starts_with('|') {
            out.push_str("<table>\n");
            let head = cells(line);
            // The separator row gives each column's alignment.
            let aligns: Vec<bool> = lines
                .next_if(|l| l.starts_with("|-") || l.starts_with("|:"))
                .map(|sep| cells(sep).iter().map(|c| c.ends_with(':')).collect())
                .unwrap_or_default();
            out.push_str("<tr>");
            for c in &head {
                out.push_str(&format!("<th>{}</th>", text(c)));
            }
            out.push_str("</tr>\n");
            while let Some(row) = lines.next_if(|l| l.starts_with('|')) {
                out.push_str("<tr>");
                for (i, c) in cells(row).iter().enumerate() {
                    let class = if aligns.get(i).copied().unwrap_or(false) {
                        " class=\"n\""
                    } else {
                        ""
                    };
                    out.push_str(&format!("<td{class}>{}</td>", text(c)));
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</table>\n");
        } else if let Some(b) = line.strip_prefix("**").and_then(|l| l.strip_suffix("**")) {
            out.push_str(&format!("<p><strong>{}</strong></p>\n", text(b)));
        } else if !line.trim().is_empty() {
            out.push_str(&format!("<p>{}</p>\n", text(line)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_text_is_inert_and_exact() {
        let md = "| pkt | ms | | event |\n|---:|---:|:-:|---|\n| 1 | 0.5 | → | GET /a\\|b &lt;script&gt; \\*x\\* |\n";
        let h = from_markdown(md, None);
        assert!(h.contains("<td>GET /a|b &lt;script&gt; *x*</td>"), "{h}");
        assert!(h.contains("<td class=\"n\">1</td>"), "{h}");
        assert!(!h.contains("<script"), "{h}");
    }

    #[test]
    fn blocks_become_elements() {
        let md = "## Conn \\#0\n\n- a\n- b &amp; c\n\n**Bold**\n\n```mermaid\nsequenceDiagram\n```\n\n```text\nx < y\n```\n";
        let h = from_markdown(md, Some("<svg></svg>"));
        assert!(h.contains("<h2>Conn #0</h2>"), "{h}");
        assert!(
            h.contains("<ul>\n<li>a</li>\n<li>b &amp; c</li>\n</ul>"),
            "{h}"
        );
        assert!(h.contains("<p><strong>Bold</strong></p>"), "{h}");
        assert!(
            h.contains("<svg></svg>") && !h.contains("sequenceDiagram"),
            "{h}"
        );
        assert!(h.contains("<pre>x &lt; y</pre>"), "{h}");
    }
}
