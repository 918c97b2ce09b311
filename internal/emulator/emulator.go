// Package emulator is a local HTTP emulator of the parts of Tencent Cloud
// COS and Cloud Infinite (CI) that the picbucket function calls: GetService
// (list buckets), CreatePicProcessBucket (POST /picbucket) and
// DescribePicProcessBuckets (GET /picbucket), with the wire formats of
// their documents (https://cloud.tencent.com/document/api/460/95749,
// https://cloud.tencent.com/document/api/460/95750,
// https://cloud.tencent.com/document/product/436/8291) and the CI and COS
// error tables; docs/sources.md §1–§2 lists each fact and its source.
//
// A *Server is an http.Handler routed by the request's Host header, so
// clients talk plain HTTP to 127.0.0.1:PORT while sending the production
// host (e.g. "photos-1250000000.ci.ap-guangzhou.myqcloud.com"). Every
// request is authenticated with an independent implementation of the COS
// signature algorithm, and the server can add latency, random errors,
// per-account throttling and scripted faults.
package emulator

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/ciservice"
)

// Action names, as recorded in Request.Action, counted in Stats.ByAction and
// matched by Fault.Action.
const (
	ActionGetService                = "GetService"
	ActionCreatePicProcessBucket    = "CreatePicProcessBucket"
	ActionDescribePicProcessBuckets = "DescribePicProcessBuckets"
	ActionGetBucketTagging          = "GetBucketTagging"
	ActionUnknown                   = "Unknown"
)

// Kinds of Options.Limiter.
const (
	// LimiterToken is a token bucket per account refilled at QPS tokens per
	// second, holding at most max(1, floor(QPS/10)) tokens, i.e. about
	// 100 ms worth of requests; it starts full and a throttled request
	// takes nothing.
	LimiterToken = "token"
	// LimiterWindow is a sliding window of one second per account: a
	// request is throttled when the account's requests accepted in the
	// last second (by arrival) number QPS or more; a throttled request is
	// not counted.
	LimiterWindow = "window"
)

// DefaultClockSkew is the tolerance applied to signature time windows when
// Options.ClockSkew is zero.
const DefaultClockSkew = 15 * time.Minute

// Options configures a Server. The zero value is a fast, faultless,
// unthrottled emulator.
type Options struct {
	// Latency is a fixed delay added to every request before it is answered.
	Latency time.Duration
	// LatencyJitter adds a uniformly random delay in [0, LatencyJitter).
	LatencyJitter time.Duration
	// ErrorRate is the share (0..1) of authenticated requests answered with
	// a random 500 InternalError or 503 ServiceUnavailable.
	ErrorRate float64
	// QPS caps the request rate of each account (APPID); requests above it
	// get SlowDown (429 on CI hosts, 503 on COS hosts). Zero means
	// unlimited. Limiter says how the cap is counted (with Now).
	QPS float64
	// Limiter is the kind of QPS cap: LimiterToken (the default when
	// empty) or LimiterWindow. New panics on another value.
	Limiter string
	// AlreadyEnabledOK selects the answer to POST /picbucket on a bucket
	// that is already enabled: false gives 403 MediaBucketAlreadyBinded,
	// true gives 200 with the normal body.
	AlreadyEnabledOK bool
	// ListPageSize, when set, is the most buckets a CI listing (GET
	// /picbucket and each service's) answers per page: a larger pageSize
	// is served ListPageSize at a time, pageNumber counting pages of that
	// size, and the answer's PageSize still echoes the request's (the
	// documents say it is "同请求中的 pageSize"). Zero serves what is asked.
	ListPageSize int
	// AICreateAsDocumented answers a successful POST /ai_bucket with the
	// body Tencent's pages print (docs/sources.md §10), whose CreateTime
	// is not XML: <CreateTime2022-08-09T16:23:11+0800></CreateTime>.
	AICreateAsDocumented bool
	// ASRListElement, when set, names the element of each bucket in GET
	// /asrbucket's answer instead of AsrBucketList: the DescribeSpeechBuckets
	// page prints SpeechBucketList (docs/sources.md §10).
	ASRListElement string
	// ClockSkew is how far Now may lie outside a q-key-time or q-sign-time
	// window; DefaultClockSkew when zero.
	ClockSkew time.Duration
	// Seed seeds the generator behind ErrorRate and LatencyJitter, for
	// deterministic tests; zero seeds it from the wall clock.
	Seed int64
	// Now is the clock used for signature windows, the QPS bucket and
	// timestamps; time.Now when nil.
	Now func() time.Time
	// OnRequest, if set, is called with a copy of each request's log entry
	// once the request has been answered (or dropped). It runs on the
	// request's goroutine and must be safe for concurrent use.
	OnRequest func(Request)
}

