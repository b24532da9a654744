//! Deterministic content for the generated inputs: a small PRNG and the sort of
//! payload a chat or a live feed carries.

/// xorshift64*: the same inputs on every run, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `lo..hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo) as u64) as usize
    }

    pub fn mask(&mut self) -> [u8; 4] {
        (self.next() as u32).to_be_bytes()
    }

    /// `n` incompressible bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(n);
        v
    }
}

const WORDS: &[&str] = &[
    "hello", "world", "price", "update", "order", "the", "market", "é", "naïve", "ok", "ready",
    "ping", "latency", "socket", "frame", "deflate", "日本", "stream", "quote", "user",
];

/// Text of about `n` bytes: words from a small vocabulary, some of them not ASCII.
pub fn words(rng: &mut Rng, n: usize) -> String {
    let mut s = String::with_capacity(n + 16);
    while s.len() < n {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(WORDS[rng.range(0, WORDS.len())]);
    }
    s
}

/// A chat message as JSON, `text_len` bytes of text or so.
pub fn chat_json(rng: &mut Rng, id: usize, text_len: usize) -> String {
    format!(
        r#"{{"type":"message","id":{id},"room":"lobby","user":"user{}","text":"{}","ts":{}}}"#,
        rng.range(1, 500),
        words(rng, text_len),
        1_700_000_000_000u64 + id as u64 * 37
    )
}

/// A JSON document of about `n` bytes: an array of market quotes.
pub fn quotes_json(rng: &mut Rng, n: usize) -> String {
    let mut s = String::from(r#"{"type":"snapshot","quotes":["#);
    let mut i = 0;
    while s.len() < n {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            r#"{{"symbol":"SYM{}","bid":{}.{:02},"ask":{}.{:02},"volume":{}}}"#,
            rng.range(0, 2000),
            rng.range(1, 1000),
            rng.range(0, 100),
            rng.range(1, 1000),
            rng.range(0, 100),
            rng.range(0, 1_000_000)
        ));
        i += 1;
    }
    s.push_str("]}");
    s
}
