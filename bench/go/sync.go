// Sync benchmarks: mutex. The Go twin of bench/b_sync.c.

package main

import (
	"sync"
	"time"
)

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
