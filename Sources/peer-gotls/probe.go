package main

import (
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
func probeDefaultVersions() []string {
	cert, err := probeCertificate()
	if err != nil {
		return nil
	}
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

// probeHandshake runs one handshake over net.Pipe; the probe client skips verification, as the
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
	a, b := net.Pipe()
	deadline := time.Now().Add(2 * time.Second)
	_ = a.SetDeadline(deadline)
	_ = b.SetDeadline(deadline)
	done := make(chan error, 1)
	go func() {
		s := tls.Server(a, sc)
		done <- s.Handshake()
		a.Close()
	}()
	c := tls.Client(b, cc)
	clientErr := c.Handshake()
	b.Close()
	serverErr := <-done
	return clientErr == nil && serverErr == nil
}

func probeCertificate() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "probe"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// probeDefaultSuites asks which TLS 1.2-and-below suites a default client offers: a server held
// to one suite (and TLS 1.2) meets a default client. TLS 1.3 suites cannot be held in crypto/tls,
// so they are not probed. The result maps a code point to whether the handshake completed.
func probeDefaultSuites() map[uint16]bool {
	ecdsaCert, err := probeCertificate()
	if err != nil {
		return nil
	}
	rsaCert, err := probeRSACertificate()
	if err != nil {
		return nil
	}
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

func probeRSACertificate() (tls.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return tls.Certificate{}, err
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "probe"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
