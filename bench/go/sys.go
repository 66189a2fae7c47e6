// What the process reads about itself from /proc, for benchmarks in more
// than one file: its RSS (park, ring) and its thread count (handoff, file),
// as bench/sys.c does for the C side.

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

func rssBytes() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, fmt.Errorf("unexpected /proc/self/statm: %q", b)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, err
	}
	return pages * int64(os.Getpagesize()), nil
}

func mustRSS() int64 {
	v, err := rssBytes()
	if err != nil {
		fatalf("reading RSS: %v", err)
	}
	return v
}

func countThreads() int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "Threads:") {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "Threads:")))
			if err == nil {
				return n
			}
		}
	}
	return -1
}
