// Channel benchmarks: pingpong, mpmc, select, ring (up to millions of
// goroutines). The Go twins of bench/b_chan.c.

package main

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ---------------------------------------------------------------------------
// pingpong: channel round-trip latency. Two goroutines pass a value back and
// forth over two unbuffered channels N times; ns_per_op = time per round trip
// (two channel handoffs, two wake-ups).

func benchPingPong(n int) measurement {
	ping, pong := make(chan int), make(chan int)
	var wg sync.WaitGroup
	wg.Add(2)
	start := time.Now()
	go func() { // ponger: echoes every value back
		defer wg.Done()
		for v := range ping {
			pong <- v
		}
	}()
	go func() { // pinger: drives N round trips
		defer wg.Done()
		for i := 0; i < n; i++ {
			ping <- i
			<-pong
		}
		close(ping)
	}()
	wg.Wait()
	d := time.Since(start)
	return measurement{elapsed: d, nsPerOp: perOp(d, n)}
}

// ---------------------------------------------------------------------------
// mpmc: throughput of a contended buffered channel. 4 producers and 4
// consumers share one channel of capacity 128; N messages in total are sent
// (split across producers) and received. ns_per_op = time per message.

func benchMPMC(n int) measurement {
	const producers, consumers = 4, 4
	ch := make(chan int, 128)
	var prod, cons sync.WaitGroup
	prod.Add(producers)
	cons.Add(consumers)
	var total int64

	start := time.Now()
	for c := 0; c < consumers; c++ {
		go func() {
			defer cons.Done()
			var s int64
			for v := range ch {
				s += int64(v)
			}
			atomic.AddInt64(&total, s)
		}()
	}
	for p := 0; p < producers; p++ {
		cnt := n / producers
		if p < n%producers {
			cnt++
		}
		go func(cnt int) {
			defer prod.Done()
			for i := 0; i < cnt; i++ {
				ch <- i
			}
		}(cnt)
	}
	prod.Wait()
	close(ch)
	cons.Wait()
	d := time.Since(start)
	sink += total
	return measurement{elapsed: d, nsPerOp: perOp(d, n)}
}

// ---------------------------------------------------------------------------
// select: cost of a 2-way select. One goroutine loops N times over a select
// receiving from two unbuffered channels, each fed by its own sender
// goroutine (N/2 values each). ns_per_op = time per completed select.

func benchSelect(n int) measurement {
	a, b := make(chan int), make(chan int)
	var wg sync.WaitGroup
	wg.Add(3)
	sender := func(c chan<- int, cnt int) {
		defer wg.Done()
		for i := 0; i < cnt; i++ {
			c <- i
		}
	}
	start := time.Now()
	go func() { // receiver
		defer wg.Done()
		var s int64
		for i := 0; i < n; i++ {
			select {
			case v := <-a:
				s += int64(v)
			case v := <-b:
				s -= int64(v)
			}
		}
		sink += s
	}()
	go sender(a, n/2)
	go sender(b, n-n/2)
	wg.Wait()
	d := time.Since(start)
	return measurement{elapsed: d, nsPerOp: perOp(d, n)}
}

// ---------------------------------------------------------------------------
// ring: hand-off through many goroutines (cache-cold wake-ups). N goroutines
// form a ring of unbuffered channels; each receives the token from its left
// channel and sends it to its right one. The token makes exactly one trip if
// N >= 100000, otherwise enough trips for at least 1,000,000 hops.
// ns_per_op = time per hop; spawn_ns_per_g = time to start the N ring
// goroutines (until each has signalled it is running) / N; rss_bytes_per_g
// = RSS growth over the spawn / N. Like park, every repetition runs in a
// fresh process, so every spawn is a cold one.

func benchRing(n int) measurement {
	trips := 1
	if n < 100000 {
		trips = (1000000 + n - 1) / n
	}
	hops := n * trips

	chans := make([]chan int, n)
	for i := range chans {
		chans[i] = make(chan int)
	}
	done := make(chan struct{}, 1)
	var started, finished sync.WaitGroup
	started.Add(n)
	finished.Add(n)

	runtime.GC()
	before := mustRSS()
	spawnStart := time.Now()
	for i := 0; i < n; i++ {
		in, out, last := chans[i], chans[(i+1)%n], i == n-1
		go func() {
			defer finished.Done()
			started.Done()
			for {
				v, ok := <-in
				if !ok {
					// Tear-down: propagate the close around the ring,
					// stopping before ring[0] (closed by the driver).
					if !last {
						close(out)
					}
					return
				}
				if v == 1 { // last hop: report completion
					done <- struct{}{}
					continue
				}
				out <- v - 1
			}
		}()
	}
	started.Wait()
	spawn := time.Since(spawnStart)
	perG := float64(mustRSS()-before) / float64(n)

	start := time.Now()
	chans[0] <- hops
	<-done
	d := time.Since(start)

	close(chans[0])
	finished.Wait()
	spawnPerG := perOp(spawn, n)
	return measurement{elapsed: d + spawn, nsPerOp: perOp(d, hops),
		extra: func(r *result) {
			r.SpawnNsPerG = f64(spawnPerG)
			r.RSSBytesPerG = f64(perG)
		}}
}
