// The client contract (docs/CLIENT_CONTRACT.md) on Go's net package (Go
// 1.19 as packaged by Debian 12; standard library only): net.Dial for every
// connecting form, one goroutine writing the requests with conn.Write and
// one reading reply frames through a bufio.Reader, each payload streamed
// into hash/fnv's FNV-1a 32 (io.CopyN), so a 16 MiB reply is never held
// whole. The runtime's netpoller turns those blocking-style calls into
// epoll waits and retries EINTR and short reads and writes.
//
// Address forms: unix:/path (net.Dial("unix", path)), unix:@name (Go's own
// syntax for Linux's abstract namespace: the address length covers the name
// and nothing more), tcp:127.0.0.1:PORT and tcp:[::1]:PORT (net.Dial("tcp")),
// fd:N (os.NewFile + net.FileConn, which dups N; N is closed at once).
//
// Errors: the *net.OpError's underlying syscall.Errno, as a Go user tests
// it with errors.Is / errors.As. Go has no errno-name table in its standard
// library (golang.org/x/sys/unix.ErrnoName is outside it), so the names
// below are the ones a client can meet; any other errno is EOTHER.
// SIGPIPE: the runtime turns a write to a broken connection into EPIPE
// (os/signal docs: only descriptors 1 and 2 raise it), nothing done here.
//
// What Go does that the contract would not (a finding, not worked around):
// a UNIX listener whose backlog is full makes the non-blocking connect()
// fail with EAGAIN, and (*netFD).connect (net/fd_unix.go) waits only on
// EINPROGRESS, EALREADY and EINTR: Dial fails at once (`end error EAGAIN`).
//
// Go makes its system calls itself, not through libc, so an LD_PRELOAD
// library sees none of them.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var errnoNames = map[syscall.Errno]string{
	syscall.ENOENT: "ENOENT", syscall.EAGAIN: "EAGAIN", syscall.EPIPE: "EPIPE",
	syscall.EACCES: "EACCES", syscall.EINVAL: "EINVAL",
	syscall.ENOTCONN: "ENOTCONN", syscall.ETIMEDOUT: "ETIMEDOUT",
	syscall.ECONNABORTED: "ECONNABORTED", syscall.EADDRNOTAVAIL: "EADDRNOTAVAIL",
	syscall.ENETUNREACH: "ENETUNREACH", syscall.EHOSTUNREACH: "EHOSTUNREACH",
	syscall.EMFILE: "EMFILE", syscall.ENFILE: "ENFILE",
	syscall.ENOBUFS: "ENOBUFS", syscall.ENOTSOCK: "ENOTSOCK",
	syscall.EPROTOTYPE: "EPROTOTYPE", syscall.EBADF: "EBADF",
	syscall.ENOTDIR: "ENOTDIR", syscall.ENAMETOOLONG: "ENAMETOOLONG",
}

var errUsage = errors.New("usage: client unix:/PATH|unix:@NAME|tcp:HOST:PORT|fd:N")

// say prints one line; os.Stdout is unbuffered, so each line is one write.
func say(line string) { fmt.Println(line) }

func endLine(err error) string {
	var errno syscall.Errno
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "end reset"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "end refused"
	case errors.As(err, &errno) && errnoNames[errno] != "":
		return "end error " + errnoNames[errno]
	}
	return "end error EOTHER"
}

func dial(address string) (net.Conn, bool, error) {
	switch {
	case strings.HasPrefix(address, "fd:"):
		n, err := strconv.Atoi(address[3:])
		if err != nil || n < 0 {
			return nil, false, errUsage
		}
		f := os.NewFile(uintptr(n), address)
		c, err := net.FileConn(f) // a dup of the descriptor
		f.Close()
		return c, false, err
	case strings.HasPrefix(address, "unix:"):
		c, err := net.Dial("unix", address[5:]) // "@name": abstract
		return c, true, err
	case strings.HasPrefix(address, "tcp:"):
		c, err := net.Dial("tcp", address[4:]) // 127.0.0.1:P or [::1]:P
		return c, true, err
	}
	return nil, false, errUsage
}

// readReplies reports every whole reply frame; it returns the end line.
func readReplies(c net.Conn) string {
	r := bufio.NewReaderSize(c, 64<<10)
	var header [4]byte
	for {
		if _, err := io.ReadFull(r, header[:]); err != nil {
			if err == io.EOF {
				return "end eof"
			}
			if err == io.ErrUnexpectedEOF {
				return "end eof partial"
			}
			return endLine(err)
		}
		length := binary.BigEndian.Uint32(header[:])
		h := fnv.New32a()
		if _, err := io.CopyN(h, r, int64(length)); err != nil {
			if err == io.EOF {
				return "end eof partial"
			}
			return endLine(err)
		}
		say(fmt.Sprintf("reply %d %08x", length, h.Sum32()))
	}
}

func run(address string, requests []byte) {
	c, connecting, err := dial(address)
	if err == errUsage {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		say(endLine(err))
		return
	}
	if connecting {
		say("connected")
	}
	written := make(chan error, 1)
	go func() {
		_, err := c.Write(requests)
		written <- err
	}()
	line := readReplies(c)
	if line == "end eof" || line == "end eof partial" {
		// Linux reports a reset to one call only: when the writer took the
		// ECONNRESET, the reader then sees end of stream. Stop the writer
		// (a deadline, Go's way to cancel a blocked call) and take its error.
		c.SetWriteDeadline(time.Now())
		if err := <-written; err != nil &&
			!errors.Is(err, os.ErrDeadlineExceeded) {
			fmt.Fprintln(os.Stderr, "write:", err)
			line = endLine(err)
		}
	}
	say(line)
	c.Close()
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: client ADDRESS")
		os.Exit(2)
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	requests, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stdin:", err)
		os.Exit(1)
	}
	go run(os.Args[1], requests)
	<-term // after the end line too: idle until SIGTERM
	os.Exit(0)
}
