//! Why a cell did not end `ok`: the protocol's stages, verify reasons and alerts, from rustls's
//! `Error` and the operating system's errors.

use std::fmt;
use std::io;

use crate::json::Json;
use crate::names::alert_name;

/// The step a failure happened at (PEER-PROTOCOL.md, "Which stage").
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stage {
    Setup,
    TcpConnect,
    TcpAccept,
    Handshake,
    Verify,
    Data,
    Shutdown,
    Timeout,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Setup => "setup",
            Stage::TcpConnect => "tcp_connect",
            Stage::TcpAccept => "tcp_accept",
            Stage::Handshake => "handshake",
            Stage::Verify => "verify",
            Stage::Data => "data",
            Stage::Shutdown => "shutdown",
            Stage::Timeout => "timeout",
        }
    }
}

/// Which way an alert went.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Sent,
    Received,
}

/// A failed cell, as its result line's `error` says it.
pub struct Failure {
    pub stage: Stage,
    pub alert: Option<(u8, Direction)>,
    pub library_code: Option<String>,
    pub verify_reason: Option<&'static str>,
    pub message: String,
    /// This peer found the fault, not rustls (an echo that differs, a deadline): rustls sent no
    /// alert, so the connection may still end with close_notify.
    pub ours: bool,
}

impl Failure {
    pub fn new(stage: Stage, message: impl Into<String>) -> Failure {
        Failure {
            stage,
            alert: None,
            library_code: None,
            verify_reason: None,
            message: message.into(),
            ours: false,
        }
    }

    pub fn setup(message: impl Into<String>) -> Failure {
        Failure::new(Stage::Setup, message)
    }

    /// A fault this peer found itself.
    pub fn ours(stage: Stage, message: impl Into<String>) -> Failure {
        Failure {
            ours: true,
            ..Failure::new(stage, message)
        }
    }

    /// An operating system error at a stage, with its C name as the library code.
    pub fn os(stage: Stage, context: &str, err: &io::Error) -> Failure {
        Failure {
            library_code: Some(errno_name(err)),
            ..Failure::new(stage, format!("{}: {}", context, err))
        }
    }

    /// A deadline that passed during `stage`.
    pub fn timeout(stage: Stage, timeout_ms: u64) -> Failure {
        Failure {
            library_code: Some("ETIMEDOUT".to_string()),
            ..Failure::ours(
                Stage::Timeout,
                format!("{} did not finish within {} ms", stage.name(), timeout_ms),
            )
        }
    }

    /// An error rustls returned at `stage`: a refused certificate becomes stage `verify` with the
    /// reason webpki gave, a received alert keeps the stage and names the alert.
    pub fn tls(stage: Stage, err: &rustls::Error) -> Failure {
        let mut f = Failure::new(stage, err.to_string());
        f.library_code = Some(library_code(err));
        match err {
            rustls::Error::InvalidCertificateData(text) => {
                f.stage = Stage::Verify;
                f.verify_reason = Some(webpki_reason(webpki_name(text)));
            }
            rustls::Error::InvalidCertificateSignature
            | rustls::Error::InvalidCertificateSignatureType => {
                f.stage = Stage::Verify;
                f.verify_reason = Some("signature");
            }
            rustls::Error::InvalidCertificateEncoding | rustls::Error::UnsupportedNameType => {
                f.stage = Stage::Verify;
                f.verify_reason = Some("other");
            }
            rustls::Error::NoCertificatesPresented => {
                f.stage = Stage::Verify;
                f.verify_reason = Some("no_certificate");
            }
            rustls::Error::AlertReceived(alert) => {
                f.alert = Some((alert.get_u8(), Direction::Received))
            }
            _ => {}
        }
        f
    }

    pub fn json(&self) -> Json {
        let (alert, code, direction) = match self.alert {
            Some((code, direction)) => (
                Json::Str(alert_name(code)),
                Json::Int(code as i64),
                Json::str(match direction {
                    Direction::Sent => "sent",
                    Direction::Received => "received",
                }),
            ),
            None => (Json::Null, Json::Null, Json::Null),
        };
        let reason = if self.stage == Stage::Verify {
            Json::opt_str(self.verify_reason)
        } else {
            Json::Null
        };
        Json::Object(vec![
            ("stage", Json::str(self.stage.name())),
            ("alert", alert),
            ("alert_code", code),
            ("alert_direction", direction),
            ("library_code", Json::opt_str(self.library_code.as_deref())),
            ("verify_reason", reason),
            ("message", Json::str(&self.message)),
        ])
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "failed at {}: {}", self.stage.name(), self.message)?;
        if let Some((code, direction)) = self.alert {
            let way = if direction == Direction::Sent {
                "sent"
            } else {
                "received"
            };
            write!(f, " (alert {} {})", alert_name(code), way)?;
        }
        Ok(())
    }
}

