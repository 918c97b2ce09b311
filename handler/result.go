package handler

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/picbucket/picbucket/internal/bucket"
)

// Outcome is what happened to one bucket.
type Outcome string

// The outcomes a bucket can have.
const (
	Enabled        Outcome = "enabled"         // this invocation enabled image processing
	AlreadyEnabled Outcome = "already_enabled" // it was enabled before
	WouldEnable    Outcome = "would_enable"    // dry run: it would have been enabled
	Skipped        Outcome = "skipped"         // deliberately not acted on (see reason)
	Failed         Outcome = "failed"          // an attempt failed (see error and code)
	Deferred       Outcome = "deferred"        // not started: deadline, cap or refused credentials; the next run picks it up
)

// BucketResult is the outcome for one bucket.
type BucketResult struct {
	Account   string  `json:"account,omitempty"` // the account's UIN, in organization runs
	Bucket    string  `json:"bucket,omitempty"`  // absent for a record that names no readable bucket
	Region    string  `json:"region,omitempty"`
	Service   string  `json:"service,omitempty"` // the CI service, when PICBUCKET_SERVICES is set
	Outcome   Outcome `json:"outcome"`
	Attempts  int     `json:"attempts,omitempty"`   // CreatePicProcessBucket requests sent for it
	RequestID string  `json:"requestId,omitempty"`  // CI's request id of the deciding answer
	Code      string  `json:"code,omitempty"`       // CI/COS error code, when one decided the outcome
	Error     string  `json:"error,omitempty"`      // the failure, for failed
	Reason    string  `json:"reason,omitempty"`     // why, for skipped, deferred and already_enabled
	Status    int     `json:"httpStatus,omitempty"` // HTTP status of the deciding error answer
}

// Summary counts results by outcome.
type Summary struct {
	Enabled        int `json:"enabled"`
	AlreadyEnabled int `json:"already_enabled"`
	WouldEnable    int `json:"would_enable"`
	Skipped        int `json:"skipped"`
	Failed         int `json:"failed"`
	Deferred       int `json:"deferred"`
	// Filtered counts listed buckets left out by region and name filters; they
	// get no result line of their own.
	Filtered int `json:"filtered"`
	// ByService counts the same by CI service, when PICBUCKET_SERVICES is
	// set.
	ByService map[string]Summary `json:"byService,omitempty"`
}

func (s *Summary) add(o Outcome) {
	switch o {
	case Enabled:
		s.Enabled++
	case AlreadyEnabled:
		s.AlreadyEnabled++
	case WouldEnable:
		s.WouldEnable++
	case Skipped:
		s.Skipped++
	case Failed:
		s.Failed++
	case Deferred:
		s.Deferred++
	}
}

// Result is the handler's return value.
type Result struct {
	Trigger string         `json:"trigger"`
	DryRun  bool           `json:"dryRun"`
	Results []BucketResult `json:"results"`
	Summary Summary        `json:"summary"`
	Notes   []string       `json:"notes,omitempty"`
	// Accounts has one entry per account in organization runs.
	Accounts []AccountResult `json:"accounts,omitempty"`
	Requests int64           `json:"requests"` // HTTP requests sent to COS and CI
	Retries  int64           `json:"retries"`  // of those, repeats after a retryable failure
	// APIRequests counts Tencent Cloud API 3.0 requests (organization runs).
	APIRequests int64 `json:"apiRequests,omitempty"`
	DurationMs  int64 `json:"durationMs"` // wall time of the invocation
	// ResultsOmitted counts the bucket results left out of Results to keep
	// the return value within MaxReturnBytes (fitReturn); 0 when none were.
	ResultsOmitted int `json:"resultsOmitted,omitempty"`
}

// AccountOutcome is what happened to one account of an organization run.
type AccountOutcome string

// The outcomes an account can have.
const (
	AccountReconciled AccountOutcome = "reconciled" // its buckets were reconciled in this invocation
	AccountFannedOut  AccountOutcome = "fanned_out" // an asynchronous invocation of its own was sent
	AccountSkipped    AccountOutcome = "skipped"    // left alone (PICBUCKET_EXCLUDE_ACCOUNTS)
	AccountFailed     AccountOutcome = "failed"     // its role could not be assumed, its listing refused, …
	AccountDeferred   AccountOutcome = "deferred"   // not started: time or rate ran out
)

// AccountResult is the outcome for one account of an organization run.
type AccountResult struct {
	Uin          string         `json:"uin"`
	AppID        string         `json:"appId,omitempty"`
	Outcome      AccountOutcome `json:"outcome"`
	Error        string         `json:"error,omitempty"`
	InvocationID string         `json:"invocationId,omitempty"` // the member invocation's request id, when fanned out
	Summary      *Summary       `json:"summary,omitempty"`
}

