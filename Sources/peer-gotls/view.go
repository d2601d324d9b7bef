package main

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
)

// negotiatedView reads back from crypto/tls what a connection agreed on.
func negotiatedView(cs tls.ConnectionState, role string) viewJSON {
	v := viewJSON{Version: versionName(cs.Version), Resumed: cs.DidResume}
	v.SuiteCode = ptr(fmt.Sprintf("0x%04X", cs.CipherSuite))
	name := tls.CipherSuiteName(cs.CipherSuite)
	v.LibrarySuite = ptr(name)
	if len(name) > 4 && name[:4] == "TLS_" {
		v.Suite = ptr(name)
	}
	group, readable := negotiatedGroup(&cs)
	v.Group = group
	if !readable {
		v.NotReadable = append(v.NotReadable, "group")
	}
	// ConnectionState has no field for the handshake's signature scheme.
	v.NotReadable = append(v.NotReadable, "signature_scheme")
	if cs.NegotiatedProtocol != "" {
		v.ALPN = ptr(cs.NegotiatedProtocol)
	}
	if role == "server" && cs.ServerName != "" {
		v.ServerName = ptr(cs.ServerName)
	}
	if len(cs.PeerCertificates) > 0 {
		v.PeerCertificate = ptr(subject(cs.PeerCertificates[0].RawSubject))
	}
	return v
}

// subject writes a certificate's subject as RFC 4514 does, from its DER so the RDNs keep the
// certificate's own order (pkix.Name.String would reorder them by attribute type).
func subject(raw []byte) string {
	var rdns pkix.RDNSequence
	if _, err := asn1.Unmarshal(raw, &rdns); err != nil {
		return fmt.Sprintf("unparsable subject: %v", err)
	}
	return rdns.String()
}
