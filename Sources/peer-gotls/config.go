package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// unsupported is a cell crypto/tls cannot do: exit 3, decided before any socket.
type unsupported struct{ reason string }

func (u *unsupported) Error() string { return u.reason }

// newConfig builds a fresh tls.Config for one cell; verification is always on.
func newConfig(req *request) (*tls.Config, io.Closer, error) {
	if req.resume == "session-id" {
		return nil, nil, &unsupported{"crypto/tls keeps no server session cache: it resumes only from tickets"}
	}
	if req.keyUpdate {
		return nil, nil, &unsupported{"crypto/tls has no call to send a KeyUpdate"}
	}
	cfg := &tls.Config{}
	if req.version != "" {
		v := versionsByName[req.version]
		cfg.MinVersion, cfg.MaxVersion = v, v
	} else if req.legacy {
		// A Go 1.18+ client refuses TLS 1.0 and 1.1 unless MinVersion allows them.
		cfg.MinVersion = tls.VersionTLS10
	}
	if req.suite != nil {
		suite := findSuite(*req.suite)
		if suite == nil {
			return nil, nil, &unsupported{fmt.Sprintf("crypto/tls does not implement suite 0x%04X", *req.suite)}
		}
		if onlyTLS13(suite) {
			return nil, nil, &unsupported{fmt.Sprintf("crypto/tls cannot choose TLS 1.3 suites (Config.CipherSuites applies to TLS 1.2 and below): %s", suite.Name)}
		}
		cfg.CipherSuites = []uint16{suite.ID}
		if req.version == "" {
			// The forced suite is for TLS 1.2 and below; without this a default range would
			// negotiate TLS 1.3 and its own suites.
			cfg.MaxVersion = tls.VersionTLS12
		}
	}
	for _, name := range req.groups {
		id, ok := groupsByName[name]
		if !ok {
			return nil, nil, &unsupported{fmt.Sprintf("crypto/tls does not implement group %s", name)}
		}
		cfg.CurvePreferences = append(cfg.CurvePreferences, id)
	}
	if len(req.alpn) > 0 {
		cfg.NextProtos = req.alpn
	}
	pool := x509.NewCertPool() // no --ca: trust nothing (never the system roots)
	if req.caPath != "" {
		pem, err := os.ReadFile(req.caPath)
		if err != nil {
			return nil, nil, setupFailure("reading --ca: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, setupFailure("--ca %s: no PEM certificate in it", req.caPath)
		}
	}
	var own *tls.Certificate
	if req.certPath != "" {
		pair, err := tls.LoadX509KeyPair(req.certPath, req.keyPath)
		if err != nil {
			return nil, nil, setupFailure("loading --cert/--key: %w", err)
		}
		own = &pair
	}
	if req.role == "client" {
		cfg.RootCAs = pool
		cfg.ServerName = req.serverName
		if own != nil {
			// Presented whenever asked, even if its issuer is not among the CAs the server names:
			// the server, not this client, judges it.
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return own, nil }
		}
		if req.resume == "ticket" {
			cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
		}
	} else {
		cfg.Certificates = []tls.Certificate{*own}
		cfg.ClientCAs = pool
		// crypto/tls 1.19 flattens a client certificate's x509 error into a string ("tls: failed
		// to verify client certificate: " + err.Error()), so the verify_reason could only be read
		// from words. The server therefore asks for the certificate without crypto/tls's own check
		// and runs the very same crypto/x509 verification (handshake_server.go's options) in
		// VerifyPeerCertificate, inside the handshake, keeping the error's type.
		switch req.clientAuth {
		case "optional":
			cfg.ClientAuth = tls.RequestClientCert
			cfg.VerifyPeerCertificate = verifyClientCertificate(pool)
		case "required":
			cfg.ClientAuth = tls.RequireAnyClientCert
			cfg.VerifyPeerCertificate = verifyClientCertificate(pool)
		}
		if req.altName != "" {
			alt, err := tls.LoadX509KeyPair(req.altCertPath, req.altKeyPath)
			if err != nil {
				return nil, nil, setupFailure("loading --alt-cert/--alt-key: %w", err)
			}
			main := own
			cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
				if strings.EqualFold(hello.ServerName, req.altName) {
					return &alt, nil
				}
				return main, nil
			}
		}
	}
	var keylog io.Closer
	if req.keylogPath != "" {
		f, err := os.OpenFile(req.keylogPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, nil, setupFailure("opening --keylog: %w", err)
		}
		cfg.KeyLogWriter = f
		keylog = f
	}
	return cfg, keylog, nil
}

func setupFailure(format string, args ...any) *failure {
	return &failure{stage: "setup", message: fmt.Errorf(format, args...).Error()}
}

func findSuite(code uint16) *tls.CipherSuite {
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, s := range list {
			if s.ID == code {
				return s
			}
		}
	}
	return nil
}

func onlyTLS13(s *tls.CipherSuite) bool {
	return len(s.SupportedVersions) == 1 && s.SupportedVersions[0] == tls.VersionTLS13
}

// verifyClientCertificate verifies a client's chain as crypto/tls's VerifyClientCertIfGiven does
// (roots ClientCAs, the rest of the chain as intermediates, extended key usage clientAuth), and
// returns crypto/x509's error with its type.
func verifyClientCertificate(roots *x509.CertPool) func([][]byte, [][]*x509.Certificate) error {
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return nil // none given; RequireAnyClientCert has already refused that when required
		}
		certs := make([]*x509.Certificate, len(raw))
		for i, der := range raw {
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return fmt.Errorf("tls: failed to parse client certificate: %w", err)
			}
			certs[i] = cert
		}
		opts := x509.VerifyOptions{
			Roots:         roots,
			CurrentTime:   time.Now(),
			Intermediates: x509.NewCertPool(),
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		for _, cert := range certs[1:] {
			opts.Intermediates.AddCert(cert)
		}
		if _, err := certs[0].Verify(opts); err != nil {
			return fmt.Errorf("tls: failed to verify client certificate: %w", err)
		}
		return nil
	}
}
