// File benchmarks: file. The Go twin of bench/b_file.c.

package main

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ---------------------------------------------------------------------------
// file: fileReaders goroutines read one 16 MiB file (in the page cache after
// it is written) in 4 KiB blocks with File.ReadAt, N reads in all.
// ns_per_op = time per read. threads_created = threads the process gained
// while reading; like park, each repetition is a fresh process, so threads an
// earlier run made do not hide. A ReadAt blocks its thread in pread; when it
// blocks long enough, Go hands the P to another thread.

const (
	fileReaders = 64
	fileBytes   = 16 << 20
	fileBlock   = 4096
)

func makeFile() *os.File {
	f, err := os.CreateTemp("", "gobench-file.")
	if err != nil {
		fatalf("file: %v", err)
	}
	os.Remove(f.Name())
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i * 131)
	}
	for off := int64(0); off < fileBytes; off += int64(len(chunk)) {
		if _, err := f.WriteAt(chunk, off); err != nil {
			fatalf("file: write: %v", err)
		}
	}
	return f
}

func benchFile(n int) measurement {
	f := makeFile()
	defer f.Close()
	per := n / fileReaders
	var wg sync.WaitGroup
	var failed atomic.Value
	wg.Add(fileReaders)
	before := countThreads()
	start := time.Now()
	for g := 0; g < fileReaders; g++ {
		first := g * per
		go func() {
			defer wg.Done()
			buf := make([]byte, fileBlock)
			for i := 0; i < per; i++ {
				block := (first + i) % (fileBytes / fileBlock)
				if k, err := f.ReadAt(buf, int64(block)*fileBlock); k != fileBlock {
					failed.Store(fmt.Sprintf("ReadAt: %d bytes, %v", k, err))
					return
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	created := countThreads() - before
	if msg := failed.Load(); msg != nil {
		fatalf("file: %s", msg)
	}
	return measurement{elapsed: d, nsPerOp: perOp(d, per*fileReaders),
		extra: func(r *result) { r.Threads = &created }}
}
