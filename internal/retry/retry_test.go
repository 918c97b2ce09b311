package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

var errTemp = errors.New("temporary")
var errPerm = errors.New("permanent")

func isTemp(err error) bool { return errors.Is(err, errTemp) }

func TestDo(t *testing.T) {
	p := Policy{Attempts: 4, Base: time.Millisecond, Max: 4 * time.Millisecond}
	tests := []struct {
		name    string
		errs    []error // what op returns on each call; nil after the list
		wantN   int
		wantErr error
	}{
		{"first try", nil, 1, nil},
		{"two failures then success", []error{errTemp, errTemp}, 3, nil},
		{"permanent stops at once", []error{errPerm}, 1, errPerm},
		{"attempts bound", []error{errTemp, errTemp, errTemp, errTemp, errTemp}, 4, errTemp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			n, err := p.Do(context.Background(), isTemp, func(context.Context) error {
				calls++
				if calls <= len(tt.errs) {
					return tt.errs[calls-1]
				}
				return nil
			})
			if n != tt.wantN || calls != tt.wantN || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("n=%d calls=%d err=%v, want n=%d err=%v", n, calls, err, tt.wantN, tt.wantErr)
			}
		})
	}
}

// TestDoStopsBeforeDeadline: the wait (59 s) would end past the deadline
// (10 s away): it is not started. The deadline is far enough that no
// machine reaches it while Do returns at once (it was 500 ms against a
// 1 s wait, which a stall of half a second under -race on a busy machine
// would fail).
func TestDoStopsBeforeDeadline(t *testing.T) {
	p := Policy{Attempts: 100, Base: time.Minute, Max: time.Minute, Jitter: func() float64 { return 0.99 }}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	calls := 0
	n, err := p.Do(ctx, isTemp, func(context.Context) error { calls++; return errTemp })
	if n != 1 || calls != 1 || !errors.Is(err, errTemp) {
		t.Errorf("n=%d calls=%d err=%v: a wait past the deadline must not start", n, calls, err)
	}
	if ctx.Err() != nil {
		t.Error("Do waited until the deadline")
	}
}

func TestBackoffFullJitterBounds(t *testing.T) {
	p := Policy{Base: 100 * time.Millisecond, Max: 1 * time.Second}
	for n, ceil := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 9: time.Second} {
		p.Jitter = func() float64 { return 0.999999 }
		if got := p.Backoff(n); got >= ceil || got < ceil*99/100 {
			t.Errorf("Backoff(%d) with jitter→1 = %v, want just under %v", n, got, ceil)
		}
		p.Jitter = func() float64 { return 0 }
		if got := p.Backoff(n); got != 0 {
			t.Errorf("Backoff(%d) with jitter 0 = %v, want 0", n, got)
		}
	}
}

// fakePacer counts the loop's calls.
type fakePacer struct{ waits, accepted, throttled int }

func (p *fakePacer) Wait(ctx context.Context) error { p.waits++; return ctx.Err() }
func (p *fakePacer) Accepted()                      { p.accepted++ }
func (p *fakePacer) Throttled()                     { p.throttled++ }

var errThrottled = errors.New("throttled")
var errGone = errors.New("not there yet")

func TestLoopRules(t *testing.T) {
	gone := Policy{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}
	classify := func(err error) Rule {
		switch {
		case errors.Is(err, errThrottled):
			return Rule{Kind: Throttled}
		case errors.Is(err, errTemp):
			return Rule{Kind: Transient}
		case errors.Is(err, errGone):
			return Rule{Kind: Transient, Policy: &gone}
		}
		return Rule{Kind: Final}
	}
	tests := []struct {
		name      string
		errs      []error
		wantN     int
		wantErr   error
		throttled int
	}{
		{"throttles spend no attempt", []error{errThrottled, errTemp, errThrottled, errTemp}, 5, nil, 2},
		{"each policy counts its own attempts", []error{errTemp, errGone, errTemp, errGone}, 5, nil, 0},
		{"a rule's own bound", []error{errGone, errGone, errGone}, 3, errGone, 0},
		{"final at once", []error{errThrottled, errPerm}, 2, errPerm, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &fakePacer{}
			l := Loop{Policy: Policy{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}, Classify: classify, Pacer: p}
			calls := 0
			n, err := l.Do(context.Background(), func(context.Context) error {
				calls++
				if calls <= len(tt.errs) {
					return tt.errs[calls-1]
				}
				return nil
			})
			if n != tt.wantN || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("n=%d err=%v, want n=%d err=%v", n, err, tt.wantN, tt.wantErr)
			}
			if p.waits != n || p.throttled != tt.throttled {
				t.Errorf("pacer waits=%d throttled=%d, want %d and %d", p.waits, p.throttled, n, tt.throttled)
			}
		})
	}
}

// TestLoopCutByStopAt: a wait that would end after StopAt is not started,
// and the error says the deadline came (ErrCut) while keeping the answer.
func TestLoopCutByStopAt(t *testing.T) {
	now := time.Unix(1000, 0)
	l := Loop{
		Policy:   Policy{Attempts: 10, Base: time.Second, Max: time.Second, Jitter: func() float64 { return 0.5 }},
		Classify: func(error) Rule { return Rule{Kind: Transient} },
		Now:      func() time.Time { return now },
		StopAt:   now.Add(100 * time.Millisecond),
	}
	n, err := l.Do(context.Background(), func(context.Context) error { return errTemp })
	if n != 1 || !errors.Is(err, ErrCut) || !errors.Is(err, errTemp) {
		t.Errorf("n=%d err=%v, want one try and an error wrapping ErrCut and the answer", n, err)
	}
}
