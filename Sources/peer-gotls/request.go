package main

import (
	"fmt"
	"strconv"
	"strings"
)

// request is one cell as the runner asks for it: the options of PEER-PROTOCOL.md, parsed.
type request struct {
	role        string
	version     string
	suite       *uint16
	groups      []string
	certPath    string
	keyPath     string
	caPath      string
	clientAuth  string
	serverName  string
	port        int
	timeoutMS   int
	message     string
	legacy      bool
	alpn        []string
	keylogPath  string
	truncate    bool
	altName     string
	altCertPath string
	altKeyPath  string
	resume      string
	transfer    int
	keyUpdate   bool
}

// usageError is a command line the protocol does not allow (exit 2, or a worker's usage line).
type usageError struct{ message string }

func (e *usageError) Error() string { return e.message }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// connections is how many connections the peer makes or takes: two when resuming.
func (r *request) connections() int {
	if r.resume != "" {
		return 2
	}
	return 1
}

// valueOptions are the options that take a value.
var valueOptions = map[string]bool{
	"--version": true, "--suite": true, "--group": true, "--cert": true, "--key": true, "--ca": true,
	"--client-auth": true, "--server-name": true, "--port": true, "--timeout-ms": true, "--message": true,
	"--keylog": true, "--alt-name": true, "--alt-cert": true, "--alt-key": true, "--resume": true,
	"--transfer": true, "--alpn": true,
}

// parseRequest reads `server|client --option value …` exactly as PEER-PROTOCOL.md lists them.
func parseRequest(args []string) (*request, error) {
	if len(args) == 0 || (args[0] != "server" && args[0] != "client") {
		return nil, usagef("expected 'server', 'client' or 'capabilities' as the first argument")
	}
	r := &request{role: args[0], clientAuth: "none", serverName: "localhost", timeoutMS: 10000, message: "interop-matrix ping"}
	for i := 1; i < len(args); i++ {
		option := args[i]
		value := func() (string, error) {
			i++
			if i >= len(args) {
				return "", usagef("%s needs a value", option)
			}
			return args[i], nil
		}
		var text string
		var err error
		switch option {
		case "--legacy":
			r.legacy = true
			continue
		case "--truncate":
			r.truncate = true
			continue
		case "--key-update":
			r.keyUpdate = true
			continue
		}
		if !valueOptions[option] {
			return nil, usagef("unknown option %s", option)
		}
		if text, err = value(); err != nil {
			return nil, err
		}
		switch option {
		case "--version":
			if _, ok := versionsByName[text]; !ok {
				return nil, usagef("--version %s: expected one of TLS1.0, TLS1.1, TLS1.2, TLS1.3", text)
			}
			r.version = text
		case "--suite":
			code, perr := strconv.ParseUint(strings.TrimPrefix(text, "0x"), 16, 16)
			if !strings.HasPrefix(text, "0x") || perr != nil {
				return nil, usagef("--suite %s: expected an IANA code point such as 0xC02B", text)
			}
			c := uint16(code)
			r.suite = &c
		case "--group":
			r.groups = strings.Split(text, ",")
		case "--cert":
			r.certPath = text
		case "--key":
			r.keyPath = text
		case "--ca":
			r.caPath = text
		case "--client-auth":
			if text != "none" && text != "optional" && text != "required" {
				return nil, usagef("--client-auth %s: expected none, optional or required", text)
			}
			r.clientAuth = text
		case "--server-name":
			r.serverName = text
		case "--port":
			p, perr := strconv.Atoi(text)
			if perr != nil || p < 1 || p > 65535 {
				return nil, usagef("--port %s: expected 1-65535", text)
			}
			r.port = p
		case "--timeout-ms":
			t, perr := strconv.Atoi(text)
			if perr != nil || t <= 0 {
				return nil, usagef("--timeout-ms %s: expected a positive number", text)
			}
			r.timeoutMS = t
		case "--message":
			r.message = text
		case "--keylog":
			r.keylogPath = text
		case "--alt-name":
			r.altName = text
		case "--alt-cert":
			r.altCertPath = text
		case "--alt-key":
			r.altKeyPath = text
		case "--resume":
			if text != "session-id" && text != "ticket" {
				return nil, usagef("--resume %s: expected session-id or ticket", text)
			}
			r.resume = text
		case "--transfer":
			n, perr := strconv.Atoi(text)
			if perr != nil || n <= 0 || n > 1<<30 {
				return nil, usagef("--transfer %s: expected a byte count from 1 to 1073741824", text)
			}
			r.transfer = n
		case "--alpn":
			r.alpn = strings.Split(text, ",")
			for _, p := range r.alpn {
				if p == "" || len(p) > 255 {
					return nil, usagef("--alpn %s: expected comma-separated protocol names such as h2,http/1.1", text)
				}
			}
		}
	}
	if r.role == "client" && r.port == 0 {
		return nil, usagef("client needs --port")
	}
	if r.role == "server" && (r.certPath == "" || r.keyPath == "") {
		return nil, usagef("server needs --cert and --key")
	}
	if (r.certPath == "") != (r.keyPath == "") {
		return nil, usagef("--cert and --key go together")
	}
	alt := 0
	for _, s := range []string{r.altName, r.altCertPath, r.altKeyPath} {
		if s != "" {
			alt++
		}
	}
	if alt != 0 && alt != 3 {
		return nil, usagef("--alt-name, --alt-cert and --alt-key go together")
	}
	if strings.Contains(r.message, "\n") {
		return nil, usagef("--message must be one line")
	}
	return r, nil
}
