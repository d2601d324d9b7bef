package main

import (
	"crypto/tls"
	"errors"
	"io"
)

// transferByte is byte i of the transfer pattern: the top byte of i × 0x9E3779B97F4A7C15 mod 2⁶⁴.
func transferByte(i int) byte { return byte((uint64(i) * 0x9E3779B97F4A7C15) >> 56) }

const transferChunk = 16384

// check compares what came at offset with the pattern.
func checkTransfer(b []byte, offset int) error {
	for i, v := range b {
		if want := transferByte(offset + i); v != want {
			return dataFailure("byte %d of the transfer is 0x%02X, not 0x%02X as the pattern has it", offset+i, v, want)
		}
	}
	return nil
}

// sendTransfer writes the pattern in one goroutine and reads the echo in this one, at once: the
// server echoes while it reads, and neither side's buffers hold megabytes.
func (c *cell) sendTransfer(conn *tls.Conn, wire *wireConn) error {
	total := c.req.transfer
	// The writer keeps its own count and digest (no state shared with the reader); they join the
	// exchange once it is done. After a read failure it is not awaited: the socket closes under it.
	type progress struct {
		digest fnv
		sent   int
		err    error
	}
	written := make(chan progress, 1)
	go func() {
		p := progress{digest: newFNV()}
		chunk := make([]byte, transferChunk)
		for p.sent < total {
			n := total - p.sent
			if n > transferChunk {
				n = transferChunk
			}
			for i := 0; i < n; i++ {
				chunk[i] = transferByte(p.sent + i)
			}
			m, err := conn.Write(chunk[:n])
			p.digest.add(chunk[:m])
			p.sent += m
			if err != nil {
				p.err = err
				break
			}
		}
		written <- p
	}()
	if err := c.receivePattern(conn, wire, nil); err != nil {
		return err
	}
	p := <-written
	c.sent, c.nSent = p.digest, p.sent
	if p.err != nil {
		return classify(p.err, "data", wire, c)
	}
	c.out.logf("transfer done: %d bytes each way, %s", total, c.recvd.text())
	return nil
}

// echoTransfer reads the pattern, checks it, and writes back what it read as it reads it.
func (c *cell) echoTransfer(conn *tls.Conn, wire *wireConn) error {
	if err := c.receivePattern(conn, wire, func(b []byte) error { return c.write(conn, wire, b) }); err != nil {
		return err
	}
	c.out.logf("transfer done: %d bytes each way, %s", c.req.transfer, c.recvd.text())
	return nil
}

// receivePattern reads the transfer's bytes until all have come, checking each against the
// pattern and counting it into the exchange; each chunk then goes to echo, when there is one.
func (c *cell) receivePattern(conn *tls.Conn, wire *wireConn, echo func([]byte) error) error {
	total := c.req.transfer
	buf := make([]byte, transferChunk)
	for c.nRecvd < total {
		n, err := conn.Read(buf)
		if n > 0 {
			c.recvd.add(buf[:n])
			if cerr := checkTransfer(buf[:n], c.nRecvd); cerr != nil {
				return cerr
			}
			c.nRecvd += n
			if echo != nil {
				if werr := echo(buf[:n]); werr != nil {
					return werr
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return dataFailure("peer sent close_notify after %d of %d bytes", c.nRecvd, total)
		}
		if err != nil {
			return classify(err, "data", wire, c)
		}
	}
	return nil
}
