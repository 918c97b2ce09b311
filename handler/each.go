package handler

import (
	"iter"
	"sync"
	"time"
)

// startEach calls do for each item, at most n at once, and returns when
// every call has returned. An item whose turn comes once stopAt has passed
// (by now) goes to late instead, and costs nothing else; a zero stopAt
// never passes. It is the one loop of semaphore, WaitGroup and stop that
// the organization runs, the CLS events and the plan share.
func startEach[T any](items iter.Seq[T], n int, stopAt time.Time, now func() time.Time, do, late func(T)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, n)
	for it := range items {
		sem <- struct{}{}
		if !stopAt.IsZero() && !now().Before(stopAt) {
			<-sem
			late(it)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			do(it)
		}()
	}
	wg.Wait()
}

// chanValues is the values received from ch until it is closed.
func chanValues[T any](ch <-chan T) iter.Seq[T] {
	return func(yield func(T) bool) {
		for v := range ch {
			if !yield(v) {
				return
			}
		}
	}
}
