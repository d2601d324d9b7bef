//! One cell as the runner asks for it: the options of PEER-PROTOCOL.md, parsed.

use std::fmt;

/// The side of the handshake a cell plays.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Server,
    Client,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Server => "server",
            Role::Client => "client",
        }
    }
}

/// Whether and how a server asks for a client certificate.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    None,
    Optional,
    Required,
}

/// How the second connection of a `--resume` cell resumes the first.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    SessionId,
    Ticket,
}

/// A second certificate for `--alt-name` (feature `sni`).
pub struct AltCertificate {
    pub name: String,
    pub cert_path: String,
    pub key_path: String,
}

/// Everything one cell asks of this peer.
pub struct Request {
    pub role: Role,
    pub version: Option<String>,
    pub suite: Option<u16>,
    pub groups: Vec<String>,
    pub cert_path: Option<String>,
    pub key_path: Option<String>,
    pub ca_path: Option<String>,
    pub client_auth: ClientAuth,
    pub server_name: String,
    pub port: u16,
    pub timeout_ms: u64,
    pub message: String,
    pub legacy: bool,
    pub alpn: Vec<String>,
    pub keylog_path: Option<String>,
    pub truncate: bool,
    pub alt: Option<AltCertificate>,
    pub resume: Option<Resume>,
    pub transfer: usize,
    pub key_update: bool,
}

/// A command line the protocol does not allow: exit 2, or a worker's usage line.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn usage<T>(message: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(message.into()))
}

const VERSIONS: [&str; 4] = ["TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"];

impl Request {
    /// Reads `server|client --option value …` exactly as PEER-PROTOCOL.md lists the options.
    pub fn parse(args: &[String]) -> Result<Request, UsageError> {
        let role =
            match args.first().map(String::as_str) {
                Some("server") => Role::Server,
                Some("client") => Role::Client,
                _ => return usage(
                    "expected 'server', 'client', 'capabilities' or 'worker' as the first argument",
                ),
            };
        let mut r = Request {
            role,
            version: None,
            suite: None,
            groups: Vec::new(),
            cert_path: None,
            key_path: None,
            ca_path: None,
            client_auth: ClientAuth::None,
            server_name: "localhost".to_string(),
            port: 0,
            timeout_ms: 10_000,
            message: "interop-matrix ping".to_string(),
            legacy: false,
            alpn: Vec::new(),
            keylog_path: None,
            truncate: false,
            alt: None,
            resume: None,
            transfer: 0,
            key_update: false,
        };
        let (mut alt_name, mut alt_cert, mut alt_key) = (None, None, None);
        let mut rest = args[1..].iter();
        while let Some(option) = rest.next() {
            match option.as_str() {
                "--legacy" => {
                    r.legacy = true;
                    continue;
                }
                "--truncate" => {
                    r.truncate = true;
                    continue;
                }
                "--key-update" => {
                    r.key_update = true;
                    continue;
                }
                _ => {}
            }
            let value = match option.as_str() {
                "--version" | "--suite" | "--group" | "--cert" | "--key" | "--ca"
                | "--client-auth" | "--server-name" | "--port" | "--timeout-ms" | "--message"
                | "--keylog" | "--alt-name" | "--alt-cert" | "--alt-key" | "--resume"
                | "--transfer" | "--alpn" => match rest.next() {
                    Some(v) => v.clone(),
                    None => return usage(format!("{} needs a value", option)),
                },
                _ => return usage(format!("unknown option {}", option)),
            };
            match option.as_str() {
                "--version" => {
                    if !VERSIONS.contains(&value.as_str()) {
                        return usage(format!(
                            "--version {}: expected one of {}",
                            value,
                            VERSIONS.join(", ")
                        ));
                    }
                    r.version = Some(value);
                }
                "--suite" => {
                    let code = value
                        .strip_prefix("0x")
                        .and_then(|hex| u16::from_str_radix(hex, 16).ok());
                    match code {
                        Some(c) if value.len() <= 6 => r.suite = Some(c),
                        _ => {
                            return usage(format!(
                                "--suite {}: expected an IANA code point such as 0xC02B",
                                value
                            ))
                        }
                    }
                }
                "--group" => r.groups = value.split(',').map(str::to_string).collect(),
                "--cert" => r.cert_path = Some(value),
                "--key" => r.key_path = Some(value),
                "--ca" => r.ca_path = Some(value),
                "--client-auth" => {
                    r.client_auth = match value.as_str() {
                        "none" => ClientAuth::None,
                        "optional" => ClientAuth::Optional,
                        "required" => ClientAuth::Required,
                        _ => {
                            return usage(format!(
                                "--client-auth {}: expected none, optional or required",
                                value
                            ))
                        }
                    }
                }
                "--server-name" => r.server_name = value,
                "--port" => match value.parse::<u16>() {
                    Ok(p) if p > 0 => r.port = p,
                    _ => return usage(format!("--port {}: expected 1-65535", value)),
                },
                "--timeout-ms" => match value.parse::<u64>() {
                    Ok(t) if t > 0 => r.timeout_ms = t,
                    _ => {
                        return usage(format!(
                            "--timeout-ms {}: expected a positive number",
                            value
                        ))
                    }
                },
                "--message" => r.message = value,
                "--keylog" => r.keylog_path = Some(value),
                "--alt-name" => alt_name = Some(value),
                "--alt-cert" => alt_cert = Some(value),
                "--alt-key" => alt_key = Some(value),
                "--resume" => {
                    r.resume = match value.as_str() {
                        "session-id" => Some(Resume::SessionId),
                        "ticket" => Some(Resume::Ticket),
                        _ => {
                            return usage(format!(
                                "--resume {}: expected session-id or ticket",
                                value
                            ))
                        }
                    }
                }
                "--transfer" => match value.parse::<usize>() {
                    Ok(n) if n > 0 && n <= 1 << 30 => r.transfer = n,
                    _ => {
                        return usage(format!(
                            "--transfer {}: expected a byte count from 1 to 1073741824",
                            value
                        ))
                    }
                },
                "--alpn" => {
                    r.alpn = value.split(',').map(str::to_string).collect();
                    if r.alpn.iter().any(|p| p.is_empty() || p.len() > 255) {
                        return usage(format!(
                            "--alpn {}: expected comma-separated protocol names such as h2,http/1.1",
                            value
                        ));
                    }
                }
                _ => return usage(format!("unknown option {}", option)),
            }
        }
        if r.role == Role::Client && r.port == 0 {
            return usage("client needs --port");
        }
        if r.role == Role::Server && (r.cert_path.is_none() || r.key_path.is_none()) {
            return usage("server needs --cert and --key");
        }
        if r.cert_path.is_some() != r.key_path.is_some() {
            return usage("--cert and --key go together");
        }
        match (alt_name, alt_cert, alt_key) {
            (Some(name), Some(cert_path), Some(key_path)) => {
                r.alt = Some(AltCertificate {
                    name,
                    cert_path,
                    key_path,
                })
            }
            (None, None, None) => {}
            _ => return usage("--alt-name, --alt-cert and --alt-key go together"),
        }
        if r.message.contains('\n') {
            return usage("--message must be one line");
        }
        Ok(r)
    }
}
