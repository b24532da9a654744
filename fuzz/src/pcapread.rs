//! Packets of a pcap or pcapng file in memory, with `pcap-parser`, as the binary's
//! libpcap reader hands them to the analyzer: (link type, time, bytes). Shared with
//! the seed generator (`seedgen/`) and the benchmarks (`benches/layers/`), which
//! include this file by path. Stops at the first block that does not parse: a
//! fuzzed file is mostly damaged.

use pcap_parser::nom;
use pcap_parser::{Block, Linktype};
use wsscope::types::Timestamp;

/// Calls `f(linktype, ts, data)` for every packet of `file` (pcap or pcapng).
pub fn for_each_packet(file: &[u8], mut f: impl FnMut(i32, Timestamp, &[u8])) {
    if let Ok((rest, h)) = pcap_parser::parse_pcap_header(file) {
        let nanos = h.is_nanosecond_precision();
        let be = h.is_bigendian();
        let mut i = rest;
        loop {
            let r = if be {
                pcap_parser::parse_pcap_frame_be(i)
            } else {
                pcap_parser::parse_pcap_frame(i)
            };
            let Ok((rest, b)) = r else { break };
            let frac = if nanos { b.ts_usec / 1000 } else { b.ts_usec };
            f(
                h.network.0,
                Timestamp::from_parts(b.ts_sec as i64, frac as i64),
                b.data,
            );
            i = rest;
        }
        return;
    }
    // pcapng: interfaces (link type, resolution) per section.
    let Ok((mut i, shb)) = pcap_parser::parse_sectionheaderblock(file) else {
        return;
    };
    let mut be = shb.big_endian();
    let mut ifaces: Vec<(Linktype, u64)> = Vec::new();
    loop {
        // A block length under 12 (other than a section header's, checked against
        // its 28 bytes) overflows in pcap-parser 0.17, as in the binary's reader.
        let short = match (i.get(..4), i.get(4..8)) {
            (Some(kind), Some(len)) => {
                let len: [u8; 4] = len.try_into().unwrap();
                let len = if be {
                    u32::from_be_bytes(len)
                } else {
                    u32::from_le_bytes(len)
                };
                kind != [0x0a, 0x0d, 0x0d, 0x0a] && len < 12
            }
            _ => false,
        };
        if short {
            break;
        }
        let r: nom::IResult<_, _, _> = if be {
            pcap_parser::parse_block_be(i)
        } else {
            pcap_parser::parse_block_le(i)
        };
        let Ok((rest, block)) = r else { break };
        if rest.len() >= i.len() {
            break;
        }
        i = rest;
        match block {
            Block::SectionHeader(s) => {
                be = s.big_endian();
                ifaces.clear();
            }
            Block::InterfaceDescription(idb) => ifaces.push((
                idb.linktype,
                idb.ts_resolution().unwrap_or(1_000_000).max(1),
            )),
            Block::EnhancedPacket(epb) => {
                let Some(&(lt, res)) = ifaces.get(epb.if_id as usize) else {
                    continue;
                };
                let t = (epb.ts_high as u64) << 32 | epb.ts_low as u64;
                let secs = (t / res) as i64;
                let micros = ((t % res) as u128 * 1_000_000 / res as u128) as i64;
                let caplen = (epb.caplen as usize).min(epb.data.len());
                f(
                    lt.0,
                    Timestamp::from_parts(secs, micros),
                    &epb.data[..caplen],
                );
            }
            Block::SimplePacket(spb) => {
                let Some(&(lt, _)) = ifaces.first() else {
                    continue;
                };
                f(lt.0, Timestamp::from_parts(0, 0), spb.data);
            }
            _ => {}
        }
    }
}
