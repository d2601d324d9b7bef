//! A certificate's subject in RFC 4514's form, read from its DER: rustls hands over the peer's
//! certificates as DER only, and Debian packages no X.509 parser for this toolchain, so the few
//! DER structures on the way to the subject are read here.

use std::fmt::Write;

/// One DER element: its tag and the bytes of its contents.
struct Element<'a> {
    tag: u8,
    contents: &'a [u8],
}

/// Reads the element at the start of `input`; returns it and what follows.
fn element(input: &[u8]) -> Option<(Element, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        first as usize
    } else {
        let count = (first & 0x7f) as usize;
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let mut n = 0usize;
        for &b in &rest[..count] {
            n = (n << 8) | b as usize;
        }
        rest = &rest[count..];
        n
    };
    if rest.len() < length {
        return None;
    }
    Some((
        Element {
            tag,
            contents: &rest[..length],
        },
        &rest[length..],
    ))
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;

/// The subject of a DER certificate (RFC 5280 §4.1: Certificate → tbsCertificate → subject), in
/// RFC 4514 order: the last RDN of the DER sequence first.
pub fn subject_of(certificate: &[u8]) -> Option<String> {
    let (cert, _) = element(certificate)?;
    let (tbs, _) = element(cert.contents)?;
    let mut fields = tbs.contents;
    let (first, rest) = element(fields)?;
    fields = rest;
    // version [0] EXPLICIT is optional; then serialNumber, signature, issuer, validity, subject.
    let skip = if first.tag == 0xa0 { 4 } else { 3 };
    for _ in 0..skip {
        let (_, rest) = element(fields)?;
        fields = rest;
    }
    let (name, _) = element(fields)?;
    if name.tag != SEQUENCE {
        return None;
    }
    rdn_sequence(name.contents)
}

fn rdn_sequence(mut input: &[u8]) -> Option<String> {
    let mut rdns = Vec::new();
    while !input.is_empty() {
        let (set, rest) = element(input)?;
        input = rest;
        if set.tag != SET {
            return None;
        }
        let mut attributes = Vec::new();
        let mut members = set.contents;
        while !members.is_empty() {
            let (pair, rest) = element(members)?;
            members = rest;
            let (oid, rest) = element(pair.contents)?;
            let (value, _) = element(rest)?;
            attributes.push(attribute(oid.contents, &value, rest));
        }
        rdns.push(attributes.join("+"));
    }
    rdns.reverse();
    Some(rdns.join(","))
}

/// `type=value` for one attribute (RFC 4514 §2.3): a short name where RFC 4514 gives one, else
/// the dotted OID; a string value escaped, any other value as `#` and its DER (`value_der`, the
/// element whole) in hex.
fn attribute(oid: &[u8], value: &Element, value_der: &[u8]) -> String {
    let name = match oid {
        [0x55, 0x04, 0x03] => "CN".to_string(),
        [0x55, 0x04, 0x07] => "L".to_string(),
        [0x55, 0x04, 0x08] => "ST".to_string(),
        [0x55, 0x04, 0x0a] => "O".to_string(),
        [0x55, 0x04, 0x0b] => "OU".to_string(),
        [0x55, 0x04, 0x06] => "C".to_string(),
        [0x55, 0x04, 0x09] => "STREET".to_string(),
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC".to_string(),
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01] => "UID".to_string(),
        _ => dotted(oid),
    };
    // UTF8String, PrintableString, IA5String, TeletexString (read as Latin-1), BMPString.
    let text = match value.tag {
        0x0c | 0x13 | 0x16 => std::str::from_utf8(value.contents).ok().map(str::to_string),
        0x14 => Some(value.contents.iter().map(|&b| b as char).collect()),
        0x1e => {
            let units: Vec<u16> = value
                .contents
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    };
    match text {
        Some(t) => format!("{}={}", name, escape(&t)),
        None => {
            let mut hex = String::from("#");
            for b in value_der {
                let _ = write!(hex, "{:02X}", b);
            }
            format!("{}={}", name, hex)
        }
    }
}

fn dotted(oid: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut n: u64 = 0;
    for &b in oid {
        n = (n << 7) | (b & 0x7f) as u64;
        if b & 0x80 == 0 {
            if parts.is_empty() {
                let first = if n < 80 { n / 40 } else { 2 };
                parts.push(first);
                parts.push(n - first * 40);
            } else {
                parts.push(n);
            }
            n = 0;
        }
    }
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// RFC 4514 §2.4: `"+,;<>\` anywhere, `#` or a space first, a space last.
fn escape(value: &str) -> String {
    let mut out = String::new();
    let count = value.chars().count();
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (i == 0 && (c == '#' || c == ' '))
            || (i + 1 == count && c == ' ');
        if special {
            out.push('\\');
            out.push(c);
        } else if c == '\0' {
            out.push_str("\\00");
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_rfc_4514_says() {
        assert_eq!(escape("a,b"), "a\\,b");
        assert_eq!(escape(" x "), "\\ x\\ ");
        assert_eq!(escape("#1"), "\\#1");
    }

    #[test]
    fn names_oids_without_a_short_name() {
        assert_eq!(
            dotted(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01]),
            "1.2.840.113549.1.9.1"
        );
    }
}