// Credential is an API key pair known to the emulator.
type Credential struct {
	// SecretID is the key id, sent as q-ak.
	SecretID string
	// SecretKey signs requests; it is never logged or recorded.
	SecretKey string
	// Token, when set, makes this a temporary key: every request must carry
	// it, signed, in x-cos-security-token and/or x-ci-security-token.
	Token string
	// AppID is the account the key belongs to; it owns the buckets whose
	// names end in "-<AppID>".
	AppID string
	// Expired makes every request signed with this key fail with the
	// expired-token error.
	Expired bool
}

// BucketState is the emulator's view of one bucket.
type BucketState struct {
	// Name is the full bucket name, "<name>-<appid>".
	Name string
	// Region is the bucket's region id.
	Region string
	// Enabled reports whether CI picture processing (picbucket) is enabled.
	Enabled bool
}

// SeededAge is how long ago a bucket added as enabled had picbucket enabled.
const SeededAge = 24 * time.Hour

// Fault is a scripted failure. Faults are kept in a FIFO queue; each
// authenticated request takes the first fault matching its action and
// bucket, and a fault is removed after it has applied Times times.
//
// A fault first sleeps Delay; then Drop closes the connection without an
// answer; otherwise a non-zero Status or Code answers that error (Status
// defaults to 500 when only Code is set, Code to the usual code of Status
// when only Status is set). A fault with only Delay slows the request down
// and lets it proceed. Note that Go's http.Transport may transparently
// retry an idempotent request (such as GET) whose reused connection was
// dropped, so a Drop on GetService may be invisible to the caller.
type Fault struct {
	// Action limits the fault to one action (see the Action constants);
	// "" matches any.
	Action string
	// Bucket limits the fault to requests addressed to that bucket's host
	// (CreatePicProcessBucket); "" matches any request.
	Bucket string
	// Status is the HTTP status to answer.
	Status int
	// Region limits the fault to requests addressed to that region's hosts
	// (CI and regional COS hosts); "" matches any.
	Region string
	// Code is the error code to answer.
	Code string
	// Drop hijacks and closes the connection without answering.
	Drop bool
	// Delay is slept before the fault applies.
	Delay time.Duration
	// Times is how many matching requests the fault applies to; values
	// below 1 count as 1.
	Times int
}

// Request is the log entry of one received request.
type Request struct {
	// Time is when the request was received (by Options.Now).
	Time time.Time
	// Method, Host, Path and RawQuery are as received; Path is unescaped.
	Method, Host, Path, RawQuery string
	// Action is the recognised action or ActionUnknown.
	Action string
	// SecretID is the q-ak of the Authorization header.
	SecretID string
	// Token is the session token received (x-cos-security-token, else
	// x-ci-security-token), for tests to compare.
	Token string
	// SignedHeaders is the q-header-list.
	SignedHeaders []string
	// SignatureValid reports that the signature matched a known key, host
	// was signed and every query parameter was signed.
	SignatureValid bool
	// Status is the HTTP status answered; 0 if the connection was dropped
	// or the client went away before an answer.
	Status int
	// Code is the error code answered; "" on 2xx.
	Code string
}

// Stats are counters since the Server was created.
type Stats struct {
	// Total counts every request received.
	Total int
	// ByAction counts requests by Action.
	ByAction map[string]int
	// Throttled counts SlowDown answers caused by Options.QPS.
	Throttled int
	// Injected counts requests a Fault applied to.
	Injected int
	// AuthFailures counts requests rejected by authentication.
	AuthFailures int
	// RandomErrors counts errors caused by Options.ErrorRate.
	RandomErrors int
}

// Server is the emulator. It is an http.Handler and is safe for concurrent
// use; create it with New.
type Server struct {
	opts Options
	now  func() time.Time

	mu      sync.Mutex
	rng     *rand.Rand
	creds   map[string]*Credential
	buckets map[string]*bucketRecord
	// sorted holds the buckets sorted by name: every bucket under "", each
	// account's under its APPID; nil until needed after an AddBucket.
	sorted   map[string][]*bucketRecord
	faults   []*Fault
	log      []*Request
	stats    Stats
	limiters map[string]*tokenBucket
	windows  map[string][]time.Time // accepted arrivals within the last second, oldest first
	seq      uint64
	hostID   uint32
}

