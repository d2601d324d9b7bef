package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// cell is one peer's connections for one request, server or client, from socket to close_notify.
type cell struct {
	req         *request
	out         *output
	deadline    time.Time
	views       []viewJSON
	exchange    *exchangeJSON
	sent, recvd fnv
	nSent       int
	nRecvd      int
	handshakeMS *float64
}

// runCell runs one request and prints its result line; it returns the exit code.
func runCell(req *request, out *output) int {
	c := &cell{req: req, out: out, deadline: time.Now().Add(time.Duration(req.timeoutMS) * time.Millisecond)}
	result := &resultJSON{Event: "result", Role: req.role, Library: library()}
	cfg, keylog, err := newConfig(req)
	if keylog != nil {
		defer keylog.Close()
	}
	if err == nil {
		if req.role == "server" {
			err = c.serve(cfg)
		} else {
			err = c.connect(cfg)
		}
	}
	var unsup *unsupported
	code := 0
	switch {
	case errors.As(err, &unsup):
		result.Status = "unsupported"
		result.Reason = &unsup.reason
		out.logf("unsupported: %s", unsup.reason)
		code = 3
	case err != nil:
		var f *failure
		if !errors.As(err, &f) {
			f = &failure{stage: "setup", message: err.Error()}
		}
		result.Status = "failed"
		result.Error = f.json()
		line := fmt.Sprintf("failed at %s: %s", f.stage, f.message)
		if f.alert != nil {
			line += fmt.Sprintf(" (alert %s %s)", alertName(*f.alert), f.direction)
		}
		out.logf("%s", line)
		code = 1
	default:
		result.Status = "ok"
		out.logf("done: handshake, echo and close_notify both ways")
	}
	if len(c.views) > 0 {
		result.View = &c.views[len(c.views)-1]
		if len(c.views) > 1 {
			result.Views = c.views
		}
		result.Exchange = &exchangeJSON{
			BytesSent: c.nSent, BytesReceived: c.nRecvd,
			DigestSent: c.sent.text(), DigestReceived: c.recvd.text(),
		}
	}
	result.HandshakeMS = c.handshakeMS
	out.finish(result)
	return code
}

func (c *cell) serve(cfg *tls.Config) error {
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0})
	if err != nil {
		return &failure{stage: "setup", message: err.Error()}
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	c.out.listening(port)
	c.out.logf("gotls %s server listening on 127.0.0.1:%d", library().Version, port)
	for i := 0; i < c.req.connections(); i++ {
		_ = ln.SetDeadline(c.deadline)
		tcp, err := ln.AcceptTCP()
		if err != nil {
			return classify(err, "tcp_accept", nil, c)
		}
		if err := c.serveOne(cfg, tcp); err != nil {
			return err
		}
	}
	return nil
}

func (c *cell) serveOne(cfg *tls.Config, tcp *net.TCPConn) error {
	wire := newWireConn(tcp, c.deadline)
	conn := tls.Server(wire, cfg)
	return c.converse(tcp, wire, conn, func() error {
		if c.req.transfer > 0 {
			if err := c.echoTransfer(conn, wire); err != nil {
				return err
			}
		} else {
			line, err := c.readLine(conn, wire)
			if err != nil {
				return err
			}
			if err := c.write(conn, wire, append(line, []byte(" pong\n")...)); err != nil {
				return err
			}
		}
		// The client closes first; answer its close_notify with ours.
		if err := c.awaitCloseNotify(conn, wire); err != nil {
			return err
		}
		if err := conn.CloseWrite(); err != nil {
			return classify(err, "shutdown", wire, c)
		}
		return nil
	})
}

// converse runs one connection of the cell: the handshake, then the role's exchange; however it
// ends, end() reports how the connection closed.
func (c *cell) converse(tcp *net.TCPConn, wire *wireConn, conn *tls.Conn, exchange func() error) (err error) {
	c.resetExchange()
	established := false
	defer func() { c.end(tcp, wire, conn, established, err) }()
	if err = c.handshake(conn, wire); err != nil {
		return err
	}
	established = true
	return exchange()
}

func (c *cell) connect(cfg *tls.Config) error {
	for i := 0; i < c.req.connections(); i++ {
		dialer := net.Dialer{Deadline: c.deadline}
		raw, err := dialer.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", c.req.port))
		if err != nil {
			if errors.Is(err, syscall.ECONNREFUSED) {
				return &failure{stage: "tcp_connect", libraryCode: ptr("ECONNREFUSED"), message: err.Error()}
			}
			return classify(err, "tcp_connect", nil, c)
		}
		c.out.logf("gotls %s client connected to 127.0.0.1:%d", library().Version, c.req.port)
		if err := c.connectOne(cfg, raw.(*net.TCPConn)); err != nil {
			return err
		}
	}
	return nil
}

