//! The library's warnings in words: [`warning_text`] says an [`analysis::Warning`]
//! (and the layers' typed reports inside it) in a language, from the catalogue
//! (`locales/warnings.yml`). Every view that shows warnings goes through it.
//!
//! [`analysis::Warning`]: crate::analysis::Warning

use crate::analysis::Warning;
use crate::h2::HpackLoss;
use crate::stack::LayerWarning;
use crate::tcp::TcpWarning;
use crate::text::safe;
use crate::types::Direction;
use crate::wire::{Dropped, Fault, FragFault, Header, Parts, WireProblem};

use super::Lang;

/// `w` in `lang`: one line, safe to print on a terminal.
pub fn warning_text(lang: Lang, w: &Warning) -> String {
    let text = match w {
        Warning::SnapLength { pkt, kept, wire } => {
            msg!(
                lang,
                "warn.snap_length",
                pkt = pkt,
                kept = kept,
                wire = wire
            )
        }
        Warning::Wire(p) => wire_problem(lang, p),
        Warning::Tcp { conn, warning } => {
            msg!(
                lang,
                "warn.connection",
                conn = conn,
                what = tcp(lang, warning)
            )
        }
        Warning::Layer { conn, warning } => {
            msg!(
                lang,
                "warn.connection",
                conn = conn,
                what = layer(lang, warning)
            )
        }
        Warning::NotShown { count } => msg!(lang, "warn.not_shown", count = count),
        Warning::Evicted { count, limit, peak } => msg!(
            lang,
            "warn.evicted",
            count = count,
            limit = crate::budget::show_size(*limit),
            peak = crate::budget::show_size(*peak)
        ),
    };
    // Nothing in a warning comes from the wire, but a view prints it as it is.
    safe(&text)
}

fn dir(lang: Lang, d: Direction) -> String {
    match d {
        Direction::C2S => msg!(lang, "warn.dir_c2s"),
        Direction::S2C => msg!(lang, "warn.dir_s2c"),
    }
}

fn tcp(lang: Lang, w: &TcpWarning) -> String {
    match *w {
        TcpWarning::BufferFull {
            dir: d,
            max_bytes,
            max_segments,
        } => msg!(
            lang,
            "warn.buffer_full",
            dir = dir(lang, d),
            bytes = max_bytes,
            segments = max_segments
        ),
        TcpWarning::FlowTableFull { max_flows, pkt } => {
            msg!(lang, "warn.flow_table_full", max = max_flows, pkt = pkt)
        }
        TcpWarning::MemoryBudget { limit, pkt } => msg!(
            lang,
            "warn.memory_budget",
            limit = crate::budget::show_size(limit),
            pkt = pkt
        ),
    }
}

fn layer(lang: Lang, w: &LayerWarning) -> String {
    match *w {
        LayerWarning::HeldTooMuch { max_kib } => msg!(lang, "warn.held_too_much", kib = max_kib),
        LayerWarning::MoreViolations { more } => msg!(lang, "warn.more_violations", more = more),
        LayerWarning::TooManyH2WebSockets { max } => {
            msg!(lang, "warn.too_many_h2_websockets", max = max)
        }
        LayerWarning::HpackLost { dir: d, reason } => msg!(
            lang,
            "warn.hpack_lost",
            dir = dir(lang, d),
            reason = hpack_loss(lang, reason)
        ),
    }
}

fn hpack_loss(lang: Lang, r: HpackLoss) -> String {
    match r {
        HpackLoss::GapHidFrames => msg!(lang, "warn.hpack.gap_hid_frames"),
        HpackLoss::GapInBlock => msg!(lang, "warn.hpack.gap_in_block"),
        HpackLoss::Unfinished => msg!(lang, "warn.hpack.unfinished"),
        HpackLoss::BadPadding => msg!(lang, "warn.hpack.bad_padding"),
        HpackLoss::Unreadable => msg!(lang, "warn.hpack.unreadable"),
        HpackLoss::TooLarge => msg!(lang, "warn.hpack.too_large"),
        HpackLoss::OrphanContinuation => msg!(lang, "warn.hpack.orphan_continuation"),
        HpackLoss::DidNotDecode => msg!(lang, "warn.hpack.did_not_decode"),
    }
}