type bucketRecord struct {
	name, region string
	created      time.Time
	enabled      bool
	enabledAt    time.Time
	tags         map[string]string
	// services holds when each CI service other than picbucket was
	// enabled on the bucket (services.go).
	services map[ciservice.ID]time.Time
}

type tokenBucket struct {
	tokens float64
	last   time.Time
}

// New returns an emulator with no credentials and no buckets.
func New(opts Options) *Server {
	switch opts.Limiter {
	case "":
		opts.Limiter = LimiterToken
	case LimiterToken, LimiterWindow:
	default:
		panic(fmt.Sprintf("emulator.New: Limiter %q, want %q or %q", opts.Limiter, LimiterToken, LimiterWindow))
	}
	if opts.ClockSkew <= 0 {
		opts.ClockSkew = DefaultClockSkew
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	seed := uint64(opts.Seed)
	if opts.Seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return &Server{
		opts:     opts,
		now:      now,
		rng:      rng,
		creds:    make(map[string]*Credential),
		buckets:  make(map[string]*bucketRecord),
		stats:    Stats{ByAction: make(map[string]int)},
		limiters: make(map[string]*tokenBucket),
		windows:  make(map[string][]time.Time),
		hostID:   rng.Uint32(),
	}
}

// AddCredential registers c, replacing any credential with the same SecretID.
func (s *Server) AddCredential(c Credential) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[c.SecretID] = &c
}

// ExpireCredential marks the credential secretID as expired: afterwards
// requests signed with it get the expired-token error. Unknown ids are
// ignored.
func (s *Server) ExpireCredential(secretID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.creds[secretID]; ok {
		c.Expired = true
	}
}

// AddBucket creates or replaces the bucket name ("<name>-<appid>", owned by
// the account <appid>) in region, with picbucket enabled or not. It panics
// if name or region is malformed, which is a bug in the caller.
func (s *Server) AddBucket(name, region string, enabled bool) {
	if err := bucket.ValidateName(name); err != nil {
		panic(fmt.Sprintf("emulator.AddBucket: %v", err))
	}
	if err := bucket.ValidateRegion(region); err != nil {
		panic(fmt.Sprintf("emulator.AddBucket: %v", err))
	}
	now := s.now()
	b := &bucketRecord{name: name, region: region, created: now, enabled: enabled}
	if enabled {
		// A bucket added as enabled was enabled before this moment: its
		// binding's CreateTime is SeededAge ago, as on a real account.
		b.created = now.Add(-2 * SeededAge)
		b.enabledAt = now.Add(-SeededAge)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buckets[name] = b
	s.sorted = nil
}

// SetTags replaces the tags of the bucket name (nil or empty: no tags, so
// GetBucketTagging answers 404 NoSuchTagSet). It panics if the bucket does
// not exist, which is a bug in the caller.
func (s *Server) SetTags(name string, tags map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[name]
	if !ok {
		panic(fmt.Sprintf("emulator.SetTags: no bucket %q", name))
	}
	b.tags = maps.Clone(tags)
}

// Tags returns the tags of the bucket name (nil when it has none).
func (s *Server) Tags(name string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.buckets[name]; ok {
		return maps.Clone(b.tags)
	}
	return nil
}

// Enabled reports whether picbucket is enabled on the bucket name.
func (s *Server) Enabled(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[name]
	return ok && b.enabled
}

// Buckets returns every bucket, sorted by name.
func (s *Server) Buckets() []BucketState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]BucketState, 0, len(s.buckets))
	for _, b := range s.sortedBucketsLocked("") {
		out = append(out, BucketState{Name: b.name, Region: b.region, Enabled: b.enabled})
	}
	return out
}

// Inject appends f to the fault queue.
func (s *Server) Inject(f Fault) {
	if f.Times < 1 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// Requests returns a copy of the log of every request received since New or
// the last ResetRequests.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.log))
	for i, r := range s.log {
		out[i] = copyRequest(r)
	}
	return out
}

// ResetRequests clears the request log; Stats are kept.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ByAction = make(map[string]int, len(s.stats.ByAction))
	for k, v := range s.stats.ByAction {
		st.ByAction[k] = v
	}
	return st
}

