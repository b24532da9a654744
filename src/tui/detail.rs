//! The detail panel: everything about the selected event, explained.
//!
//! For the upgrade: the requirement checklist and the Accept derivation step
//! by step. For a frame: an RFC-style bit diagram of its header with the real
//! bit values, the masking XOR, the payload and a hex dump. For a close: what
//! the code means. For a violation: the rule and its RFC section.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use wsscope::analysis::{
    Check, Event, EventKind, HandshakeStep, MessageKind, TeardownHow, TeardownStep, TlsStep,
};
use wsscope::output::explain::{check_name, close_meaning, violation_rule};
use wsscope::output::Lang;

use super::fmt::{clean, clock};
use super::store::{Conn, Store};
use super::theme::Theme;
use super::timeline::{dir_word, label};
use super::upgrade::{accept_steps, close_code_forbidden_on_wire, WS_GUID};

/// The header bytes of a frame as they were on the wire, rebuilt from the
/// decoded fields. The length encoding follows `header_len` (a sender may
/// use a longer encoding than needed); an inconsistent `header_len` falls
/// back to the shortest encoding.
pub fn frame_header_bytes(
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask_key: Option<[u8; 4]>,
    len: u64,
    header_len: u8,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(14);
    out.push((u8::from(fin) << 7) | ((rsv & 7) << 4) | (opcode & 0x0f));
    let mask_bit = if mask_key.is_some() { 0x80 } else { 0 };
    let ext = (header_len as usize).saturating_sub(2 + if mask_key.is_some() { 4 } else { 0 });
    let ext = match ext {
        0 if len <= 125 => 0,
        2 if len <= 0xffff => 2,
        8 => 8,
        _ if len <= 125 => 0,
        _ if len <= 0xffff => 2,
        _ => 8,
    };
    match ext {
        0 => out.push(mask_bit | (len as u8 & 0x7f)),
        2 => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    if let Some(k) = mask_key {
        out.extend_from_slice(&k);
    }
    out
}

fn bits(byte: u8, from: u8, to: u8) -> String {
    (from..to)
        .map(|i| if byte & (0x80 >> i) != 0 { "1" } else { "0" })
        .collect::<Vec<_>>()
        .join(" ")
}

fn bits16(b: &[u8]) -> String {
    let hi = b.first().copied().unwrap_or(0);
    let lo = b.get(1).copied().unwrap_or(0);
    format!("|{} {}|", bits(hi, 0, 8), bits(lo, 0, 8))
}

/// The RFC 6455 §5.2 header diagram, 16 bits a row, with the real bits.
pub fn bit_diagram(header: &[u8]) -> Vec<String> {
    let b0 = header.first().copied().unwrap_or(0);
    let b1 = header.get(1).copied().unwrap_or(0);
    let rule = "+-+-+-+-+-------+-+-------------+".to_string();
    let mut out = vec![
        " 0                   1".to_string(),
        " 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5".to_string(),
        rule.clone(),
        "|F|R|R|R| opcode|M| Payload len |".to_string(),
        "|I|S|S|S|  (4)  |A|     (7)     |".to_string(),
        "|N|V|V|V|       |S|             |".to_string(),
        "| |1|2|3|       |K|             |".to_string(),
        format!(
            "|{}|{}|{}|{}|{}|{}|{}|",
            bits(b0, 0, 1),
            bits(b0, 1, 2),
            bits(b0, 2, 3),
            bits(b0, 3, 4),
            bits(b0, 4, 8),
            bits(b1, 0, 1),
            bits(b1, 1, 8)
        ),
        rule,
    ];
    let len7 = b1 & 0x7f;
    let ext = match len7 {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let thin = "+-------------------------------+".to_string();
    let rest = header.get(2..).unwrap_or(&[]);
    if ext > 0 {
        out.push(format!("|  Extended payload length ({:>2}) |", ext * 8));
        for chunk in rest.get(..ext).unwrap_or(&[]).chunks(2) {
            out.push(bits16(chunk));
        }
        out.push(thin.clone());
    }
    if b1 & 0x80 != 0 {
        let key = rest.get(ext..ext + 4).unwrap_or(&[]);
        out.push("|      Masking-key (1, 2)       |".into());
        out.push(bits16(key.get(..2).unwrap_or(&[])));
        out.push("|      Masking-key (3, 4)       |".into());
        out.push(bits16(key.get(2..4).unwrap_or(&[])));
        out.push(thin);
    }
    out
}

/// A hex dump: offset, `per_line` bytes in hex, and the printable ASCII.
pub fn hex_dump(bytes: &[u8], per_line: usize) -> Vec<String> {
    let per_line = per_line.max(1);
    bytes
        .chunks(per_line)
        .enumerate()
        .map(|(i, chunk)| {
            let mut hex = String::new();
            for (j, b) in chunk.iter().enumerate() {
                if j > 0 && j % 8 == 0 {
                    hex.push(' ');
                }
                hex.push_str(&format!("{b:02x} "));
            }
            let width = per_line * 3 + (per_line - 1) / 8;
            let ascii: String = chunk
                .iter()
                .map(|&b| {
                    if (0x20..0x7f).contains(&b) {
                        b as char
                    } else {
                        '.'
                    }
                })
                .collect();
            format!("{:04x}  {hex:<width$} {ascii}", i * per_line)
        })
        .collect()
}

fn utc(ts: i64) -> String {
    let secs = ts.div_euclid(1_000_000);
    let us = ts.rem_euclid(1_000_000);
    let day = secs.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}.{us:06} UTC",
        day / 3600,
        (day / 60) % 60,
        day % 60
    )
}

fn tick(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "✓",
        Some(false) => "✗",
        None => "?",
    }
}

struct Out<'t> {
    lines: Vec<Line<'static>>,
    /// For each line, the column its wrapped rows continue at.
    hangs: Vec<usize>,
    /// The panel's inner width, for lines laid out in columns.
    width: usize,
    theme: &'t Theme,
}

/// The column a wrapped line continues at: two past its indent, so a
/// continuation never starts at the panel's edge and reads as part of the
/// line above.
fn default_hang(line: &Line) -> usize {
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    text.chars().take_while(|c| *c == ' ').count() + 2
}

