package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"reflect"
	"syscall"
	"time"
)

// failure is why a cell failed: the stage the protocol names and what crypto/tls said.
type failure struct {
	stage        string
	alert        *uint8
	direction    string // "sent" or "received"
	libraryCode  *string
	verifyReason *string
	message      string
	// ours is true when this peer, not crypto/tls, found the fault (an echo that differs, a close
	// before the line, a deadline): crypto/tls sent nothing, so a close_notify may still go out.
	ours bool
}

func (f *failure) Error() string { return f.message }

func (f *failure) json() *errorJSON {
	e := &errorJSON{Stage: f.stage, LibraryCode: f.libraryCode, Message: f.message}
	if f.alert != nil {
		e.Alert = ptr(alertName(*f.alert))
		e.AlertCode = ptr(int(*f.alert))
		e.AlertDirection = ptr(f.direction)
	}
	if f.stage == "verify" {
		e.VerifyReason = f.verifyReason
	}
	return e
}

func dataFailure(format string, args ...any) *failure {
	return &failure{stage: "data", message: fmt.Sprintf(format, args...), ours: true}
}

// errClientSentNoCertificate is crypto/tls 1.19's words when a server that requires a client
// certificate got none. It is an errors.New with no type or sentinel to match, so this one case is
// matched on the library's exact text.
const errClientSentNoCertificate = "tls: client didn't provide a certificate"

// classify turns an error crypto/tls or the net package returned at a stage into the protocol's
// failure: verification errors by their x509 type, alerts by the net.OpError crypto/tls wraps
// them in, deadlines by net.Error.Timeout.
func classify(err error, stage string, wire *wireConn, c *cell) *failure {
	var f *failure
	if errors.As(err, &f) {
		return f
	}
	f = &failure{stage: stage, message: err.Error()}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		f.stage = "timeout"
		f.libraryCode = ptr("ETIMEDOUT")
		f.message = fmt.Sprintf("%s did not finish within %d ms: %v", stage, c.req.timeoutMS, err)
		f.ours = true
		return f
	}
	if reason, code, ok := verifyReason(err); ok {
		f.stage = "verify"
		f.verifyReason = &reason
		f.libraryCode = &code
	} else if c.req.role == "server" && c.req.clientAuth == "required" && err.Error() == errClientSentNoCertificate {
		f.stage = "verify"
		f.verifyReason = ptr("no_certificate")
	}
	var errno syscall.Errno
	if f.libraryCode == nil && errors.As(err, &errno) {
		f.libraryCode = ptr(errnoName(errno))
	}
	// crypto/tls 1.19 wraps an alert in a net.OpError: Op "remote error" for one received,
	// "local error" for one it sent, Err its unexported alert type (a uint8). tls.AlertError
	// arrives only in Go 1.21.
	var op *net.OpError
	if errors.As(err, &op) && (op.Op == "remote error" || op.Op == "local error") && op.Err != nil {
		if v := reflect.ValueOf(op.Err); v.Kind() == reflect.Uint8 {
			code := uint8(v.Uint())
			f.alert = &code
			f.direction = map[string]string{"remote error": "received", "local error": "sent"}[op.Op]
			return f
		}
	}
	if wire != nil {
		if code := wire.alertSent(); code != nil {
			f.alert = code
			f.direction = "sent"
		}
	}
	return f
}

// verifyReason maps an x509 verification error to the protocol's verify_reason by its type,
// and names the type and reason as the library's code.
func verifyReason(err error) (reason, code string, ok bool) {
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) {
		code = fmt.Sprintf("x509.CertificateInvalidError(%s)", invalidReasonName(invalid.Reason))
		switch invalid.Reason {
		case x509.Expired:
			// crypto/x509 has one reason for both ends of the validity period.
			if invalid.Cert != nil && time.Now().Before(invalid.Cert.NotBefore) {
				return "not_yet_valid", code, true
			}
			return "expired", code, true
		case x509.IncompatibleUsage:
			return "key_usage", code, true
		case x509.NotAuthorizedToSign:
			return "untrusted", code, true
		default:
			return "other", code, true
		}
	}
	var hostname x509.HostnameError
	if errors.As(err, &hostname) {
		return "name_mismatch", "x509.HostnameError", true
	}
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) {
		return "untrusted", "x509.UnknownAuthorityError", true
	}
	var insecure x509.InsecureAlgorithmError
	if errors.As(err, &insecure) {
		return "signature", "x509.InsecureAlgorithmError", true
	}
	var constraint x509.ConstraintViolationError
	if errors.As(err, &constraint) {
		return "other", "x509.ConstraintViolationError", true
	}
	var critical x509.UnhandledCriticalExtension
	if errors.As(err, &critical) {
		return "other", "x509.UnhandledCriticalExtension", true
	}
	return "", "", false
}

func invalidReasonName(r x509.InvalidReason) string {
	names := map[x509.InvalidReason]string{
		x509.NotAuthorizedToSign:           "NotAuthorizedToSign",
		x509.Expired:                       "Expired",
		x509.CANotAuthorizedForThisName:    "CANotAuthorizedForThisName",
		x509.TooManyIntermediates:          "TooManyIntermediates",
		x509.IncompatibleUsage:             "IncompatibleUsage",
		x509.NameMismatch:                  "NameMismatch",
		x509.NameConstraintsWithoutSANs:    "NameConstraintsWithoutSANs",
		x509.UnconstrainedName:             "UnconstrainedName",
		x509.TooManyConstraints:            "TooManyConstraints",
		x509.CANotAuthorizedForExtKeyUsage: "CANotAuthorizedForExtKeyUsage",
	}
	if n, ok := names[r]; ok {
		return n
	}
	return fmt.Sprintf("InvalidReason %d", int(r))
}

// errnoName is the C name of the errors a socket can end with here.
func errnoName(e syscall.Errno) string {
	names := map[syscall.Errno]string{
		syscall.ECONNREFUSED: "ECONNREFUSED", syscall.ECONNRESET: "ECONNRESET", syscall.EPIPE: "EPIPE",
		syscall.ETIMEDOUT: "ETIMEDOUT", syscall.ECONNABORTED: "ECONNABORTED", syscall.EADDRINUSE: "EADDRINUSE",
		syscall.ENETUNREACH: "ENETUNREACH", syscall.EHOSTUNREACH: "EHOSTUNREACH",
	}
	if n, ok := names[e]; ok {
		return n
	}
	return fmt.Sprintf("errno %d", int(e))
}
