//! Where a cell's lines go: protocol lines on stdout, logs on stderr (a one-cell peer) or into the
//! result line's `log` (a worker).

use std::io::Write;

use crate::json::Json;

/// The identity every line carries. rustls has no call that reports its version at run time;
/// build.rs reads the one Cargo.lock resolved, which is the one linked in.
pub fn library() -> Json {
    Json::Object(vec![
        ("id", Json::str("rustls")),
        ("name", Json::str("rustls")),
        ("version", Json::str(env!("PEER_RUSTLS_VERSION"))),
    ])
}

/// Prints one protocol line and flushes it: the runner reads it at once.
pub fn emit(line: &Json) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", line.encode());
    let _ = out.flush();
}

/// A cell's log: stderr for a one-cell peer, kept for the result line in a worker.
pub struct Output {
    worker: bool,
    log: String,
}

impl Output {
    pub fn new(worker: bool) -> Output {
        Output {
            worker,
            log: String::new(),
        }
    }

    pub fn log(&mut self, line: &str) {
        if self.worker {
            self.log.push_str(line);
            self.log.push('\n');
        } else {
            eprintln!("{}", line);
        }
    }

    pub fn listening(&self, port: u16) {
        emit(&Json::Object(vec![
            ("event", Json::str("listening")),
            ("port", Json::Int(port as i64)),
        ]));
    }

    /// The result line, with the log in a worker.
    pub fn finish(self, mut fields: Vec<(&'static str, Json)>) {
        if self.worker {
            fields.push(("log", Json::Str(self.log)));
        }
        emit(&Json::Object(fields));
    }
}
