// The servers of the network benchmarks, echo-server and http-server: the
// Go side of bench/b_net.c's echo and http rows (started by bench/net.c).

package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
)

// ---------------------------------------------------------------------------
// Servers (not benchmarks): used as the Go side of the network benchmarks.
// Both print "ready PORT" once listening and run until killed (ringo-bench
// kills them, and they die with it: bench/server.c).

func listen(addr string) net.Listener {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fatalf("listen %s: %v", addr, err)
	}
	return ln
}

func announce(ln net.Listener) {
	fmt.Fprintf(os.Stdout, "ready %d\n", ln.Addr().(*net.TCPAddr).Port)
}

// echoServer: one goroutine per connection copying input back with a 4 KiB
// buffer.
func echoServer(addr string) {
	ln := listen(addr)
	announce(ln)
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			fatalf("accept: %v", err)
		}
		go func(c net.Conn) {
			defer c.Close()
			buf := make([]byte, 4096)
			for {
				k, err := c.Read(buf)
				if k > 0 {
					if _, werr := c.Write(buf[:k]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}(c)
	}
}

// httpServer: net/http replying "hello\n" as text/plain.
func httpServer(addr string) {
	ln := listen(addr)
	body := []byte("hello\n")
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	})
	announce(ln)
	if err := http.Serve(ln, mux); err != nil {
		fatalf("http: %v", err)
	}
}
