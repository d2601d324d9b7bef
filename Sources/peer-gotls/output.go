package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
)

type libraryJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

type suiteJSON struct {
	Code        string  `json:"code"`
	Name        *string `json:"name"`
	LibraryName string  `json:"library_name"`
	MinVersion  *string `json:"min_version"`
	MaxVersion  *string `json:"max_version"`
	Default     *bool   `json:"default,omitempty"`
	Forceable   *bool   `json:"forceable,omitempty"`
}

type capabilitiesJSON struct {
	Event            string      `json:"event"`
	Protocol         int         `json:"protocol"`
	Library          libraryJSON `json:"library"`
	Versions         []string    `json:"versions"`
	DefaultVersions  []string    `json:"default_versions"`
	Suites           []suiteJSON `json:"suites"`
	Groups           []string    `json:"groups"`
	DefaultGroups    []string    `json:"default_groups"`
	SignatureSchemes []string    `json:"signature_schemes"`
	CertificateTypes []string    `json:"certificate_types"`
	Notes            []string    `json:"notes"`
	Features         []string    `json:"features"`
	NotReadable      []string    `json:"not_readable"`
}

// viewJSON is what one connection negotiated, every field read back from crypto/tls.
type viewJSON struct {
	Version         *string  `json:"version"`
	Suite           *string  `json:"suite"`
	SuiteCode       *string  `json:"suite_code"`
	LibrarySuite    *string  `json:"library_suite"`
	Group           *string  `json:"group"`
	SignatureScheme *string  `json:"signature_scheme"`
	ALPN            *string  `json:"alpn"`
	Resumed         bool     `json:"resumed"`
	PeerCertificate *string  `json:"peer_certificate"`
	ServerName      *string  `json:"server_name"`
	NotReadable     []string `json:"not_readable,omitempty"`
}

type exchangeJSON struct {
	BytesSent          int    `json:"bytes_sent"`
	BytesReceived      int    `json:"bytes_received"`
	DigestSent         string `json:"digest_sent"`
	DigestReceived     string `json:"digest_received"`
	KeyUpdatesSent     *int   `json:"key_updates_sent"`
	KeyUpdatesReceived *int   `json:"key_updates_received"`
}

type errorJSON struct {
	Stage          string  `json:"stage"`
	Alert          *string `json:"alert"`
	AlertCode      *int    `json:"alert_code"`
	AlertDirection *string `json:"alert_direction"`
	LibraryCode    *string `json:"library_code"`
	VerifyReason   *string `json:"verify_reason"`
	Message        string  `json:"message"`
}

type resultJSON struct {
	Event       string        `json:"event"`
	Role        string        `json:"role"`
	Library     libraryJSON   `json:"library"`
	Status      string        `json:"status"`
	Reason      *string       `json:"reason"`
	View        *viewJSON     `json:"view"`
	Views       []viewJSON    `json:"views"`
	Exchange    *exchangeJSON `json:"exchange"`
	Error       *errorJSON    `json:"error"`
	HandshakeMS *float64      `json:"handshake_ms"`
	Log         *string       `json:"log,omitempty"`
}

// stdoutLock keeps protocol lines whole.
var stdoutLock sync.Mutex

// emit prints one protocol line on stdout (unbuffered: the runner reads it at once).
func emit(v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(os.Stderr, "peer-gotls: cannot encode a line: %v\n", err)
		return
	}
	stdoutLock.Lock()
	defer stdoutLock.Unlock()
	_, _ = os.Stdout.Write(b.Bytes())
}

// output is where a cell's lines go: logs on stderr for a one-cell peer, into the result's `log`
// for a worker.
type output struct {
	worker bool
	log    strings.Builder
}

func (o *output) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if o.worker {
		o.log.WriteString(line + "\n")
		return
	}
	fmt.Fprintln(os.Stderr, line)
}

func (o *output) listening(port int) {
	emit(struct {
		Event string `json:"event"`
		Port  int    `json:"port"`
	}{"listening", port})
}

func (o *output) finish(r *resultJSON) {
	if o.worker {
		s := o.log.String()
		r.Log = &s
	}
	emit(r)
}

func ptr[T any](v T) *T { return &v }
