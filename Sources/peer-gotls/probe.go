package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"time"
)

// probeDefaultVersions asks crypto/tls which versions its default configuration enables, since it
// has no call that says: for each version, a default client meets a server held to that version,
// and a default server a client held to it, over an in-memory pipe. A version is a default when
// both handshakes complete (Go 1.18+ clients refuse TLS 1.0/1.1 unless MinVersion allows them).
func probeDefaultVersions(cert tls.Certificate) []string {
	var defaults []string
	for _, name := range allVersions {
		v := versionsByName[name]
		pinned := func(c *tls.Config) { c.MinVersion, c.MaxVersion = v, v }
		if probeHandshake(cert, nil, pinned) && probeHandshake(cert, pinned, nil) {
			defaults = append(defaults, name)
		}
	}
	return defaults
}

// probeHandshake runs one handshake over loopback; the probe client skips verification, as the
// probe asks only about versions (a cell's client always verifies).
func probeHandshake(cert tls.Certificate, server, client func(*tls.Config)) bool {
	sc := &tls.Config{Certificates: []tls.Certificate{cert}}
	cc := &tls.Config{InsecureSkipVerify: true}
	if server != nil {
		server(sc)
	}
	if client != nil {
		client(cc)
	}
	// Loopback TCP, not net.Pipe: a pipe holds no bytes, and a HelloRetryRequest's crossing
	// writes (the server's change_cipher_spec, the client's second ClientHello) would deadlock it.
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return false
	}
	defer ln.Close()
	deadline := time.Now().Add(2 * time.Second)
	done := make(chan error, 1)
	go func() {
		a, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		_ = a.SetDeadline(deadline)
		done <- tls.Server(a, sc).Handshake()
		a.Close()
	}()
	b, err := net.DialTimeout("tcp4", ln.Addr().String(), 2*time.Second)
	if err != nil {
		return false
	}
	_ = b.SetDeadline(deadline)
	clientErr := tls.Client(b, cc).Handshake()
	b.Close()
	serverErr := <-done
	return clientErr == nil && serverErr == nil
}

// probeCertificate makes a self-signed certificate for the probes: ECDSA P-256, or RSA 2048 for
// the suites that need an RSA key.
func probeCertificate(rsaKey bool) (tls.Certificate, error) {
	var key crypto.Signer
	var err error
	usage := x509.KeyUsageDigitalSignature
	if rsaKey {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
		usage |= x509.KeyUsageKeyEncipherment
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return tls.Certificate{}, err
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "probe"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     usage,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// probeDefaultGroups asks which groups a default client offers: a TLS 1.3 server held to one
// group meets a default client (through a HelloRetryRequest when the client's first key shares
// are of other groups).
func probeDefaultGroups(cert tls.Certificate) []string {
	var defaults []string
	for _, name := range groupOrder {
		id := groupsByName[name]
		if probeHandshake(cert, func(c *tls.Config) {
			c.CurvePreferences = []tls.CurveID{id}
			c.MinVersion = tls.VersionTLS13
		}, nil) {
			defaults = append(defaults, name)
		}
	}
	return defaults
}

// probeDefaultSuites asks which TLS 1.2-and-below suites a default client offers: a server held
// to one suite (and TLS 1.2) meets a default client. TLS 1.3 suites cannot be held in crypto/tls,
// so they are not probed. The result maps a code point to whether the handshake completed.
func probeDefaultSuites(ecdsaCert, rsaCert tls.Certificate) map[uint16]bool {
	defaults := map[uint16]bool{}
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, s := range list {
			if onlyTLS13(s) {
				continue
			}
			cert := rsaCert
			if strings.Contains(s.Name, "_ECDSA_") {
				cert = ecdsaCert
			}
			id := s.ID
			defaults[id] = probeHandshake(cert, func(c *tls.Config) {
				c.CipherSuites = []uint16{id}
				c.MaxVersion = tls.VersionTLS12
			}, nil)
		}
	}
	return defaults
}