impl Out<'_> {
    fn push(&mut self, line: Line<'static>, hang: Option<usize>) {
        self.hangs.push(hang.unwrap_or_else(|| default_hang(&line)));
        self.lines.push(line);
    }
    fn text(&mut self, s: impl AsRef<str>) {
        self.push(Line::raw(clean(s.as_ref())), None);
    }
    /// A line whose wrapped rows continue at column `hang`.
    fn hanging(&mut self, s: impl AsRef<str>, hang: usize) {
        self.push(Line::raw(clean(s.as_ref())), Some(hang));
    }
    fn styled(&mut self, s: impl AsRef<str>, style: ratatui::style::Style) {
        self.push(Line::styled(clean(s.as_ref()), style), None);
    }
    fn heading(&mut self, s: &str) {
        self.push(Line::raw(""), None);
        self.push(Line::styled(s.to_string(), self.theme.phase), None);
    }
    fn check(&mut self, ok: Option<bool>, text: String) {
        let style = self.check_style(ok);
        self.push(
            Line::from(vec![
                Span::styled(format!(" {} ", tick(ok)), style),
                Span::raw(clean(&text)),
            ]),
            Some(3),
        );
    }
    fn check_style(&self, ok: Option<bool>) -> ratatui::style::Style {
        match ok {
            Some(true) => self.theme.ok,
            Some(false) => self.theme.bad,
            None => self.theme.warn,
        }
    }
    /// The lines, each wrapped to `width` columns at word boundaries.
    fn wrapped(self, width: usize) -> Vec<Line<'static>> {
        let mut out = Vec::with_capacity(self.lines.len());
        for (line, hang) in self.lines.into_iter().zip(self.hangs) {
            out.extend(wrap(line, width, hang));
        }
        out
    }
}

