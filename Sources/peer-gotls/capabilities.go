package main

import (
	"crypto/tls"
	"fmt"
	"runtime"
)

// library is the identity every line carries: the Go runtime is the crypto/tls version.
func library() libraryJSON {
	return libraryJSON{ID: "gotls", Name: "Go crypto/tls", Version: runtime.Version()}
}

// capabilities asks crypto/tls what it implements: its suites come from tls.CipherSuites and
// tls.InsecureCipherSuites, its default versions from handshakes over an in-memory pipe.
func capabilities() (capabilitiesJSON, error) {
	// The probes need a certificate of each key type; without one, no default can be known.
	ecdsaCert, err := probeCertificate(false)
	if err != nil {
		return capabilitiesJSON{}, fmt.Errorf("probe certificate: %w", err)
	}
	rsaCert, err := probeCertificate(true)
	if err != nil {
		return capabilitiesJSON{}, fmt.Errorf("probe certificate: %w", err)
	}
	c := capabilitiesJSON{
		Event:            "capabilities",
		Protocol:         1,
		Library:          library(),
		Versions:         allVersions,
		DefaultVersions:  probeDefaultVersions(ecdsaCert),
		Groups:           groupOrder,
		DefaultGroups:    probeDefaultGroups(ecdsaCert),
		CertificateTypes: []string{"rsa2048", "rsa3072", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519"},
		// No session-id resumption: a crypto/tls server keeps no session cache, it resumes
		// only from tickets. No key-update: crypto/tls answers a KeyUpdate but has no call to send one.
		Features: []string{"sni", "resume-ticket", "transfer", "worker", "ip-server-name"},
		NotReadable: notReadable(),
		Notes: []string{
			"the negotiated group is not readable before Go 1.25 (ConnectionState.CurveID)",
			"the handshake's signature scheme is not readable (ConnectionState has no field for it)",
			"TLS 1.3 suites cannot be chosen in crypto/tls (Config.CipherSuites applies to TLS 1.2 and below): they are listed as not forceable, and a forced one is unsupported",
			"a crypto/tls client enables TLS 1.0 and 1.1 only when MinVersion asks for them; its server accepts them by default",
			"crypto/tls checks a certificate's extended key usage but not its keyUsage bits",
			"alerts this side sends are read from the wire where they travel in the clear; an encrypted one (TLS 1.3 after ServerHello) is named only when crypto/tls returns it as an error",
		},
	}
	defaults := probeDefaultSuites(ecdsaCert, rsaCert)
	for _, s := range tls.CipherSuites() {
		c.Suites = append(c.Suites, suiteEntry(s, defaults))
	}
	for _, s := range tls.InsecureCipherSuites() {
		c.Suites = append(c.Suites, suiteEntry(s, defaults))
	}
	for _, s := range signatureSchemeNames {
		c.SignatureSchemes = append(c.SignatureSchemes, s.name)
	}
	return c, nil
}

// suiteEntry describes one suite. crypto/tls flags some as insecure, yet a Config that lists one
// uses it: nothing refuses a suite by policy, so none is disabled_by_policy; `default` is what the
// probe found a default client offers. The TLS 1.3 suites are always on and cannot be chosen
// (Config.CipherSuites applies to TLS 1.2 and below): default, and not forceable.
func suiteEntry(s *tls.CipherSuite, defaults map[uint16]bool) suiteJSON {
	e := suiteJSON{Code: fmt.Sprintf("0x%04X", s.ID), LibraryName: s.Name}
	name := s.Name
	e.Name = &name
	if len(s.SupportedVersions) > 0 {
		lo, hi := s.SupportedVersions[0], s.SupportedVersions[0]
		for _, v := range s.SupportedVersions {
			if v < lo {
				lo = v
			}
			if v > hi {
				hi = v
			}
		}
		e.MinVersion, e.MaxVersion = versionName(lo), versionName(hi)
	}
	if d, ok := defaults[s.ID]; ok {
		e.Default = &d
	}
	if onlyTLS13(s) {
		on, fixed := true, false
		e.Default, e.Forceable = &on, &fixed
	}
	return e
}

// notReadable lists the view fields crypto/tls never exposes in this build.
func notReadable() []string {
	if groupReadable {
		return []string{"signature_scheme"}
	}
	return []string{"group", "signature_scheme"}
}