/// A header's name (`header.<code>` in the catalogue).
pub fn header_name(lang: Lang, h: Header) -> String {
    crate::_rust_i18n_try_translate(lang.code(), format!("header.{}", h.code()))
        .map_or_else(|| h.code().to_string(), |t| t.into_owned())
}

fn wire_problem(lang: Lang, p: &WireProblem) -> String {
    match *p {
        WireProblem::UnsupportedLinkType(dlt) => {
            msg!(lang, "warn.unsupported_link_type", dlt = dlt)
        }
        WireProblem::Malformed {
            header,
            offset,
            reassembled,
            fault: f,
        } => {
            let (header, fault) = (header_name(lang, header), fault(lang, f));
            if reassembled {
                msg!(
                    lang,
                    "warn.malformed_reassembled",
                    header = header,
                    offset = offset,
                    fault = fault
                )
            } else {
                msg!(
                    lang,
                    "warn.malformed",
                    header = header,
                    offset = offset,
                    fault = fault
                )
            }
        }
        WireProblem::TooManyVlanTags { max, offset } => {
            msg!(lang, "warn.too_many_vlan_tags", max = max, offset = offset)
        }
        WireProblem::TooDeep { max } => msg!(lang, "warn.too_deep", max = max),
        WireProblem::FragmentCut {
            v6: false,
            offset,
            sizes,
        } => {
            let (kept, announced) = sizes.unwrap_or_default();
            msg!(
                lang,
                "warn.fragment_cut_v4",
                offset = offset,
                kept = kept,
                announced = announced
            )
        }
        WireProblem::FragmentCut {
            v6: true, offset, ..
        } => msg!(lang, "warn.fragment_cut_v6", offset = offset),
        WireProblem::NestedFragment => msg!(lang, "warn.nested_fragment"),
        WireProblem::Dropped(d) => dropped(lang, d),
    }
}

fn fault(lang: Lang, f: Fault) -> String {
    match f {
        Fault::Cut { need, have } => msg!(lang, "warn.fault.cut", need = need, have = have),
        Fault::IpVersion { version, first } => msg!(
            lang,
            "warn.fault.ip_version",
            version = version,
            first = format!("{first:#04x}")
        ),
        Fault::Ipv4HeaderLength { ihl } => msg!(lang, "warn.fault.ipv4_header_length", ihl = ihl),
        Fault::TcpDataOffset { data_offset } => {
            msg!(lang, "warn.fault.tcp_data_offset", offset = data_offset)
        }
        Fault::HopByHopNotFirst => msg!(lang, "warn.fault.hop_by_hop_not_first"),
        Fault::AuthZeroLength => msg!(lang, "warn.fault.auth_zero_length"),
        Fault::TooMany { parts, max } => match parts {
            Parts::GtpExtensions => msg!(lang, "warn.fault.too_many_gtp_extensions", max = max),
            Parts::GreSourceRoutes => {
                msg!(lang, "warn.fault.too_many_gre_source_routes", max = max)
            }
            Parts::MplsLabels => msg!(lang, "warn.fault.too_many_mpls_labels", max = max),
        },
        Fault::ZeroLength => msg!(lang, "warn.fault.zero_length"),
        Fault::LengthShort { len } => msg!(lang, "warn.fault.length_short", len = len),
    }
}

