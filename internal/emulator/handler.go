package emulator

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/ciservice"
)

// flavor is the product a host belongs to; it selects the error codes and
// response headers.
type flavor int

const (
	flavorCOS flavor = iota
	flavorCI
)

func (f flavor) server() string {
	if f == flavorCI {
		return "tencent-ci"
	}
	return "tencent-cos"
}

func (f flavor) requestIDHeader() string {
	if f == flavorCI {
		return "x-ci-request-id"
	}
	return "x-cos-request-id"
}

// apiError is an error answer.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

// pick returns the COS or the CI variant of an error.
func pick(f flavor, cos, ci *apiError) *apiError {
	if f == flavorCI {
		return ci
	}
	return cos
}

// route is what the host, method and path address.
type route struct {
	flavor flavor
	action string
	bucket string // bucket of a "<bucket>.ci.<region>" host
	// service is the CI service other than picbucket that the path
	// addresses (services.go); "" otherwise.
	service ciservice.ID
	region  string // region of the host, "" for service.cos
	// hostErr rejects the request before authentication (unknown host).
	hostErr *apiError
	// err rejects an authenticated request (unknown method or path).
	err *apiError
}

const domainSuffix = "." + bucket.Domain

// parseRoute maps r to an action. It never fails: problems are reported in
// route.hostErr or route.err.
func parseRoute(r *http.Request) route {
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	rt := route{flavor: flavorCOS, action: ActionUnknown}
	invalidHost := &apiError{http.StatusBadRequest, "InvalidHost", fmt.Sprintf("The host %q is not served by this endpoint.", host)}
	if !bucket.AllowedHost(host) {
		rt.hostErr = invalidHost
		return rt
	}
	labels := strings.Split(strings.TrimSuffix(host, domainSuffix), ".")
	var product string
	switch len(labels) {
	case 2:
		if labels[0] == "service" && labels[1] == "cos" {
			product = "cos"
			break
		}
		product, rt.region = labels[0], labels[1]
	case 3:
		rt.bucket, product, rt.region = labels[0], labels[1], labels[2]
		if bucket.ValidateName(rt.bucket) != nil {
			rt.hostErr = invalidHost
			return rt
		}
	default:
		rt.hostErr = invalidHost
		return rt
	}
	if rt.region != "" && bucket.ValidateRegion(rt.region) != nil {
		rt.hostErr = invalidHost
		return rt
	}
	switch product {
	case "cos":
		rt.flavor = flavorCOS
	case "ci":
		rt.flavor = flavorCI
	default:
		rt.hostErr = invalidHost
		return rt
	}

	notAllowed := &apiError{http.StatusMethodNotAllowed, "MethodNotAllowed", fmt.Sprintf("The method %s is not allowed on %s.", r.Method, r.URL.Path)}
	invalidURL := &apiError{http.StatusNotFound, "InvalidUrl", fmt.Sprintf("The path %q is not served on %s.", r.URL.Path, host)}
	switch {
	case rt.flavor == flavorCOS && rt.bucket != "" && r.Method == http.MethodGet && r.URL.Path == "/" && r.URL.RawQuery == "tagging":
		rt.action = ActionGetBucketTagging
	case rt.flavor == flavorCOS && rt.bucket != "":
		rt.err = &apiError{http.StatusNotImplemented, "NotImplemented", "The emulator implements no bucket or object API but GetBucketTagging."}
	case rt.flavor == flavorCOS && r.URL.Path != "/":
		rt.err = invalidURL
	case rt.flavor == flavorCOS && r.Method != http.MethodGet:
		rt.err = notAllowed
	case rt.flavor == flavorCOS:
		rt.action = ActionGetService
	case r.URL.Path != "/picbucket":
		serviceRoute(&rt, r, invalidURL, notAllowed)
	case rt.bucket != "" && r.Method == http.MethodPost:
		rt.action = ActionCreatePicProcessBucket
	case rt.bucket == "" && r.Method == http.MethodGet:
		rt.action = ActionDescribePicProcessBuckets
	default:
		rt.err = notAllowed
	}
	return rt
}

// exchange is one request being answered.
type exchange struct {
	s         *Server
	w         http.ResponseWriter
	r         *http.Request
	rt        route
	rec       *Request
	requestID string
	traceID   string
}