/// `line` cut into rows of at most `width` columns, breaking after a space
/// where it can; rows after the first start with `hang` spaces (less when
/// the panel is too narrow for that to leave room).
pub fn wrap(line: Line<'static>, width: usize, hang: usize) -> Vec<Line<'static>> {
    if width == 0 || line.width() <= width {
        return vec![line];
    }
    let hang = if hang * 2 > width { 0 } else { hang };
    let cells: Vec<(char, ratatui::style::Style)> = line
        .spans
        .iter()
        .flat_map(|s| {
            let style = line.style.patch(s.style);
            s.content.chars().map(move |c| (c, style))
        })
        .collect();
    let mut rows = Vec::new();
    let mut start = 0;
    let mut first = true;
    while start < cells.len() {
        let room = if first { width } else { width - hang };
        // The longest run from `start` that fits in `room` columns.
        let mut end = start;
        let mut w = 0;
        while let Some(&(c, _)) = cells.get(end) {
            let cw = super::fmt::char_width(c);
            if w + cw > room {
                break;
            }
            w += cw;
            end += 1;
        }
        if end == start {
            end = start + 1; // a character wider than the room
        }
        if cells.get(end).is_some_and(|(c, _)| *c != ' ') {
            // Break after the last space of the run, if there is one past the indent.
            if let Some(sp) = cells
                .get(start..end)
                .and_then(|run| run.iter().rposition(|(c, _)| *c == ' '))
                .filter(|&sp| sp > 0)
            {
                end = start + sp + 1;
            }
        }
        let mut spans: Vec<Span<'static>> = Vec::new();
        if !first && hang > 0 {
            spans.push(Span::raw(" ".repeat(hang)));
        }
        let mut skip_lead = !first;
        for &(c, style) in cells.get(start..end).unwrap_or(&[]) {
            if skip_lead && c == ' ' {
                continue;
            }
            skip_lead = false;
            match spans.last_mut() {
                Some(last) if last.style == style => last.content.to_mut().push(c),
                _ => spans.push(Span::styled(c.to_string(), style)),
            }
        }
        // Trailing spaces at a break are not shown.
        if end < cells.len() {
            if let Some(last) = spans.last_mut() {
                let t = last.content.trim_end().to_string();
                last.content = t.into();
            }
        }
        rows.push(Line::from(spans));
        start = end;
        first = false;
    }
    rows
}

/// The lines of the detail panel for event `idx` of `conn`.
pub fn lines(
    store: &Store,
    conn: Option<&Conn>,
    idx: usize,
    width: u16,
    lang: Lang,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut o = Out {
        lines: Vec::new(),
        hangs: Vec::new(),
        width: usize::from(width),
        theme,
    };
    let Some(ev) = store.event(idx) else {
        return o.lines;
    };
    let rel = store
        .origin()
        .map(|origin| ev.ts.0.saturating_sub(origin))
        .unwrap_or(0);
    let dir = ev
        .dir
        .map(|d| format!(" · {}", dir_word(Some(d), lang)))
        .unwrap_or_default();
    o.styled(
        tr!(
            lang,
            "tui.detail.title",
            event = ev.kind.name(),
            conn = ev.conn,
            pkt = ev.pkt,
            dir = dir
        ),
        theme.title,
    );
    o.text(format!("t={} · {}", clock(rel), utc(ev.ts.0)));
    o.styled(label(ev, lang), super::timeline::style_of(ev, theme));
    // The violations found in this event (see `timeline::violation_owner`).
    let mut found_codes: Vec<&'static str> = Vec::new();
    if !matches!(ev.kind, EventKind::Violation { .. }) {
        if let Some(c) = conn {
            let found = super::timeline::violations_of(store, c, idx);
            if !found.is_empty() {
                o.heading(&tr!(lang, "tui.detail.violations_of_event"));
            }
            for v in found.iter().filter_map(|&i| store.event(i)) {
                if let EventKind::Violation { code, message, rfc } = &v.kind {
                    found_codes.push(code);
                    o.styled(format!(" ⚠ {code} ({rfc})"), theme.bad);
                    match lang {
                        Lang::En => o.text(format!("   {message}")),
                        Lang::Zh => o.text(format!("   {}", violation_rule(lang, code))),
                    }
                }
            }
        }
    }
    let conn_events: Vec<&Event> = conn
        .map(|c| {
            store
                .revealed_of(c)
                .iter()
                .filter_map(|&i| store.event(i))
                .collect()
        })
        .unwrap_or_default();
    match &ev.kind {
        EventKind::ConnOpen {
            client,
            server,
            mid_stream,
        } => {
            o.heading(&tr!(lang, "tui.detail.connection"));
            o.text(format!(" {}  {client}", tr!(lang, "tui.side.client")));
            o.text(format!(" {}  {server}", tr!(lang, "tui.side.server")));
            if *mid_stream {
                o.styled(tr!(lang, "tui.detail.mid_stream"), theme.warn);
            }
            if let Some(c) = conn {
                summary_lines(&mut o, c, lang);
            }
        }
        EventKind::TcpHandshake { step, rtt_ms, .. } => {
            o.heading(&tr!(lang, "tui.detail.tcp_handshake"));
            let (a, b, c) = match step {
                HandshakeStep::Syn => ("▶", " ", " "),
                HandshakeStep::SynAck => (" ", "▶", " "),
                HandshakeStep::Ack => (" ", " ", "▶"),
            };
            // Wrapped descriptions continue under the description column.
            o.hanging(
                format!(" {a} 1. SYN      {}", tr!(lang, "tui.detail.syn")),
                14,
            );
            o.hanging(
                format!(" {b} 2. SYN-ACK  {}", tr!(lang, "tui.detail.syn_ack")),
                14,
            );
            o.hanging(
                format!(" {c} 3. ACK      {}", tr!(lang, "tui.detail.ack")),
                14,
            );
            if let Some(rtt) = rtt_ms {
                o.text(tr!(lang, "tui.detail.handshake_rtt", rtt = rtt : {:.3}));
            }
        }
        EventKind::HttpRequest {
            method,
            target,
            version,
            headers,
            ..
        } => {
            o.heading(&tr!(lang, "tui.detail.request_head"));
            o.text(format!(" {method} {target} {version}"));
            for (n, v) in headers {
                o.text(format!(" {n}: {v}"));
            }
            upgrade_sections(&mut o, store, conn, &conn_events, false, lang);
            if let Some(body) = ev.kind.body() {
                app_section(&mut o, body, lang);
            }
        }
        EventKind::HttpResponse {
            status,
            reason,
            version,
            headers,
            ..
        } => {
            o.heading(&tr!(lang, "tui.detail.response_head"));
            o.text(format!(" {version} {status} {reason}"));
            for (n, v) in headers {
                o.text(format!(" {n}: {v}"));
            }
            upgrade_sections(&mut o, store, conn, &conn_events, true, lang);
            if let Some(body) = ev.kind.body() {
                app_section(&mut o, body, lang);
            }
        }
        EventKind::WsHandshake {
            ok,
            reason,
            extensions,
            subprotocol,
            offered_extensions,
            offered_subprotocols,
            status,
            ..
        } => {
            o.heading(&tr!(lang, "tui.detail.upgrade_outcome"));
            if *ok {
                o.styled(tr!(lang, "tui.detail.now_websocket"), theme.ok);
            } else {
                let why = match (lang, reason) {
                    (Lang::En, Some(r)) => r.clone(),
                    _ => tr!(lang, "tui.detail.upgrade_failed_status", status = status),
                };
                o.styled(format!(" ✗ {why}"), theme.bad);
            }
            o.text(tr!(
                lang,
                "tui.detail.extensions",
                offered = offered_extensions.join("; "),
                accepted = extensions.join("; ")
            ));
            let none = tr!(lang, "tui.detail.none");
            o.text(tr!(
                lang,
                "tui.detail.subprotocols",
                offered = offered_subprotocols.join(", "),
                accepted = subprotocol.as_deref().unwrap_or(&none)
            ));
            upgrade_sections(&mut o, store, conn, &conn_events, true, lang);
        }
        EventKind::WsFrame {
            fin,
            rsv,
            opcode,
            opname,
            masked,
            mask_key,
            len,
            header_len,
            close_code,
            close_reason,
            payload_hex,
            rtt_ms,
            mid_stream,
        } => {
            let key = mask_key
                .filter(|_| *masked)
                .and_then(|k| k.bytes().try_into().ok());
            let header = frame_header_bytes(*fin, *rsv, *opcode, key, *len, *header_len);
            o.heading(&tr!(lang, "tui.detail.frame_header"));
            let diagram = bit_diagram(&header);
            for l in diagram {
                o.text(format!(" {l}"));
            }
            let fin_word = if *fin {
                tr!(lang, "tui.detail.fin_final")
            } else {
                tr!(lang, "tui.detail.fin_more")
            };
            o.text(format!(" FIN={} {fin_word}", u8::from(*fin)));
            let rsv_note = if rsv & 4 != 0 {
                tr!(lang, "tui.detail.rsv1_compressed")
            } else {
                String::new()
            };
            o.text(format!(" RSV1-3={rsv:03b}{rsv_note}"));
            o.text(format!(" opcode=0x{opcode:x} {opname}"));
            o.hanging(
                format!(
                    " MASK={} {}",
                    u8::from(*masked),
                    if *masked {
                        tr!(lang, "tui.detail.masked")
                    } else {
                        tr!(lang, "tui.detail.unmasked")
                    }
                ),
                8,
            );
            let enc = match header.get(1).map(|b| b & 0x7f) {
                Some(126) => tr!(lang, "tui.detail.len16"),
                Some(127) => tr!(lang, "tui.detail.len64"),
                _ => tr!(lang, "tui.detail.len7"),
            };
            o.text(tr!(
                lang,
                "tui.detail.payload_length",
                len = len,
                enc = enc,
                header = header_len
            ));
            if let Some(k) = mask_key {
                o.text(tr!(lang, "tui.detail.masking_key", key = k));
            }
            if *mid_stream {
                o.styled(tr!(lang, "tui.detail.frame_mid_stream"), theme.warn);
            }
            let payload = payload_hex.bytes();
            if let Some(k) = key.filter(|_| !payload.is_empty()) {
                o.heading(&tr!(lang, "tui.detail.masking"));
                o.text(tr!(lang, "tui.detail.masking_rule"));
                let n = payload.len().min(if width >= 60 { 12 } else { 8 });
                let shown = payload.get(..n).unwrap_or(&[]);
                let wire: Vec<u8> = shown
                    .iter()
                    .enumerate()
                    .map(|(i, b)| b ^ k.get(i % 4).copied().unwrap_or(0))
                    .collect();
                let keys: Vec<u8> = (0..n).map(|i| k.get(i % 4).copied().unwrap_or(0)).collect();
                let row = |b: &[u8]| {
                    b.iter()
                        .map(|x| format!("{x:02x}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                o.text(format!(
                    "  {}  {}",
                    tr!(lang, "tui.detail.row_wire"),
                    row(&wire)
                ));
                o.text(format!(
                    "  {}  {}",
                    tr!(lang, "tui.detail.row_key"),
                    row(&keys)
                ));
                o.text(format!(
                    "  {}  {}",
                    tr!(lang, "tui.detail.row_data"),
                    row(shown)
                ));
            }
            let payload_note = if *masked {
                tr!(
                    lang,
                    "tui.detail.payload_unmasked",
                    shown = payload.len(),
                    len = len
                )
            } else {
                tr!(lang, "tui.detail.payload", shown = payload.len(), len = len)
            };
            o.heading(&payload_note);
            if *opcode == 8 {
                match close_code {
                    Some(Some(c)) => {
                        o.text(tr!(
                            lang,
                            "tui.detail.close_code",
                            code = c,
                            meaning = close_meaning(lang, *c)
                        ));
                        if close_code_forbidden_on_wire(*c) {
                            o.styled(tr!(lang, "tui.detail.code_forbidden"), theme.bad);
                        }
                    }
                    _ => o.text(tr!(lang, "tui.detail.close_no_code")),
                }
                if let Some(r) = close_reason {
                    o.text(tr!(lang, "tui.detail.reason", reason = r));
                }
            } else if payload.is_empty() {
                o.text(tr!(lang, "tui.detail.empty"));
            } else if let Ok(s) = std::str::from_utf8(payload) {
                if *opcode != 2 {
                    o.text(format!(
                        " {} \"{}\"",
                        tr!(lang, "tui.detail.text"),
                        wsscope::text::safe(s)
                    ));
                } else {
                    o.text(format!(" hex {payload_hex}"));
                }
            } else {
                o.text(format!(" hex {payload_hex}"));
            }
            if let Some(rtt) = rtt_ms {
                o.text(tr!(lang, "tui.detail.pong_rtt", rtt = rtt : {:.3}));
            }
            if matches!(opcode, 9 | 10) {
                if let Some(c) = conn {
                    heartbeat_lines(
                        &mut o,
                        c,
                        *opcode,
                        found_codes.contains(&"unanswered_ping"),
                        lang,
                    );
                }
            }
            if *opcode == 8 {
                if let Some(c) = conn {
                    close_story(&mut o, store, c, lang);
                }
            }
            o.heading(&tr!(lang, "tui.detail.hex_dump"));
            let mut wire = header.clone();
            wire.extend(
                payload
                    .iter()
                    .enumerate()
                    .map(|(i, b)| b ^ key.and_then(|k| k.get(i % 4).copied()).unwrap_or(0)),
            );
            let per_line = if width >= 76 { 16 } else { 8 };
            for l in hex_dump(&wire, per_line) {
                o.text(format!(" {l}"));
            }
        }
        EventKind::WsMessage {
            kind,
            frames,
            len,
            wire_len,
            compressed,
            preview,
            body,
            ..
        } => {
            o.heading(&tr!(lang, "tui.detail.message"));
            let kind = kind_word(*kind, lang);
            o.text(tr!(
                lang,
                "tui.detail.message_kind",
                kind = kind,
                frames = frames
            ));
            o.text(tr!(
                lang,
                "tui.detail.message_sizes",
                len = len,
                wire = wire_len
            ));
            if *compressed {
                o.text(tr!(lang, "tui.detail.deflated"));
            }
            o.text(format!(" {} {preview}", tr!(lang, "tui.detail.preview")));
            app_section(&mut o, body, lang);
        }
        EventKind::WsClose { .. } => {
            if let Some(c) = conn {
                close_story(&mut o, store, c, lang);
            }
        }
        EventKind::TcpTeardown { how, step } => {
            o.heading(&tr!(lang, "tui.detail.teardown"));
            match (how, step) {
                (TeardownHow::Rst, _) => o.text(tr!(lang, "tui.detail.rst")),
                (TeardownHow::Fin, Some(TeardownStep::Ack)) => {
                    o.text(tr!(lang, "tui.detail.fin_ack"))
                }
                (TeardownHow::Fin, _) => o.text(tr!(lang, "tui.detail.fin")),
            }
            if let Some(c) = conn {
                teardown_story(&mut o, store, c, lang);
            }
        }
        EventKind::Violation { code, message, rfc } => {
            o.heading(&tr!(lang, "tui.detail.violation"));
            o.styled(format!(" {code}"), theme.bad);
            match lang {
                Lang::En => o.text(format!(" {message}")),
                Lang::Zh => o.text(format!(" {}", violation_rule(lang, code))),
            }
            o.text(tr!(lang, "tui.detail.rule", rfc = rfc));
            let parent = conn
                .and_then(|c| super::timeline::violation_owner(store, c, idx))
                .and_then(|i| store.event(i));
            if let Some(p) = parent {
                o.text(tr!(
                    lang,
                    "tui.detail.concerns",
                    pkt = p.pkt,
                    label = label(p, lang)
                ));
            }
        }
        EventKind::TlsHandshake { .. }
        | EventKind::TlsDecrypt { .. }
        | EventKind::TlsAlert { .. } => tls_detail(&mut o, &ev.kind, conn, lang),
        EventKind::H2Settings { .. }
        | EventKind::H2RstStream { .. }
        | EventKind::H2Goaway { .. } => {
            o.heading("HTTP/2");
            let mut s = String::new();
            wsscope::output::text::h2_line(&ev.kind, &mut s);
            o.text(format!(" {s}"));
        }
        EventKind::Gap { bytes } => {
            o.heading(&tr!(lang, "tui.detail.gap"));
            o.text(tr!(lang, "tui.detail.gap_bytes", n = bytes));
            o.text(tr!(lang, "tui.detail.gap_resume"));
        }
    }
    o.wrapped(usize::from(width))
}

/// The packets of the protocol riding on a WebSocket message (or an Engine.IO
/// long-polling body), one line each (already made safe).
fn app_section(o: &mut Out, body: &wsscope::analysis::MessageBody, lang: Lang) {
    let apps = body.all_apps();
    if !apps.is_empty() {
        o.heading(&tr!(lang, "tui.detail.app"));
        for a in apps {
            o.text(format!(" {}", a.summary));
        }
    }
}

fn kind_word(kind: MessageKind, lang: Lang) -> String {
    match kind {
        MessageKind::Text => tr!(lang, "tui.kind.text"),
        MessageKind::Binary => tr!(lang, "tui.kind.binary"),
    }
}

/// A TLS event's detail: the hello's fields, the server's choice, which secrets of
/// the key log decrypt it, and the records with what TLS adds (once the connection
/// has ended and its totals are known).
fn tls_detail(o: &mut Out, kind: &EventKind, conn: Option<&Conn>, lang: Lang) {
    let none = || tr!(lang, "tui.tls.none");
    match kind {
        EventKind::TlsHandshake { step } => match step {
            TlsStep::ClientHello {
                sni,
                alpn,
                versions,
                cipher_suites,
                resumption,
            } => {
                o.heading(&tr!(lang, "tui.tls.client_hello"));
                let sni = sni.clone().unwrap_or_else(none);
                o.text(tr!(lang, "tui.tls.sni", sni = sni));
                let alpn = if alpn.is_empty() {
                    none()
                } else {
                    alpn.join(", ")
                };
                o.text(tr!(lang, "tui.tls.alpn_offered", alpn = alpn));
                o.text(tr!(
                    lang,
                    "tui.tls.versions",
                    versions = versions.join(", ")
                ));
                o.text(tr!(lang, "tui.tls.suites_offered", n = cipher_suites));
                if *resumption {
                    o.text(tr!(lang, "tui.tls.resumption_offered"));
                }
                o.text(tr!(lang, "tui.tls.in_clear"));
            }
            TlsStep::ServerHello {
                version,
                cipher,
                alpn,
                resumed,
                retry,
            } => {
                o.heading(&tr!(
                    lang,
                    if *retry {
                        "tui.tls.retry"
                    } else {
                        "tui.tls.server_hello"
                    }
                ));
                o.text(tr!(lang, "tui.tls.version", version = version));
                o.text(tr!(lang, "tui.tls.cipher", cipher = cipher));
                if let Some(a) = alpn {
                    o.text(tr!(lang, "tui.tls.alpn_chosen", alpn = a));
                }
                if *resumed {
                    o.text(tr!(lang, "tui.tls.resumed"));
                }
            }
            TlsStep::Certificate { subject, issuer } => {
                o.heading(&tr!(lang, "tui.tls.certificate"));
                let subject = subject.clone().unwrap_or_else(none);
                let issuer = issuer.clone().unwrap_or_else(none);
                o.text(tr!(lang, "tui.tls.subject", subject = subject));
                o.text(tr!(lang, "tui.tls.issuer", issuer = issuer));
            }
            TlsStep::Done {
                version,
                cipher,
                alpn,
            } => {
                o.heading(&tr!(lang, "tui.tls.done"));
                o.text(tr!(lang, "tui.tls.version", version = version));
                o.text(tr!(lang, "tui.tls.cipher", cipher = cipher));
                let alpn = alpn.clone().unwrap_or_else(|| "http/1.1".to_string());
                o.text(tr!(lang, "tui.tls.alpn_chosen", alpn = alpn));
                o.text(tr!(lang, "tui.tls.not_the_accept"));
            }
        },
        EventKind::TlsDecrypt { ok: true, .. } => {
            o.heading(&tr!(lang, "tui.tls.decrypted"));
            let tls = conn.and_then(|c| c.stats.tls.as_deref());
            let secrets = match tls.and_then(|t| t.version.as_deref()) {
                Some("TLS 1.3") => tr!(lang, "tui.tls.secrets_13"),
                Some(_) => tr!(lang, "tui.tls.secrets_12"),
                None => none(),
            };
            o.text(tr!(lang, "tui.tls.secrets", secrets = secrets));
            match (tls, conn.is_some_and(|c| c.totals.is_some())) {
                (Some(t), true) => {
                    o.text(tr!(
                        lang,
                        "tui.tls.records",
                        c2s = t.records.c2s,
                        s2c = t.records.s2c
                    ));
                    o.text(tr!(lang, "tui.tls.overhead", bytes = t.overhead_bytes));
                }
                _ => o.text(tr!(lang, "tui.tls.records_later")),
            }
            o.text(tr!(lang, "tui.tls.per_record"));
        }
        EventKind::TlsDecrypt { ok: false, reason } => {
            o.heading(&tr!(lang, "tui.tls.not_decrypted"));
            o.text(tr!(lang, "tui.tls.reason", reason = reason.unwrap_or("?")));
            o.text(tr!(lang, "tui.tls.how_to_keys"));
        }
        EventKind::TlsAlert { level, description } => {
            o.heading(&tr!(lang, "tui.tls.alert"));
            o.text(format!(" {level} {description}"));
        }
        _ => {}
    }
}

/// The connection's numbers, from its summary.
fn summary_lines(o: &mut Out, c: &Conn, lang: Lang) {
    let s = &c.stats;
    o.heading(&tr!(lang, "tui.detail.summary"));
    if s.requests > 0 || s.frames.total() > 0 {
        o.text(tr!(lang, "tui.detail.kind", kind = kind_name(s.kind, lang)));
    }
    o.text(tr!(lang, "tui.detail.duration", ms = s.duration_ms : {:.3}));
    if let Some(rtt) = s.handshake_rtt_ms {
        o.text(tr!(lang, "tui.detail.handshake_rtt", rtt = rtt : {:.3}));
    }
    if s.frames.total() > 0 {
        o.text(tr!(
            lang,
            "tui.detail.frames_messages",
            c2s = s.frames.c2s,
            s2c = s.frames.s2c,
            messages = s.messages
        ));
    }
    if s.requests > 0 {
        o.text(tr!(lang, "tui.detail.requests", n = s.requests));
    }
}

/// The name of a connection kind (`Summary`'s `kind`).
pub fn kind_name(kind: &str, lang: Lang) -> String {
    match kind {
        "websocket" => tr!(lang, "tui.conn_kind.websocket"),
        "http-polling" => tr!(lang, "tui.conn_kind.polling"),
        "http-long-polling" => tr!(lang, "tui.conn_kind.long_polling"),
        "http-streaming" => tr!(lang, "tui.conn_kind.streaming"),
        "http" => tr!(lang, "tui.conn_kind.http"),
        _ => tr!(lang, "tui.conn_kind.tcp"),
    }
}

/// The heartbeat as the summary has it (median period, median ping RTT),
/// and what went wrong with it: a ping that got no pong, a heartbeat that
/// stopped.
fn heartbeat_lines(o: &mut Out, c: &Conn, opcode: u8, unanswered: bool, lang: Lang) {
    let s = &c.stats;
    o.heading(&tr!(lang, "tui.detail.heartbeat"));
    o.text(tr!(
        lang,
        "tui.detail.heartbeat_counts",
        pings = s.pings,
        pongs = s.pongs
    ));
    match s.heartbeat_ms {
        Some(ms) => o.text(tr!(lang, "tui.detail.heartbeat_period", ms = ms : {:.3})),
        None => o.text(tr!(lang, "tui.detail.heartbeat_one")),
    }
    if let Some(rtt) = s.ping_rtt_ms {
        o.text(tr!(lang, "tui.detail.ping_rtt_median", rtt = rtt : {:.3}));
    }
    if opcode == 9 && unanswered {
        let style = o.theme.bad;
        o.styled(tr!(lang, "tui.detail.ping_unanswered"), style);
    }
    if c.progress.unanswered_pings > 0 {
        let style = o.theme.warn;
        o.styled(
            tr!(
                lang,
                "tui.detail.pings_unanswered",
                n = c.progress.unanswered_pings
            ),
            style,
        );
    }
    if let Some(silence) = c.progress.heartbeat_silence_ms(s.heartbeat_ms) {
        let style = o.theme.warn;
        o.styled(
            tr!(
                lang,
                "tui.detail.heartbeat_stopped",
                silence = silence : {:.3},
                period = s.heartbeat_ms.unwrap_or(0.0) : {:.3}
            ),
            style,
        );
    }
}

/// The close as it happened: who closed actively (主动关闭), the passive
/// answer (被动关闭) and its delay, the point that these two frames are the
/// whole WebSocket close, then the TCP teardown as it really went.
fn close_story(o: &mut Out, store: &Store, c: &Conn, lang: Lang) {
    let revealed: Vec<&Event> = store
        .revealed_of(c)
        .iter()
        .filter_map(|&i| store.event(i))
        .collect();
    let closes: Vec<&Event> = revealed
        .iter()
        .copied()
        .filter(|e| matches!(e.kind, EventKind::WsFrame { opcode: 8, .. }))
        .collect();
    let summary = revealed.iter().rev().find_map(|e| match &e.kind {
        EventKind::WsClose {
            initiator,
            code,
            reason,
            echo_ms,
            clean,
            ..
        } => Some((*initiator, *code, reason.clone(), *echo_ms, *clean)),
        _ => None,
    });
    o.heading(&tr!(lang, "tui.detail.close_heading"));
    let first = closes.first().copied();
    let initiator = summary
        .as_ref()
        .and_then(|s| s.0)
        .or(first.and_then(|e| e.dir));
    let Some(active) = initiator else {
        o.text(tr!(lang, "tui.detail.close_none"));
        teardown_story(o, store, c, lang);
        return;
    };
    let code = summary
        .as_ref()
        .and_then(|s| s.1)
        .or(c.progress.close_frame_code);
    let code_text = match code {
        Some(code) => format!("{code} ({})", close_meaning(lang, code)),
        None => tr!(lang, "tui.label.close_no_code"),
    };
    o.hanging(
        tr!(
            lang,
            "tui.detail.close_active",
            side = dir_word(Some(active), lang),
            code = code_text
        ),
        4,
    );
    let answer = closes.iter().find(|e| e.dir == Some(active.reverse()));
    let echo_ms = summary.as_ref().and_then(|s| s.3).or_else(|| {
        let a = first?;
        answer.map(|b| b.ts.millis_since(a.ts))
    });
    match (answer, echo_ms) {
        (Some(_), Some(ms)) => o.hanging(
            tr!(
                lang,
                "tui.detail.close_passive",
                side = dir_word(Some(active.reverse()), lang),
                ms = ms : {:.3}
            ),
            4,
        ),
        (Some(_), None) => o.hanging(
            tr!(
                lang,
                "tui.detail.close_passive_no_time",
                side = dir_word(Some(active.reverse()), lang)
            ),
            4,
        ),
        (None, _) if summary.is_some() => {
            let style = o.theme.warn;
            o.styled(
                tr!(
                    lang,
                    "tui.detail.close_unanswered",
                    side = dir_word(Some(active.reverse()), lang)
                ),
                style,
            )
        }
        (None, _) => o.hanging(tr!(lang, "tui.detail.close_waiting"), 4),
    }
    if let Some(s) = &summary {
        let (mark, style) = if s.4 {
            ("✓", o.theme.ok)
        } else {
            ("✗", o.theme.warn)
        };
        o.styled(
            format!(
                " {mark} {}",
                if s.4 {
                    tr!(lang, "tui.detail.close_clean")
                } else {
                    tr!(lang, "tui.detail.close_not_clean")
                }
            ),
            style,
        );
    }
    o.hanging(tr!(lang, "tui.detail.close_two_frames"), 2);
    teardown_story(o, store, c, lang);
}

/// The TCP teardown of the connection as it went: each FIN, ACK of a FIN
/// and RST with its side and time, then what it amounts to (the four-way
/// teardown, a half-close, a reset).
fn teardown_story(o: &mut Out, store: &Store, c: &Conn, lang: Lang) {
    let revealed = store.revealed_of(c);
    let steps: Vec<&Event> = revealed
        .iter()
        .filter_map(|&i| store.event(i))
        .filter(|e| matches!(e.kind, EventKind::TcpTeardown { .. }))
        .collect();
    let hidden = c
        .events
        .iter()
        .skip(revealed.len())
        .filter_map(|&i| store.event(i))
        .any(|e| matches!(e.kind, EventKind::TcpTeardown { .. }));
    o.heading(&tr!(lang, "tui.detail.teardown_heading"));
    if steps.is_empty() {
        if hidden {
            o.text(tr!(lang, "tui.detail.teardown_later"));
        } else {
            o.text(tr!(lang, "tui.detail.teardown_none"));
        }
        return;
    }
    let origin = steps.first().map(|e| e.ts).unwrap_or_default();
    let mut fins = [false; 2];
    let mut acked = [false; 2];
    let mut rst = false;
    for (n, e) in steps.iter().enumerate() {
        let EventKind::TcpTeardown { how, step } = &e.kind else {
            continue;
        };
        let side = dir_word(e.dir, lang);
        let what = match (how, step) {
            (TeardownHow::Rst, _) => {
                rst = true;
                tr!(lang, "tui.detail.step_rst", side = side)
            }
            (TeardownHow::Fin, Some(TeardownStep::Ack)) => {
                if let Some(d) = e.dir {
                    acked[d.reverse().index()] = true;
                }
                tr!(lang, "tui.detail.step_ack", side = side)
            }
            (TeardownHow::Fin, _) => {
                if let Some(d) = e.dir {
                    fins[d.index()] = true;
                }
                tr!(lang, "tui.detail.step_fin", side = side)
            }
        };
        let at = super::fmt::delta(e.ts.0.saturating_sub(origin.0));
        o.hanging(format!(" {}. {at:>9}  {what}", n + 1), 15);
    }
    let verdict = if rst {
        tr!(lang, "tui.detail.verdict_rst")
    } else if fins == [true, true] && acked == [true, true] {
        tr!(lang, "tui.detail.verdict_four_way")
    } else if fins.iter().any(|f| *f) && fins != [true, true] {
        tr!(lang, "tui.detail.verdict_half_close")
    } else {
        tr!(lang, "tui.detail.verdict_unfinished")
    };
    o.hanging(format!(" → {verdict}"), 4);
    if hidden {
        o.text(tr!(lang, "tui.detail.teardown_more"));
    }
}

/// The upgrade's checklist as the HTTP layer computed it (`ws_handshake`'s
/// `checks`) and, with the response, the Accept derived step by step.
fn upgrade_sections(
    o: &mut Out,
    store: &Store,
    conn: Option<&Conn>,
    events: &[&Event],
    with_accept: bool,
    lang: Lang,
) {
    let request = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::HttpRequest { .. }));
    let response = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::HttpResponse { .. }));
    let outcome = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::WsHandshake { .. }));
    let asked = request.is_some_and(|r| match &r.kind {
        EventKind::HttpRequest { headers, .. } => headers.iter().any(|(n, _)| {
            n.eq_ignore_ascii_case("upgrade") || n.to_ascii_lowercase().starts_with("sec-websocket")
        }),
        _ => false,
    });
    if !asked && outcome.is_none() {
        o.heading(&tr!(lang, "tui.detail.plain_http"));
        o.text(tr!(lang, "tui.detail.no_upgrade"));
        if let Some(c) = conn {
            summary_lines(o, c, lang);
        }
        return;
    }
    o.heading(&tr!(lang, "tui.detail.checklist"));
    match outcome.map(|e| &e.kind) {
        Some(EventKind::WsHandshake { checks, .. }) => {
            for c in checks {
                checklist_row(o, c, lang);
            }
        }
        _ => {
            // The verdict is not on screen yet: the request's part of it,
            // from the same checks (they come before the status check).
            let later = conn.and_then(|c| {
                c.events
                    .iter()
                    .filter_map(|&i| store.event(i))
                    .find_map(|e| match &e.kind {
                        EventKind::WsHandshake { checks, .. } => Some(checks),
                        _ => None,
                    })
            });
            match later {
                Some(checks) => {
                    for c in checks.iter().take_while(|c| c.name != STATUS_CHECK) {
                        checklist_row(o, c, lang);
                    }
                    o.text(tr!(lang, "tui.detail.checklist_rest"));
                }
                None => o.text(tr!(lang, "tui.detail.checklist_none")),
            }
        }
    }
    let key = request.and_then(|r| match &r.kind {
        EventKind::HttpRequest { headers, .. } => headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-key"))
            .map(|(_, v)| v.clone()),
        _ => None,
    });
    let accept = response.and_then(|r| match &r.kind {
        EventKind::HttpResponse { headers, .. } => headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-accept"))
            .map(|(_, v)| v.clone()),
        _ => None,
    });
    if let (true, Some(key)) = (with_accept, key) {
        let s = accept_steps(&key);
        o.heading(&tr!(lang, "tui.detail.accept_heading"));
        o.text(" Accept = base64(SHA-1(key + GUID))");
        // One column for the values, narrow enough for the 40 hex digits
        // of the SHA-1 in a 52-column panel.
        o.hanging(format!(" 1 key     {}", s.key), 11);
        o.hanging(format!(" 2 + GUID  {WS_GUID}"), 11);
        o.hanging(format!(" 3 SHA-1   {}", s.sha1_hex), 11);
        o.hanging(format!(" 4 base64  {}", s.accept), 11);
        match accept {
            Some(a) => {
                let ok = a.trim() == s.accept;
                o.check(Some(ok), tr!(lang, "tui.detail.received", accept = a));
            }
            None => o.check(Some(false), tr!(lang, "tui.detail.received_none")),
        }
    }
}