fn dropped(lang: Lang, d: Dropped) -> String {
    let ip = |v6: bool| if v6 { "IPv6" } else { "IPv4" };
    match d {
        Dropped::PastLimit { v6, id, end, max } => msg!(
            lang,
            "warn.fragment_past_limit",
            ip = ip(v6),
            id = format!("{id:#x}"),
            end = end,
            max = max
        ),
        Dropped::Inconsistent { v6, id, why } => msg!(
            lang,
            "warn.fragment_inconsistent",
            ip = ip(v6),
            id = format!("{id:#x}"),
            why = frag_fault(lang, why)
        ),
        Dropped::TooManyDatagrams { max } => msg!(lang, "warn.too_many_datagrams", max = max),
        Dropped::TimedOut { count, timeout_us } => {
            msg!(
                lang,
                "warn.fragments_timed_out",
                count = count,
                us = timeout_us
            )
        }
    }
}

fn frag_fault(lang: Lang, f: FragFault) -> String {
    match f {
        FragFault::LastDisagree { first, second } => msg!(
            lang,
            "warn.frag.last_disagree",
            first = first,
            second = second
        ),
        FragFault::PastEnd { end } => msg!(lang, "warn.frag.past_end", end = end),
        FragFault::TooManyFragments { max } => {
            msg!(lang, "warn.frag.too_many_fragments", max = max)
        }
        FragFault::TooManyBytes { max } => msg!(lang, "warn.frag.too_many_bytes", max = max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One warning of every kind (and every part of one), for the checks below.
    fn every_warning() -> Vec<Warning> {
        let mut all = vec![
            Warning::SnapLength {
                pkt: 4,
                kept: 42,
                wire: 187,
            },
            Warning::NotShown { count: 102 },
        ];
        for dir in [Direction::C2S, Direction::S2C] {
            all.push(Warning::Tcp {
                conn: 0,
                warning: TcpWarning::BufferFull {
                    dir,
                    max_bytes: 4_194_304,
                    max_segments: 16384,
                },
            });
        }
        all.push(Warning::Tcp {
            conn: 1,
            warning: TcpWarning::FlowTableFull {
                max_flows: 1000,
                pkt: 1001,
            },
        });
        let mut layer = vec![
            LayerWarning::HeldTooMuch { max_kib: 1024 },
            LayerWarning::MoreViolations { more: 3 },
            LayerWarning::TooManyH2WebSockets { max: 256 },
        ];
        for reason in [
            HpackLoss::GapHidFrames,
            HpackLoss::GapInBlock,
            HpackLoss::Unfinished,
            HpackLoss::BadPadding,
            HpackLoss::Unreadable,
            HpackLoss::TooLarge,
            HpackLoss::OrphanContinuation,
            HpackLoss::DidNotDecode,
        ] {
            layer.push(LayerWarning::HpackLost {
                dir: Direction::S2C,
                reason,
            });
        }
        all.extend(
            layer
                .into_iter()
                .map(|warning| Warning::Layer { conn: 2, warning }),
        );
        let faults = [
            Fault::Cut { need: 20, have: 10 },
            Fault::IpVersion {
                version: 5,
                first: 0x50,
            },
            Fault::Ipv4HeaderLength { ihl: 2 },
            Fault::TcpDataOffset { data_offset: 3 },
            Fault::HopByHopNotFirst,
            Fault::AuthZeroLength,
            Fault::TooMany {
                parts: Parts::GtpExtensions,
                max: 16,
            },
            Fault::TooMany {
                parts: Parts::GreSourceRoutes,
                max: 16,
            },
            Fault::TooMany {
                parts: Parts::MplsLabels,
                max: 16,
            },
            Fault::ZeroLength,
            Fault::LengthShort { len: 2 },
        ];
        for (i, header) in Header::ALL.into_iter().enumerate() {
            all.push(Warning::Wire(WireProblem::Malformed {
                header,
                offset: 14,
                reassembled: i % 2 == 1,
                fault: faults[i % faults.len()],
            }));
        }
        let frag = [
            FragFault::LastDisagree {
                first: 2960,
                second: 2000,
            },
            FragFault::PastEnd { end: 2000 },
            FragFault::TooManyFragments { max: 2048 },
            FragFault::TooManyBytes { max: 65535 },
        ];
        all.extend(frag.into_iter().map(|why| {
            Warning::Wire(WireProblem::Dropped(Dropped::Inconsistent {
                v6: false,
                id: 0xbeef,
                why,
            }))
        }));
        all.extend(
            [
                WireProblem::UnsupportedLinkType(147),
                WireProblem::TooManyVlanTags { max: 8, offset: 14 },
                WireProblem::TooDeep { max: 8 },
                WireProblem::FragmentCut {
                    v6: false,
                    offset: 14,
                    sizes: Some((100, 1480)),
                },
                WireProblem::FragmentCut {
                    v6: true,
                    offset: 14,
                    sizes: None,
                },
                WireProblem::NestedFragment,
                WireProblem::Dropped(Dropped::PastLimit {
                    v6: true,
                    id: 0xc000,
                    end: 65552,
                    max: 65535,
                }),
                WireProblem::Dropped(Dropped::TooManyDatagrams { max: 256 }),
                WireProblem::Dropped(Dropped::TimedOut {
                    count: 1,
                    timeout_us: 30_000_000,
                }),
            ]
            .map(Warning::Wire),
        );
        all
    }

    #[test]
    fn the_english_is_what_it_always_was() {
        let en = |w: &Warning| warning_text(Lang::En, w);
        assert_eq!(
            en(&Warning::SnapLength { pkt: 4, kept: 42, wire: 187 }),
            "packet 4 keeps 42 of its 187 TCP payload bytes: the capture's snap length cut it; \
             the missing bytes are reported as gaps (capture with tcpdump -s 0 to keep whole packets)"
        );
        assert_eq!(
            en(&Warning::Wire(WireProblem::Malformed {
                header: Header::Ipv4,
                offset: 50,
                reassembled: false,
                fault: Fault::Cut { need: 20, have: 10 },
            })),
            "IPv4 header at offset 50: needs 20 bytes, only 10 captured"
        );
        assert_eq!(
            en(&Warning::Wire(WireProblem::Dropped(
                Dropped::Inconsistent {
                    v6: false,
                    id: 0xbeef,
                    why: FragFault::TooManyFragments { max: 2048 },
                }
            ))),
            "IPv4 fragment (id 0xbeef): more than 2048 fragments; datagram dropped"
        );
        assert_eq!(
            en(&Warning::Tcp {
                conn: 0,
                warning: TcpWarning::BufferFull {
                    dir: Direction::C2S,
                    max_bytes: 4_194_304,
                    max_segments: 16384,
                },
            }),
            "connection 0: c2s: more than 4194304 bytes or 16384 segments arrived ahead of a \
             missing segment; the hole was declared a gap (raise --max-flow-buffer to wait longer)"
        );
        assert_eq!(
            en(&Warning::Layer {
                conn: 3,
                warning: LayerWarning::HpackLost {
                    dir: Direction::S2C,
                    reason: HpackLoss::BadPadding,
                },
            }),
            "connection 3: HTTP/2 header compression state of the s2c stream lost (a header \
             block could not be read (bad padding)): later headers may not decode"
        );
    }

    #[test]
    fn every_warning_has_its_words_in_both_languages() {
        let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        for w in every_warning() {
            let (en, zh) = (warning_text(Lang::En, &w), warning_text(Lang::Zh, &w));
            for (lang, t) in [("en", &en), ("zh", &zh)] {
                assert!(
                    !t.contains("%{") && !t.contains("header.") && !t.contains("warn."),
                    "{lang}: a key or a placeholder left in {t:?} ({w:?})"
                );
            }
            assert!(!cjk(&en), "{en}");
            assert!(cjk(&zh), "no Chinese in {zh:?} ({w:?})");
        }
    }
}
