//! The floor for `wsscope stats`: read every packet of a capture through
//! libpcap and touch its bytes, nothing else. `bench/run.sh` compares against it.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: pcap_read FILE");
        std::process::exit(2);
    };
    let mut cap = match pcap::Capture::from_file(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pcap_read: {path}: {e}");
            std::process::exit(1);
        }
    };
    let (mut packets, mut bytes, mut sum) = (0u64, 0u64, 0u64);
    while let Ok(p) = cap.next_packet() {
        packets += 1;
        bytes += p.data.len() as u64;
        sum = sum.wrapping_add(u64::from(p.data.first().copied().unwrap_or(0)));
    }
    println!("{packets} packets, {bytes} bytes (checksum {sum})");
}
