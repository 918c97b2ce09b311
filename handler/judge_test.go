package handler

// The judgement of buckets and of the account, tested without HTTP: a fake
// Cloud answers as COS and CI would, and runAccount runs the real plan,
// executor and collector over it.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/cosapi"
	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/retry"
	"github.com/picbucket/picbucket/internal/trigger"
	"github.com/picbucket/picbucket/signer"
)

// fakeCloud is an account of missing buckets in one region. With real
// set (overEmulator), every call is counted and then sent through real,
// *cosapi.Client over the COS/CI emulator seeded with the same buckets,
// tags and answers: the same scenario then runs against the real client.
type fakeCloud struct {
	real      Cloud
	buckets   []bucket.Target
	slow      map[string]time.Duration // extra time a region's DescribePicProcessBuckets takes
	tags      map[string]map[string]string
	createErr func(i int, name string) error // the answer to bucket i's Create; nil: enabled
	tagsErr   func(name string) error

	mu      sync.Mutex
	calls   map[string]int
	created []string
}

func newFake(n int) *fakeCloud {
	f := &fakeCloud{tags: map[string]map[string]string{}, calls: map[string]int{}}
	for i := range n {
		f.buckets = append(f.buckets, bucket.Target{Bucket: fmt.Sprintf("b-%03d-%s", i, appID), Region: "ap-guangzhou"})
	}
	return f
}

func (f *fakeCloud) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	return f.calls[op]
}

func (f *fakeCloud) ListBuckets(ctx context.Context, marker string, maxKeys int) (cosapi.BucketPage, error) {
	f.count("GetService")
	if f.real != nil {
		return f.real.ListBuckets(ctx, marker, maxKeys)
	}
	return cosapi.BucketPage{Buckets: f.buckets}, nil
}

func (f *fakeCloud) ListEnabled(ctx context.Context, region string, page, pageSize int) (cosapi.EnabledPage, error) {
	f.count("Describe")
	if f.real != nil {
		return f.real.ListEnabled(ctx, region, page, pageSize)
	}
	time.Sleep(f.slow[region])
	return cosapi.EnabledPage{}, nil
}

func (f *fakeCloud) IsEnabled(ctx context.Context, t bucket.Target) (bool, string, error) {
	f.count("IsEnabled")
	if f.real != nil {
		return f.real.IsEnabled(ctx, t)
	}
	return false, "", nil
}

func (f *fakeCloud) Enable(ctx context.Context, t bucket.Target) (cosapi.Enabled, error) {
	f.count(opCreate)
	if f.real != nil {
		return f.real.Enable(ctx, t)
	}
	i := 0
	fmt.Sscanf(t.Bucket, "b-%03d-", &i)
	if f.createErr != nil {
		if err := f.createErr(i, t.Bucket); err != nil {
			return cosapi.Enabled{}, err
		}
	}
	f.mu.Lock()
	f.created = append(f.created, t.Bucket)
	f.mu.Unlock()
	return cosapi.Enabled{RequestID: "r"}, nil
}

func (f *fakeCloud) Tags(ctx context.Context, t bucket.Target) (map[string]string, string, error) {
	f.count(opTags)
	if f.real != nil {
		return f.real.Tags(ctx, t)
	}
	if f.tagsErr != nil {
		if err := f.tagsErr(t.Bucket); err != nil {
			return nil, "", err
		}
	}
	return f.tags[t.Bucket], "", nil
}

