package main

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// wireConn is the TCP connection under crypto/tls, watched and bounded:
//   - every deadline crypto/tls sets is clamped to the peer's own deadline (its closeNotify sets a
//     5 s write deadline of its own, which must not outlast --timeout-ms);
//   - it notes when TCP itself reached end of stream, since crypto/tls reports a bare TCP close
//     at a record boundary as io.EOF exactly like a close_notify (conn.go accepts it "if and only
//     if at the record boundary"), and the server must tell a truncation from a proper close;
//   - it reads the alerts this side writes in the clear (content type 21, two bytes), since
//     crypto/tls 1.19 returns the error that made it send an alert, not the alert.
//
// crypto/tls is blocking, but a net.Conn is driven by Go's netpoller (non-blocking sockets and
// epoll underneath), so a deadline here is the protocol's poll() with --timeout-ms.
type wireConn struct {
	net.Conn
	deadline time.Time

	mu        sync.Mutex
	tcpEOF    bool
	out       []byte // the start of an outgoing record not yet complete
	skip      int    // bytes of an outgoing record body still to pass over
	sentAlert *uint8 // the last fatal (non-close_notify) alert seen leaving in the clear
}

func newWireConn(c net.Conn, deadline time.Time) *wireConn {
	w := &wireConn{Conn: c, deadline: deadline}
	_ = c.SetDeadline(deadline)
	return w
}

func (w *wireConn) clamp(t time.Time) time.Time {
	if t.IsZero() || t.After(w.deadline) {
		return w.deadline
	}
	return t
}

func (w *wireConn) SetDeadline(t time.Time) error      { return w.Conn.SetDeadline(w.clamp(t)) }
func (w *wireConn) SetReadDeadline(t time.Time) error  { return w.Conn.SetReadDeadline(w.clamp(t)) }
func (w *wireConn) SetWriteDeadline(t time.Time) error { return w.Conn.SetWriteDeadline(w.clamp(t)) }

func (w *wireConn) Read(b []byte) (int, error) {
	n, err := w.Conn.Read(b)
	if errors.Is(err, io.EOF) {
		w.mu.Lock()
		w.tcpEOF = true
		w.mu.Unlock()
	}
	return n, err
}

func (w *wireConn) Write(b []byte) (int, error) {
	n, err := w.Conn.Write(b)
	w.mu.Lock()
	w.scan(b[:n])
	w.mu.Unlock()
	return n, err
}

// scan follows the record layer of what was written: 5-byte headers, bodies skipped, and an
// alert record of length 2 (only a plaintext alert is that short) read for its description.
func (w *wireConn) scan(b []byte) {
	for len(b) > 0 {
		if w.skip > 0 {
			k := w.skip
			if k > len(b) {
				k = len(b)
			}
			if len(w.out) > 0 { // collecting a two-byte alert body
				w.out = append(w.out, b[:k]...)
			}
			w.skip -= k
			b = b[k:]
			if w.skip == 0 && len(w.out) == 7 {
				if w.out[5] == 2 && w.out[6] != 0 { // level fatal, not close_notify
					code := w.out[6]
					w.sentAlert = &code
				}
				w.out = w.out[:0]
			}
			continue
		}
		need := 5 - len(w.out)
		if need > len(b) {
			w.out = append(w.out, b...)
			return
		}
		w.out = append(w.out, b[:need]...)
		b = b[need:]
		length := int(w.out[3])<<8 | int(w.out[4])
		w.skip = length
		if !(w.out[0] == 21 && length == 2) {
			w.out = w.out[:0]
		}
	}
}

// sawTCPEOF says whether the other side closed TCP under crypto/tls.
func (w *wireConn) sawTCPEOF() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tcpEOF
}

// alertSent is the fatal alert this side sent in the clear, if any.
func (w *wireConn) alertSent() *uint8 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sentAlert
}
