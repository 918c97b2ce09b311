package handler

// Paths that only the end-to-end tests reached before: the invocation's
// answer, an event that needs no request, the debug line of the event and
// the warm-instance cache's bound.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/emulator"
)

// TestInvokeAnswers: Invoke answers the Result as JSON, or the error and
// no payload.
func TestInvokeAnswers(t *testing.T) {
	h, _, _ := newTest(t, emulator.Options{}, 2, nil)
	out, err := h.Invoke(ctxWithTimeout(t, 10*time.Second), timer)
	var res Result
	if err != nil || json.Unmarshal(out, &res) != nil || res.Trigger != "timer" || res.Summary.Enabled != 2 {
		t.Errorf("Invoke = %s, %v; want the timer's Result", out, err)
	}
	out, err = h.Invoke(ctxWithTimeout(t, 10*time.Second), []byte(`{"buckets":7}`))
	if err == nil || out != nil {
		t.Errorf("Invoke of an invalid event = %q, %v; want no payload and the error", out, err)
	}
}

// TestNoRequestNeedsNoCredentials: an event whose records are all
// skipped asks for no request: it succeeds without credentials. An event
// naming a bucket does need them: it fails naming the variable.
func TestNoRequestNeedsNoCredentials(t *testing.T) {
	eb, err := os.ReadFile("../events/eventbridge-putbucket.json")
	if err != nil {
		t.Fatal(err)
	}
	failedPut := bytes.Replace(eb, []byte(`"errorCode": 0`), []byte(`"errorCode": 403`), 1)
	for _, tc := range []struct {
		name    string
		payload []byte
		wantErr bool
	}{
		{"a failed PutBucket", failedPut, false},
		{"a named bucket", []byte(`{"buckets":[{"bucket":"photos-00-1250000000","region":"ap-guangzhou"}]}`), true},
		{"a reconciliation", []byte(`{"reconcile":{}}`), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, emu, _ := newTest(t, emulator.Options{}, 2, map[string]string{"TENCENTCLOUD_SECRETID": "", "TENCENTCLOUD_SECRETKEY": "", "TENCENTCLOUD_SESSIONTOKEN": ""})
			res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), tc.payload)
			if tc.wantErr != (err != nil) || (err != nil && !strings.Contains(err.Error(), "TENCENTCLOUD_SECRETID")) {
				t.Errorf("err = %v, want an error naming TENCENTCLOUD_SECRETID: %v", err, tc.wantErr)
			}
			if !tc.wantErr && (res == nil || res.Summary.Skipped != 1) {
				t.Errorf("result %+v, want the failed PutBucket skipped", res)
			}
			if n := emu.Stats().Total; n != 0 {
				t.Errorf("%d requests without credentials", n)
			}
		})
	}
}

// TestDebugLineOfTheEvent: at LOG_LEVEL=debug the event is described in
// one line: its trigger, its counts, whether it reconciles.
func TestDebugLineOfTheEvent(t *testing.T) {
	for _, tc := range []struct {
		payload   string
		reconcile bool
		targets   int
	}{
		{string(timer), true, 0},
		{`{"buckets":[{"bucket":"photos-00-1250000000","region":"ap-guangzhou"}]}`, false, 1},
	} {
		h, _, out := newTest(t, emulator.Options{}, 2, map[string]string{"LOG_LEVEL": "debug"})
		if _, err := h.Handle(ctxWithTimeout(t, 10*time.Second), []byte(tc.payload)); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`"targets":%d,"locate":0,"skipped":0,"reconcile":%v,"payloadBytes":%d`, tc.targets, tc.reconcile, len(tc.payload))
		if !strings.Contains(out.String(), want) {
			t.Errorf("no debug line with %s:\n%s", want, out)
		}
	}
}

// TestCacheBounded: the warm-instance cache holds at most maxConfirmed
// buckets: when full, it drops the stale ones (confirmed ttl ago or more),
// and if none is stale, all.
func TestCacheBounded(t *testing.T) {
	const ttl = time.Minute
	t0 := time.Unix(1_700_000_000, 0)
	target := func(i int) bucket.Target {
		return bucket.Target{Bucket: fmt.Sprintf("b%05d-1250000000", i), Region: "ap-guangzhou"}
	}

	c := newConfirmed()
	for i := range maxConfirmed / 2 {
		c.put(target(i), t0, ttl) // stale at t0+ttl
	}
	for i := maxConfirmed / 2; i < maxConfirmed; i++ {
		c.put(target(i), t0.Add(ttl/2), ttl) // fresh at t0+ttl
	}
	c.put(target(maxConfirmed), t0.Add(ttl), ttl)
	if n := len(c.m); n != maxConfirmed/2+1 {
		t.Errorf("%d entries after a put to a full cache, half stale: want the stale half dropped (%d)", n, maxConfirmed/2+1)
	}
	if !c.fresh(target(maxConfirmed-1), t0.Add(ttl), ttl) || c.fresh(target(0), t0.Add(ttl), ttl) {
		t.Errorf("the fresh half was dropped, or a stale entry kept")
	}

	c = newConfirmed()
	for i := range maxConfirmed {
		c.put(target(i), t0, ttl)
	}
	c.put(target(maxConfirmed), t0, ttl)
	if n := len(c.m); n != 1 {
		t.Errorf("%d entries after a put to a full cache of fresh entries, want it cleared to the new one", n)
	}
}