// overEmulator makes f send every call through *cosapi.Client to a COS/CI
// emulator holding f's buckets and tags, whose answers are f's: each
// bucket's Create and tag read answer what createErr and tagsErr give it
// (status and code; the emulator writes its own message), every time.
// Scenarios whose answers depend on more than the bucket cannot run so.
func (f *fakeCloud) overEmulator(t *testing.T) {
	t.Helper()
	emu := emulator.New(emulator.Options{})
	emu.AddCredential(emulator.Credential{SecretID: "AKIDjudge", SecretKey: "judge-key", Token: "judge-token", AppID: appID})
	for i, b := range f.buckets {
		emu.AddBucket(b.Bucket, b.Region, false)
		if tags := f.tags[b.Bucket]; tags != nil {
			emu.SetTags(b.Bucket, tags)
		}
		for action, answer := range map[string]func() error{
			emulator.ActionCreatePicProcessBucket: func() error { return call(f.createErr, i, b.Bucket) },
			emulator.ActionGetBucketTagging:       func() error { return call2(f.tagsErr, b.Bucket) },
		} {
			var e *cosapi.Error
			if err := answer(); errors.As(err, &e) {
				emu.Inject(emulator.Fault{Action: action, Bucket: b.Bucket, Status: e.Status, Code: e.Code, Times: 1 << 20})
			}
		}
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	key := signer.Static{Key: signer.Credentials{SecretID: "AKIDjudge", SecretKey: "judge-key", SessionToken: "judge-token"}}
	f.real = cosapi.New(&signer.Transport{Source: key, Next: &cosapi.Route{Endpoint: u, Next: http.DefaultTransport}})
}

func call(fn func(int, string) error, i int, name string) error {
	if fn == nil {
		return nil
	}
	return fn(i, name)
}

func call2(fn func(string) error, name string) error {
	if fn == nil {
		return nil
	}
	return fn(name)
}

// bothClouds runs scenario over the fake, then over the real client and the
// emulator (overEmulator), as subtests.
func bothClouds(t *testing.T, newCloud func() *fakeCloud, scenario func(t *testing.T, f *fakeCloud)) {
	t.Run("fake", func(t *testing.T) { scenario(t, newCloud()) })
	t.Run("cosapi+emulator", func(t *testing.T) {
		f := newCloud()
		f.overEmulator(t)
		scenario(t, f)
	})
}

func answer(status int, code, msg string) error {
	return &cosapi.Error{Op: "x", Status: status, Code: code, Message: msg}
}

// runFake runs a timer reconciliation over f with settings.
func runFake(t *testing.T, f *fakeCloud, settings map[string]string) (*Result, error) {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return settings[k] })
	if err != nil {
		t.Fatal(err)
	}
	ev := &trigger.Request{Kind: trigger.KindTimer, Reconcile: &trigger.Reconcile{}}
	inv := &invocation{h: &Handler{Retry: retry.Policy{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}}, cfg: cfg, log: zerolog.Nop(), ev: ev}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return inv.runAccount(ctx, ev, accountKey{appID: appID}, zerolog.Nop(), f, cfg.DryRun)
}

