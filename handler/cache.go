package handler

import (
	"sync"
	"time"

	"github.com/picbucket/picbucket/internal/bucket"
)

// maxConfirmed bounds the memory of a warm instance's confirmations.
const maxConfirmed = 20000

// confirmed remembers, for a warm instance, which buckets it has seen enabled
// and when, so that a burst of COS events for one bucket costs one CI call.
type confirmed struct {
	mu sync.Mutex
	m  map[bucket.Target]time.Time
}

func newConfirmed() *confirmed { return &confirmed{m: make(map[bucket.Target]time.Time)} }

// fresh reports whether t was confirmed less than ttl before now.
func (c *confirmed) fresh(t bucket.Target, now time.Time, ttl time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.m[t]
	return ok && now.Sub(at) < ttl && !now.Before(at)
}

// put records t as confirmed at now, dropping stale entries when full.
func (c *confirmed) put(t bucket.Target, now time.Time, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxConfirmed {
		for k, at := range c.m {
			if now.Sub(at) >= ttl {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxConfirmed {
			clear(c.m)
		}
	}
	c.m[t] = now
}
