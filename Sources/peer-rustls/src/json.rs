//! The little JSON this peer needs: writing its protocol lines, and reading a worker request (an
//! array of strings). Debian bookworm packages no serde_json for rustc 1.63, and these two shapes
//! are small enough to handle by hand.

use std::fmt::Write;

/// A JSON value as this peer writes it.
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    /// Keys in the order they are written.
    Object(Vec<(&'static str, Json)>),
}

impl Json {
    pub fn str(s: &str) -> Json {
        Json::Str(s.to_string())
    }

    pub fn opt_str(s: Option<&str>) -> Json {
        s.map_or(Json::Null, Json::str)
    }

    pub fn strings<S: AsRef<str>>(items: &[S]) -> Json {
        Json::Array(items.iter().map(|s| Json::str(s.as_ref())).collect())
    }

    /// One line of compact JSON, no newline.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(n) => {
                let _ = write!(out, "{}", n);
            }
            Json::Float(x) if x.is_finite() => {
                let _ = write!(out, "{}", x);
            }
            Json::Float(_) => out.push_str("null"),
            Json::Str(s) => write_string(s, out),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(key, out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Reads a JSON array of strings (a worker request); `None` for anything else.
pub fn parse_string_array(text: &str) -> Option<Vec<String>> {
    let mut p = Parser {
        chars: text.trim().chars().collect(),
        at: 0,
    };
    p.expect('[')?;
    let mut items = Vec::new();
    p.skip_space();
    if p.peek() == Some(']') {
        p.at += 1;
    } else {
        loop {
            p.skip_space();
            items.push(p.string()?);
            p.skip_space();
            match p.next()? {
                ',' => continue,
                ']' => break,
                _ => return None,
            }
        }
    }
    p.skip_space();
    if p.at == p.chars.len() {
        Some(items)
    } else {
        None
    }
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        Some(c)
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.at += 1;
        }
    }

    fn expect(&mut self, c: char) -> Option<()> {
        self.skip_space();
        (self.next()? == c).then(|| ())
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut v = 0;
        for _ in 0..4 {
            v = v * 16 + self.next()?.to_digit(16)?;
        }
        Some(v)
    }

    fn string(&mut self) -> Option<String> {
        self.expect('"')?;
        let mut s = String::new();
        loop {
            match self.next()? {
                '"' => return Some(s),
                '\\' => match self.next()? {
                    '"' => s.push('"'),
                    '\\' => s.push('\\'),
                    '/' => s.push('/'),
                    'b' => s.push('\u{8}'),
                    'f' => s.push('\u{c}'),
                    'n' => s.push('\n'),
                    'r' => s.push('\r'),
                    't' => s.push('\t'),
                    'u' => {
                        let high = self.hex4()?;
                        let code = if (0xD800..0xDC00).contains(&high) {
                            // A surrogate pair (RFC 8259 §7).
                            if self.next()? != '\\' || self.next()? != 'u' {
                                return None;
                            }
                            let low = self.hex4()?;
                            if !(0xDC00..0xE000).contains(&low) {
                                return None;
                            }
                            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            high
                        };
                        s.push(char::from_u32(code)?);
                    }
                    _ => return None,
                },
                c if (c as u32) < 0x20 => return None,
                c => s.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_request_and_refuses_other_shapes() {
        let args = parse_string_array(r#"["server", "--message", "a\"b\u00e9"]"#).unwrap();
        assert_eq!(args, vec!["server", "--message", "a\"bé"]);
        assert_eq!(parse_string_array("[]").unwrap().len(), 0);
        assert!(parse_string_array(r#"{"a":1}"#).is_none());
        assert!(parse_string_array(r#"["a", 1]"#).is_none());
        assert!(parse_string_array(r#"["a"] x"#).is_none());
    }

    #[test]
    fn writes_strings_escaped() {
        let line = Json::Object(vec![("m", Json::str("a\"\n\u{1}"))]).encode();
        assert_eq!(line, r#"{"m":"a\"\n\u0001"}"#);
    }
}