/// rustls 0.20 turns a webpki error it has no variant for into
/// `InvalidCertificateData(format!("invalid peer certificate: {}", e))` (verify.rs `pki_error`),
/// and webpki 0.22 displays an error as its variant's name: the name is the text after the colon.
fn webpki_name(text: &str) -> &str {
    text.rsplit(": ").next().unwrap_or(text)
}

/// verify_reason of a webpki 0.22 `Error` variant (PEER-PROTOCOL.md's table, by meaning).
fn webpki_reason(name: &str) -> &'static str {
    match name {
        "CertExpired" => "expired",
        "CertNotValidYet" => "not_yet_valid",
        "CertNotValidForName" => "name_mismatch",
        // webpki checks extended key usage only; it reads no keyUsage bits.
        "RequiredEkuNotFound" => "key_usage",
        "UnknownIssuer" => "untrusted",
        "InvalidSignatureForPublicKey"
        | "UnsupportedSignatureAlgorithm"
        | "UnsupportedSignatureAlgorithmForPublicKey"
        | "SignatureAlgorithmMismatch" => "signature",
        _ => "other",
    }
}

/// A stable code for a rustls error: its variant, with webpki's error name or the alert where
/// the variant carries one (`InvalidCertificateData(CertExpired)`, `AlertReceived(UnknownCA)`).
fn library_code(err: &rustls::Error) -> String {
    match err {
        rustls::Error::InvalidCertificateData(text) => {
            format!("InvalidCertificateData({})", webpki_name(text))
        }
        rustls::Error::AlertReceived(alert) => format!("AlertReceived({:?})", alert),
        rustls::Error::PeerIncompatibleError(_) => "PeerIncompatibleError".to_string(),
        rustls::Error::PeerMisbehavedError(_) => "PeerMisbehavedError".to_string(),
        rustls::Error::General(_) => "General".to_string(),
        other => {
            let debug = format!("{:?}", other);
            debug
                .split(|c: char| c == '(' || c == ' ' || c == '{')
                .next()
                .unwrap_or(&debug)
                .to_string()
        }
    }
}

/// The C name of the errors a socket ends with here.
pub fn errno_name(err: &io::Error) -> String {
    let name = match err.raw_os_error() {
        Some(libc::ECONNREFUSED) => "ECONNREFUSED",
        Some(libc::ECONNRESET) => "ECONNRESET",
        Some(libc::EPIPE) => "EPIPE",
        Some(libc::ETIMEDOUT) => "ETIMEDOUT",
        Some(libc::ECONNABORTED) => "ECONNABORTED",
        Some(libc::EADDRINUSE) => "EADDRINUSE",
        Some(libc::ENETUNREACH) => "ENETUNREACH",
        Some(libc::EHOSTUNREACH) => "EHOSTUNREACH",
        Some(libc::ENOENT) => "ENOENT",
        Some(libc::EACCES) => "EACCES",
        Some(n) => return format!("errno {}", n),
        None => return format!("{:?}", err.kind()),
    };
    name.to_string()
}

/// What ended a cell other than `ok`.
pub enum CellError {
    /// The library cannot do what was asked: exit 3, decided before any socket.
    Unsupported(String),
    Failed(Failure),
}

impl From<Failure> for CellError {
    fn from(f: Failure) -> CellError {
        CellError::Failed(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors_become_verify_reasons() {
        let cases = [
            ("invalid peer certificate: CertExpired", "expired"),
            ("invalid peer certificate: CertNotValidYet", "not_yet_valid"),
            (
                "invalid peer certificate: CertNotValidForName",
                "name_mismatch",
            ),
            ("invalid peer certificate: UnknownIssuer", "untrusted"),
            ("invalid peer certificate: RequiredEkuNotFound", "key_usage"),
            (
                "invalid peer certificate: PathLenConstraintViolated",
                "other",
            ),
        ];
        for (text, reason) in cases {
            let f = Failure::tls(
                Stage::Handshake,
                &rustls::Error::InvalidCertificateData(text.to_string()),
            );
            assert_eq!(f.stage, Stage::Verify);
            assert_eq!(f.verify_reason, Some(reason), "{}", text);
        }
    }

    #[test]
    fn a_received_alert_keeps_the_stage() {
        let f = Failure::tls(
            Stage::Data,
            &rustls::Error::AlertReceived(rustls::AlertDescription::UnknownCA),
        );
        assert_eq!(f.stage, Stage::Data);
        assert_eq!(f.alert.map(|a| a.0), Some(48));
        assert_eq!(f.library_code.as_deref(), Some("AlertReceived(UnknownCA)"));
    }
}
