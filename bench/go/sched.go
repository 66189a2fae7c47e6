// Scheduler benchmarks: spawn, park (millions of blocked goroutines),
// yield. The Go twins of bench/b_sched.c.

package main

import (
	"runtime"
	"sync"
	"time"
)

// ---------------------------------------------------------------------------
// spawn: cost of creating, running and retiring a trivial goroutine. N
// goroutines are started that each only call wg.Done(); the clock stops when
// all of them have run. ns_per_op = total time / N.

func benchSpawn(n int) measurement {
	var wg sync.WaitGroup
	wg.Add(n)
	start := time.Now()
	for i := 0; i < n; i++ {
		go func() { wg.Done() }()
	}
	wg.Wait()
	d := time.Since(start)
	return measurement{elapsed: d, nsPerOp: perOp(d, n)}
}

// ---------------------------------------------------------------------------
// park: memory footprint, creation and wake-up cost of blocked goroutines,
// up to millions. N goroutines are started that each signal "started" and
// then block receiving on one shared unbuffered channel. RSS (from
// /proc/self/statm) is sampled after a GC before spawning and again once
// all N have signalled; rss_bytes_per_g = delta / N, ns_per_op = time until
// all started / N. Then the channel is closed; wake_ns_per_g = time until
// all N have finished / N.
// Because the Go runtime caches dead goroutines (and their stacks), a second
// run in the same process would reuse them and show no RSS growth, so park
// does no warm-up and every repetition runs in a fresh child process.

func benchPark(n int) measurement {
	ch := make(chan struct{})
	var started, finished sync.WaitGroup
	started.Add(n)
	finished.Add(n)

	runtime.GC()
	before := mustRSS()
	start := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-ch
			finished.Done()
		}()
	}
	started.Wait()
	d := time.Since(start)
	after := mustRSS()

	wakeStart := time.Now()
	close(ch)
	finished.Wait()
	wake := time.Since(wakeStart)
	perG := float64(after-before) / float64(n)
	return measurement{elapsed: d + wake, nsPerOp: perOp(d, n),
		extra: func(r *result) {
			r.RSSBytesPerG = f64(perG)
			r.WakeNsPerG = f64(perOp(wake, n))
		}}
}

// ---------------------------------------------------------------------------
// yield: voluntary context switches against GOMAXPROCS. Two goroutines per
// P each call runtime.Gosched() N times, so on one P control bounces
// between the two; ns_per_op = total time / all yields (2N per P).

func benchYield(n int) measurement {
	goroutines := 2 * runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	wg.Add(goroutines)
	yielder := func() {
		for i := 0; i < n; i++ {
			runtime.Gosched()
		}
		wg.Done()
	}
	start := time.Now()
	for i := 0; i < goroutines; i++ {
		go yielder()
	}
	wg.Wait()
	d := time.Since(start)
	return measurement{elapsed: d, nsPerOp: perOp(d, goroutines*n)}
}
