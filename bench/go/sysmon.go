// What sysmon buys: preemption of CPU hogs (hog) and the P handed off
// around blocking file reads (handoff). The Go twins of bench/b_sysmon.c.

package main

import (
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// ---------------------------------------------------------------------------
// hog: scheduling latency under CPU hogs (tests preemption). GOMAXPROCS
// goroutines spin in a loop with no function calls (so only asynchronous
// preemption can deschedule them) while a ping-pong pair does N round trips
// over unbuffered channels. Each round trip is timed individually;
// ns_per_op = mean round trip, p99_ns = 99th percentile.

var hogStop uint32

func hogSpin(running *sync.WaitGroup, done *sync.WaitGroup) {
	running.Done()
	x := int64(1)
	for atomic.LoadUint32(&hogStop) == 0 { // intrinsic: not a call
		for i := 0; i < 1<<20; i++ { // ~1ms of pure arithmetic
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	atomic.AddInt64(&sink, x)
	done.Done()
}

func benchHog(n int) measurement {
	procs := runtime.GOMAXPROCS(0)
	atomic.StoreUint32(&hogStop, 0)
	var running, hogsDone sync.WaitGroup
	running.Add(procs)
	hogsDone.Add(procs)
	for i := 0; i < procs; i++ {
		go hogSpin(&running, &hogsDone)
	}
	running.Wait() // all hogs are on CPU (or at least have run)

	lat := make([]int64, n)
	ping, pong := make(chan int), make(chan int)
	var wg sync.WaitGroup
	wg.Add(2)
	start := time.Now()
	go func() {
		defer wg.Done()
		for v := range ping {
			pong <- v
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			t := time.Now()
			ping <- i
			<-pong
			lat[i] = int64(time.Since(t))
		}
		close(ping)
	}()
	wg.Wait()
	d := time.Since(start)

	atomic.StoreUint32(&hogStop, 1)
	hogsDone.Wait()

	var sum int64
	for _, v := range lat {
		sum += v
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	idx := (99*n + 99) / 100 // ceil(0.99*n), 1-based rank
	p99 := float64(lat[idx-1])
	return measurement{elapsed: d, nsPerOp: float64(sum) / float64(n),
		extra: func(r *result) { r.P99Ns = f64(p99) }}
}

// 64 goroutines read random 4 KiB blocks of a 16 MiB file opened with
// O_DIRECT, so every read waits for the disk. Go's file reads are blocking
// system calls: sysmon hands the P to another thread while one waits.
// threads_created = OS threads the process gained while reading.

const (
	handoffReaders   = 64
	handoffBlock     = 4096
	handoffFileBytes = 16 << 20
)

func handoffFile() string {
	f, err := os.CreateTemp("", "gobench-handoff-*.dat")
	if err != nil {
		fatalf("handoff: %v", err)
	}
	block := make([]byte, handoffBlock)
	for i := range block {
		block[i] = 'r'
	}
	for done := 0; done < handoffFileBytes; done += handoffBlock {
		if _, err := f.Write(block); err != nil {
			fatalf("handoff: %v", err)
		}
	}
	if err := f.Sync(); err != nil {
		fatalf("handoff: %v", err)
	}
	f.Close()
	return f.Name()
}

// alignedBlock returns a handoffBlock-byte slice aligned for O_DIRECT.
func alignedBlock() []byte {
	buf := make([]byte, 2*handoffBlock)
	off := int(uintptr(unsafe.Pointer(&buf[0])) & (handoffBlock - 1))
	if off != 0 {
		off = handoffBlock - off
	}
	return buf[off : off+handoffBlock]
}

func benchHandoff(n int) measurement {
	path := handoffFile()
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_DIRECT, 0)
	os.Remove(path)
	if err != nil {
		fatalf("handoff: O_DIRECT open: %v", err)
	}
	defer f.Close()
	var left int64 = int64(n)
	var wg sync.WaitGroup
	before := countThreads()
	start := time.Now()
	wg.Add(handoffReaders)
	for r := 0; r < handoffReaders; r++ {
		go func(seed uint64) {
			defer wg.Done()
			buf := alignedBlock()
			for atomic.AddInt64(&left, -1) >= 0 {
				seed = seed*6364136223846793005 + 1442695040888963407
				off := int64((seed>>33)%(handoffFileBytes/handoffBlock)) * handoffBlock
				if k, err := f.ReadAt(buf, off); err != nil || k != handoffBlock {
					fatalf("handoff: read: %v", err)
				}
			}
		}(uint64(r)*2 + 1)
	}
	wg.Wait()
	d := time.Since(start)
	threads := countThreads() - before
	return measurement{elapsed: d, nsPerOp: perOp(d, n),
		extra: func(r *result) { r.Threads = &threads }}
}
