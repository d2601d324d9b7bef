// Command peer-gotls is the interop-matrix peer for Go's crypto/tls: it speaks the protocol of
// Sources/PeerKit/PEER-PROTOCOL.md with the standard library only.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	// A write to a closed socket must fail with EPIPE, not kill the peer (Go already turns SIGPIPE
	// on a socket into EPIPE; ignoring it covers stdout too).
	signal.Ignore(syscall.SIGPIPE)
	args := os.Args[1:]
	switch {
	case len(args) == 0:
		fmt.Fprintln(os.Stderr, "usage: peer-gotls capabilities | worker | server|client [options]; see Sources/PeerKit/PEER-PROTOCOL.md")
		os.Exit(2)
	case args[0] == "--help":
		fmt.Fprintln(os.Stderr, "usage: peer-gotls capabilities | worker | server|client [options]; see Sources/PeerKit/PEER-PROTOCOL.md")
		os.Exit(0)
	case args[0] == "capabilities":
		caps, err := capabilities()
		if err != nil {
			fmt.Fprintf(os.Stderr, "peer-gotls capabilities: %v\n", err)
			os.Exit(1)
		}
		emit(caps)
		os.Exit(0)
	case args[0] == "worker":
		worker()
		os.Exit(0)
	}
	req, err := parseRequest(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "peer-gotls: %v\n", err)
		os.Exit(2)
	}
	os.Exit(runCell(req, &output{}))
}

// worker runs one cell per request line on stdin, each on a fresh configuration, until end of input.
func worker() {
	watchParent()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for in.Scan() {
		line := in.Bytes()
		if len(line) == 0 {
			continue
		}
		var args []string
		if err := json.Unmarshal(line, &args); err != nil {
			emitUsage("a request must be a JSON array of strings")
			continue
		}
		req, err := parseRequest(args)
		var usage *usageError
		if errors.As(err, &usage) {
			emitUsage("peer-gotls: " + usage.message)
			continue
		}
		runCell(req, &output{worker: true})
	}
}

func emitUsage(message string) {
	emit(struct {
		Event   string `json:"event"`
		Message string `json:"message"`
	}{"usage", message})
}

// watchParent ends the worker once the runner that started it is gone: its pid is in
// INTEROP_MATRIX_PARENT_PID, and an orphan's parent changes. End of stdin ends it too.
func watchParent() {
	pid, err := strconv.Atoi(os.Getenv("INTEROP_MATRIX_PARENT_PID"))
	if err != nil || pid <= 0 {
		return
	}
	go func() {
		for {
			if os.Getppid() != pid {
				os.Exit(0)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
}
