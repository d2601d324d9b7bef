//! A fresh rustls configuration for one cell, verification always on.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Write};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use rustls::server::{
    AllowAnyAnonymousOrAuthenticatedClient, AllowAnyAuthenticatedClient, ClientHello, NoClientAuth,
    ResolvesServerCert,
};
use rustls::sign::CertifiedKey;
use rustls::{
    Certificate, ClientConfig, KeyLog, PrivateKey, RootCertStore, ServerConfig, ServerName,
    SupportedCipherSuite, SupportedKxGroup, SupportedProtocolVersion,
};

use crate::failure::{CellError, Failure};
use crate::names;
use crate::request::{ClientAuth, Request, Role};

/// One cell's configuration: a client's with the name it connects to, or a server's.
pub enum TlsConfig {
    Client(Arc<ClientConfig>, ServerName),
    Server(Arc<ServerConfig>),
}

/// Builds the configuration a request asks for; what rustls cannot do is `Unsupported`, before
/// any socket is opened.
pub fn new_config(req: &Request) -> Result<TlsConfig, CellError> {
    if req.resume.is_some() {
        return Err(CellError::Unsupported(
            "rustls 0.20 cannot tell a client whether its handshake resumed, so this peer does not resume".into(),
        ));
    }
    if req.key_update {
        return Err(CellError::Unsupported(
            "rustls 0.20 has no call to send a KeyUpdate".into(),
        ));
    }
    if req.role == Role::Client && req.server_name.parse::<IpAddr>().is_ok() {
        return Err(CellError::Unsupported(
            "rustls 0.20's verifier refuses an IP address as the server name (Error::UnsupportedNameType)".into(),
        ));
    }
    let (suites, versions) = suites_and_versions(req)?;
    let groups = groups(req)?;

    let roots = load_roots(req.ca_path.as_deref())?;
    let own = match (&req.cert_path, &req.key_path) {
        (Some(cert), Some(key)) => Some((load_certs(cert, "--cert")?, load_key(key, "--key")?)),
        _ => None,
    };
    let alpn: Vec<Vec<u8>> = req.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    let key_log: Option<Arc<dyn KeyLog>> = match &req.keylog_path {
        Some(path) => Some(Arc::new(KeyLogTo::open(path)?)),
        None => None,
    };
    let bad_versions =
        |e: rustls::Error| Failure::setup(format!("rustls refused the versions and suites: {}", e));

    match req.role {
        Role::Client => {
            let builder = ClientConfig::builder()
                .with_cipher_suites(&suites)
                .with_kx_groups(&groups)
                .with_protocol_versions(&versions)
                .map_err(bad_versions)?
                .with_root_certificates(roots);
            let mut config = match own {
                // Presented whenever asked: the server, not this client, judges it.
                Some((certs, key)) => builder
                    .with_single_cert(certs, key)
                    .map_err(|e| Failure::setup(format!("loading --cert/--key: {}", e)))?,
                None => builder.with_no_client_auth(),
            };
            config.alpn_protocols = alpn;
            if let Some(log) = key_log {
                config.key_log = log;
            }
            let name = ServerName::try_from(req.server_name.as_str())
                .map_err(|e| Failure::setup(format!("--server-name {}: {}", req.server_name, e)))?;
            Ok(TlsConfig::Client(Arc::new(config), name))
        }
        Role::Server => {
            let (certs, key) = match own {
                Some(pair) => pair,
                None => return Err(Failure::setup("a server needs --cert and --key").into()),
            };
            let verifier = match req.client_auth {
                ClientAuth::None => NoClientAuth::new(),
                ClientAuth::Optional => AllowAnyAnonymousOrAuthenticatedClient::new(roots),
                ClientAuth::Required => AllowAnyAuthenticatedClient::new(roots),
            };
            let main = certified_key(certs, &key, "--cert/--key")?;
            let alt = match &req.alt {
                Some(alt) => {
                    let certs = load_certs(&alt.cert_path, "--alt-cert")?;
                    let key = load_key(&alt.key_path, "--alt-key")?;
                    Some((
                        alt.name.clone(),
                        certified_key(certs, &key, "--alt-cert/--alt-key")?,
                    ))
                }
                None => None,
            };
            let mut config = ServerConfig::builder()
                .with_cipher_suites(&suites)
                .with_kx_groups(&groups)
                .with_protocol_versions(&versions)
                .map_err(bad_versions)?
                .with_client_cert_verifier(verifier)
                .with_cert_resolver(Arc::new(ByServerName { main, alt }));
            config.alpn_protocols = alpn;
            if let Some(log) = key_log {
                config.key_log = log;
            }
            Ok(TlsConfig::Server(Arc::new(config)))
        }
    }
}

type Suites = Vec<SupportedCipherSuite>;
type Versions = Vec<&'static SupportedProtocolVersion>;