func copyRequest(r *Request) Request {
	c := *r
	c.SignedHeaders = append([]string(nil), r.SignedHeaders...)
	return c
}

// sortedBucketsLocked returns the buckets of the account appID (every
// bucket when appID is "") sorted by name; s.mu must be held. The lists are
// sorted once after each AddBucket, not at each listing (thousands of
// buckets listed by many clients at once would contend on s.mu); the caller
// must not modify them.
func (s *Server) sortedBucketsLocked(appID string) []*bucketRecord {
	if s.sorted == nil {
		all := make([]*bucketRecord, 0, len(s.buckets))
		for _, b := range s.buckets {
			all = append(all, b)
		}
		sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
		s.sorted = map[string][]*bucketRecord{"": all}
		for _, b := range all {
			a := bucket.AppID(b.name)
			s.sorted[a] = append(s.sorted[a], b)
		}
	}
	return s.sorted[appID]
}

// takeFault consumes one application of the first queued fault matching
// action, bucketName and region.
func (s *Server) takeFault(action, bucketName, region string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Action != "" && f.Action != action {
			continue
		}
		if f.Bucket != "" && f.Bucket != bucketName {
			continue
		}
		if f.Region != "" && f.Region != region {
			continue
		}
		applied := *f
		f.Times--
		if f.Times <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		s.stats.Injected++
		return applied, true
	}
	return Fault{}, false
}

// allow counts a request of account against Options.QPS and reports
// whether it may proceed.
func (s *Server) allow(account string) bool {
	qps := s.opts.QPS
	if qps <= 0 {
		return true
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var ok bool
	switch s.opts.Limiter {
	case LimiterWindow:
		ok = s.allowWindowLocked(account, now, qps)
	default:
		ok = s.allowTokenLocked(account, now, qps)
	}
	if !ok {
		s.stats.Throttled++
	}
	return ok
}

// allowTokenLocked takes a token from account's bucket; see LimiterToken.
func (s *Server) allowTokenLocked(account string, now time.Time, qps float64) bool {
	burst := max(1, float64(int(qps/10)))
	tb, ok := s.limiters[account]
	if !ok {
		tb = &tokenBucket{tokens: burst, last: now}
		s.limiters[account] = tb
	}
	if elapsed := now.Sub(tb.last).Seconds(); elapsed > 0 {
		tb.tokens = min(burst, tb.tokens+elapsed*qps)
		tb.last = now
	}
	if tb.tokens < 1 {
		return false
	}
	tb.tokens--
	return true
}

// allowWindowLocked counts the request in account's window; see
// LimiterWindow.
func (s *Server) allowWindowLocked(account string, now time.Time, qps float64) bool {
	w := s.windows[account]
	from := now.Add(-time.Second)
	i := 0
	for i < len(w) && !w[i].After(from) {
		i++
	}
	w = w[i:]
	if float64(len(w)) >= qps {
		s.windows[account] = w
		return false
	}
	s.windows[account] = append(w, now)
	return true
}

// randomFailure draws against Options.ErrorRate.
func (s *Server) randomFailure() *apiError {
	if s.opts.ErrorRate <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rng.Float64() >= s.opts.ErrorRate {
		return nil
	}
	s.stats.RandomErrors++
	if s.rng.IntN(2) == 0 {
		return &apiError{http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again."}
	}
	return &apiError{http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unable to handle request. Please try again."}
}

// delay returns Latency plus a random jitter.
func (s *Server) delay() time.Duration {
	d := s.opts.Latency
	if j := s.opts.LatencyJitter; j > 0 {
		s.mu.Lock()
		d += time.Duration(s.rng.Int64N(int64(j)))
		s.mu.Unlock()
	}
	return d
}

// newIDs returns a request id and a trace id in the style of COS (base64
// of hex fields separated by '_').
func (s *Server) newIDs() (requestID, traceID string) {
	s.mu.Lock()
	s.seq++
	seq, host, r := s.seq, s.hostID, s.rng.Uint64()
	s.mu.Unlock()
	requestID = b64(fmt.Sprintf("%08x_%08x_%04x_%x", s.now().Unix(), host, seq&0xffff, seq))
	traceID = b64(fmt.Sprintf("%016x%08x%016x", r, host, seq))
	return requestID, traceID
}
