//! What the application data of a connection was: counts and FNV-1a 64 digests both ways, the
//! transfer pattern, and how an echo that differs is shown.

use crate::json::Json;

/// FNV-1a 64 over a byte stream, the protocol's digest.
#[derive(Clone, Copy)]
pub struct Fnv(u64);

impl Fnv {
    pub fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    pub fn add(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    pub fn text(self) -> String {
        format!("fnv1a64:{:016x}", self.0)
    }
}

/// One connection's application data as this side counted it.
pub struct Exchange {
    pub sent: usize,
    pub received: usize,
    pub digest_sent: Fnv,
    pub digest_received: Fnv,
}

impl Exchange {
    pub fn new() -> Exchange {
        Exchange {
            sent: 0,
            received: 0,
            digest_sent: Fnv::new(),
            digest_received: Fnv::new(),
        }
    }

    pub fn count_sent(&mut self, bytes: &[u8]) {
        self.sent += bytes.len();
        self.digest_sent.add(bytes);
    }

    pub fn count_received(&mut self, bytes: &[u8]) {
        self.received += bytes.len();
        self.digest_received.add(bytes);
    }

    /// rustls 0.20 neither sends KeyUpdate on request nor says when one arrived: both counts null.
    pub fn json(&self) -> Json {
        Json::Object(vec![
            ("bytes_sent", Json::Int(self.sent as i64)),
            ("bytes_received", Json::Int(self.received as i64)),
            ("digest_sent", Json::Str(self.digest_sent.text())),
            ("digest_received", Json::Str(self.digest_received.text())),
            ("key_updates_sent", Json::Null),
            ("key_updates_received", Json::Null),
        ])
    }
}

/// Byte `i` of the transfer: the top byte of i × 0x9E3779B97F4A7C15 modulo 2⁶⁴.
pub fn transfer_byte(i: usize) -> u8 {
    ((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8
}

/// The first byte of `bytes` (at stream offset `offset`) that is not the pattern's.
pub fn pattern_mismatch(bytes: &[u8], offset: usize) -> Option<String> {
    bytes
        .iter()
        .enumerate()
        .find(|&(i, &b)| b != transfer_byte(offset + i))
        .map(|(i, &b)| {
            format!(
                "byte {} of the transfer is 0x{:02X}, not 0x{:02X} as the pattern has it",
                offset + i,
                b,
                transfer_byte(offset + i)
            )
        })
}

/// `None` when `received` is `expected` byte for byte, else what differs, written so that two
/// lines that print alike never read alike (PEER-PROTOCOL.md, step 3).
pub fn echo_mismatch(expected: &[u8], received: &[u8]) -> Option<String> {
    if expected == received {
        return None;
    }
    let offset = expected
        .iter()
        .zip(received)
        .take_while(|(a, b)| a == b)
        .count();
    let detail = match (expected.get(offset), received.get(offset)) {
        (Some(e), Some(r)) => format!("expected 0x{:02X}, got 0x{:02X}", e, r),
        (Some(_), None) => "the echo ends there".to_string(),
        _ => "the echo goes on".to_string(),
    };
    Some(format!(
        "echo mismatch: expected {} bytes {}, got {} bytes {}; first difference at byte {} ({})",
        expected.len(),
        escaped(expected, offset),
        received.len(),
        escaped(received, offset),
        offset,
        detail
    ))
}

const WINDOW: usize = 160;

/// Printable ASCII as is, `\"` `\\` `\n` `\r` `\t`, any other byte as `\xHH`; a long line is cut
/// to a window around `offset`, marked with `…`.
fn escaped(bytes: &[u8], offset: usize) -> String {
    let start = if bytes.len() > WINDOW {
        offset.saturating_sub(WINDOW / 4).min(bytes.len() - WINDOW)
    } else {
        0
    };
    let end = (start + WINDOW).min(bytes.len());
    let mut s = String::new();
    if start > 0 {
        s.push('…');
    }
    s.push('"');
    for &b in &bytes[start..end] {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{:02X}", b)),
        }
    }
    s.push('"');
    if end < bytes.len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_of_nothing_is_the_offset_basis() {
        assert_eq!(Fnv::new().text(), "fnv1a64:cbf29ce484222325");
        let mut f = Fnv::new();
        f.add(b"a");
        assert_eq!(f.text(), "fnv1a64:af63dc4c8601ec8c");
    }

    #[test]
    fn a_mismatch_names_the_offset_and_bytes() {
        let m = echo_mismatch(b"ab pong", b"ab\tpong").unwrap();
        assert!(
            m.contains("first difference at byte 2 (expected 0x20, got 0x09)"),
            "{}",
            m
        );
        assert!(m.contains("\"ab\\tpong\""), "{}", m);
    }
}
