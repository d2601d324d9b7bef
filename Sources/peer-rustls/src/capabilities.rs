//! `peer-rustls capabilities`: what the linked rustls implements, read from its own tables.

use crate::json::Json;
use crate::names;
use crate::output::library;

/// The protocol features this peer implements, and why the others are missing (README.md).
pub const FEATURES: &[&str] = &["sni", "transfer", "worker"];

/// The view fields rustls 0.20 has no call for.
pub const NOT_READABLE: &[&str] = &["group", "signature_scheme"];

/// The capabilities line. Versions, suites and groups come from `ALL_VERSIONS`,
/// `ALL_CIPHER_SUITES` and `ALL_KX_GROUPS`, the defaults from the tables a `with_safe_defaults()`
/// builder takes (`DEFAULT_VERSIONS`, `DEFAULT_CIPHER_SUITES`, and `ALL_KX_GROUPS` again).
pub fn capabilities() -> Json {
    let versions: Vec<&str> = ordered(
        rustls::ALL_VERSIONS
            .iter()
            .filter_map(|v| names::version_name(v.version)),
    );
    let defaults: Vec<&str> = ordered(
        rustls::DEFAULT_VERSIONS
            .iter()
            .filter_map(|v| names::version_name(v.version)),
    );
    let suites = rustls::ALL_CIPHER_SUITES
        .iter()
        .map(|&s| {
            let version = names::version_name(s.version().version);
            let is_default = rustls::DEFAULT_CIPHER_SUITES
                .iter()
                .any(|d| d.suite() == s.suite());
            Json::Object(vec![
                ("code", Json::Str(names::suite_code(s))),
                (
                    "name",
                    names::iana_suite_name(s).map_or(Json::Null, Json::Str),
                ),
                ("library_name", Json::Str(names::library_suite_name(s))),
                ("min_version", Json::opt_str(version)),
                ("max_version", Json::opt_str(version)),
                ("default", Json::Bool(is_default)),
            ])
        })
        .collect();
    let groups: Vec<String> = rustls::ALL_KX_GROUPS
        .iter()
        .map(|g| names::group_name(g))
        .collect();
    Json::Object(vec![
        ("event", Json::str("capabilities")),
        ("protocol", Json::Int(1)),
        ("library", library()),
        ("versions", Json::strings(&versions)),
        ("default_versions", Json::strings(&defaults)),
        ("suites", Json::Array(suites)),
        ("groups", Json::strings(&groups)),
        // `with_safe_default_kx_groups()` takes ALL_KX_GROUPS as they stand: every group is a default.
        ("default_groups", Json::strings(&groups)),
        ("signature_schemes", Json::Null),
        // rustls 0.20 signs with what ring 0.16 implements: RSA, ECDSA on P-256 and P-384
        // (sign.rs `any_supported_type`), Ed25519; webpki 0.22 verifies the same, so no P-521.
        ("certificate_types", Json::strings(&["rsa2048", "rsa3072", "ecdsa-p256", "ecdsa-p384", "ed25519"])),
        (
            "notes",
            Json::strings(&[
                "rustls 0.20 implements TLS 1.2 and 1.3 only: no TLS 1.0 or 1.1",
                "the negotiated group and the handshake's signature scheme are not readable (rustls 0.20 has no call for them)",
                "no resumption features: a rustls 0.20 client cannot tell whether a handshake resumed",
                "no key-update: rustls 0.20 answers a KeyUpdate but has no call to send one",
                "no ip-server-name: rustls 0.20's certificate verifier refuses an IP address as the server name (Error::UnsupportedNameType; webpki 0.22 has no iPAddress SANs)",
                "alerts this side sends are read from the wire where they travel in the clear; an encrypted one (TLS 1.3 after ServerHello, TLS 1.2 after ChangeCipherSpec) is null",
                "no user_canceled on a handshake timeout: rustls 0.20 has no call to send an alert",
            ]),
        ),
        ("not_readable", Json::strings(NOT_READABLE)),
        ("features", Json::strings(FEATURES)),
    ])
}

/// Oldest first, as the protocol lists versions.
fn ordered<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = names.collect();
    v.sort_unstable();
    v.dedup();
    v
}