// ServeHTTP answers one request: record, latency, authentication, scripted
// faults, throttling, random errors, then the action.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := parseRoute(r)
	x := &exchange{s: s, w: w, r: r, rt: rt, rec: s.record(r, rt.action)}
	x.requestID, x.traceID = s.newIDs()
	defer s.finished(x.rec)

	h := w.Header()
	h.Set("Server", rt.flavor.server())
	h.Set(rt.flavor.requestIDHeader(), x.requestID)

	ctx := r.Context()
	if !sleep(ctx, s.delay()) {
		return
	}
	if rt.hostErr != nil {
		x.fail(rt.hostErr)
		return
	}
	account, err := s.authenticate(r, rt.flavor, x.rec)
	if err != nil {
		s.mu.Lock()
		s.stats.AuthFailures++
		s.mu.Unlock()
		x.fail(err)
		return
	}
	if f, ok := s.takeFault(rt.action, rt.bucket, rt.region); ok {
		if !sleep(ctx, f.Delay) {
			return
		}
		if f.Drop {
			x.drop()
			return
		}
		if f.Status != 0 || f.Code != "" {
			x.fail(faultError(f))
			return
		}
	}
	if !s.allow(account) {
		x.fail(pick(rt.flavor,
			&apiError{http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate."},
			&apiError{http.StatusTooManyRequests, "SlowDown", "Please reduce your request rate."}))
		return
	}
	if e := s.randomFailure(); e != nil {
		x.fail(e)
		return
	}
	if rt.err != nil {
		x.fail(rt.err)
		return
	}
	switch rt.action {
	case ActionGetService:
		s.getService(x, account)
	case ActionCreatePicProcessBucket:
		s.createPicProcessBucket(x, account)
	case ActionDescribePicProcessBuckets:
		s.describePicProcessBuckets(x, account)
	case ActionGetBucketTagging:
		s.getBucketTagging(x, account)
	default:
		s.serveService(x, account)
	}
}

// record appends the log entry of r and counts it.
func (s *Server) record(r *http.Request, action string) *Request {
	rec := &Request{
		Time:     s.now(),
		Method:   r.Method,
		Host:     r.Host,
		Path:     r.URL.Path,
		RawQuery: r.URL.RawQuery,
		Action:   action,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, rec)
	s.stats.Total++
	s.stats.ByAction[action]++
	return rec
}

func (s *Server) finished(rec *Request) {
	if s.opts.OnRequest == nil {
		return
	}
	s.mu.Lock()
	c := copyRequest(rec)
	s.mu.Unlock()
	s.opts.OnRequest(c)
}

// authenticate applies the checks of the package documentation in order and
// returns the caller's account (APPID).
func (s *Server) authenticate(r *http.Request, f flavor, rec *Request) (string, *apiError) {
	token := r.Header.Get("x-cos-security-token")
	if token == "" {
		token = r.Header.Get("x-ci-security-token")
	}
	s.mu.Lock()
	rec.Token = token
	s.mu.Unlock()

	// 1. Authorization present and well-formed.
	header := r.Header.Get("Authorization")
	if header == "" {
		return "", pick(f,
			&apiError{http.StatusForbidden, "AccessDenied", "Access Denied. Authorization header is missing."},
			&apiError{http.StatusUnauthorized, "MissingAuthorization", "Authorization header is missing."})
	}
	auth, err := parseAuthorization(header)
	if err != nil {
		return "", pick(f,
			&apiError{http.StatusForbidden, "AccessDenied", "Access Denied. " + err.Error()},
			&apiError{http.StatusUnauthorized, "InvalidAuthorization", err.Error()})
	}
	s.mu.Lock()
	rec.SecretID = auth.secretID
	rec.SignedHeaders = append([]string(nil), auth.headers...)
	c, ok := s.creds[auth.secretID]
	var cred Credential
	if ok {
		cred = *c
	}
	s.mu.Unlock()

	// 2. Known key.
	if !ok {
		return "", &apiError{http.StatusForbidden, "InvalidAccessKeyId", "The access key Id format you provided is invalid or does not exist."}
	}
	sigErr := verifySignature(r, auth, cred.SecretKey)
	s.mu.Lock()
	rec.SignatureValid = sigErr == nil
	s.mu.Unlock()

	// 3. Key not expired.
	if cred.Expired {
		return "", pick(f,
			&apiError{http.StatusBadRequest, "ExpiredToken", "The provided token has expired."},
			&apiError{http.StatusUnauthorized, "SignatureExpired", "The temporary key has expired."})
	}

	// 4. Time windows.
	now := s.now()
	for _, w := range []struct{ name, value string }{{"q-key-time", auth.keyTime}, {"q-sign-time", auth.signTime}} {
		start, end, err := parseWindow(w.value)
		msg := ""
		switch {
		case err != nil:
			msg = fmt.Sprintf("%s: %v", w.name, err)
		case now.Before(start.Add(-s.opts.ClockSkew)) || now.After(end.Add(s.opts.ClockSkew)):
			msg = fmt.Sprintf("%s %s does not cover the server time %d (allowed skew %s).", w.name, w.value, now.Unix(), s.opts.ClockSkew)
		}
		if msg != "" {
			return "", pick(f,
				&apiError{http.StatusForbidden, "RequestTimeTooSkewed", msg},
				&apiError{http.StatusUnauthorized, "SignatureExpired", msg})
		}
	}

	// 5. Signature.
	if sigErr != nil {
		return "", &apiError{http.StatusForbidden, "SignatureDoesNotMatch", "The Signature you specified is invalid: " + sigErr.Error()}
	}

	// 6. Session token.
	if err := checkToken(r, cred, auth.headers); err != nil {
		return "", &apiError{http.StatusForbidden, "AccessDenied", "Access Denied. The security token is invalid: " + err.Error()}
	}
	return cred.AppID, nil
}

