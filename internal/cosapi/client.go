// Package cosapi makes the three COS and CI calls the function needs, through
// cos-go-sdk-v5: list the account's buckets (GetService), list the buckets
// that have image processing enabled (DescribePicProcessBuckets) and enable
// it on one bucket (CreatePicProcessBucket). Each method sends exactly one
// request; retrying is the caller's policy.
package cosapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	cos "github.com/tencentyun/cos-go-sdk-v5"

	"github.com/picbucket/picbucket/internal/bucket"
)

// Page sizes: the largest each API accepts.
const (
	MaxListBuckets = 2000 // GetService max-keys
	MaxDescribe    = 100  // DescribePicProcessBuckets pageSize
)

// Client sends signed requests over one http.RoundTripper (normally
// signer.Transport over Route). It is safe for concurrent use.
type Client struct {
	http *http.Client
	// Timeout bounds each request; zero means only the caller's context does.
	Timeout  time.Duration
	requests atomic.Int64
}

// New returns a Client that sends through rt.
func New(rt http.RoundTripper) *Client {
	return &Client{http: &http.Client{
		Transport: rt,
		// Never follow a redirect: a 3xx is an answer, not a new address.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Requests returns how many requests the client has sent.
func (c *Client) Requests() int64 { return c.requests.Load() }

func (c *Client) sdk(base *url.URL, service bool) *cos.Client {
	return c.sdkVia(base, service, c.http)
}

// sdkVia is sdk sending through hc.
func (c *Client) sdkVia(base *url.URL, service bool, hc *http.Client) *cos.Client {
	u := &cos.BaseURL{CIURL: base}
	if service {
		u = &cos.BaseURL{ServiceURL: base}
	}
	cl := cos.NewClient(u, hc)
	cl.Conf.RetryOpt.Count = 1 // one request per call: the caller retries
	return cl
}

func (c *Client) start(ctx context.Context) (context.Context, context.CancelFunc) {
	c.requests.Add(1)
	if c.Timeout > 0 {
		return context.WithTimeout(ctx, c.Timeout)
	}
	return context.WithCancel(ctx)
}

func httpsURL(host string) *url.URL { return &url.URL{Scheme: "https", Host: host} }

// BucketPage is one page of GetService.
type BucketPage struct {
	Buckets    []bucket.Target
	NextMarker string
	Truncated  bool
	RequestID  string
}

// ListBuckets returns one page of the account's buckets in all regions,
// starting after marker. maxKeys <= 0 means MaxListBuckets.
func (c *Client) ListBuckets(ctx context.Context, marker string, maxKeys int) (BucketPage, error) {
	if maxKeys <= 0 || maxKeys > MaxListBuckets {
		maxKeys = MaxListBuckets
	}
	ctx, cancel := c.start(ctx)
	defer cancel()
	res, resp, err := c.sdk(httpsURL(bucket.ServiceHost), true).Service.Get(ctx, &cos.ServiceGetOptions{
		MaxKeys: int64(maxKeys), Marker: marker,
	})
	if err != nil {
		return BucketPage{}, wrap("GetService", "", resp, err)
	}
	p := BucketPage{NextMarker: res.NextMarker, Truncated: res.IsTruncated, RequestID: requestID(resp)}
	p.Buckets = make([]bucket.Target, 0, len(res.Buckets))
	for _, b := range res.Buckets {
		p.Buckets = append(p.Buckets, bucket.Target{Bucket: b.Name, Region: b.Region})
	}
	if p.Truncated && p.NextMarker == "" && len(p.Buckets) > 0 {
		p.NextMarker = p.Buckets[len(p.Buckets)-1].Bucket
	}
	return p, nil
}

// EnabledPage is one page of DescribePicProcessBuckets.
type EnabledPage struct {
	Buckets []string
	Total   int
	// Listed is how many bucket elements the page carried, Buckets and
	// those of other regions alike; PageSize is the answer's PageSize
	// (zero when it sent none). The paging loop reads the server's page
	// size from them (docs/sources.md §10).
	Listed, PageSize int
	RequestID        string
}

// ListEnabled returns page (1-based) of the buckets in region that have
// image processing enabled.
func (c *Client) ListEnabled(ctx context.Context, region string, page, pageSize int) (EnabledPage, error) {
	return c.listEnabled(ctx, region, page, pageSize)
}

// listEnabled is ListEnabled; names, when given, restricts the query to them.
func (c *Client) listEnabled(ctx context.Context, region string, page, pageSize int, names ...string) (EnabledPage, error) {
	if pageSize <= 0 || pageSize > MaxDescribe {
		pageSize = MaxDescribe
	}
	ctx, cancel := c.start(ctx)
	defer cancel()
	res, resp, err := c.sdk(httpsURL(bucket.CIRegionHost(region)), false).CI.DescribePicProcessBuckets(ctx,
		&cos.DescribePicProcessBucketsOptions{
			Regions: region, BucketNames: strings.Join(names, ","), PageNumber: page, PageSize: pageSize,
		})
	if err != nil {
		return EnabledPage{}, wrap("DescribePicProcessBuckets", region, resp, err)
	}
	p := EnabledPage{Total: res.TotalCount, Listed: len(res.MediaBucketList), PageSize: res.PageSize, RequestID: cmp.Or(res.RequestId, requestID(resp))}
	for _, b := range res.MediaBucketList {
		if b.Region != "" && b.Region != region {
			continue
		}
		p.Buckets = append(p.Buckets, cmp.Or(b.Name, b.BucketId))
	}
	return p, nil
}

// IsEnabled asks CI whether t has image processing enabled.
func (c *Client) IsEnabled(ctx context.Context, t bucket.Target) (bool, string, error) {
	p, err := c.listEnabled(ctx, t.Region, 1, MaxDescribe, t.Bucket)
	if err != nil {
		return false, "", err
	}
	return slices.Contains(p.Buckets, t.Bucket), p.RequestID, nil
}

// Enabled is CI's answer to a successful CreatePicProcessBucket.
type Enabled struct {
	RequestID string
	// CreateTime is when the bucket's binding was created, as CI reports
	// it; zero if CI sent none or an unreadable one. A binding older than
	// the request means the bucket was enabled before.
	CreateTime time.Time
}

// ciTimeLayouts are the forms of CI's CreateTime ("2022-08-09T16:23:11+0800").
var ciTimeLayouts = []string{"2006-01-02T15:04:05-0700", time.RFC3339}

// Enable sends POST /picbucket to t's CI host.
func (c *Client) Enable(ctx context.Context, t bucket.Target) (Enabled, error) {
	if err := t.Validate(); err != nil {
		return Enabled{}, err
	}
	ctx, cancel := c.start(ctx)
	defer cancel()
	res, resp, err := c.sdk(httpsURL(bucket.CIHost(t)), false).CI.CreatePicProcessBucket(ctx, &cos.CreatePicProcessBucketOptions{})
	if err != nil {
		return Enabled{RequestID: requestID(resp)}, wrap("CreatePicProcessBucket", t.String(), resp, err)
	}
	return Enabled{RequestID: cmp.Or(res.RequestId, requestID(resp)), CreateTime: parseCITime(res.PicBucket.CreateTime)}, nil
}

// parseCITime reads a binding's CreateTime; zero when it is absent or
// unreadable.
func parseCITime(s string) time.Time {
	ts := strings.TrimRight(strings.TrimSpace(s), ">")
	for _, layout := range ciTimeLayouts {
		if tm, err := time.Parse(layout, ts); err == nil {
			return tm
		}
	}
	return time.Time{}
}

// Error is a failed call: an error answer from the service (Status > 0) or a
// failure to get one (Status 0, Err set).
type Error struct {
	Op        string // API action
	Subject   string // bucket@region or region
	Status    int    // HTTP status; 0 when no answer arrived
	Code      string // service error code
	Message   string
	RequestID string
	// ServiceXML says the answer's body was an XML <Error> document, as
	// COS and CI write theirs; false for a page a proxy or gateway wrote
	// (HTML, an empty body, JSON).
	ServiceXML bool
	Err        error // the underlying error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Subject != "" {
		b.WriteString(" " + e.Subject)
	}
	if e.Status == 0 {
		fmt.Fprintf(&b, ": %v", e.Err)
		return b.String()
	}
	fmt.Fprintf(&b, ": %d %s", e.Status, e.Code)
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

func wrap(op, subject string, resp *cos.Response, err error) error {
	e := &Error{Op: op, Subject: subject, Err: err}
	var er *cos.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		e.Status = er.Response.StatusCode
		e.ServiceXML = er.XMLName.Local == "Error"
		e.Code = er.Code
		e.Message = er.Message
		e.RequestID = cmp.Or(er.RequestID, requestID(resp))
		if e.Code == "" {
			e.Code = http.StatusText(e.Status)
		}
		return e
	}
	if resp != nil && resp.Response != nil {
		// An answer that was not an error but could not be read.
		e.Status = resp.StatusCode
		e.Code = MalformedResponse
		e.Message = err.Error()
		e.RequestID = requestID(resp)
	}
	return e
}

func requestID(resp *cos.Response) string {
	if resp == nil || resp.Response == nil {
		return ""
	}
	return cmp.Or(resp.Header.Get("x-ci-request-id"), resp.Header.Get("x-cos-request-id"))
}

// Tags returns t's bucket tags (COS GetBucketTagging, GET /?tagging on
// "<bucket>.cos.<region>.myqcloud.com": https://cloud.tencent.com/document/api/436/34837;
// cos-go-sdk-v5 bucket_tagging.go). A bucket without tags answers 404 with
// COS's XML error document (IsNoTagSet): Tags returns an empty map. Any
// other 404 is an error: NoSuchBucket, and a 404 whose body is not COS's
// XML (a proxy's or gateway's page), which says nothing about the tags.
// docs/sources.md §7 lists the forms.
func (c *Client) Tags(ctx context.Context, t bucket.Target) (map[string]string, string, error) {
	if err := t.Validate(); err != nil {
		return nil, "", err
	}
	ctx, cancel := c.start(ctx)
	defer cancel()
	cl := cos.NewClient(&cos.BaseURL{BucketURL: httpsURL(bucket.COSHost(t))}, c.http)
	cl.Conf.RetryOpt.Count = 1
	res, resp, err := cl.Bucket.GetTagging(ctx)
	if err != nil {
		werr := wrap("GetBucketTagging", t.String(), resp, err)
		if IsNoTagSet(werr) {
			return map[string]string{}, requestID(resp), nil
		}
		return nil, requestID(resp), werr
	}
	tags := make(map[string]string, len(res.TagSet))
	for _, tg := range res.TagSet {
		tags[tg.Key] = tg.Value
	}
	return tags, requestID(resp), nil
}

// IsNoTagSet reports GetBucketTagging's answer for a bucket without tags: a
// 404 whose body is COS's XML error document (Error.ServiceXML) with the
// code NoSuchTagSet (COS error codes, https://www.tencentcloud.com/document/product/436/7730),
// NoSuchTagSetError (older copies of the GET Bucket tagging page), or no
// code. Any other 404 code (NoSuchBucket) is not, and neither is a 404
// whose body is not COS's XML (cos-go-sdk-v5 then reports no code): a
// proxy's "not found" page must never read as "no tags", since a bucket
// whose tags are unknown may carry an opt-out.
func IsNoTagSet(err error) bool {
	e, ok := apiError(err)
	return ok && e.Status == http.StatusNotFound && e.ServiceXML &&
		(e.Code == "NoSuchTagSet" || e.Code == "NoSuchTagSetError" || e.Code == "" || e.Code == http.StatusText(http.StatusNotFound))
}