func (c *cell) connectOne(cfg *tls.Config, tcp *net.TCPConn) error {
	wire := newWireConn(tcp, c.deadline)
	conn := tls.Client(wire, cfg)
	return c.converse(tcp, wire, conn, func() error {
		if c.req.transfer > 0 {
			if err := c.sendTransfer(conn, wire); err != nil {
				return err
			}
		} else {
			if err := c.write(conn, wire, []byte(c.req.message+"\n")); err != nil {
				return err
			}
			echoed, err := c.readLine(conn, wire)
			if err != nil {
				return err
			}
			if m := echoMismatch([]byte(c.req.message+" pong"), echoed); m != "" {
				return dataFailure("%s", m)
			}
		}
		// A TLS 1.3 ticket arrived with the echo; the ClientSessionCache keeps it for the next connection.
		if c.req.truncate {
			// Ends without close_notify, on purpose.
			c.out.logf("closing without close_notify, as asked")
			return nil
		}
		if err := conn.CloseWrite(); err != nil {
			return classify(err, "shutdown", wire, c)
		}
		return c.awaitCloseNotify(conn, wire)
	})
}

func (c *cell) handshake(conn *tls.Conn, wire *wireConn) error {
	start := time.Now()
	if err := conn.Handshake(); err != nil {
		return classify(err, "handshake", wire, c)
	}
	c.handshakeMS = ptr(float64(time.Since(start).Microseconds()) / 1000)
	v := negotiatedView(conn.ConnectionState(), c.req.role)
	c.views = append(c.views, v)
	group := "-"
	if v.Group != nil {
		group = *v.Group
	}
	peer := "-"
	if v.PeerCertificate != nil {
		peer = *v.PeerCertificate
	}
	resumed := ""
	if v.Resumed {
		resumed = " (resumed)"
	}
	c.out.logf("handshake done: %s %s group %s peer %s%s", *v.Version, *v.LibrarySuite, group, peer, resumed)
	return nil
}

// end closes one connection. After a failure past the handshake that crypto/tls did not detect
// itself (an echo that differs, a deadline), it still sends close_notify, at most 250 ms and never
// past the deadline. crypto/tls has no call to send user_canceled during a handshake, so a
// deadline there just closes. A failed connection closes lingering, so an alert reaches the other
// side before the kernel answers its in-flight data with a reset.
func (c *cell) end(tcp *net.TCPConn, wire *wireConn, conn *tls.Conn, established bool, err error) {
	var f *failure
	if err == nil {
		_ = tcp.Close()
		return
	}
	budget := time.Now().Add(250 * time.Millisecond)
	if budget.Before(wire.deadline) {
		wire.deadline = budget
	}
	_ = wire.SetDeadline(wire.deadline)
	if errors.As(err, &f) && f.ours {
		if established {
			if cerr := conn.CloseWrite(); cerr != nil {
				c.out.logf("no close_notify after the failure: %v", cerr)
			} else {
				c.out.logf("close_notify sent after the failure")
			}
		} else if f.stage == "timeout" {
			c.out.logf("no user_canceled: crypto/tls has no call to send an alert during a handshake")
		}
	}
	_ = tcp.CloseWrite()
	_, _ = io.Copy(io.Discard, tcp)
	_ = tcp.Close()
}

func (c *cell) resetExchange() {
	c.sent, c.recvd = newFNV(), newFNV()
	c.nSent, c.nRecvd = 0, 0
}

func (c *cell) write(conn *tls.Conn, wire *wireConn, b []byte) error {
	n, err := conn.Write(b)
	c.sent.add(b[:n])
	c.nSent += n
	if err != nil {
		return classify(err, "data", wire, c)
	}
	return nil
}

// readLine reads up to and excluding the first newline, the bytes as they came.
func (c *cell) readLine(conn *tls.Conn, wire *wireConn) ([]byte, error) {
	var received []byte
	chunk := make([]byte, 16384)
	for {
		n, err := conn.Read(chunk)
		c.recvd.add(chunk[:n])
		c.nRecvd += n
		received = append(received, chunk[:n]...)
		if i := bytes.IndexByte(received, '\n'); i >= 0 {
			return received[:i], nil
		}
		if errors.Is(err, io.EOF) {
			if wire.sawTCPEOF() {
				return nil, dataFailure("the stream ended without close_notify before a full line (%d bytes)", len(received))
			}
			return nil, dataFailure("peer sent close_notify before a full line (%d bytes)", len(received))
		}
		if err != nil {
			return nil, classify(err, "data", wire, c)
		}
		if len(received) > 65536 {
			return nil, dataFailure("no newline in 64 KiB of data")
		}
	}
}

// awaitCloseNotify reads until the other side's close_notify; data or a bare TCP close instead
// is a shutdown failure.
func (c *cell) awaitCloseNotify(conn *tls.Conn, wire *wireConn) error {
	chunk := make([]byte, 4096)
	n, err := conn.Read(chunk)
	if n > 0 {
		return &failure{stage: "shutdown", message: fmt.Sprintf("expected close_notify, got %d more bytes of data", n)}
	}
	if errors.Is(err, io.EOF) {
		if wire.sawTCPEOF() {
			// crypto/tls returns io.EOF for this too; the wire saw TCP end with no close_notify.
			return &failure{stage: "shutdown", message: "the stream ended without close_notify (a truncation, RFC 8446 §6.1)"}
		}
		return nil
	}
	if err == nil {
		return &failure{stage: "shutdown", message: "expected close_notify, got an empty read"}
	}
	return classify(err, "shutdown", wire, c)
}