/// The suites and versions a cell allows. A forced suite holds the versions to its own, so a
/// default range does not negotiate the other version's suites.
fn suites_and_versions(req: &Request) -> Result<(Suites, Versions), CellError> {
    let mut versions: Versions = rustls::DEFAULT_VERSIONS.to_vec();
    if let Some(name) = &req.version {
        match names::find_version(name) {
            Some(v) => versions = vec![v],
            None => {
                return Err(CellError::Unsupported(format!(
                    "rustls 0.20 does not implement {}",
                    name
                )))
            }
        }
    }
    let mut suites: Suites = rustls::DEFAULT_CIPHER_SUITES.to_vec();
    if let Some(code) = req.suite {
        let suite = rustls::ALL_CIPHER_SUITES
            .iter()
            .copied()
            .find(|s| s.suite().get_u16() == code);
        match suite {
            Some(s) => {
                if !versions.iter().any(|v| v.version == s.version().version) {
                    return Err(CellError::Unsupported(format!(
                        "suite 0x{:04X} is not for {}",
                        code,
                        req.version.as_deref().unwrap_or("these versions")
                    )));
                }
                versions = vec![s.version()];
                suites = vec![s];
            }
            None => {
                return Err(CellError::Unsupported(format!(
                    "rustls 0.20 does not implement suite 0x{:04X}",
                    code
                )))
            }
        }
    }
    Ok((suites, versions))
}

fn groups(req: &Request) -> Result<Vec<&'static SupportedKxGroup>, CellError> {
    if req.groups.is_empty() {
        return Ok(rustls::ALL_KX_GROUPS.to_vec());
    }
    req.groups
        .iter()
        .map(|name| {
            names::find_group(name).ok_or_else(|| {
                CellError::Unsupported(format!("rustls 0.20 does not implement group {}", name))
            })
        })
        .collect()
}

fn open(path: &str, option: &str) -> Result<BufReader<File>, Failure> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| Failure::setup(format!("reading {} {}: {}", option, path, e)))
}

fn load_certs(path: &str, option: &str) -> Result<Vec<Certificate>, Failure> {
    let ders = rustls_pemfile::certs(&mut open(path, option)?)
        .map_err(|e| Failure::setup(format!("{} {}: {}", option, path, e)))?;
    if ders.is_empty() {
        return Err(Failure::setup(format!(
            "{} {}: no PEM certificate in it",
            option, path
        )));
    }
    Ok(ders.into_iter().map(Certificate).collect())
}

/// The first private key in a PEM file: PKCS#8, or the PKCS#1 and SEC1 forms rustls also reads.
fn load_key(path: &str, option: &str) -> Result<PrivateKey, Failure> {
    let items = rustls_pemfile::read_all(&mut open(path, option)?)
        .map_err(|e| Failure::setup(format!("{} {}: {}", option, path, e)))?;
    for item in items {
        match item {
            rustls_pemfile::Item::PKCS8Key(der)
            | rustls_pemfile::Item::RSAKey(der)
            | rustls_pemfile::Item::ECKey(der) => return Ok(PrivateKey(der)),
            _ => {}
        }
    }
    Err(Failure::setup(format!(
        "{} {}: no PEM private key in it",
        option, path
    )))
}

/// The trust anchors of `--ca`; none without it, so every certificate is refused (never the
/// system's roots).
fn load_roots(path: Option<&str>) -> Result<RootCertStore, Failure> {
    let mut roots = RootCertStore::empty();
    if let Some(path) = path {
        for cert in load_certs(path, "--ca")? {
            roots.add(&cert).map_err(|e| {
                Failure::setup(format!("--ca {}: webpki refused a root: {:?}", path, e))
            })?;
        }
    }
    Ok(roots)
}

fn certified_key(
    certs: Vec<Certificate>,
    key: &PrivateKey,
    what: &str,
) -> Result<CertifiedKey, Failure> {
    let signer = rustls::sign::any_supported_type(key).map_err(|_| {
        Failure::setup(format!(
            "loading {}: rustls cannot sign with this key type",
            what
        ))
    })?;
    let pair = CertifiedKey::new(certs, signer);
    crate::keycheck::check_pair(&pair)
        .map_err(|e| Failure::setup(format!("loading {}: {}", what, e)))?;
    Ok(pair)
}

/// The server's certificate by the SNI name the client sent: `--alt-cert` for `--alt-name`, the
/// main one for any other name or none.
struct ByServerName {
    main: CertifiedKey,
    alt: Option<(String, CertifiedKey)>,
}

impl ResolvesServerCert for ByServerName {
    fn resolve(&self, hello: ClientHello) -> Option<Arc<CertifiedKey>> {
        if let (Some((name, alt)), Some(sni)) = (&self.alt, hello.server_name()) {
            if name.eq_ignore_ascii_case(sni) {
                return Some(Arc::new(alt.clone()));
            }
        }
        Some(Arc::new(self.main.clone()))
    }
}

/// `--keylog FILE`: rustls's secrets appended in the NSS key log format. rustls's own `KeyLogFile`
/// reads its path from SSLKEYLOGFILE, which a worker cannot set per cell.
struct KeyLogTo {
    file: Mutex<File>,
}

impl KeyLogTo {
    fn open(path: &str) -> Result<KeyLogTo, Failure> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| Failure::setup(format!("opening --keylog {}: {}", path, e)))?;
        Ok(KeyLogTo {
            file: Mutex::new(file),
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{:02x}", b)).collect()
}

impl KeyLog for KeyLogTo {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let line = format!("{} {} {}\n", label, hex(client_random), hex(secret));
        if let Ok(mut file) = self.file.lock() {
            let _ = file.write_all(line.as_bytes());
        }
    }
}
