package handler

// The deadline's judgement, on the handler's one clock (Handler.Now): a
// fake clock that moves only when a Create is answered, by a fixed step,
// and an invocation deadline on that clock. The context's own deadline is
// five minutes of real time away, so no timer fires during a test: each
// test asserts the exact count of buckets started and the exact reason of
// the rest, whatever the machine's speed. (Five minutes, not more: the
// emulator stamps a binding's CreateTime with the real time, and a binding
// more than 10 minutes older than its Create counts as enabled before.)

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/picbucket/picbucket/internal/emulator"
)

// stepClock is a clock that moves only when told to.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// slowCreates passes requests on; each Create (POST) takes step on the
// clock, and the clock time each was sent at is recorded.
type slowCreates struct {
	clock *stepClock
	step  time.Duration
	next  http.RoundTripper

	mu       sync.Mutex
	sent     []time.Time
	onCreate func(host string) // called as each Create is sent, after it is counted
}

// count returns how many Creates were sent.
func (s *slowCreates) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

func (s *slowCreates) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost {
		return s.next.RoundTrip(r)
	}
	s.mu.Lock()
	s.sent = append(s.sent, s.clock.Now())
	s.mu.Unlock()
	if s.onCreate != nil {
		s.onCreate(r.Host)
	}
	resp, err := s.next.RoundTrip(r)
	s.clock.advance(s.step)
	return resp, err
}

// withFakeDeadline sets h's clock to a stepClock left before the returned
// context's deadline (which is five minutes of real time away), and makes each
// Create take step on that clock.
func withFakeDeadline(t *testing.T, h *Handler, left, step time.Duration) (context.Context, *stepClock, *slowCreates, time.Time) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	t.Cleanup(cancel)
	clock := &stepClock{t: deadline.Add(-left)}
	h.Now = clock.Now
	sc := &slowCreates{clock: clock, step: step, next: http.DefaultTransport}
	h.Transport = sc
	return functioncontext.NewContext(ctx, &functioncontext.FunctionContext{RequestID: "unit-1"}), clock, sc, deadline
}

const tooClose = "not started: too close to the invocation deadline"

// checkStarted checks that exactly want of n buckets were enabled, each
// with one Create sent before stopAt, and the rest deferred as not
// started, too close to the deadline.
func checkStarted(t *testing.T, res *Result, emu *emulator.Server, sc *slowCreates, n, want int, stopAt time.Time) {
	t.Helper()
	s := res.Summary
	if s.Enabled != want || s.Deferred != n-want || s.Failed != 0 {
		t.Errorf("summary %+v: want exactly %d enabled and %d deferred", s, want, n-want)
	}
	for _, b := range res.Results {
		if b.Outcome == Deferred && b.Reason != tooClose {
			t.Errorf("%s deferred for %q, want %q", b.Bucket, b.Reason, tooClose)
		}
	}
	if got := creates(emu, ""); got != want {
		t.Errorf("%d Creates for %d enabled", got, want)
	}
	for _, at := range sc.sent {
		if !at.Before(stopAt) {
			t.Errorf("a Create sent %s after the time to stop starting buckets", at.Sub(stopAt))
		}
	}
}

// TestDeadlineDefersTheRest: 40 buckets, one worker, each Create takes
// 100 ms, 2 s left, PICBUCKET_DEADLINE_MARGIN=300ms: buckets start until
// 1.7 s, so exactly 17 are enabled and 23 deferred, not started.
func TestDeadlineDefersTheRest(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 40, map[string]string{"PICBUCKET_CONCURRENCY": "1", "PICBUCKET_DEADLINE_MARGIN": "300ms"})
	ctx, _, sc, deadline := withFakeDeadline(t, h, 2*time.Second, 100*time.Millisecond)
	res, err := h.Handle(ctx, timer)
	if err != nil {
		t.Fatalf("err = %v", err)
	}
	checkStarted(t, res, emu, sc, 40, 17, deadline.Add(-300*time.Millisecond))
}

// TestShortTimeLimitStillWorks: 1 s left is less than the default 2 s
// margin: the margin shrinks to a fifth of the time left (200 ms) instead
// of deferring everything. Creates of 50 ms start until 800 ms: exactly 16.
func TestShortTimeLimitStillWorks(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 200, map[string]string{"PICBUCKET_CONCURRENCY": "1"})
	ctx, _, sc, deadline := withFakeDeadline(t, h, time.Second, 50*time.Millisecond)
	res, err := h.Handle(ctx, timer)
	if err != nil {
		t.Fatal(err)
	}
	checkStarted(t, res, emu, sc, 200, 16, deadline.Add(-200*time.Millisecond))
}

