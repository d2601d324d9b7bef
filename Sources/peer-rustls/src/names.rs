//! The protocol's names for what rustls calls by its own: versions, suites, groups, alerts.

use rustls::{
    NamedGroup, ProtocolVersion, SupportedCipherSuite, SupportedKxGroup, SupportedProtocolVersion,
};

/// The protocol's name of a version rustls implements (it has no TLS 1.0 or 1.1).
pub fn version_name(v: ProtocolVersion) -> Option<&'static str> {
    match v {
        ProtocolVersion::TLSv1_0 => Some("TLS1.0"),
        ProtocolVersion::TLSv1_1 => Some("TLS1.1"),
        ProtocolVersion::TLSv1_2 => Some("TLS1.2"),
        ProtocolVersion::TLSv1_3 => Some("TLS1.3"),
        _ => None,
    }
}

/// The rustls version a protocol name stands for, among those rustls implements.
pub fn find_version(name: &str) -> Option<&'static SupportedProtocolVersion> {
    rustls::ALL_VERSIONS
        .iter()
        .copied()
        .find(|v| version_name(v.version) == Some(name))
}

/// rustls's own spelling of a suite (`TLS13_AES_128_GCM_SHA256`, from its Debug form).
pub fn library_suite_name(s: SupportedCipherSuite) -> String {
    format!("{:?}", s.suite())
}

/// The IANA name of a suite: rustls spells its TLS 1.2 suites as IANA does, and its TLS 1.3
/// ones with a `TLS13_` prefix where IANA writes `TLS_` (RFC 8446 §B.4).
pub fn iana_suite_name(s: SupportedCipherSuite) -> Option<String> {
    let own = library_suite_name(s);
    if let Some(rest) = own.strip_prefix("TLS13_") {
        Some(format!("TLS_{}", rest))
    } else if own.starts_with("TLS_") {
        Some(own)
    } else {
        None
    }
}

pub fn suite_code(s: SupportedCipherSuite) -> String {
    format!("0x{:04X}", s.suite().get_u16())
}

/// The IANA "TLS Supported Groups" name of a group rustls implements, or its code point.
pub fn group_name(g: &SupportedKxGroup) -> String {
    match g.name {
        NamedGroup::X25519 => "x25519".to_string(),
        NamedGroup::secp256r1 => "secp256r1".to_string(),
        NamedGroup::secp384r1 => "secp384r1".to_string(),
        NamedGroup::secp521r1 => "secp521r1".to_string(),
        NamedGroup::X448 => "x448".to_string(),
        other => format!("0x{:04X}", other.get_u16()),
    }
}

pub fn find_group(name: &str) -> Option<&'static SupportedKxGroup> {
    rustls::ALL_KX_GROUPS
        .iter()
        .copied()
        .find(|g| group_name(g) == name)
}

/// RFC 8446 §6 / RFC 5246 §7.2 names of alerts by code.
pub fn alert_name(code: u8) -> String {
    let name = match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        other => return format!("alert_{}", other),
    };
    name.to_string()
}
