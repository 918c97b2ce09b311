// Package retry runs an operation again after a retryable failure, with
// exponential backoff and full jitter, bounded in attempts and by the
// context's deadline.
package retry

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy bounds the attempts of one operation.
type Policy struct {
	// Attempts is the most tries, the first included; at least 1.
	Attempts int
	// Base is the backoff ceiling before the second try; it doubles per try up to Max.
	Base time.Duration
	// Max caps the backoff ceiling.
	Max time.Duration
	// Jitter returns a number in [0,1); rand.Float64 when nil.
	Jitter func() float64
}

// Default is the policy for CI and COS calls: 5 tries, backoff ceilings
// 200 ms, 400 ms, 800 ms, 1.6 s (full jitter), so at most about 3 s of waiting.
var Default = Policy{Attempts: 5, Base: 200 * time.Millisecond, Max: 5 * time.Second}

// Backoff returns the wait before try n+1 after n failed tries (n >= 1):
// a uniform draw from [0, min(Max, Base*2^(n-1))).
func (p Policy) Backoff(n int) time.Duration {
	ceil := p.Base
	for i := 1; i < n && ceil < p.Max; i++ {
		ceil *= 2
	}
	if p.Max > 0 && ceil > p.Max {
		ceil = p.Max
	}
	j := p.Jitter
	if j == nil {
		j = rand.Float64
	}
	return time.Duration(j() * float64(ceil))
}

// Do calls op until it succeeds, fails with an error retryable rejects, the
// attempts run out, or the wait would pass ctx's deadline. It returns how many
// times op ran and op's last error (wrapping ErrCut when the deadline came
// first). It is Loop with every retryable failure Transient.
func (p Policy) Do(ctx context.Context, retryable func(error) bool, op func(context.Context) error) (int, error) {
	return Loop{Policy: p, Classify: func(err error) Rule {
		if retryable(err) {
			return Rule{Kind: Transient}
		}
		return Rule{Kind: Final}
	}}.Do(ctx, op)
}
