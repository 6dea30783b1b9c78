// The peer contract (docs/SUT_CONTRACT.md, v1.1) on Go's net package (Go
// 1.19 as packaged by Debian 12; standard library only): net.Listen for
// every listening form, one goroutine per connection reading frames with a
// bufio.Reader and writing replies through a bufio.Writer. The runtime's
// netpoller turns those blocking-style calls into epoll waits, retries
// EINTR and short reads and writes, and retries accept's ECONNABORTED.
//
// Backpressure is the goroutine style's own: a connection's goroutine does
// not read its next request until the reply to the last one is written, so
// a client that reads nothing fills the socket buffers and is then not read
// (one frame of at most 16 MiB and a 64 KiB write buffer per connection).
// Replies are flushed whenever the goroutine is about to wait for input.
//
// Address forms: unix:/path (net.Listen("unix", path)), unix:@name (Go's
// own syntax for Linux's abstract namespace: it binds the name without a
// trailing NUL), tcp:127.0.0.1:PORT and tcp:[::1]:PORT (net.Listen("tcp")),
// fd:N (os.NewFile + net.FileConn). All forms are served.
//
// Socket files: a *net.UnixListener made by Listen unlinks its path on
// Close (SetUnlinkOnClose's documented default, "unlink the socket file
// only when package net created it"), by name, without checking that the
// file is still the one it bound (https://github.com/golang/go/issues/13877
// asked for a way to turn it off for graceful restarts). This server keeps
// that default, as a Go program would, so it does not meet the contract's
// SHOULD about a socket file another server has bound since. Listen fails
// with EADDRINUSE on any existing file, stale or live; the stale/live probe
// (a Dial) before replacing a file is done here.
//
// Go makes its system calls itself, not through libc, so an LD_PRELOAD
// library sees none of them.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	maxFrame = 16 << 20
	maxBulk  = maxFrame - 1
)

// A whole number of 251-byte periods, so consecutive slices starting at 0
// continue the sequence i mod 251.
var pattern = func() []byte {
	p := make([]byte, 251*261)
	for i := range p {
		p[i] = byte(i % 251)
	}
	return p
}()

var (
	mu    sync.Mutex
	conns = map[net.Conn]struct{}{}
)

func track(c net.Conn) {
	mu.Lock()
	conns[c] = struct{}{}
	mu.Unlock()
}

func release(c net.Conn) {
	mu.Lock()
	delete(conns, c)
	mu.Unlock()
	c.Close()
}

func count() int {
	mu.Lock()
	defer mu.Unlock()
	return len(conns)
}

// flushingReader flushes the connection's pending replies before every
// read from the socket, i.e. whenever the bufio.Reader above it has no
// input left and would wait for more.
type flushingReader struct {
	c net.Conn
	w *bufio.Writer
}

func (f flushingReader) Read(p []byte) (int, error) {
	if err := f.w.Flush(); err != nil {
		return 0, err
	}
	return f.c.Read(p)
}

type halfCloser interface{ CloseWrite() error }

func serve(c net.Conn) {
	defer release(c)
	w := bufio.NewWriterSize(c, 64<<10)
	r := bufio.NewReaderSize(flushingReader{c, w}, 64<<10)
	var header [4]byte
	for {
		// End of stream or an error, at a frame boundary or inside one: no
		// reply to a partial frame. Earlier replies were flushed before the
		// read that ended.
		if _, err := io.ReadFull(r, header[:]); err != nil {
			return
		}
		length := binary.BigEndian.Uint32(header[:])
		if length == 0 || length > maxFrame {
			w.Flush() // replies due before the bad frame, then close
			return
		}
		frame := make([]byte, length)
		if _, err := io.ReadFull(r, frame); err != nil {
			return
		}
		switch frame[0] {
		case 'E':
			if reply(w, frame) != nil {
				return
			}
		case 'B':
			if len(frame) != 5 || binary.BigEndian.Uint32(frame[1:]) > maxBulk {
				w.Flush()
				return
			}
			if bulk(w, binary.BigEndian.Uint32(frame[1:])) != nil {
				return
			}
		case 'N':
			if len(frame) != 1 {
				w.Flush()
				return
			}
			if reply(w, []byte("N"+strconv.Itoa(count()))) != nil {
				return
			}
		case 'S':
			if w.Flush() != nil {
				return
			}
			if hc, ok := c.(halfCloser); ok {
				hc.CloseWrite()
			}
			io.Copy(io.Discard, r) // until the client's end of stream
			return
		case 'C':
			w.Flush()
			return
		case 'A':
			// Nothing pending is sent: the buffered replies are dropped.
			if tcp, ok := c.(*net.TCPConn); ok {
				tcp.SetLinger(0) // close sends a reset
			}
			return
		default:
			w.Flush()
			return
		}
	}
}

