package handler

import (
	"cmp"
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
