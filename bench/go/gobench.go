// Command gobench is the Go baseline for ringo-bench: it runs the same
// micro-benchmarks as the C runtime's benchmark suite, but on the stock Go
// runtime, so that ringo's numbers can be compared against Go's.
//
// Usage:
//
//	gobench NAME [-n N] [-reps R] [-procs P]
//	gobench echo-server [-addr 127.0.0.1:PORT]
//	gobench http-server [-addr 127.0.0.1:PORT]
//
// Each benchmark repetition prints one JSON object on its own line:
//
//	{"bench":"NAME","impl":"go","mode":"-","procs":P,"n":N,"ns_per_op":F,
//	 "ops_per_s":F, ...extra}
//
// Extra fields: rss_bytes_per_g and wake_ns_per_g (park), p99_ns (hog),
// wall_ns, sleep_max_ns and sleep_p99_ns (sleepers), spawn_ns_per_g (ring),
// threads_created (handoff, file). If a single run takes less than one second, one untimed warm-up
// run is done first (except for park, see below); once a repetition has
// taken 10 seconds, three repetitions are enough (the rule of ringo-bench's
// bench/bench.h).
//
// Build with the standard library only:
//
//	go build -o gobench bench/go/gobench.go
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// result is one JSON line. Optional fields are pointers so that they are
// omitted (rather than printed as 0) for benchmarks they do not apply to.
type result struct {
	Bench        string   `json:"bench"`
	Impl         string   `json:"impl"`
	Mode         string   `json:"mode"`
	Procs        int      `json:"procs"`
	N            int      `json:"n"`
	NsPerOp      float64  `json:"ns_per_op"`
	OpsPerS      *float64 `json:"ops_per_s,omitempty"`
	RSSBytesPerG *float64 `json:"rss_bytes_per_g,omitempty"`
	P99Ns        *float64 `json:"p99_ns,omitempty"`
	WallNs       *int64   `json:"wall_ns,omitempty"`
	SpawnNsPerG  *float64 `json:"spawn_ns_per_g,omitempty"`
	WakeNsPerG   *float64 `json:"wake_ns_per_g,omitempty"`
	SleepMaxNs   *int64   `json:"sleep_max_ns,omitempty"`
	SleepP99Ns   *int64   `json:"sleep_p99_ns,omitempty"`
	Threads      *int     `json:"threads_created,omitempty"`
}

// measurement is what a benchmark function returns for one run.
type measurement struct {
	elapsed time.Duration // wall time of the run (used for the warm-up rule)
	nsPerOp float64
	procs   int // GOMAXPROCS in effect while measuring
	extra   func(r *result)
}

type benchmark struct {
	defaultN int
	minN     int
	run      func(n int) measurement
	// noWarmup: the benchmark measures first-touch costs (e.g. memory) and
	// must run in a fresh process; repetitions are re-executed as children.
	noWarmup bool
}

var benchmarks = map[string]benchmark{
	"spawn":     {defaultN: 100000, minN: 1, run: benchSpawn},
	"park":      {defaultN: 100000, minN: 1, run: benchPark, noWarmup: true},
	"yield":     {defaultN: 1000000, minN: 1, run: benchYield},
	"pingpong":  {defaultN: 200000, minN: 1, run: benchPingPong},
	"mpmc":      {defaultN: 1000000, minN: 1, run: benchMPMC},
	"mutex":     {defaultN: 1000000, minN: 8, run: benchMutex},
	"select":    {defaultN: 500000, minN: 1, run: benchSelect},
	"sleepers":  {defaultN: 100000, minN: 1, run: benchSleepers},
	"ring":      {defaultN: 100000, minN: 2, run: benchRing, noWarmup: true},
	"hog":       {defaultN: 2000, minN: 1, run: benchHog},
	"timerstop": {defaultN: 100000, minN: 1, run: benchTimerStop},
	"timerfire": {defaultN: 100000, minN: 1, run: benchTimerFire},
	"handoff":   {defaultN: 20000, minN: 1, run: benchHandoff, noWarmup: true},
	"file":      {defaultN: 256000, minN: fileReaders, run: benchFile, noWarmup: true},
}

// The repetition rule shared with ringo-bench (bench/bench.h).
const (
	warmupFor  = time.Second      // a shorter first run is a warm-up
	longRep    = 10 * time.Second // after a repetition this long...
	longRepsOK = 3                // ...this many repetitions are enough
)

// sink keeps computed values alive so the compiler cannot drop the work.
var sink int64

func f64(v float64) *float64 { return &v }

func perOp(d time.Duration, ops int) float64 { return float64(d.Nanoseconds()) / float64(ops) }

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
// mutex: contended lock hand-off. 8 goroutines each do N/8 Lock/Unlock pairs
// on one sync.Mutex, incrementing a shared counter inside the critical
// section. ns_per_op = time per Lock/Unlock pair (8*(N/8) pairs in total).

