//! One cell, server or client: from the socket to close_notify, and the result line.

use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::{
    ClientConfig, ClientConnection, Connection, ServerConfig, ServerConnection, ServerName,
};

use crate::capabilities::NOT_READABLE;
use crate::config::{new_config, TlsConfig};
use crate::exchange::{echo_mismatch, Exchange};
use crate::failure::{CellError, Direction, Failure, Stage};
use crate::json::Json;
use crate::link::{Link, Plain, Stop};
use crate::names;
use crate::net;
use crate::output::{library, Output};
use crate::request::{Request, Role};
use crate::subject::subject_of;

/// How long a failed connection may still spend on its alert or close_notify (PEER-PROTOCOL.md).
const PARTING: Duration = Duration::from_millis(250);

/// A cell in progress: what it has seen so far, for the result line.
pub struct Cell<'a> {
    pub req: &'a Request,
    pub out: &'a mut Output,
    pub deadline: Instant,
    views: Vec<Json>,
    pub exchange: Exchange,
    established: bool,
    handshake_ms: Option<f64>,
}

/// Runs one request and prints its result line; returns the exit code.
pub fn run_cell(req: &Request, mut out: Output) -> i32 {
    let deadline = Instant::now() + Duration::from_millis(req.timeout_ms);
    let mut cell = Cell {
        req,
        out: &mut out,
        deadline,
        views: Vec::new(),
        exchange: Exchange::new(),
        established: false,
        handshake_ms: None,
    };
    let outcome = new_config(req).and_then(|config| match config {
        TlsConfig::Client(config, name) => cell.connect(config, name).map_err(CellError::from),
        TlsConfig::Server(config) => cell.serve(config).map_err(CellError::from),
    });
    let mut fields = vec![
        ("event", Json::str("result")),
        ("role", Json::str(req.role.name())),
        ("library", library()),
    ];
    let code = match &outcome {
        Ok(()) => {
            cell.out
                .log("done: handshake, echo and close_notify both ways");
            fields.push(("status", Json::str("ok")));
            fields.push(("reason", Json::Null));
            0
        }
        Err(CellError::Unsupported(reason)) => {
            cell.out.log(&format!("unsupported: {}", reason));
            fields.push(("status", Json::str("unsupported")));
            fields.push(("reason", Json::str(reason)));
            3
        }
        Err(CellError::Failed(f)) => {
            cell.out.log(&f.to_string());
            fields.push(("status", Json::str("failed")));
            fields.push(("reason", Json::Null));
            1
        }
    };
    // One connection per cell (this peer does not resume), so one view.
    let view = cell.views.pop();
    if view.is_some() {
        fields.push(("exchange", cell.exchange.json()));
    }
    fields.push(("view", view.unwrap_or(Json::Null)));
    fields.push((
        "error",
        if let Err(CellError::Failed(f)) = &outcome {
            f.json()
        } else {
            Json::Null
        },
    ));
    fields.push((
        "handshake_ms",
        cell.handshake_ms.map_or(Json::Null, Json::Float),
    ));
    out.finish(fields);
    code
}

