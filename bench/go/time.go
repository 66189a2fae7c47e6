// Timer benchmarks: sleepers, and one timer's cost against the number of
// live timers (timerstop, timerfire). The Go twins of bench/b_time.c.

package main

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

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