func benchMutex(n int) measurement {
	const workers = 8
	per := n / workers
	var mu sync.Mutex
	var counter int64
	var wg sync.WaitGroup
	wg.Add(workers)

	start := time.Now()
	for w := 0; w < workers; w++ {
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	if counter != int64(per*workers) {
		fatalf("mutex: counter %d, want %d", counter, per*workers)
	}
	sink += counter
	return measurement{elapsed: d, nsPerOp: perOp(d, per*workers)}
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
// sleepers: timer scalability. N goroutines each time.Sleep(100ms). wall_ns is
// the time from the first spawn until the last one has woken and finished
// (ideal: ~100ms regardless of N, but at 1M bounded by spawn cost).
// ns_per_op = wall_ns / N. Each sleeper also reads time.Now() just before
// and just after its sleep: sleep_max_ns is the longest of those sleeps and
// sleep_p99_ns their 99th percentile (ideal: 100ms; the excess is the
// timers' lateness). The percentile comes from a histogram of lateness in
// 0.1ms buckets (the upper edge of its bucket, capped at the maximum), as
// in bench/b_time.c. A sleep shorter than 100ms is fatal.

const (
	sleepFor     = 100 * time.Millisecond
	sleepBucket  = 100 * time.Microsecond
	sleepBuckets = 65536 // 6.5s of lateness; the last bucket is open
)

// sleepers collects the sleeps as slept, with atomics (wg.Wait publishes
// them to the waiter).
type sleepers struct {
	maxNs, minNs int64    // longest and shortest sleep
	late         []uint32 // [sleepBuckets] counts of lateness
}

// note records one sleep of slept ns.
func (sl *sleepers) note(slept int64) {
	for seen := atomic.LoadInt64(&sl.maxNs); slept > seen; seen = atomic.LoadInt64(&sl.maxNs) {
		if atomic.CompareAndSwapInt64(&sl.maxNs, seen, slept) {
			break
		}
	}
	for seen := atomic.LoadInt64(&sl.minNs); slept < seen; seen = atomic.LoadInt64(&sl.minNs) {
		if atomic.CompareAndSwapInt64(&sl.minNs, seen, slept) {
			break
		}
	}
	if slept < int64(sleepFor) {
		return
	}
	b := (slept - int64(sleepFor)) / int64(sleepBucket)
	if b >= sleepBuckets {
		b = sleepBuckets - 1
	}
	atomic.AddUint32(&sl.late[b], 1)
}

// p99 is the sleep that at least 99% of the n sleeps were no longer than.
func (sl *sleepers) p99(n int, longest int64) int64 {
	want, seen := n-n/100, 0
	for b := 0; b < sleepBuckets-1; b++ {
		seen += int(atomic.LoadUint32(&sl.late[b]))
		if seen >= want {
			if edge := int64(sleepFor) + int64(b+1)*int64(sleepBucket); edge < longest {
				return edge
			}
			return longest
		}
	}
	return longest
}

func benchSleepers(n int) measurement {
	var wg sync.WaitGroup
	sl := &sleepers{minNs: math.MaxInt64, late: make([]uint32, sleepBuckets)}
	wg.Add(n)
	start := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			t0 := time.Now()
			time.Sleep(sleepFor)
			sl.note(time.Since(t0).Nanoseconds())
			wg.Done()
		}()
	}
	wg.Wait()
	d := time.Since(start)
	wall := d.Nanoseconds()
	longest := atomic.LoadInt64(&sl.maxNs)
	p99 := sl.p99(n, longest)
	if shortest := atomic.LoadInt64(&sl.minNs); shortest < int64(sleepFor) || d < sleepFor {
		fatalf("sleepers: a %d ns sleep returned after %d ns (all woke after %d ns)",
			int64(sleepFor), shortest, wall)
	}
	return measurement{elapsed: d, nsPerOp: perOp(d, n),
		extra: func(r *result) { r.WallNs, r.SleepMaxNs, r.SleepP99Ns = &wall, &longest, &p99 }}
}

// ---------------------------------------------------------------------------
// timerstop, timerfire: one timer's cost against the number of live timers
// (bench/b_time.c has the same). N timers are started to fire between 1 and
// 2 hours from now in an order drawn from an LCG; then timerOps times one
// more timer is reset to a time in that range and stopped (timerstop), or
// reset to 1 ns and received from (timerfire). ns_per_op = time per
// reset+stop or reset+fire. ringo-bench runs both with -procs 1.

const (
	timerOps    = 100000
	timerSpread = time.Hour
)

func timerLCG(x *uint64) uint64 {
	*x = *x*6364136223846793005 + 1442695040888963407
	return *x >> 11
}

func timerFar(x *uint64) time.Duration {
	return timerSpread + time.Duration(timerLCG(x)%uint64(timerSpread))
}