// checkToken enforces the session-token rules for temporary and permanent
// keys.
func checkToken(r *http.Request, cred Credential, signed []string) error {
	var present []string
	for _, name := range []string{"x-cos-security-token", "x-ci-security-token"} {
		vs := r.Header.Values(name)
		if len(vs) == 0 {
			continue
		}
		if cred.Token == "" {
			return fmt.Errorf("%s sent with a permanent key", name)
		}
		for _, v := range vs {
			if v != cred.Token {
				return fmt.Errorf("%s does not match the key", name)
			}
		}
		if !contains(signed, name) {
			return fmt.Errorf("%s is not in q-header-list", name)
		}
		present = append(present, name)
	}
	if cred.Token != "" && len(present) == 0 {
		return errors.New("a temporary key requires x-cos-security-token or x-ci-security-token")
	}
	return nil
}

func faultError(f Fault) *apiError {
	status, code := f.Status, f.Code
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if code == "" {
		switch status {
		case http.StatusTooManyRequests:
			code = "SlowDown"
		case http.StatusNotFound:
			code = "NoSuchBucket"
		case http.StatusForbidden:
			code = "AccessDenied"
		case http.StatusServiceUnavailable:
			code = "ServiceUnavailable"
		case http.StatusInternalServerError:
			code = "InternalError"
		default:
			code = strings.ReplaceAll(http.StatusText(status), " ", "")
		}
	}
	return &apiError{status, code, "Injected fault."}
}

// sleep waits d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// errorBody is the documented error document.
type errorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
	TraceID   string   `xml:"TraceId"`
}

const xmlHeader = "<?xml version='1.0' encoding='utf-8' ?>\n"

func (x *exchange) fail(e *apiError) {
	body, err := xml.Marshal(errorBody{Code: e.code, Message: e.message, RequestID: x.requestID, TraceID: x.traceID})
	if err != nil { // cannot happen for these field types
		panic(fmt.Errorf("marshal error body: %w", err))
	}
	x.write(e.status, e.code, append([]byte(xmlHeader), body...))
}

func (x *exchange) ok(v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		panic(fmt.Errorf("marshal %T: %w", v, err))
	}
	x.write(http.StatusOK, "", body)
}

func (x *exchange) write(status int, code string, body []byte) {
	h := x.w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	x.w.WriteHeader(status)
	_, _ = x.w.Write(body) // the client may be gone; nothing to do about it
	x.s.mu.Lock()
	x.rec.Status, x.rec.Code = status, code
	x.s.mu.Unlock()
}

