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

func TestDoStopsBeforeDeadline(t *testing.T) {
	p := Policy{Attempts: 100, Base: time.Second, Max: time.Second, Jitter: func() float64 { return 0.99 }}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
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
