// Command gobench is the Go baseline for ringo-bench: it runs the same
// micro-benchmarks as the C runtime's benchmark suite, but on the stock Go
// runtime, so that ringo's numbers can be compared against Go's.
//
// Usage:
//
//	gobench NAME [-n N] [-procs P]
//	gobench echo-server [-addr 127.0.0.1:PORT]
//	gobench http-server [-addr 127.0.0.1:PORT]
//
// A benchmark measures one repetition and prints it as one JSON object on
// one line (ringo-bench runs gobench once per repetition):
//
//	{"bench":"NAME","impl":"go","mode":"-","procs":P,"n":N,"ns_per_op":F,
//	 "run_ns":NS,"ops_per_s":F, ...extra}
//
// run_ns is the wall time of the run, for ringo-bench's rules on warm-ups
// and long repetitions (bench/bench.h).
// Extra fields: rss_bytes_per_g and wake_ns_per_g (park), p99_ns (hog),
// wall_ns, sleep_max_ns and sleep_p99_ns (sleepers), spawn_ns_per_g (ring),
// threads_created (handoff, file). If the run takes less than one second,
// it was an untimed warm-up and the repetition is the run after it (the
// rule of ringo-bench's bench/bench.h), except for the benchmarks that
// measure a fresh process (noWarmup: park, ring, handoff, file), which
// ringo-bench warms up with a process of its own.
//
// Build with the standard library only:
//
//	go build -o gobench bench/go/*.go
//
// Each area's benchmarks are in the file named after ringo-bench's
// bench/b_<area>.c (sched.go beside b_sched.c, and so on), net.go has the
// servers and sys.go what the process reads about itself from /proc. This
// file holds the registry, the result line and the driver.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
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
	RunNs        int64    `json:"run_ns"`
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
	elapsed time.Duration // wall time of the run (the warm-up rule, run_ns)
	nsPerOp float64
	procs   int // GOMAXPROCS in effect while measuring
	extra   func(r *result)
}

type benchmark struct {
	defaultN int
	minN     int
	run      func(n int) measurement
	// noWarmup: the benchmark measures first-touch costs (e.g. memory) and
	// must run in a fresh process: no warm-up run before it.
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

// The warm-up rule shared with ringo-bench (bench/bench.h): a shorter
// first run is a warm-up.
const warmupFor = time.Second

// sink keeps computed values alive so the compiler cannot drop the work.
var sink int64

func f64(v float64) *float64 { return &v }

func perOp(d time.Duration, ops int) float64 { return float64(d.Nanoseconds()) / float64(ops) }

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
	fmt.Fprintf(os.Stderr, "usage: gobench NAME [-n N] [-procs P]\n"+
		"       gobench echo-server|http-server [-addr HOST:PORT]\n"+
		"benchmarks: %s\n", strings.Join(names, " "))
}

func emit(enc *json.Encoder, name string, n int, m measurement) {
	procs := m.procs
	if procs == 0 {
		procs = runtime.GOMAXPROCS(0)
	}
	r := result{Bench: name, Impl: "go", Mode: "-", Procs: procs, N: n, NsPerOp: m.nsPerOp,
		RunNs: m.elapsed.Nanoseconds()}
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

func main() {
	if len(os.Args) < 2 || strings.HasPrefix(os.Args[1], "-") {
		usage()
		os.Exit(2)
	}
	name := os.Args[1]

	fs := flag.NewFlagSet("gobench "+name, flag.ContinueOnError)
	n := fs.Int("n", 0, "problem size (0 = benchmark default)")
	procs := fs.Int("procs", 0, "GOMAXPROCS (0 = Go default)")
	addr := fs.String("addr", "127.0.0.1:0", "listen address (servers only)")
	if err := fs.Parse(os.Args[2:]); err != nil {
		os.Exit(2)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "gobench: unexpected arguments: %v\n", fs.Args())
		os.Exit(2)
	}
	if *procs < 0 || *n < 0 {
		fatalf("invalid -procs/-n")
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

	m := b.run(*n)
	// A short first run is an untimed warm-up (none for noWarmup).
	if !b.noWarmup && m.elapsed < warmupFor {
		m = b.run(*n)
	}
	emit(json.NewEncoder(os.Stdout), name, *n, m)
}
