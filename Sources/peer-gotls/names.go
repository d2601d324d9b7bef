package main

import (
	"crypto/tls"
	"fmt"
)

// versionsByName maps the protocol's version names to Go's constants.
var versionsByName = map[string]uint16{
	"TLS1.0": tls.VersionTLS10,
	"TLS1.1": tls.VersionTLS11,
	"TLS1.2": tls.VersionTLS12,
	"TLS1.3": tls.VersionTLS13,
}

// allVersions is every version Go's crypto/tls implements, oldest first.
var allVersions = []string{"TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"}

func versionName(v uint16) *string {
	for name, code := range versionsByName {
		if code == v {
			return &name
		}
	}
	return nil
}

// groupsByName maps IANA "TLS Supported Groups" names to the curves Go implements.
var groupsByName = map[string]tls.CurveID{
	"x25519":    tls.X25519,
	"secp256r1": tls.CurveP256,
	"secp384r1": tls.CurveP384,
	"secp521r1": tls.CurveP521,
}

// The groups Go implements beyond these, and its preference order, depend on its version:
// groups_*.go define groupOrder and addedGroups for each (which are on by default, the
// capabilities probe asks).
func init() {
	for name, id := range addedGroups {
		groupsByName[name] = id
	}
}

// groupName is the IANA name of a curve, or its code point for one the table lacks.
func groupName(id tls.CurveID) string {
	for name, c := range groupsByName {
		if c == id {
			return name
		}
	}
	return fmt.Sprintf("0x%04X", uint16(id))
}

// signatureSchemeNames are the IANA names of the SignatureScheme constants crypto/tls defines
// (RFC 8446 §4.2.3). Go has no call that lists them, so the constants are named here.
var signatureSchemeNames = []struct {
	scheme tls.SignatureScheme
	name   string
}{
	{tls.ECDSAWithP256AndSHA256, "ecdsa_secp256r1_sha256"},
	{tls.ECDSAWithP384AndSHA384, "ecdsa_secp384r1_sha384"},
	{tls.ECDSAWithP521AndSHA512, "ecdsa_secp521r1_sha512"},
	{tls.Ed25519, "ed25519"},
	{tls.PSSWithSHA256, "rsa_pss_rsae_sha256"},
	{tls.PSSWithSHA384, "rsa_pss_rsae_sha384"},
	{tls.PSSWithSHA512, "rsa_pss_rsae_sha512"},
	{tls.PKCS1WithSHA256, "rsa_pkcs1_sha256"},
	{tls.PKCS1WithSHA384, "rsa_pkcs1_sha384"},
	{tls.PKCS1WithSHA512, "rsa_pkcs1_sha512"},
	{tls.ECDSAWithSHA1, "ecdsa_sha1"},
	{tls.PKCS1WithSHA1, "rsa_pkcs1_sha1"},
}

// alertNames are RFC 8446 §6 / RFC 5246 §7.2 alert names by code.
var alertNames = map[uint8]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
	22: "record_overflow", 30: "decompression_failure", 40: "handshake_failure", 41: "no_certificate",
	42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked",
	45: "certificate_expired", 46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca",
	49: "access_denied", 50: "decode_error", 51: "decrypt_error", 60: "export_restriction",
	70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
	86: "inappropriate_fallback", 90: "user_canceled", 100: "no_renegotiation",
	109: "missing_extension", 110: "unsupported_extension", 111: "certificate_unobtainable",
	112: "unrecognized_name", 113: "bad_certificate_status_response",
	114: "bad_certificate_hash_value", 115: "unknown_psk_identity", 116: "certificate_required",
	120: "no_application_protocol",
}

func alertName(code uint8) string {
	if name, ok := alertNames[code]; ok {
		return name
	}
	return fmt.Sprintf("alert_%d", code)
}
