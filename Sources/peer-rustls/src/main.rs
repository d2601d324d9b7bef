//! peer-rustls: the interop-matrix peer for rustls, speaking the protocol of
//! Sources/PeerKit/PEER-PROTOCOL.md over rustls 0.20's public API.

mod capabilities;
mod cell;
mod config;
mod exchange;
mod failure;
mod json;
mod keycheck;
mod link;
mod names;
mod net;
mod output;
mod request;
mod subject;
mod transfer;

use std::io::BufRead;
use std::process::exit;
use std::time::Duration;

use output::{emit, Output};
use request::Request;

const USAGE: &str =
    "usage: peer-rustls capabilities | worker | server|client [options]; see Sources/PeerKit/PEER-PROTOCOL.md";

fn main() {
    // Rust's runtime already ignores SIGPIPE before main, so a write to a closed socket fails
    // with EPIPE instead of ending the peer.
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {
            eprintln!("{}", USAGE);
            exit(2)
        }
        Some("--help") => {
            eprintln!("{}", USAGE);
            exit(0)
        }
        Some("capabilities") => {
            emit(&capabilities::capabilities());
            exit(0)
        }
        Some("worker") => {
            worker();
            exit(0)
        }
        _ => {}
    }
    match Request::parse(&args) {
        Ok(req) => exit(cell::run_cell(&req, Output::new(false))),
        Err(e) => {
            eprintln!("peer-rustls: {}", e);
            exit(2)
        }
    }
}

/// One cell per request line on stdin, each on a fresh configuration, until end of input.
fn worker() {
    watch_parent();
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let line = match line {
            Ok(l) => l,
            Err(_) => break,
        };
        if line.trim().is_empty() {
            continue;
        }
        let args = match json::parse_string_array(&line) {
            Some(a) => a,
            None => {
                usage_line("a request must be a JSON array of strings");
                continue;
            }
        };
        match Request::parse(&args) {
            Ok(req) => {
                cell::run_cell(&req, Output::new(true));
            }
            Err(e) => usage_line(&format!("peer-rustls: {}", e)),
        }
    }
}

fn usage_line(message: &str) {
    emit(&json::Json::Object(vec![
        ("event", json::Json::str("usage")),
        ("message", json::Json::str(message)),
    ]));
}

/// Ends the worker once the runner that started it (INTEROP_MATRIX_PARENT_PID) is gone: an
/// orphan's parent changes. End of stdin, which the runner's death also brings, ends it too.
fn watch_parent() {
    let parent = match std::env::var("INTEROP_MATRIX_PARENT_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
    {
        Some(p) if p > 0 => p,
        _ => return,
    };
    std::thread::spawn(move || loop {
        if std::os::unix::process::parent_id() != parent {
            exit(0);
        }
        std::thread::sleep(Duration::from_millis(200));
    });
}