func benchTimers(n int, fire bool) measurement {
	var x uint64 = 1
	live := make([]*time.Timer, n)
	for i := range live {
		live[i] = time.NewTimer(timerFar(&x))
	}
	t := time.NewTimer(timerFar(&x))
	t.Stop()

	start := time.Now()
	for i := 0; i < timerOps; i++ {
		if fire {
			t.Reset(1)
			<-t.C
		} else {
			t.Reset(timerFar(&x))
			t.Stop()
		}
	}
	d := time.Since(start)
	for _, l := range live {
		l.Stop()
	}
	return measurement{elapsed: d, nsPerOp: perOp(d, timerOps)}
}

func benchTimerStop(n int) measurement { return benchTimers(n, false) }
func benchTimerFire(n int) measurement { return benchTimers(n, true) }

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

// ---------------------------------------------------------------------------
// Servers (not benchmarks): used as the Go side of the network benchmarks.
// Both print "ready PORT" once listening and run until killed or until
// stdin reaches EOF (a stdin that is /dev/null is ignored).

func exitOnStdinEOF() {
	st, err := os.Stdin.Stat()
	if err != nil {
		return
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(st, null) {
		return
	}
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
}

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
	exitOnStdinEOF()
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
	exitOnStdinEOF()
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

// ---------------------------------------------------------------------------
// Driver.

func fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "gobench: "+format+"\n", args...)
	os.Exit(1)
}

func usage() {
	names := make([]string, 0, len(benchmarks))
	for k := range benchmarks {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "usage: gobench NAME [-n N] [-reps R] [-procs P]\n"+
		"       gobench echo-server|http-server [-addr HOST:PORT]\n"+
		"benchmarks: %s\n", strings.Join(names, " "))
}

func emit(enc *json.Encoder, name string, n int, m measurement) {
	procs := m.procs
	if procs == 0 {
		procs = runtime.GOMAXPROCS(0)
	}
	r := result{Bench: name, Impl: "go", Mode: "-", Procs: procs, N: n, NsPerOp: m.nsPerOp}
	if m.nsPerOp > 0 {
		r.OpsPerS = f64(1e9 / m.nsPerOp)
	}
	if m.extra != nil {
		m.extra(&r)
	}
	if err := enc.Encode(&r); err != nil {
		fatalf("encoding result: %v", err)
	}
}

// runChildren runs each repetition of a no-warm-up benchmark in a fresh
// process (this binary with -reps 1) and forwards its output lines, and
// stops early after long repetitions as main does.
func runChildren(name string, n, reps, procs int) {
	exe, err := os.Executable()
	if err != nil {
		fatalf("cannot find own executable: %v", err)
	}
	long := false
	for i := 0; i < reps && !(long && i >= longRepsOK); i++ {
		start := time.Now()
		args := []string{name, "-n", strconv.Itoa(n), "-reps", "1"}
		if procs > 0 {
			args = append(args, "-procs", strconv.Itoa(procs))
		}
		cmd := exec.Command(exe, args...)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			fatalf("%s child run %d: %v", name, i+1, err)
		}
		long = long || time.Since(start) >= longRep
		w := bufio.NewWriter(os.Stdout)
		w.Write(out)
		w.Flush()
	}
}

func main() {
	if len(os.Args) < 2 || strings.HasPrefix(os.Args[1], "-") {
		usage()
		os.Exit(2)
	}
	name := os.Args[1]

	fs := flag.NewFlagSet("gobench "+name, flag.ContinueOnError)
	n := fs.Int("n", 0, "problem size (0 = benchmark default)")
	reps := fs.Int("reps", 1, "number of measured repetitions")
	procs := fs.Int("procs", 0, "GOMAXPROCS (0 = Go default)")
	addr := fs.String("addr", "127.0.0.1:0", "listen address (servers only)")
	if err := fs.Parse(os.Args[2:]); err != nil {
		os.Exit(2)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "gobench: unexpected arguments: %v\n", fs.Args())
		os.Exit(2)
	}
	if *procs < 0 || *reps < 1 || *n < 0 {
		fatalf("invalid -procs/-reps/-n")
	}
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}

	switch name {
	case "echo-server":
		echoServer(*addr)
		return
	case "http-server":
		httpServer(*addr)
		return
	}

	b, ok := benchmarks[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "gobench: unknown benchmark %q\n", name)
		usage()
		os.Exit(2)
	}
	if *n == 0 {
		*n = b.defaultN
	}
	if *n < b.minN {
		fatalf("%s: -n must be >= %d", name, b.minN)
	}

	if b.noWarmup && *reps > 1 {
		runChildren(name, *n, *reps, *procs)
		return
	}

	enc := json.NewEncoder(os.Stdout)
	done, long := 0, false
	for i := 0; done < *reps && !(long && done >= longRepsOK); i++ {
		m := b.run(*n)
		// A short first run is an untimed warm-up (none for noWarmup).
		if i == 0 && !b.noWarmup && m.elapsed < warmupFor {
			continue
		}
		emit(enc, name, *n, m)
		done++
		long = long || m.elapsed >= longRep
	}
}