func reply(w *bufio.Writer, payload []byte) error {
	var header [4]byte
	binary.BigEndian.PutUint32(header[:], uint32(len(payload)))
	if _, err := w.Write(header[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

func bulk(w *bufio.Writer, n uint32) error {
	var prefix [5]byte
	binary.BigEndian.PutUint32(prefix[:], n+1)
	prefix[4] = 'B'
	if _, err := w.Write(prefix[:]); err != nil {
		return err
	}
	for left := int(n); left > 0; {
		take := left
		if take > len(pattern) {
			take = len(pattern)
		}
		if _, err := w.Write(pattern[:take]); err != nil {
			return err
		}
		left -= take
	}
	return nil
}

// acceptLoop backs off when Accept fails (EMFILE, ENFILE, ...), the way
// net/http's Server.Serve does: 5 ms doubling up to 1 s. Accepting again at
// once would fail at once.
func acceptLoop(ln net.Listener) {
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if delay == 0 {
				delay = 5 * time.Millisecond
			} else if delay *= 2; delay > time.Second {
				delay = time.Second
			}
			fmt.Fprintf(os.Stderr, "accept: %v; retrying in %v\n", err, delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		track(c)
		go serve(c)
	}
}

// listenUnix listens on a socket path. A stale socket file (nobody
// accepts on it) is replaced; a live one, or a file that is not a socket,
// stays, and the server refuses to start.
func listenUnix(path string) (net.Listener, error) {
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("unix", path)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || attempt == 3 ||
			strings.HasPrefix(path, "@") { // an abstract name has no file
			return ln, err
		}
		info, statErr := os.Lstat(path)
		if statErr != nil {
			continue // gone since: listen again
		}
		if info.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket; leaving it alone", path)
		}
		probe, dialErr := net.DialTimeout("unix", path, time.Second)
		if dialErr == nil {
			probe.Close()
			return nil, fmt.Errorf("a server already listens on %s; leaving it alone", path)
		}
		if !errors.Is(dialErr, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%s: %v; leaving it alone", path, dialErr)
		}
		os.Remove(path)
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: server ADDRESS")
		os.Exit(2)
	}
	address := os.Args[1]
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)

	var ln net.Listener
	var err error
	switch {
	case strings.HasPrefix(address, "fd:"):
		n, convErr := strconv.Atoi(address[3:])
		if convErr != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "bad address %q\n", address)
			os.Exit(2)
		}
		f := os.NewFile(uintptr(n), address)
		c, connErr := net.FileConn(f) // a dup of the descriptor
		f.Close()
		if connErr != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", address, connErr)
			os.Exit(1)
		}
		track(c)
		done := make(chan struct{})
		go func() {
			serve(c)
			close(done)
		}()
		fmt.Println("ready")
		select {
		case <-done:
		case <-term:
			release(c)
		}
		os.Exit(0)
	case strings.HasPrefix(address, "unix:"):
		// "@name" is Go's syntax for the abstract namespace, as the
		// contract's.
		ln, err = listenUnix(address[5:])
	case strings.HasPrefix(address, "tcp:"):
		ln, err = net.Listen("tcp", address[4:]) // 127.0.0.1:P or [::1]:P
	default:
		err = fmt.Errorf("unknown address %q", address)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("ready")
	go acceptLoop(ln)
	<-term
	ln.Close() // stops accepting; a UnixListener unlinks its path here
	mu.Lock()
	for c := range conns {
		c.Close()
	}
	mu.Unlock()
	os.Exit(0)
}