/// The name of the check that opens the response's part of the checklist.
const STATUS_CHECK: &str = "status is 101 Switching Protocols";

/// One requirement: `✓ name  seen` with the rule in a column at the right
/// edge, on one line when it fits; otherwise what was seen drops to a line
/// of its own under the name. What was seen is left out when the name
/// already says it (`✓ Upgrade: websocket` needs no `websocket` after it).
fn checklist_row(o: &mut Out, c: &Check, lang: Lang) {
    let width = o.width;
    let ok = Some(c.ok);
    let style = o.check_style(ok);
    let name = check_name(lang, c.name);
    let seen = clean(&c.seen);
    let bare = seen.trim().trim_matches('"').to_ascii_lowercase();
    let redundant = c.ok && name.to_ascii_lowercase().contains(&bare) && !bare.is_empty();
    let seen = if redundant { String::new() } else { seen };
    let mark = format!(" {} ", tick(ok));
    let head = super::fmt::width(&mark) + super::fmt::width(&name);
    let rfc = c.rule;
    let one_line = head + 2 + super::fmt::width(&seen) + 2 + super::fmt::width(rfc);
    let mut spans = vec![Span::styled(mark, style), Span::raw(name)];
    let seen_below = !seen.is_empty() && one_line > width;
    let used = if seen.is_empty() || seen_below {
        head
    } else {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(seen.clone(), o.theme.note));
        head + 2 + super::fmt::width(&seen)
    };
    let rfc_w = super::fmt::width(rfc);
    // The reference goes at the right edge of the first line, or of the
    // second when the name leaves no room for it.
    let rfc_below = used + 2 + rfc_w > width;
    if !rfc_below {
        spans.push(Span::raw(" ".repeat(width - used - rfc_w)));
        spans.push(Span::styled(rfc, o.theme.dim));
    }
    o.push(Line::from(spans), Some(3));
    if seen_below || rfc_below {
        let seen = if seen_below { seen } else { String::new() };
        let mut below = vec![Span::raw("   "), Span::styled(seen.clone(), o.theme.note)];
        if rfc_below {
            let used = 3 + super::fmt::width(&seen);
            below.push(Span::raw(
                " ".repeat(width.saturating_sub(used + rfc_w).max(2)),
            ));
            below.push(Span::styled(rfc, o.theme.dim));
        }
        o.push(Line::from(below), Some(3));
    }
}

