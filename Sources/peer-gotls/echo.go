package main

import (
	"fmt"
	"strings"
)

// fnv is FNV-1a 64 over a byte stream, the protocol's digest.
type fnv uint64

func newFNV() fnv { return 0xcbf29ce484222325 }

func (f *fnv) add(b []byte) {
	v := uint64(*f)
	for _, x := range b {
		v = (v ^ uint64(x)) * 0x100000001b3
	}
	*f = fnv(v)
}

func (f fnv) text() string { return fmt.Sprintf("fnv1a64:%016x", uint64(f)) }

// echoMismatch is "" when received is expected byte for byte, else what differs, shown so that two
// lines that print alike never read alike (PEER-PROTOCOL.md, step 3).
func echoMismatch(expected, received []byte) string {
	if string(expected) == string(received) {
		return ""
	}
	offset := 0
	for offset < len(expected) && offset < len(received) && expected[offset] == received[offset] {
		offset++
	}
	var detail string
	switch {
	case offset < len(expected) && offset < len(received):
		detail = fmt.Sprintf("expected 0x%02X, got 0x%02X", expected[offset], received[offset])
	case offset < len(expected):
		detail = "the echo ends there"
	default:
		detail = "the echo goes on"
	}
	return fmt.Sprintf("echo mismatch: expected %d bytes %s, got %d bytes %s; first difference at byte %d (%s)",
		len(expected), escaped(expected, offset), len(received), escaped(received, offset), offset, detail)
}

const echoWindow = 160

// escaped writes bytes unambiguously: printable ASCII as is, \" \\ \n \r \t, others as \xHH; a
// long line is cut to a window around offset, marked with …
func escaped(b []byte, offset int) string {
	start := 0
	if len(b) > echoWindow {
		start = offset - echoWindow/4
		if start > len(b)-echoWindow {
			start = len(b) - echoWindow
		}
		if start < 0 {
			start = 0
		}
	}
	end := start + echoWindow
	if end > len(b) {
		end = len(b)
	}
	var s strings.Builder
	if start > 0 {
		s.WriteString("…")
	}
	s.WriteByte('"')
	for _, x := range b[start:end] {
		switch {
		case x == '"':
			s.WriteString(`\"`)
		case x == '\\':
			s.WriteString(`\\`)
		case x == '\n':
			s.WriteString(`\n`)
		case x == '\r':
			s.WriteString(`\r`)
		case x == '\t':
			s.WriteString(`\t`)
		case x >= 0x20 && x <= 0x7E:
			s.WriteByte(x)
		default:
			fmt.Fprintf(&s, `\x%02X`, x)
		}
	}
	s.WriteByte('"')
	if end < len(b) {
		s.WriteString("…")
	}
	return s.String()
}