// drop closes the connection without answering.
func (x *exchange) drop() {
	hj, ok := x.w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: resets the stream
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// --- GetService ---

type listAllMyBucketsResult struct {
	XMLName xml.Name `xml:"ListAllMyBucketsResult"`
	Owner   struct {
		ID          string `xml:"ID"`
		DisplayName string `xml:"DisplayName"`
	} `xml:"Owner"`
	Buckets struct {
		Bucket []serviceBucket `xml:"Bucket"`
	} `xml:"Buckets"`
	Marker      string `xml:"Marker"`
	NextMarker  string `xml:"NextMarker"`
	IsTruncated bool   `xml:"IsTruncated"`
}

type serviceBucket struct {
	Name         string `xml:"Name"`
	Location     string `xml:"Location"`
	CreationDate string `xml:"CreationDate"`
	BucketType   string `xml:"BucketType"`
}

const maxServiceKeys = 2000

func (s *Server) getService(x *exchange, account string) {
	q := x.r.URL.Query()
	for _, p := range []string{"tagkey", "tagvalue", "create-time", "range"} {
		if q.Has(p) {
			x.fail(&apiError{http.StatusNotImplemented, "NotImplemented", "The emulator does not implement the " + p + " filter."})
			return
		}
	}
	maxKeys := maxServiceKeys
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			x.fail(&apiError{http.StatusBadRequest, "InvalidArgument", fmt.Sprintf("max-keys %q must be a positive integer.", v)})
			return
		}
		maxKeys = min(n, maxServiceKeys)
	}
	marker := q.Get("marker")
	regionParam := q.Get("region")

	var res listAllMyBucketsResult
	res.Owner.ID = "qcs::cam::uin/" + account + ":uin/" + account
	res.Owner.DisplayName = account
	res.Marker = marker
	s.mu.Lock()
	for _, b := range s.sortedBucketsLocked(account) {
		switch {
		case bucket.AppID(b.name) != account,
			b.name <= marker,
			x.rt.region != "" && b.region != x.rt.region,
			regionParam != "" && b.region != regionParam:
			continue
		}
		if len(res.Buckets.Bucket) == maxKeys {
			res.IsTruncated = true
			res.NextMarker = res.Buckets.Bucket[maxKeys-1].Name
			break
		}
		res.Buckets.Bucket = append(res.Buckets.Bucket, serviceBucket{
			Name:         b.name,
			Location:     b.region,
			CreationDate: b.created.UTC().Format("2006-01-02T15:04:05Z"),
			BucketType:   "cos",
		})
	}
	s.mu.Unlock()
	x.ok(res)
}

// --- CI picbucket ---

// picBucket is one element of PicBucket / PicBucketList.
type picBucket struct {
	BucketID   string `xml:"BucketId"`
	Name       string `xml:"Name"`
	Region     string `xml:"Region"`
	CreateTime string `xml:"CreateTime"`
}

type createResult struct {
	XMLName   xml.Name  `xml:"Response"`
	RequestID string    `xml:"RequestId"`
	PicBucket picBucket `xml:"PicBucket"`
}

type describeResult struct {
	XMLName       xml.Name    `xml:"Response"`
	RequestID     string      `xml:"RequestId"`
	TotalCount    int         `xml:"TotalCount"`
	PageNumber    int         `xml:"PageNumber"`
	PageSize      int         `xml:"PageSize"`
	PicBucketList []picBucket `xml:"PicBucketList"`
}

// chinaTime is the zone CI reports times in (+0800).
var chinaTime = time.FixedZone("CST", 8*60*60)

func (b *bucketRecord) pic() picBucket {
	return picBucket{
		BucketID:   b.name,
		Name:       b.name,
		Region:     b.region,
		CreateTime: b.enabledAt.In(chinaTime).Format("2006-01-02T15:04:05-0700"),
	}
}

func (s *Server) createPicProcessBucket(x *exchange, account string) {
	name, region := x.rt.bucket, x.rt.region
	now := s.now()
	s.mu.Lock()
	b, ok := s.buckets[name]
	var e *apiError
	switch {
	case !ok || b.region != region:
		e = &apiError{http.StatusNotFound, "NoSuchBucket", fmt.Sprintf("The bucket %s does not exist in %s.", name, region)}
	case bucket.AppID(name) != account:
		e = &apiError{http.StatusForbidden, "AccessDenied", "Access Denied. The bucket belongs to another account."}
	case b.enabled && !s.opts.AlreadyEnabledOK:
		e = &apiError{http.StatusForbidden, "MediaBucketAlreadyBinded", "The bucket is already bound"}
	case !b.enabled:
		b.enabled, b.enabledAt = true, now
	}
	var pb picBucket
	if e == nil {
		pb = b.pic()
	}
	s.mu.Unlock()
	if e != nil {
		x.fail(e)
		return
	}
	x.ok(createResult{RequestID: x.requestID, PicBucket: pb})
}