func TestAccountJudgement(t *testing.T) {
	denied := answer(403, "AccessDenied", "Access Denied.")
	tests := []struct {
		name        string
		n           int
		concurrency string
		createErr   func(i int, name string) error
		check       func(t *testing.T, f *fakeCloud, res *Result, err error)
	}{{
		name: "every bucket refused: stopped once probes confirm", n: 200, concurrency: "8",
		createErr: func(int, string) error { return denied },
		check: func(t *testing.T, f *fakeCloud, res *Result, err error) {
			if err == nil || !strings.Contains(err.Error(), "the account refuses it") {
				t.Errorf("err = %v, want the stop", err)
			}
			if n := f.calls[opCreate]; n > 8+confirmProbes+refusalStreak {
				t.Errorf("%d Creates, want the streak, the in-flight ones and the probes only", n)
			}
			if res.Summary.Deferred < 200-8-confirmProbes-refusalStreak {
				t.Errorf("summary %+v", res.Summary)
			}
		},
	}, {
		name: "a policy scoped to the first buckets: probes find the allowed ones", n: 10, concurrency: "1",
		createErr: func(i int, _ string) error {
			if i < 3 {
				return denied
			}
			return nil
		},
		check: func(t *testing.T, f *fakeCloud, res *Result, err error) {
			if err == nil || !strings.Contains(err.Error(), "3 of 10 buckets failed") || res.Summary.Enabled != 7 {
				t.Errorf("err = %v, summary %+v: want 7 enabled, 3 failed", err, res.Summary)
			}
		},
	}, {
		name: "refused on the first and the last buckets, probes among them: no stop while any succeeds", n: 30, concurrency: "1",
		createErr: func(i int, _ string) error {
			if i < 4 || i >= 26 {
				return denied
			}
			return nil
		},
		check: func(t *testing.T, f *fakeCloud, res *Result, err error) {
			if res.Summary.Enabled != 22 || res.Summary.Failed != 8 || res.Summary.Deferred != 0 {
				t.Errorf("summary %+v, err %v: want 22 enabled, 8 failed, none deferred", res.Summary, err)
			}
		},
	}, {
		name: "an unknown code fails only its buckets", n: 10, concurrency: "1",
		createErr: func(i int, _ string) error {
			if i < 5 {
				return answer(400, "InvalidArgument", "")
			}
			return nil
		},
		check: func(t *testing.T, f *fakeCloud, res *Result, err error) {
			if res.Summary.Failed != 5 || res.Summary.Enabled != 5 || f.calls["IsEnabled"] != 5 {
				t.Errorf("summary %+v, %d read-backs: want 5 failed (each read back), 5 enabled", res.Summary, f.calls["IsEnabled"])
			}
			if err == nil || !strings.Contains(err.Error(), "b-000-") || !strings.Contains(err.Error(), "b-004-") {
				t.Errorf("err = %v, want the failed buckets named", err)
			}
		},
	}, {
		name: "a refused key stops at once", n: 10, concurrency: "1",
		createErr: func(int, string) error { return answer(400, "ExpiredToken", "") },
		check: func(t *testing.T, f *fakeCloud, res *Result, err error) {
			if f.calls[opCreate] != 1 || res.Summary.Deferred != 10 || err == nil || !strings.Contains(err.Error(), "credentials refused") {
				t.Errorf("%d Creates, summary %+v, err %v", f.calls[opCreate], res.Summary, err)
			}
		},
	}, {
		name: "an AccessDenied that speaks of an expired token is no refused key: no stop at the first answer", n: 10, concurrency: "1",
		createErr: func(int, string) error { return answer(403, "AccessDenied", "The security token expired") },
		check: func(t *testing.T, f *fakeCloud, res *Result, err error) {
			if n := f.calls[opCreate]; n != refusalStreak+confirmProbes || err == nil || strings.Contains(err.Error(), "credentials refused") {
				t.Errorf("%d Creates, err %v: want the streak and the probes before the stop", n, err)
			}
		},
	}, {
		name: "a full CI queue is no refusal: every bucket deferred naming the queue", n: 20, concurrency: "1",
		createErr: func(int, string) error { return answer(403, "QueueSaturated", "") },
		check: func(t *testing.T, f *fakeCloud, res *Result, err error) {
			if err != nil || res.Summary.Deferred != 20 || res.Summary.Failed != 0 {
				t.Errorf("err %v, summary %+v: want every bucket deferred, no stop, no failure", err, res.Summary)
			}
			for _, b := range res.Results {
				if !strings.Contains(b.Reason, "CI's queue is full (QueueSaturated)") {
					t.Errorf("%s: reason %q, want CI's queue named", b.Bucket, b.Reason)
				}
			}
		},
	}, {
		name: "a paused CI queue is no refusal: deferred at once, naming the queue", n: 20, concurrency: "1",
		createErr: func(int, string) error { return answer(403, "QueuePaused", "") },
		check: func(t *testing.T, f *fakeCloud, res *Result, err error) {
			if err != nil || res.Summary.Deferred != 20 || f.calls[opCreate] != 20 {
				t.Errorf("err %v, %d Creates, summary %+v: want one Create each, every bucket deferred, no stop", err, f.calls[opCreate], res.Summary)
			}
			if len(res.Results) == 0 || !strings.Contains(res.Results[0].Reason, "CI's queue is paused") {
				t.Errorf("results %+v: want CI's paused queue named", res.Results)
			}
		},
	}, {
		name: "unbound buckets are skipped and count toward no stop", n: 8, concurrency: "1",
		createErr: func(i int, _ string) error {
			if i < 4 {
				return answer(403, "PicBucketUnBinded", "")
			}
			return nil
		},
		check: func(t *testing.T, f *fakeCloud, res *Result, err error) {
			if err != nil || res.Summary.Skipped != 4 || res.Summary.Enabled != 4 {
				t.Errorf("err %v, summary %+v", err, res.Summary)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bothClouds(t, func() *fakeCloud {
				f := newFake(tt.n)
				f.createErr = tt.createErr
				return f
			}, func(t *testing.T, f *fakeCloud) {
				res, err := runFake(t, f, map[string]string{config.Concurrency: tt.concurrency})
				tt.check(t, f, res, err)
			})
		})
	}
}

func TestTagsDecide(t *testing.T) {
	newTagged := func() *fakeCloud {
		f := newFake(3)
		f.tags[f.buckets[0].Bucket] = map[string]string{"picbucket": "off"}
		f.tags[f.buckets[1].Bucket] = map[string]string{"picbucket": "on"}
		return f
	}
	t.Run("skip tag", func(t *testing.T) {
		bothClouds(t, newTagged, func(t *testing.T, f *fakeCloud) {
			res, err := runFake(t, f, map[string]string{config.SkipTag: "picbucket=off"})
			if err != nil || f.calls[opTags] != 3 || f.calls[opCreate] != 2 || res.Summary.Skipped != 1 {
				t.Errorf("err %v, calls %v, summary %+v", err, f.calls, res.Summary)
			}
		})
	})
	t.Run("require tag", func(t *testing.T) {
		bothClouds(t, newTagged, func(t *testing.T, f *fakeCloud) {
			res, err := runFake(t, f, map[string]string{config.RequireTag: "picbucket"})
			if err != nil || f.calls[opCreate] != 2 || res.Summary.Filtered != 1 || res.Summary.Skipped != 0 {
				t.Errorf("err %v, calls %v, summary %+v", err, f.calls, res.Summary)
			}
		})
	})
	t.Run("no setting, no read", func(t *testing.T) {
		bothClouds(t, newTagged, func(t *testing.T, f *fakeCloud) {
			if _, err := runFake(t, f, nil); err != nil || f.calls[opTags] != 0 || f.calls[opCreate] != 3 {
				t.Errorf("err %v, calls %v", err, f.calls)
			}
		})
	})
	t.Run("tags unreadable: deferred, never enabled", func(t *testing.T) {
		for _, e := range []error{answer(403, "AccessDenied", ""), answer(500, "InternalError", "")} {
			bothClouds(t, func() *fakeCloud {
				f := newTagged()
				f.tagsErr = func(string) error { return e }
				return f
			}, func(t *testing.T, f *fakeCloud) {
				res, err := runFake(t, f, map[string]string{config.SkipTag: "picbucket=off"})
				if err != nil || f.calls[opCreate] != 0 || res.Summary.Deferred != 3 {
					t.Errorf("%v: err %v, calls %v, summary %+v", e, err, f.calls, res.Summary)
				}
			})
		}
	})
	t.Run("every tag read refused: stopped, naming cos:GetBucketTagging", func(t *testing.T) {
		bothClouds(t, func() *fakeCloud {
			f := newFake(50)
			f.tagsErr = func(string) error { return answer(403, "AccessDenied", "") }
			return f
		}, func(t *testing.T, f *fakeCloud) {
			res, err := runFake(t, f, map[string]string{config.SkipTag: "picbucket", config.Concurrency: "1"})
			if err == nil || !strings.Contains(err.Error(), "cos:GetBucketTagging") || f.calls[opCreate] != 0 ||
				f.calls[opTags] != refusalStreak+confirmProbes || res.Summary.Deferred != 50 {
				t.Errorf("err %v, calls %v, summary %+v", err, f.calls, res.Summary)
			}
		})
	})
}

// TestCreateOutcome: each answer to a Create becomes one outcome.
func TestCreateOutcome(t *testing.T) {
	sent := time.Unix(1_700_000_000, 0)
	cutWindow := fmt.Errorf("%w: %w", retry.ErrCut, answer(404, "NoSuchBucket", ""))
	timedOut := &cosapi.Error{Op: "x", Err: context.DeadlineExceeded} // one request's own timeout
	tests := []struct {
		err       error
		fromEvent bool
		want      Outcome
		reason    string
	}{
		{timedOut, false, Failed, ""},
		{nil, false, Enabled, ""},
		{answer(403, "MediaBucketAlreadyBinded", ""), false, AlreadyEnabled, "MediaBucketAlreadyBinded"},
		{answer(404, "NoSuchBucket", ""), false, Skipped, "deleted since it was listed"},
		{answer(404, "NoSuchBucket", ""), true, Skipped, "does not exist"},
		{cutWindow, true, Deferred, "NoSuchBucket"},
		{fmt.Errorf("%w: %w", retry.ErrCut, answer(429, "SlowDown", "")), false, Deferred, "throttled"},
		{fmt.Errorf("%w: %w", retry.ErrCut, answer(503, "ServiceUnavailable", "")), false, Deferred, "deadline"},
		{answer(503, "ServiceUnavailable", ""), false, Failed, ""},
		{answer(400, "PicBucketUnBinded", ""), false, Skipped, "unbound from Cloud Infinite by hand"},
		{answer(400, "1111", ""), false, Skipped, "unbound"},
		{answer(400, "ExpiredToken", ""), false, Deferred, "credentials"},
		{answer(403, "AccessDenied", ""), false, Failed, ""},
		{answer(403, "QueueSaturated", ""), false, Deferred, "CI's queue is full"},
		{answer(403, "QueuePaused", ""), false, Deferred, "CI's queue is paused"},
		{fmt.Errorf("%w: %w", retry.ErrCut, answer(403, "QueueSaturated", "")), false, Deferred, "CI's queue is full (QueueSaturated) until the time left ran out"},
		{answer(400, "InvalidArgument", ""), false, Failed, ""},
	}
	for _, tt := range tests {
		b := BucketResult{Bucket: "b-1250000000", Region: "ap-guangzhou", Attempts: 1}
		createOutcome(&b, job{fromEvent: tt.fromEvent}, cosapi.Enabled{}, tt.err, cutBy(context.Background(), tt.err), sent, sent.Add(time.Second))
		if b.Outcome != tt.want || !strings.Contains(b.Reason, tt.reason) {
			t.Errorf("%v (from event %v): %s %q, want %s with %q", tt.err, tt.fromEvent, b.Outcome, b.Reason, tt.want, tt.reason)
		}
	}
}

// TestProbesSpanTheWholePlan: a policy that refuses every bucket of one
// region, listed first, and allows another region whose enabled list comes
// later. The probes wait for the whole plan, so some land in the allowed
// region: no stop, the allowed region enabled.
func TestProbesSpanTheWholePlan(t *testing.T) {
	f := newFake(40)
	for i := range f.buckets {
		if i >= 20 {
			f.buckets[i].Region = "ap-shanghai"
		}
	}
	f.slow = map[string]time.Duration{"ap-shanghai": 100 * time.Millisecond}
	f.createErr = func(i int, _ string) error {
		if i < 20 {
			return answer(403, "AccessDenied", "")
		}
		return nil
	}
	res, err := runFake(t, f, map[string]string{config.Concurrency: "1"})
	if res.Summary.Enabled != 20 || res.Summary.Failed != 20 || err == nil || strings.Contains(err.Error(), "refuses it") {
		t.Errorf("summary %+v, err %v: want ap-shanghai's 20 enabled and ap-guangzhou's 20 failed, no stop", res.Summary, err)
	}
}

// TestProbesMustReachTheRefusedOperation: every Create is refused and half
// the buckets are opted out by tag. A probe that lands on an opted-out
// bucket never reaches a Create: it proves nothing, and another bucket
// takes its place, so the stop still comes after 3 refusals and 3 probes.
func TestProbesMustReachTheRefusedOperation(t *testing.T) {
	f := newFake(200)
	for i, b := range f.buckets {
		if i%2 == 1 {
			f.tags[b.Bucket] = map[string]string{"picbucket": "off"}
		}
	}
	f.createErr = func(int, string) error { return answer(403, "AccessDenied", "") }
	res, err := runFake(t, f, map[string]string{config.Concurrency: "1", config.SkipTag: "picbucket=off"})
	if err == nil || !strings.Contains(err.Error(), "refuses it") || f.calls[opCreate] != refusalStreak+confirmProbes {
		t.Errorf("err %v, %d Creates, summary %+v: want the stop after %d Creates", err, f.calls[opCreate], res.Summary, refusalStreak+confirmProbes)
	}
}

// TestStoppedRunSendsNothingMore: 20 regions of one bucket each; the first
// region's list comes at once, the others take 200 ms, and the key is
// refused at the first Create. The plan fetches 16 regions' lists at once
// (describeParallel): the regions whose turn comes after the stop are
// never listed, and their buckets are deferred with the stop's reason.
func TestStoppedRunSendsNothingMore(t *testing.T) {
	f := newFake(20)
	f.slow = map[string]time.Duration{}
	for i := range f.buckets {
		region := fmt.Sprintf("ap-region%c", 'a'+i)
		f.buckets[i].Region = region
		if i > 0 {
			f.slow[region] = 200 * time.Millisecond
		}
	}
	f.createErr = func(int, string) error { return answer(403, "InvalidAccessKeyId", "") }
	res, err := runFake(t, f, map[string]string{config.Concurrency: "1"})
	if err == nil || !strings.Contains(err.Error(), "credentials refused") {
		t.Fatalf("err %v: want the stop on the refused key", err)
	}
	// The first region's slot frees before the Create's answer comes: one
	// more region may start before the stop.
	if n := f.calls["Describe"]; n > describeParallel+1 {
		t.Errorf("%d regions listed, want at most the %d started before the stop and none after", n, describeParallel+1)
	}
	if f.calls[opCreate] != 1 || res.Summary.Deferred != 20 {
		t.Errorf("%d Creates, summary %+v: want one Create and every bucket deferred", f.calls[opCreate], res.Summary)
	}
	for _, b := range res.Results {
		if !strings.Contains(b.Reason, "credentials were refused") {
			t.Errorf("%s: reason %q, want the stop's", b.Bucket, b.Reason)
		}
	}
}