impl Cell<'_> {
    fn serve(&mut self, config: Arc<ServerConfig>) -> Result<(), Failure> {
        let (listener, port) = net::listen()?;
        self.out.listening(port);
        self.out.log(&format!(
            "rustls {} server listening on 127.0.0.1:{}",
            env!("PEER_RUSTLS_VERSION"),
            port
        ));
        let socket = net::accept(&listener, self.deadline, self.req.timeout_ms)?;
        let conn =
            ServerConnection::new(config).map_err(|e| Failure::setup(format!("rustls: {}", e)))?;
        self.converse(Connection::Server(conn), socket, |cell, link| {
            if cell.req.transfer > 0 {
                cell.echo_transfer(link)?;
            } else {
                let mut line = cell.read_line(link)?;
                line.extend_from_slice(b" pong\n");
                cell.write(link, &line)?;
            }
            // The client closes first; its close_notify is answered with ours.
            cell.await_close_notify(link)?;
            link.conn.send_close_notify();
            link.flush()
                .map_err(|s| cell.failure(s, Stage::Shutdown, link))
        })
    }

    fn connect(&mut self, config: Arc<ClientConfig>, name: ServerName) -> Result<(), Failure> {
        let socket = net::connect(self.req.port, self.deadline, self.req.timeout_ms)?;
        self.out.log(&format!(
            "rustls {} client connected to 127.0.0.1:{}",
            env!("PEER_RUSTLS_VERSION"),
            self.req.port
        ));
        let conn = ClientConnection::new(config, name)
            .map_err(|e| Failure::setup(format!("rustls: {}", e)))?;
        self.converse(Connection::Client(conn), socket, |cell, link| {
            if cell.req.transfer > 0 {
                cell.send_transfer(link)?;
            } else {
                let message = format!("{}\n", cell.req.message);
                cell.write(link, message.as_bytes())?;
                let echoed = cell.read_line(link)?;
                let expected = format!("{} pong", cell.req.message);
                if let Some(m) = echo_mismatch(expected.as_bytes(), &echoed) {
                    return Err(Failure::ours(Stage::Data, m));
                }
            }
            if cell.req.truncate {
                cell.out.log("closing without close_notify, as asked");
                return Ok(());
            }
            link.conn.send_close_notify();
            link.flush()
                .map_err(|s| cell.failure(s, Stage::Shutdown, link))?;
            cell.await_close_notify(link)
        })
    }

    /// One connection: the handshake, the view, then the role's exchange; however it ends, the
    /// connection is closed as PEER-PROTOCOL.md asks.
    fn converse(
        &mut self,
        conn: Connection,
        socket: TcpStream,
        exchange: impl FnOnce(&mut Self, &mut Link) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        let mut link = Link::new(conn, socket, self.deadline);
        let started = Instant::now();
        let outcome = match link.handshake() {
            Ok(()) => {
                self.note_established(&link, started);
                exchange(self, &mut link)
            }
            // The handshake ended, and a record read with its last flight (the same read) then
            // failed: rustls reports both from one process_new_packets, but the failure is the data's.
            Err(stop) if !link.conn.is_handshaking() => {
                self.note_established(&link, started);
                Err(self.failure(stop, Stage::Data, &link))
            }
            Err(stop) => Err(self.failure(stop, Stage::Handshake, &link)),
        };
        self.end(&mut link, &outcome);
        outcome
    }

    /// The handshake is done: its time, and the view read back from rustls.
    fn note_established(&mut self, link: &Link, started: Instant) {
        self.handshake_ms = Some(started.elapsed().as_micros() as f64 / 1000.0);
        self.established = true;
        let view = self.view(&link.conn);
        self.views.push(view);
    }

    /// After a failure this peer found (an echo that differs, a deadline) rustls sent nothing, so
    /// close_notify still goes out once the handshake is done; rustls 0.20 has no call to send
    /// user_canceled during a handshake. A failed or truncated connection closes lingering.
    fn end(&mut self, link: &mut Link, outcome: &Result<(), Failure>) {
        match outcome {
            Ok(()) if !self.req.truncate => {}
            Ok(()) => link.linger_close(PARTING),
            Err(f) => {
                if f.ours && self.established {
                    link.close_notify_within(PARTING);
                    self.out.log("close_notify sent after the failure");
                } else if f.stage == Stage::Timeout {
                    self.out
                        .log("no user_canceled: rustls 0.20 has no call to send an alert");
                }
                link.linger_close(PARTING);
            }
        }
    }

    /// The protocol's failure for why a step stopped at `stage`.
    pub fn failure(&self, stop: Stop, stage: Stage, link: &Link) -> Failure {
        let mut f = match stop {
            Stop::Tls(e) => Failure::tls(stage, &e),
            Stop::Os(e) => Failure::os(stage, "socket", &e),
            Stop::Timeout => Failure::timeout(stage, self.req.timeout_ms),
            Stop::Closed => Failure::new(stage, "the other side closed TCP during the handshake"),
        };
        if f.alert.is_none() && !f.ours {
            f.alert = link.alert_sent().map(|a| (a, Direction::Sent));
        }
        f
    }

    pub fn write(&mut self, link: &mut Link, bytes: &[u8]) -> Result<(), Failure> {
        link.write_plain(bytes)
            .map_err(|s| self.failure(s, Stage::Data, link))?;
        self.exchange.count_sent(bytes);
        Ok(())
    }

    /// Reads up to and excluding the first newline.
    fn read_line(&mut self, link: &mut Link) -> Result<Vec<u8>, Failure> {
        let mut line = Vec::new();
        let mut chunk = [0u8; 16384];
        loop {
            match link
                .read_plain(&mut chunk)
                .map_err(|s| self.failure(s, Stage::Data, link))?
            {
                Plain::Data(n) => {
                    self.exchange.count_received(&chunk[..n]);
                    line.extend_from_slice(&chunk[..n]);
                    if let Some(end) = line.iter().position(|&b| b == b'\n') {
                        line.truncate(end);
                        return Ok(line);
                    }
                    if line.len() > 65536 {
                        return Err(Failure::ours(Stage::Data, "no newline in 64 KiB of data"));
                    }
                }
                Plain::CloseNotify => {
                    return Err(Failure::ours(
                        Stage::Data,
                        format!(
                            "peer sent close_notify before a full line ({} bytes)",
                            line.len()
                        ),
                    ))
                }
                Plain::Truncated => {
                    return Err(Failure::ours(
                        Stage::Data,
                        format!(
                            "the stream ended without close_notify before a full line ({} bytes)",
                            line.len()
                        ),
                    ))
                }
            }
        }
    }

    /// Reads until the other side's close_notify; data or a bare TCP end instead fails `shutdown`.
    fn await_close_notify(&mut self, link: &mut Link) -> Result<(), Failure> {
        let mut chunk = [0u8; 4096];
        match link.read_plain(&mut chunk).map_err(|s| self.failure(s, Stage::Shutdown, link))? {
            Plain::CloseNotify => Ok(()),
            Plain::Data(n) => Err(Failure::new(
                Stage::Shutdown,
                format!("expected close_notify, got {} more bytes of data", n),
            )),
            Plain::Truncated => Err(Failure::new(
                Stage::Shutdown,
                "the stream ended without close_notify (a truncation, RFC 8446 §6.1, RFC 5246 §7.2.1)",
            )),
        }
    }

    /// What the connection negotiated, read back from rustls.
    fn view(&mut self, conn: &Connection) -> Json {
        let version = conn.protocol_version().and_then(names::version_name);
        let suite = conn.negotiated_cipher_suite();
        let alpn = conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        let peer = conn
            .peer_certificates()
            .and_then(|certs| certs.first())
            .map(|c| subject_of(&c.0).unwrap_or_else(|| "unparsable subject".to_string()));
        let server_name = match conn {
            Connection::Server(s) if self.req.role == Role::Server => {
                s.sni_hostname().map(str::to_string)
            }
            _ => None,
        };
        self.out.log(&format!(
            "handshake done: {} {} peer {}",
            version.unwrap_or("?"),
            suite.map_or("?".to_string(), names::library_suite_name),
            peer.as_deref().unwrap_or("-")
        ));
        let mut not_readable: Vec<&str> = NOT_READABLE.to_vec();
        // rustls 0.20 has no call that says whether a handshake resumed.
        not_readable.push("resumed");
        Json::Object(vec![
            ("version", Json::opt_str(version)),
            (
                "suite",
                suite
                    .and_then(names::iana_suite_name)
                    .map_or(Json::Null, Json::Str),
            ),
            (
                "suite_code",
                suite.map_or(Json::Null, |s| Json::Str(names::suite_code(s))),
            ),
            (
                "library_suite",
                suite.map_or(Json::Null, |s| Json::Str(names::library_suite_name(s))),
            ),
            ("group", Json::Null),
            ("signature_scheme", Json::Null),
            ("alpn", alpn.map_or(Json::Null, Json::Str)),
            ("resumed", Json::Null),
            ("peer_certificate", peer.map_or(Json::Null, Json::Str)),
            ("server_name", server_name.map_or(Json::Null, Json::Str)),
            ("not_readable", Json::strings(&not_readable)),
        ])
    }
}
