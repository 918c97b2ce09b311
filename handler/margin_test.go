package handler

// The deadline margin's two other uses, beside stopAt's "no bucket starts
// after it" (deadline_test.go): the cut of the requests in flight at half
// the margin, and the organization routes' time to stop starting members.
// Both are asserted exactly, on the handler's clock.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
)

// deadlineOf records the deadline of each Create's request context.
type deadlineOf struct {
	next http.RoundTripper

	mu   sync.Mutex
	seen []time.Time
}

func (d *deadlineOf) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost {
		dl, _ := r.Context().Deadline()
		d.mu.Lock()
		d.seen = append(d.seen, dl)
		d.mu.Unlock()
	}
	return d.next.RoundTrip(r)
}

// TestRequestsInFlightCutAtHalfTheMargin: "requests in flight may use half
// the margin, the rest is for reporting" (account.go). With 2 s left on the
// handler's clock and PICBUCKET_DEADLINE_MARGIN=400ms, a Create's request
// must end 200 ms before the invocation's deadline, not at it. The
// invocation's deadline is 9 s of real time away, under RequestTimeout
// (10 s), so the margin's cut, not the request's own timeout, is the
// Create's deadline; one local Create never takes 8.8 s.
func TestRequestsInFlightCutAtHalfTheMargin(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 0, map[string]string{"PICBUCKET_DEADLINE_MARGIN": "400ms"})
	name := "one-" + appID
	emu.AddBucket(name, "ap-guangzhou", false)
	deadline := time.Now().Add(RequestTimeout - time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	ctx = functioncontext.NewContext(ctx, &functioncontext.FunctionContext{RequestID: "unit-1"})
	clock := &stepClock{t: deadline.Add(-2 * time.Second)}
	h.Now = clock.Now
	rec := &deadlineOf{next: http.DefaultTransport}
	h.Transport = rec
	res, err := h.Handle(ctx, []byte(`{"buckets":[{"bucket":"`+name+`","region":"ap-guangzhou"}]}`))
	if err != nil || res.Summary.Enabled != 1 {
		t.Fatalf("err %v, summary %+v: want the bucket enabled", err, res.Summary)
	}
	want := deadline.Add(-200 * time.Millisecond)
	if len(rec.seen) != 1 || !rec.seen[0].Equal(want) {
		t.Errorf("Create deadlines %v, want one at %s, half the 400 ms margin before the invocation's deadline %s", rec.seen, want, deadline)
	}
}

// TestMembersStopStartingAtTheMargin: the organization routes stop
// starting members PICBUCKET_DEADLINE_MARGIN before the deadline (at most a
// fifth of the time left), as the buckets do. Members four at a time (six
// CLS records; the timer's eight members), 2 s left and a 300 ms margin:
// members may start until 1.7 s. The first AssumeRole moves the handler's
// clock to 100 ms before the deadline, so every member whose turn comes
// only after one of the first four is done is deferred as not started, and
// no role is assumed for it. (Were the margin ignored, 100 ms before the deadline
// would still start them.)
func TestMembersStopStartingAtTheMargin(t *testing.T) {
	uins := []string{"100000000021", "100000000022", "100000000023", "100000000024", "100000000025", "100000000026"}
	for _, route := range []string{"cls", "timer without fan-out"} {
		t.Run(route, func(t *testing.T) {
			o := newOrgTest(t, map[string]string{"PICBUCKET_ACCOUNTS": "org", "PICBUCKET_FANOUT": "false", "PICBUCKET_DEADLINE_MARGIN": "300ms"})
			var records []string
			for i, uin := range uins {
				var n int
				fmt.Sscan(uin, &n)
				app := fmt.Sprintf("12500000%02d", 21+i)
				o.tc.AddMember(tcemu.Member{Uin: int64(n), AppID: app})
				o.emu.AddBucket("m-"+app, "ap-guangzhou", false)
				records = append(records, uin+" m-"+app)
			}
			ctx, clock, _, deadline := withFakeDeadline(t, o.h, 2*time.Second, 0)
			issue := o.tc.OnIssue
			o.tc.OnIssue = func(k tcemu.Key) {
				issue(k)
				clock.mu.Lock()
				clock.t = deadline.Add(-100 * time.Millisecond)
				clock.mu.Unlock()
			}
			payload := timer
			if route == "cls" {
				payload = clsEvent(t, records...)
			}
			res, err := o.h.Handle(ctx, payload)
			if err != nil {
				t.Fatalf("err = %v: not starting a member is no failure", err)
			}
			// The timer's listing also holds the two members newOrgTest
			// adds: they come first, so eight members in all.
			members := map[string]int{"cls": 6, "timer without fan-out": 8}[route]
			outcomes := map[string]AccountOutcome{}
			deferred := 0
			for _, a := range res.Accounts {
				if a.Uin == ownUin {
					continue
				}
				outcomes[a.Uin] = a.Outcome
				if a.Outcome == AccountDeferred {
					deferred++
					if !strings.Contains(a.Error, "too close to the invocation deadline") {
						t.Errorf("member %s deferred for %q, want too close to the deadline", a.Uin, a.Error)
					}
				}
			}
			if len(outcomes) != members || deferred != members-4 {
				t.Errorf("members' outcomes %v: want 4 started and %d deferred", outcomes, members-4)
			}
			if n := len(o.keys()); n != 4 {
				t.Errorf("%d members' roles assumed, want 4", n)
			}
		})
	}
}