func (s *Server) describePicProcessBuckets(x *exchange, account string) {
	q := x.r.URL.Query()
	pageNumber, err := intParam(q.Get("pageNumber"), 1, 1, maxPageNumber)
	if err != nil {
		x.fail(&apiError{http.StatusBadRequest, "InvalidArgument", "pageNumber: " + err.Error()})
		return
	}
	pageSize, err := intParam(q.Get("pageSize"), 10, 1, 100)
	if err != nil {
		x.fail(&apiError{http.StatusBadRequest, "InvalidArgument", "pageSize: " + err.Error()})
		return
	}
	regions := []string{x.rt.region}
	if q.Has("regions") {
		regions = commaList(q.Get("regions"))
	}
	names := commaList(q.Get("bucketNames"))
	prefix := q.Get("bucketName")

	var matched []picBucket
	s.mu.Lock()
	for _, b := range s.sortedBucketsLocked(account) {
		switch {
		case !b.enabled,
			bucket.AppID(b.name) != account,
			!slices.Contains(regions, b.region),
			len(names) > 0 && !slices.Contains(names, b.name),
			!strings.HasPrefix(b.name, prefix):
			continue
		}
		matched = append(matched, b.pic())
	}
	s.mu.Unlock()

	res := describeResult{RequestID: x.requestID, TotalCount: len(matched), PageNumber: pageNumber, PageSize: pageSize}
	from, to := s.listPage(pageNumber, pageSize, len(matched))
	res.PicBucketList = matched[from:to]
	x.ok(res)
}

// maxPageNumber keeps (pageNumber-1)*pageSize far from overflowing.
const maxPageNumber = 1 << 30

// intParam parses an optional integer parameter within [lo, hi].
// listPage returns the slice [from, to) of n listed buckets that page
// pageNumber of pageSize answers, served Options.ListPageSize at a time
// when that is smaller.
func (s *Server) listPage(pageNumber, pageSize, n int) (from, to int) {
	if s.opts.ListPageSize > 0 && s.opts.ListPageSize < pageSize {
		pageSize = s.opts.ListPageSize
	}
	from = min((pageNumber-1)*pageSize, n)
	return from, min(from+pageSize, n)
}

func intParam(v string, def, lo, hi int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", v)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is outside [%d, %d]", n, lo, hi)
	}
	return n, nil
}

func commaList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// --- GetBucketTagging ---

// tagging is GetBucketTagging's answer (https://cloud.tencent.com/document/api/436/34837;
// cos-go-sdk-v5 bucket_tagging.go BucketGetTaggingResult).
type tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	TagSet  struct {
		Tag []tag `xml:"Tag"`
	} `xml:"TagSet"`
}

type tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// getBucketTagging answers GET /?tagging on a bucket's COS host: the tags
// in key order, or 404 NoSuchTagSet for a bucket without tags (the answer
// cos-nodejs-sdk-v5 sdk/base.js maps to an empty list).
func (s *Server) getBucketTagging(x *exchange, account string) {
	name, region := x.rt.bucket, x.rt.region
	s.mu.Lock()
	b, ok := s.buckets[name]
	var e *apiError
	var out tagging
	switch {
	case !ok || b.region != region:
		e = &apiError{http.StatusNotFound, "NoSuchBucket", fmt.Sprintf("The specified bucket %s does not exist.", name)}
	case bucket.AppID(name) != account:
		e = &apiError{http.StatusForbidden, "AccessDenied", "Access Denied."}
	case len(b.tags) == 0:
		e = &apiError{http.StatusNotFound, "NoSuchTagSet", "There is no tag set."}
	default:
		for _, k := range slices.Sorted(maps.Keys(b.tags)) {
			out.TagSet.Tag = append(out.TagSet.Tag, tag{Key: k, Value: b.tags[k]})
		}
	}
	s.mu.Unlock()
	if e != nil {
		x.fail(e)
		return
	}
	x.ok(out)
}