// TestDeadlineMarginAtMostAFifth: the margin is PICBUCKET_DEADLINE_MARGIN
// or a fifth of the time left, whichever is shorter, for each setting.
func TestDeadlineMarginAtMostAFifth(t *testing.T) {
	for _, tc := range []struct {
		margin string
		left   time.Duration
		want   int // Creates of 100 ms started
	}{
		{"0s", 2 * time.Second, 20},
		{"100ms", 2 * time.Second, 19},
		{"400ms", 2 * time.Second, 16},
		{"2s", 2 * time.Second, 16}, // a fifth: 400 ms
		{"2s", 20 * time.Second, 18},
	} {
		t.Run(fmt.Sprintf("%s of %s", tc.margin, tc.left), func(t *testing.T) {
			h, emu, _ := newTest(t, emulator.Options{}, 30, map[string]string{"PICBUCKET_CONCURRENCY": "1", "PICBUCKET_DEADLINE_MARGIN": tc.margin})
			ctx, _, sc, deadline := withFakeDeadline(t, h, tc.left, 100*time.Millisecond)
			if tc.left > 10*time.Second {
				sc.step = time.Second
			}
			res, err := h.Handle(ctx, timer)
			if err != nil {
				t.Fatal(err)
			}
			margin, _ := time.ParseDuration(tc.margin)
			checkStarted(t, res, emu, sc, 30, tc.want, deadline.Add(-min(margin, tc.left/5)))
		})
	}
}

// TestNoSuchBucketWindowCutDefers: a bucket the event names that CI does
// not know yet answers NoSuchBucket, each answer taking 650 ms, with 3 s
// left and a 200 ms margin. The window waits 250 ms, 500 ms, 1 s, 2 s
// between its 5 Creates: the Creates go at 0, 0.65 and 1.3 s, and the third
// wait would end at 2.95 s, past 2.8 s: exactly 3 Creates, and the bucket
// is deferred inside the window, not skipped as missing. (Were the waits
// shorter, the window's 5 Creates would all fit and the bucket be skipped.)
func TestNoSuchBucketWindowCutDefers(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 0, map[string]string{"PICBUCKET_DEADLINE_MARGIN": "200ms"})
	name := "fresh-" + appID
	emu.AddBucket(name, "ap-guangzhou", false)
	emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Bucket: name, Status: 404, Code: "NoSuchBucket", Times: 1 << 20})
	ctx, _, _, _ := withFakeDeadline(t, h, 3*time.Second, 650*time.Millisecond)
	res, err := h.Handle(ctx, []byte(`{"buckets":[{"bucket":"`+name+`","region":"ap-guangzhou"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 1 || res.Results[0].Outcome != Deferred ||
		res.Results[0].Reason != "CI did not know the new bucket yet (NoSuchBucket) when the time left ran out; the next run picks it up" {
		t.Fatalf("results %+v, want %s deferred inside the NoSuchBucket window", res.Results, name)
	}
	if n := creates(emu, name); n != 3 || res.Results[0].Attempts != 3 {
		t.Errorf("%d Creates, %d attempts: want 3", n, res.Results[0].Attempts)
	}
}

// TestThrottledRunDefersAtTheDeadline: 10 buckets, one worker, each
// answer takes a minute on the clock, 7.5 minutes are left and the margin
// is 1.5 minutes: buckets start until 6 min. The sixth bucket's Creates are
// throttled (429 SlowDown): its throttle comes at 6 min, when no wait may
// begin: it is deferred as throttled, not failed; the five before it are
// enabled and the four after it are not started. The invocation succeeds.
// (Minutes, so that the pacer's own spacing after the throttle, seconds at
// most, always fits between two answers.)
func TestThrottledRunDefersAtTheDeadline(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 10, map[string]string{"PICBUCKET_CONCURRENCY": "1", "PICBUCKET_DEADLINE_MARGIN": "90s"})
	ctx, _, sc, _ := withFakeDeadline(t, h, 7*time.Minute+30*time.Second, time.Minute)
	var sixth string
	sc.onCreate = func(host string) {
		if sc.count() == 6 {
			sixth = host
		}
	}
	throttled := &throttleHost{next: http.DefaultTransport, host: func() string { return sixth }}
	sc.next = throttled
	res, err := h.Handle(ctx, timer)
	if err != nil {
		t.Fatalf("err = %v: deferral is no failure", err)
	}
	reasons := map[string]int{}
	for _, b := range res.Results {
		if b.Outcome == Deferred {
			reasons[b.Reason]++
		}
	}
	want := map[string]int{tooClose: 4, "throttled (SlowDown) until the time left ran out; the next run picks it up": 1}
	if s := res.Summary; s.Enabled != 5 || s.Deferred != 5 || s.Failed != 0 || !mapsEqual(reasons, want) {
		t.Errorf("summary %+v, deferred for %v: want 5 enabled, then %v", s, reasons, want)
	}
	on := 0
	for _, b := range emu.Buckets() {
		if b.Enabled {
			on++
		}
	}
	if on != 5 || sc.count() != 6 {
		t.Errorf("the emulator has %d buckets enabled after %d Creates, want 5 after 6", on, sc.count())
	}
}

// throttleHost answers 429 SlowDown to every request to host(), and
// passes the others on.
type throttleHost struct {
	next http.RoundTripper
	host func() string
}

func (th *throttleHost) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Host != th.host() {
		return th.next.RoundTrip(r)
	}
	body := `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>throttled-1</RequestId></Error>`
	return &http.Response{StatusCode: 429, Status: "429 Too Many Requests", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/xml"}}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r}, nil
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