func (r *Result) finish() {
	slices.SortStableFunc(r.Results, func(a, b BucketResult) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Bucket, b.Bucket))
	})
	byService := r.Summary.ByService
	r.Summary = Summary{Filtered: r.Summary.Filtered}
	for _, b := range r.Results {
		r.Summary.add(b.Outcome)
		if b.Service != "" {
			if r.Summary.ByService == nil {
				r.Summary.ByService = map[string]Summary{}
			}
			s := r.Summary.ByService[b.Service]
			s.add(b.Outcome)
			r.Summary.ByService[b.Service] = s
		}
	}
	for id, s := range byService { // the filtered counts of each service, kept
		r.Summary.addFiltered(id, s.Filtered)
	}
	if r.Results == nil {
		r.Results = []BucketResult{}
	}
}

// addFiltered counts n more buckets that a filter left out of service id.
func (s *Summary) addFiltered(id string, n int) {
	if n <= 0 {
		return
	}
	if s.ByService == nil {
		s.ByService = map[string]Summary{}
	}
	t := s.ByService[id]
	t.Filtered += n
	s.ByService[id] = t
}

// Target returns the bucket and region b is about.
func (b BucketResult) Target() bucket.Target {
	return bucket.Target{Bucket: b.Bucket, Region: b.Region}
}

// MaxReturnBytes bounds the return value: SCF delivers at most 6 MB as a
// synchronous invocation's response ("同步请求响应大小 6MB",
// https://cloud.tencent.com/document/product/583/11637, 函数运行环境的限制;
// read as 6,000,000 bytes, the smaller reading). A return value over it
// is not delivered at all.
const MaxReturnBytes = 6_000_000

// keptFirst orders outcomes by what a reader of a cut return value needs
// most: what failed and what is left to do first.
var keptFirst = []Outcome{Failed, Deferred, Enabled, WouldEnable, Skipped, AlreadyEnabled}

// fitReturn returns res as JSON, redacted, in at most max bytes. When the
// whole Result is larger, it leaves bucket results out, keeping first
// those of keptFirst's earlier outcomes (each in its place in Results),
// and says so in ResultsOmitted and a note. The summary, the accounts and
// every bucket's log line stay whole.
func fitReturn(res *Result, secrets *secretSet, max int) ([]byte, error) {
	// The size of the whole is measured a row at a time: a Result too
	// large to return (many buckets times PICBUCKET_SERVICES' services) is
	// never held as JSON whole, which would take several times the 6 MB.
	all := res.Results
	size := make([]int, len(all))
	whole := 0
	for i, b := range all {
		row, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		size[i] = len(secrets.redactBytes(row)) + 1 // and its comma
		whole += size[i]
	}
	empty := *res
	empty.Results = []BucketResult{}
	base, err := json.Marshal(&empty)
	if err != nil {
		return nil, err
	}
	if len(secrets.redactBytes(base))+whole-1 <= max {
		out, err := json.Marshal(res)
		if err != nil {
			return nil, err
		}
		if out = secrets.redactBytes(out); len(out) <= max {
			return out, nil
		}
	}
	order := make([]int, len(all))
	for i := range order {
		order[i] = i
	}
	rank := func(o Outcome) int {
		if i := slices.Index(keptFirst, o); i >= 0 {
			return i
		}
		return len(keptFirst)
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rank(all[a].Outcome), rank(all[b].Outcome)) })

	cut := *res
	cut.Notes = slices.Clone(res.Notes)
	for budget := max; ; budget = budget * 9 / 10 {
		cut.Results, cut.ResultsOmitted = []BucketResult{}, len(all)
		cut.Notes = append(cut.Notes[:len(res.Notes)], omittedNote(len(all), len(all)))
		base, err := json.Marshal(&cut)
		if err != nil {
			return nil, err
		}
		left := budget - len(base)
		keep := make([]bool, len(all))
		kept := 0
		for _, i := range order {
			if size[i] > left {
				break
			}
			left -= size[i]
			keep[i] = true
			kept++
		}
		cut.ResultsOmitted = len(all) - kept
		cut.Notes[len(cut.Notes)-1] = omittedNote(cut.ResultsOmitted, len(all))
		// The kept rows are written into the JSON of the rest a row at a
		// time, not copied into a Result first.
		cut.Results = []BucketResult{}
		if base, err = json.Marshal(&cut); err != nil {
			return nil, err
		}
		at := bytes.Index(base, []byte(`"results":[]`)) + len(`"results":[`)
		var buf bytes.Buffer
		buf.Grow(budget)
		buf.Write(secrets.redactBytes(base[:at]))
		for i, b := range all {
			if !keep[i] {
				continue
			}
			row, err := json.Marshal(b)
			if err != nil {
				return nil, err
			}
			if buf.Len() > at {
				buf.WriteByte(',')
			}
			buf.Write(secrets.redactBytes(row))
		}
		buf.Write(secrets.redactBytes(base[at:]))
		// The redaction may lengthen a line (a secret shorter than its
		// "[redacted]"): then try again with less.
		if out := buf.Bytes(); len(out) <= max || kept == 0 {
			return out, nil
		}
	}
}

// omittedNote says how many bucket results a return value leaves out.
func omittedNote(omitted, total int) string {
	return fmt.Sprintf("%d of %d bucket results are left out of this return value, which SCF limits to 6 MB "+
		"(kept first: failed, deferred, enabled, would_enable, skipped, already_enabled); "+
		"the summary counts every bucket, and every bucket's result is in its own log line", omitted, total)
}