/// Draws the panel, scrolled by `scroll` lines (clamped to the content).
#[allow(clippy::too_many_arguments)]
pub fn render(
    f: &mut Frame,
    area: Rect,
    store: &Store,
    conn: Option<&Conn>,
    selected: Option<usize>,
    scroll: &mut u16,
    focused: bool,
    empty_hint: &str,
    lang: Lang,
    theme: &Theme,
) {
    let block = Block::bordered()
        .title(Span::styled(tr!(lang, "tui.detail.panel"), theme.title))
        .border_style(if focused {
            theme.border_focus
        } else {
            theme.border
        });
    let inner = block.inner(area);
    let content = match selected {
        Some(i) => lines(store, conn, i, inner.width, lang, theme),
        None => wrap(
            Line::styled(empty_hint.to_string(), theme.dim),
            usize::from(inner.width),
            2,
        ),
    };
    // Lines come wrapped (with their continuation indented), so the count
    // of rows is the count of lines and the scroll stops at the end.
    let max = content.len().saturating_sub(inner.height as usize);
    *scroll = (*scroll).min(u16::try_from(max).unwrap_or(u16::MAX));
    f.render_widget(
        Paragraph::new(content).block(block).scroll((*scroll, 0)),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6455_5_7_headers_are_rebuilt_exactly() {
        // (name, fin, rsv, opcode, key, len, header_len, wire bytes)
        let key = Some([0x37, 0xfa, 0x21, 0x3d]);
        type Case<'a> = (&'a str, bool, u8, u8, Option<[u8; 4]>, u64, u8, &'a [u8]);
        let cases: &[Case] = &[
            ("unmasked text", true, 0, 1, None, 5, 2, &[0x81, 0x05]),
            (
                "masked text",
                true,
                0,
                1,
                key,
                5,
                6,
                &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d],
            ),
            ("first fragment", false, 0, 1, None, 3, 2, &[0x01, 0x03]),
            ("unmasked ping", true, 0, 9, None, 5, 2, &[0x89, 0x05]),
            (
                "256 bytes binary",
                true,
                0,
                2,
                None,
                256,
                4,
                &[0x82, 0x7e, 0x01, 0x00],
            ),
            (
                "64 KiB binary",
                true,
                0,
                2,
                None,
                65536,
                10,
                &[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0],
            ),
            (
                "non-minimal 16-bit length",
                true,
                0,
                1,
                None,
                5,
                4,
                &[0x81, 0x7e, 0x00, 0x05],
            ),
            ("rsv1 compressed", true, 4, 1, None, 7, 2, &[0xc1, 0x07]),
            (
                "bad header_len falls back",
                true,
                0,
                1,
                None,
                5,
                9,
                &[0x81, 0x05],
            ),
        ];
        for (name, fin, rsv, op, key, len, hl, wire) in cases {
            assert_eq!(
                &frame_header_bytes(*fin, *rsv, *op, *key, *len, *hl),
                wire,
                "{name}"
            );
        }
    }

    #[test]
    fn bit_diagram_shows_the_real_bits() {
        let d = bit_diagram(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d]);
        assert!(
            d.contains(&"|1|0|0|0|0 0 0 1|1|0 0 0 0 1 0 1|".to_string()),
            "{d:#?}"
        );
        assert!(d.contains(&"|0 0 1 1 0 1 1 1 1 1 1 1 1 0 1 0|".to_string()));
        assert!(d.contains(&"|0 0 1 0 0 0 0 1 0 0 1 1 1 1 0 1|".to_string()));
        let d = bit_diagram(&[0x82, 0x7e, 0x01, 0x00]);
        assert!(d.contains(&"|0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0|".to_string()));
        assert!(!d.iter().any(|l| l.contains("Masking-key")));
        // Every row has the same width, so the diagram stays a box.
        assert!(d.iter().skip(2).all(|l| l.chars().count() == 33), "{d:#?}");
        // Short input does not panic.
        assert!(!bit_diagram(&[0xff, 0xff]).is_empty());
    }

    #[test]
    fn hex_dump_lines() {
        let d = hex_dump(b"Hello, WebSocket world!", 16);
        assert_eq!(d.len(), 2);
        assert_eq!(
            d[0],
            "0000  48 65 6c 6c 6f 2c 20 57  65 62 53 6f 63 6b 65 74  Hello, WebSocket"
        );
        assert!(d[1].starts_with("0010  20 77 6f 72 6c 64 21"));
        assert!(d[1].ends_with(" world!"));
    }

    #[test]
    fn wrapped_lines_keep_their_indent_and_their_width() {
        let text = |l: &Line| -> String { l.spans.iter().map(|s| s.content.as_ref()).collect() };
        // (name, line, width, hang, rows)
        let cases: &[(&str, &str, usize, usize, &[&str])] = &[
            ("fits", " short", 20, 3, &[" short"]),
            (
                "breaks after a space, continues at the hang",
                " MASK=1 payload XORed with the key",
                20,
                8,
                &[" MASK=1 payload", "        XORed with", "        the key"],
            ),
            (
                "a word longer than the room is cut hard",
                " 3 SHA-1   1521c6f2f86a93758f154b4d319290f548290e8f",
                30,
                11,
                &[
                    " 3 SHA-1",
                    "           1521c6f2f86a93758f1",
                    "           54b4d319290f548290e",
                    "           8f",
                ],
            ),
            (
                "a hang wider than half the width is dropped",
                "aaaa bbbb cccc",
                9,
                6,
                &["aaaa bbbb", "cccc"],
            ),
            (
                "wide characters count twice",
                "日本語日本語",
                7,
                0,
                &["日本語", "日本語"],
            ),
        ];
        for (name, line, width, hang, want) in cases {
            let rows = wrap(Line::raw(line.to_string()), *width, *hang);
            let got: Vec<String> = rows.iter().map(text).collect();
            assert_eq!(got, *want, "{name}");
            assert!(rows.iter().all(|r| r.width() <= *width), "{name}");
        }
        assert_eq!(wrap(Line::raw("abc"), 0, 2).len(), 1);
    }
}
