package emulator

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	cos "github.com/tencentyun/cos-go-sdk-v5"
)

const (
	appID      = "1250000000"
	otherAppID = "1250000001"
	secretID   = "AKIDTEST"
	secretKey  = "test-secret-key"
	token      = "test-session-token"
	region     = "ap-guangzhou"
)

// fakeClock is a settable clock near the real time (the SDK signs with
// time.Now, so the emulator clock must stay within the signature window).
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is an emulator behind an httptest server with the default credential
// (a temporary key of appID) registered.
type env struct {
	emu *Server
	srv *httptest.Server
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	emu := New(opts)
	emu.AddCredential(Credential{SecretID: secretID, SecretKey: secretKey, Token: token, AppID: appID})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &env{emu: emu, srv: srv}
}

// redirect sends requests to the httptest server while keeping req.Host,
// so the Host header stays the production *.myqcloud.com name. tamper, if
// set, edits the request after it has been signed.
type redirect struct {
	target *url.URL
	base   http.RoundTripper
	tamper func(*http.Request)
}

func (rt redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if req.Host == "" {
		req.Host = req.URL.Host
	}
	req.URL.Scheme, req.URL.Host = rt.target.Scheme, rt.target.Host
	if rt.tamper != nil {
		rt.tamper(req)
	}
	return rt.base.RoundTrip(req)
}

type key struct{ id, secret, token string }

var defaultKey = key{secretID, secretKey, token}

// httpClient returns a client that signs with k through the SDK's
// AuthorizationTransport and reaches the emulator.
func (e *env) httpClient(k key, tamper func(*http.Request)) *http.Client {
	target, _ := url.Parse(e.srv.URL)
	return &http.Client{Transport: &cos.AuthorizationTransport{
		SecretID:     k.id,
		SecretKey:    k.secret,
		SessionToken: k.token,
		Transport:    redirect{target: target, base: e.srv.Client().Transport, tamper: tamper},
	}}
}

// client returns an SDK client whose CI base URL is ciHost (a bucket's or a
// region's CI host) and whose service URL is serviceHost ("" for
// service.cos.myqcloud.com).
func (e *env) client(t *testing.T, k key, ciHost, serviceHost string, tamper func(*http.Request)) *cos.Client {
	t.Helper()
	if serviceHost == "" {
		serviceHost = "service.cos.myqcloud.com"
	}
	if ciHost == "" {
		ciHost = "ci." + region + ".myqcloud.com"
	}
	ciURL, err := url.Parse("https://" + ciHost)
	if err != nil {
		t.Fatal(err)
	}
	serviceURL, err := url.Parse("https://" + serviceHost)
	if err != nil {
		t.Fatal(err)
	}
	c := cos.NewClient(&cos.BaseURL{CIURL: ciURL, ServiceURL: serviceURL}, e.httpClient(k, tamper))
	c.Conf.RetryOpt.Count = 1
	return c
}

func ciHostOf(bucketName, reg string) string { return bucketName + ".ci." + reg + ".myqcloud.com" }

// wantCOSError checks that err is a COS error with status and code.
func wantCOSError(t *testing.T, err error, status int, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %d %s", status, code)
	}
	var e *cos.ErrorResponse
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want a *cos.ErrorResponse %d %s", err, err, status, code)
	}
	if e.Response.StatusCode != status || e.Code != code {
		t.Fatalf("got %d %s (%s), want %d %s", e.Response.StatusCode, e.Code, e.Message, status, code)
	}
	if e.RequestID == "" || e.TraceID == "" {
		t.Errorf("error body lacks RequestId or TraceId: %+v", e)
	}
}

func bucketName(prefix string, i int, app string) string {
	return fmt.Sprintf("%s-%04d-%s", prefix, i, app)
}

func TestGetServicePaging(t *testing.T) {
	e := newEnv(t, Options{})
	const n = 2001
	for i := range n {
		reg := region
		if i%2 == 1 {
			reg = "ap-shanghai"
		}
		e.emu.AddBucket(bucketName("bkt", i, appID), reg, false)
	}
	e.emu.AddBucket(bucketName("aaa", 1, otherAppID), region, false)
	e.emu.AddBucket(bucketName("zzz", 1, otherAppID), region, false)
	last := bucketName("bkt", n-1, appID)
	page1Last := bucketName("bkt", n-2, appID)

	ctx := context.Background()
	for _, tc := range []struct {
		name          string
		host          string
		opt           *cos.ServiceGetOptions
		wantCount     int
		wantFirst     string
		wantTruncated bool
		wantNext      string
	}{
		{"default max-keys is 2000", "", nil, 2000, bucketName("bkt", 0, appID), true, page1Last},
		{"page 1", "", &cos.ServiceGetOptions{MaxKeys: 2000}, 2000, bucketName("bkt", 0, appID), true, page1Last},
		{"page 2", "", &cos.ServiceGetOptions{MaxKeys: 2000, Marker: page1Last}, 1, last, false, ""},
		{"small pages", "", &cos.ServiceGetOptions{MaxKeys: 3, Marker: bucketName("bkt", 10, appID)}, 3, bucketName("bkt", 11, appID), true, bucketName("bkt", 13, appID)},
		{"max-keys above 2000 is capped", "", &cos.ServiceGetOptions{MaxKeys: 5000}, 2000, bucketName("bkt", 0, appID), true, page1Last},
		{"region param", "", &cos.ServiceGetOptions{Region: "ap-shanghai"}, 1000, bucketName("bkt", 1, appID), false, ""},
		{"regional host", "cos.ap-guangzhou.myqcloud.com", nil, 1001, bucketName("bkt", 0, appID), false, ""},
		{"regional host and other region param", "cos.ap-guangzhou.myqcloud.com", &cos.ServiceGetOptions{Region: "ap-shanghai"}, 0, "", false, ""},
		{"marker past the end", "", &cos.ServiceGetOptions{Marker: last}, 0, "", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.client(t, defaultKey, "", tc.host, nil)
			var res *cos.ServiceGetResult
			var err error
			if tc.opt == nil {
				res, _, err = c.Service.Get(ctx)
			} else {
				res, _, err = c.Service.Get(ctx, tc.opt)
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Buckets) != tc.wantCount || res.IsTruncated != tc.wantTruncated || res.NextMarker != tc.wantNext {
				t.Fatalf("got %d buckets, truncated %v, next %q; want %d, %v, %q",
					len(res.Buckets), res.IsTruncated, res.NextMarker, tc.wantCount, tc.wantTruncated, tc.wantNext)
			}
			if tc.wantCount > 0 && res.Buckets[0].Name != tc.wantFirst {
				t.Errorf("first bucket %s, want %s", res.Buckets[0].Name, tc.wantFirst)
			}
			for i, b := range res.Buckets {
				if !strings.HasSuffix(b.Name, "-"+appID) {
					t.Fatalf("bucket %s of another account listed", b.Name)
				}
				if i > 0 && res.Buckets[i-1].Name >= b.Name {
					t.Fatalf("not sorted: %s before %s", res.Buckets[i-1].Name, b.Name)
				}
				if b.Region == "" || b.BucketType != "cos" || !strings.HasSuffix(b.CreationDate, "Z") {
					t.Fatalf("incomplete bucket %+v", b)
				}
			}
			if res.Owner == nil || res.Owner.ID != "qcs::cam::uin/"+appID+":uin/"+appID {
				t.Errorf("owner = %+v", res.Owner)
			}
		})
	}

	t.Run("walk all pages", func(t *testing.T) {
		c := e.client(t, defaultKey, "", "", nil)
		var got []string
		marker := ""
		for pages := 0; ; pages++ {
			if pages > 3 {
				t.Fatal("too many pages")
			}
			res, _, err := c.Service.Get(ctx, &cos.ServiceGetOptions{MaxKeys: 2000, Marker: marker})
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range res.Buckets {
				got = append(got, b.Name)
			}
			if !res.IsTruncated {
				if pages != 1 {
					t.Errorf("got %d pages, want 2", pages+1)
				}
				break
			}
			marker = res.NextMarker
		}
		if len(got) != n {
			t.Errorf("listed %d buckets, want %d", len(got), n)
		}
	})

	t.Run("invalid max-keys", func(t *testing.T) {
		for _, v := range []string{"0", "-1", "abc"} {
			resp := e.do(t, defaultKey, http.MethodGet, "service.cos.myqcloud.com", "/?max-keys="+v)
			wantStatusCode(t, resp, http.StatusBadRequest, "InvalidArgument")
		}
	})
}

func TestCreatePicProcessBucket(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name             string
		alreadyEnabledOK bool
		bucket           string // bucket addressed
		hostRegion       string
		setup            func(*Server)
		wantStatus       int
		wantCode         string
		wantEnabled      bool
	}{
		{
			name: "enable", bucket: "photos-" + appID, hostRegion: region,
			setup:      func(s *Server) { s.AddBucket("photos-"+appID, region, false) },
			wantStatus: http.StatusOK, wantEnabled: true,
		},
		{
			name: "already enabled, strict", bucket: "photos-" + appID, hostRegion: region,
			setup:      func(s *Server) { s.AddBucket("photos-"+appID, region, true) },
			wantStatus: http.StatusForbidden, wantCode: "MediaBucketAlreadyBinded", wantEnabled: true,
		},
		{
			name: "already enabled, lenient", alreadyEnabledOK: true, bucket: "photos-" + appID, hostRegion: region,
			setup:      func(s *Server) { s.AddBucket("photos-"+appID, region, true) },
			wantStatus: http.StatusOK, wantEnabled: true,
		},
		{
			name: "no such bucket", bucket: "missing-" + appID, hostRegion: region,
			setup:      func(*Server) {},
			wantStatus: http.StatusNotFound, wantCode: "NoSuchBucket",
		},
		{
			name: "bucket in another region", bucket: "photos-" + appID, hostRegion: "ap-shanghai",
			setup:      func(s *Server) { s.AddBucket("photos-"+appID, region, false) },
			wantStatus: http.StatusNotFound, wantCode: "NoSuchBucket",
		},
		{
			name: "bucket of another account", bucket: "photos-" + otherAppID, hostRegion: region,
			setup:      func(s *Server) { s.AddBucket("photos-"+otherAppID, region, false) },
			wantStatus: http.StatusForbidden, wantCode: "AccessDenied",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{AlreadyEnabledOK: tc.alreadyEnabledOK})
			tc.setup(e.emu)
			c := e.client(t, defaultKey, ciHostOf(tc.bucket, tc.hostRegion), "", nil)
			res, resp, err := c.CI.CreatePicProcessBucket(ctx, &cos.CreatePicProcessBucketOptions{})
			if tc.wantCode != "" {
				wantCOSError(t, err, tc.wantStatus, tc.wantCode)
			} else {
				if err != nil {
					t.Fatal(err)
				}
				pb := res.PicBucket
				if pb.Name != tc.bucket || pb.BucketId != tc.bucket || pb.Region != tc.hostRegion ||
					!strings.HasSuffix(pb.CreateTime, "+0800") || res.RequestId == "" {
					t.Errorf("unexpected result %+v", res)
				}
			}
			if resp == nil {
				t.Fatal("no response")
			}
			if got := resp.Header.Get("Server"); got != "tencent-ci" {
				t.Errorf("Server = %q", got)
			}
			if resp.Header.Get("x-ci-request-id") == "" {
				t.Error("no x-ci-request-id")
			}
			if got := e.emu.Enabled(tc.bucket); got != tc.wantEnabled {
				t.Errorf("Enabled = %v, want %v", got, tc.wantEnabled)
			}
			reqs := e.emu.Requests()
			if len(reqs) != 1 {
				t.Fatalf("logged %d requests", len(reqs))
			}
			r := reqs[0]
			if r.Action != ActionCreatePicProcessBucket || r.Status != tc.wantStatus || r.Code != tc.wantCode ||
				!r.SignatureValid || r.SecretID != secretID || r.Token != token || r.Method != http.MethodPost {
				t.Errorf("log entry %+v", r)
			}
		})
	}
}

func TestDescribePicProcessBuckets(t *testing.T) {
	e := newEnv(t, Options{})
	const enabled = 101
	for i := range enabled {
		e.emu.AddBucket(bucketName("pic", i, appID), region, true)
	}
	e.emu.AddBucket(bucketName("off", 0, appID), region, false)
	e.emu.AddBucket(bucketName("pic", 0, otherAppID), region, true)
	e.emu.AddBucket(bucketName("sha", 0, appID), "ap-shanghai", true)
	e.emu.AddBucket(bucketName("sha", 1, appID), "ap-shanghai", true)

	ctx := context.Background()
	c := e.client(t, defaultKey, "", "", nil)
	for _, tc := range []struct {
		name      string
		opt       cos.DescribePicProcessBucketsOptions
		wantTotal int
		wantNames []string // the page's names, or nil to check only wantCount
		wantCount int
		wantSize  int
		wantPage  int
	}{
		{"defaults", cos.DescribePicProcessBucketsOptions{}, enabled, nil, 10, 10, 1},
		{"page 1 of 100", cos.DescribePicProcessBucketsOptions{PageSize: 100}, enabled, nil, 100, 100, 1},
		{"page 2 of 100", cos.DescribePicProcessBucketsOptions{PageSize: 100, PageNumber: 2}, enabled,
			[]string{bucketName("pic", 100, appID)}, 1, 100, 2},
		{"page 3 is empty", cos.DescribePicProcessBucketsOptions{PageSize: 100, PageNumber: 3}, enabled, []string{}, 0, 100, 3},
		{"exact names", cos.DescribePicProcessBucketsOptions{BucketNames: bucketName("pic", 7, appID) + "," + bucketName("off", 0, appID) + "," + bucketName("pic", 3, appID)},
			2, []string{bucketName("pic", 3, appID), bucketName("pic", 7, appID)}, 2, 10, 1},
		{"prefix", cos.DescribePicProcessBucketsOptions{BucketName: "pic-005"}, 10, nil, 10, 10, 1},
		{"other region", cos.DescribePicProcessBucketsOptions{Regions: "ap-shanghai"}, 2,
			[]string{bucketName("sha", 0, appID), bucketName("sha", 1, appID)}, 2, 10, 1},
		{"several regions", cos.DescribePicProcessBucketsOptions{Regions: "ap-shanghai,ap-guangzhou", PageSize: 100, PageNumber: 2}, enabled + 2, nil, 3, 100, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := tc.opt
			res, _, err := c.CI.DescribePicProcessBuckets(ctx, &opt)
			if err != nil {
				t.Fatal(err)
			}
			if res.TotalCount != tc.wantTotal || len(res.MediaBucketList) != tc.wantCount ||
				res.PageSize != tc.wantSize || res.PageNumber != tc.wantPage {
				t.Fatalf("total %d, %d on page, size %d, page %d; want %d, %d, %d, %d",
					res.TotalCount, len(res.MediaBucketList), res.PageSize, res.PageNumber,
					tc.wantTotal, tc.wantCount, tc.wantSize, tc.wantPage)
			}
			var names []string
			for _, b := range res.MediaBucketList {
				if !strings.HasSuffix(b.Name, "-"+appID) || b.BucketId != b.Name || b.Region == "" || b.CreateTime == "" {
					t.Fatalf("unexpected bucket %+v", b)
				}
				names = append(names, b.Name)
			}
			if tc.wantNames != nil && strings.Join(names, ",") != strings.Join(tc.wantNames, ",") {
				t.Errorf("names %v, want %v", names, tc.wantNames)
			}
		})
	}

	for _, q := range []string{"pageSize=0", "pageSize=101", "pageSize=x", "pageNumber=0"} {
		t.Run("invalid "+q, func(t *testing.T) {
			resp := e.do(t, defaultKey, http.MethodGet, "ci."+region+".myqcloud.com", "/picbucket?"+q)
			wantStatusCode(t, resp, http.StatusBadRequest, "InvalidArgument")
		})
	}
}

// do sends a raw request signed with k (through the SDK transport).
func (e *env) do(t *testing.T, k key, method, host, pathQuery string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, "https://"+host+pathQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.httpClient(k, nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// wantStatusCode reads an error answer and checks it against the documented
// shape.
func wantStatusCode(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("Content-Type %q", ct)
	}
	const decl = "<?xml version='1.0' encoding='utf-8' ?>"
	if !strings.HasPrefix(string(body), decl) {
		t.Errorf("body does not start with %s: %s", decl, body)
	}
	var eb struct {
		Code, Message, RequestId, TraceId string
	}
	if err := xml.Unmarshal(body, &eb); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if eb.Code != code || eb.Message == "" || eb.RequestId == "" || eb.TraceId == "" {
		t.Errorf("error body %+v, want code %s", eb, code)
	}
}

func TestAuthentication(t *testing.T) {
	const permID, permKey = "AKIDPERMANENT", "permanent-secret"
	const expID, expKey = "AKIDEXPIRED", "expired-secret"
	ciBucket := ciHostOf("photos-"+appID, region)

	// call is one SDK call and the CI host its client needs.
	type call struct {
		ciHost string
		fn     func(*cos.Client) error
	}
	create := call{ciBucket, func(c *cos.Client) error {
		_, _, err := c.CI.CreatePicProcessBucket(context.Background(), &cos.CreatePicProcessBucketOptions{})
		return err
	}}
	describe := call{"", func(c *cos.Client) error {
		_, _, err := c.CI.DescribePicProcessBuckets(context.Background(), &cos.DescribePicProcessBucketsOptions{PageSize: 5})
		return err
	}}
	service := call{"", func(c *cos.Client) error {
		_, _, err := c.Service.Get(context.Background(), &cos.ServiceGetOptions{MaxKeys: 5})
		return err
	}}
	addQuery := func(extra string) func(*http.Request) {
		return func(r *http.Request) { r.URL.RawQuery += "&" + extra }
	}

	for _, tc := range []struct {
		name       string
		opts       Options
		k          key
		tamper     func(*http.Request)
		call       call
		wantStatus int
		wantCode   string // "" = success
		wantSigOK  bool
	}{
		{name: "temporary key", k: defaultKey, call: create, wantStatus: 200, wantSigOK: true},
		{name: "permanent key", k: key{permID, permKey, ""}, call: service, wantStatus: 200, wantSigOK: true},
		{name: "wrong secret key", k: key{secretID, "wrong", token}, call: create,
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "wrong secret key on COS", k: key{secretID, "wrong", token}, call: service,
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "unknown key id", k: key{"AKIDUNKNOWN", secretKey, token}, call: describe,
			wantStatus: 403, wantCode: "InvalidAccessKeyId"},
		{name: "wrong token", k: key{secretID, secretKey, "other-token"}, call: create,
			wantStatus: 403, wantCode: "AccessDenied", wantSigOK: true},
		{name: "missing token", k: key{secretID, secretKey, ""}, call: describe,
			wantStatus: 403, wantCode: "AccessDenied", wantSigOK: true},
		{name: "token with a permanent key", k: key{permID, permKey, "spurious"}, call: service,
			wantStatus: 403, wantCode: "AccessDenied", wantSigOK: true},
		{name: "unsigned x-ci-security-token", k: key{secretID, secretKey, token}, call: create,
			tamper:     func(r *http.Request) { r.Header.Set("x-ci-security-token", token) },
			wantStatus: 403, wantCode: "AccessDenied", wantSigOK: true},
		{name: "conflicting unsigned x-ci-security-token", k: key{secretID, secretKey, token}, call: create,
			tamper:     func(r *http.Request) { r.Header.Set("x-ci-security-token", "forged") },
			wantStatus: 403, wantCode: "AccessDenied", wantSigOK: true},
		{name: "expired key on CI", k: key{expID, expKey, "exp-token"}, call: describe,
			wantStatus: 401, wantCode: "SignatureExpired", wantSigOK: true},
		{name: "expired key on COS", k: key{expID, expKey, "exp-token"}, call: service,
			wantStatus: 400, wantCode: "ExpiredToken", wantSigOK: true},
		{name: "server clock 2h ahead on COS", opts: Options{Now: func() time.Time { return time.Now().Add(2 * time.Hour) }},
			k: defaultKey, call: service, wantStatus: 403, wantCode: "RequestTimeTooSkewed", wantSigOK: true},
		{name: "server clock 20m behind on CI", opts: Options{Now: func() time.Time { return time.Now().Add(-20 * time.Minute) }},
			k: defaultKey, call: describe, wantStatus: 401, wantCode: "SignatureExpired", wantSigOK: true},
		{name: "server clock 10m behind is within skew", opts: Options{Now: func() time.Time { return time.Now().Add(-10 * time.Minute) }},
			k: defaultKey, call: describe, wantStatus: 200, wantSigOK: true},
		{name: "unsigned extra query parameter", k: defaultKey, call: describe, tamper: addQuery("bucketName=x"),
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "unsigned parameter on COS", k: defaultKey, call: service, tamper: addQuery("region=ap-shanghai"),
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "tampered signed parameter", k: defaultKey, call: describe,
			tamper:     func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "pageSize=5", "pageSize=6", 1) },
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "tampered path", k: defaultKey, call: describe,
			tamper:     func(r *http.Request) { r.URL.Path = "/picbucket/" },
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "host not signed", k: defaultKey, call: describe,
			tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
			},
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "malformed Authorization on CI", k: defaultKey, call: describe,
			tamper:     func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc") },
			wantStatus: 401, wantCode: "InvalidAuthorization"},
		{name: "missing Authorization on CI", k: key{}, call: describe,
			wantStatus: 401, wantCode: "MissingAuthorization"},
		{name: "missing Authorization on COS", k: key{}, call: service,
			wantStatus: 403, wantCode: "AccessDenied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts)
			e.emu.AddCredential(Credential{SecretID: permID, SecretKey: permKey, AppID: appID})
			e.emu.AddCredential(Credential{SecretID: expID, SecretKey: expKey, Token: "exp-token", AppID: appID})
			e.emu.ExpireCredential(expID)
			e.emu.AddBucket("photos-"+appID, region, false)
			err := tc.call.fn(e.client(t, tc.k, tc.call.ciHost, "", tc.tamper))
			if tc.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				wantCOSError(t, err, tc.wantStatus, tc.wantCode)
			}
			reqs := e.emu.Requests()
			if len(reqs) != 1 {
				t.Fatalf("logged %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Status != tc.wantStatus || r.Code != tc.wantCode || r.SignatureValid != tc.wantSigOK {
				t.Errorf("log entry: status %d code %q sigOK %v; want %d %q %v",
					r.Status, r.Code, r.SignatureValid, tc.wantStatus, tc.wantCode, tc.wantSigOK)
			}
			wantID := tc.k.id
			if tc.wantCode == "InvalidAuthorization" {
				wantID = "" // no q-ak to record
			}
			if r.SecretID != wantID {
				t.Errorf("logged SecretID %q, want %q", r.SecretID, wantID)
			}
			if tc.k.id != "" && !contains(r.SignedHeaders, "host") && tc.name != "host not signed" && tc.wantCode != "InvalidAuthorization" {
				t.Errorf("SignedHeaders %v lack host", r.SignedHeaders)
			}
			if logged := fmt.Sprintf("%+v", reqs); strings.Contains(logged, tc.k.secret) && tc.k.secret != "" {
				t.Error("the request log contains the secret key")
			}
			st := e.emu.Stats()
			wantFailures := 0
			if tc.wantCode != "" {
				wantFailures = 1
			}
			if st.AuthFailures != wantFailures || st.Total != 1 {
				t.Errorf("stats %+v, want 1 request and %d auth failures", st, wantFailures)
			}
		})
	}
}

func TestTokenHeaders(t *testing.T) {
	// A temporary key may present its token in the signed x-ci-security-token
	// header instead of (or as well as) x-cos-security-token.
	for _, tc := range []struct {
		name     string
		sdkToken string
		headers  map[string]string
		wantCode string
	}{
		{"x-ci only", "", map[string]string{"x-ci-security-token": token}, ""},
		{"both", token, map[string]string{"x-ci-security-token": token}, ""},
		{"both, x-ci wrong", token, map[string]string{"x-ci-security-token": "nope"}, "AccessDenied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			h := http.Header{}
			for k, v := range tc.headers {
				h.Set(k, v)
			}
			//lint:ignore SA1029 cos-go-sdk-v5 reads its optional headers under its own exported string key.
			ctx := context.WithValue(context.Background(), cos.XOptionalKey, &cos.XOptionalValue{Header: &h})
			c := e.client(t, key{secretID, secretKey, tc.sdkToken}, "", "", nil)
			_, _, err := c.CI.DescribePicProcessBuckets(ctx, &cos.DescribePicProcessBucketsOptions{})
			if tc.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCOSError(t, err, http.StatusForbidden, tc.wantCode)
		})
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t, Options{})
	e.emu.AddBucket("photos-"+appID, region, false)
	for _, tc := range []struct {
		name       string
		method     string
		host       string
		path       string
		k          key
		wantStatus int
		wantCode   string
		wantServer string
	}{
		{"foreign host", http.MethodGet, "example.com", "/", key{}, 400, "InvalidHost", "tencent-cos"},
		{"lookalike host", http.MethodGet, "service.cos.myqcloud.com.evil.net", "/", key{}, 400, "InvalidHost", "tencent-cos"},
		{"too many labels", http.MethodGet, "a.b.ci.ap-guangzhou.myqcloud.com", "/picbucket", key{}, 400, "InvalidHost", "tencent-cos"},
		{"bad region", http.MethodGet, "ci.AP_GZ.myqcloud.com", "/picbucket", key{}, 400, "InvalidHost", "tencent-cos"},
		{"unknown product", http.MethodGet, "vod.ap-guangzhou.myqcloud.com", "/", key{}, 400, "InvalidHost", "tencent-cos"},
		{"describe on a bucket host", http.MethodGet, ciHostOf("photos-"+appID, region), "/picbucket", defaultKey, 405, "MethodNotAllowed", "tencent-ci"},
		{"delete picbucket", http.MethodDelete, ciHostOf("photos-"+appID, region), "/picbucket", defaultKey, 405, "MethodNotAllowed", "tencent-ci"},
		{"create on the regional host", http.MethodPost, "ci." + region + ".myqcloud.com", "/picbucket", defaultKey, 405, "MethodNotAllowed", "tencent-ci"},
		{"unknown CI path", http.MethodGet, "ci." + region + ".myqcloud.com", "/other", defaultKey, 404, "InvalidUrl", "tencent-ci"},
		{"unknown COS path", http.MethodGet, "service.cos.myqcloud.com", "/x", defaultKey, 404, "InvalidUrl", "tencent-cos"},
		{"PUT on service", http.MethodPut, "service.cos.myqcloud.com", "/", defaultKey, 405, "MethodNotAllowed", "tencent-cos"},
		{"object API", http.MethodGet, "photos-" + appID + ".cos." + region + ".myqcloud.com", "/", defaultKey, 501, "NotImplemented", "tencent-cos"},
		{"unknown path is still authenticated", http.MethodGet, "ci." + region + ".myqcloud.com", "/other", key{}, 401, "MissingAuthorization", "tencent-ci"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.emu.ResetRequests()
			resp := e.do(t, tc.k, tc.method, tc.host, tc.path)
			if got := resp.Header.Get("Server"); got != tc.wantServer {
				t.Errorf("Server %q, want %q", got, tc.wantServer)
			}
			idHeader := "x-cos-request-id"
			if tc.wantServer == "tencent-ci" {
				idHeader = "x-ci-request-id"
			}
			if resp.Header.Get(idHeader) == "" {
				t.Errorf("no %s header", idHeader)
			}
			wantStatusCode(t, resp, tc.wantStatus, tc.wantCode)
			reqs := e.emu.Requests()
			if len(reqs) != 1 || reqs[0].Action != ActionUnknown || reqs[0].Status != tc.wantStatus || reqs[0].Code != tc.wantCode {
				t.Errorf("log %+v", reqs)
			}
		})
	}
	if got := e.emu.Stats().ByAction[ActionUnknown]; got != 13 {
		t.Errorf("ByAction[Unknown] = %d, want 13", got)
	}
}

func TestFaultInjection(t *testing.T) {
	ctx := context.Background()
	a, b := "alpha-"+appID, "beta-"+appID

	t.Run("status faults in FIFO order", func(t *testing.T) {
		e := newEnv(t, Options{})
		e.emu.AddBucket(a, region, false)
		e.emu.AddBucket(b, region, false)
		e.emu.Inject(Fault{Action: ActionCreatePicProcessBucket, Bucket: a, Status: 500, Times: 2})
		e.emu.Inject(Fault{Action: ActionCreatePicProcessBucket, Code: "SlowDown", Status: 429})
		e.emu.Inject(Fault{Action: ActionDescribePicProcessBuckets, Status: 503})
		ca := e.client(t, defaultKey, ciHostOf(a, region), "", nil)
		cb := e.client(t, defaultKey, ciHostOf(b, region), "", nil)
		create := func(c *cos.Client) error {
			_, _, err := c.CI.CreatePicProcessBucket(ctx, &cos.CreatePicProcessBucketOptions{})
			return err
		}
		// b skips the fault bound to a and takes the generic one.
		wantCOSError(t, create(cb), 429, "SlowDown")
		if e.emu.Enabled(b) {
			t.Error("b enabled despite the fault")
		}
		if err := create(cb); err != nil {
			t.Fatalf("b after its fault: %v", err)
		}
		wantCOSError(t, create(ca), 500, "InternalError")
		wantCOSError(t, create(ca), 500, "InternalError")
		if err := create(ca); err != nil {
			t.Fatalf("a after two faults: %v", err)
		}
		_, _, err := e.client(t, defaultKey, "", "", nil).CI.DescribePicProcessBuckets(ctx, &cos.DescribePicProcessBucketsOptions{})
		wantCOSError(t, err, 503, "ServiceUnavailable")
		if st := e.emu.Stats(); st.Injected != 4 {
			t.Errorf("Injected = %d, want 4", st.Injected)
		}
	})

	t.Run("faults apply after authentication", func(t *testing.T) {
		e := newEnv(t, Options{})
		e.emu.AddBucket(a, region, false)
		e.emu.Inject(Fault{Status: 500})
		c := e.client(t, key{secretID, "wrong", token}, ciHostOf(a, region), "", nil)
		_, _, err := c.CI.CreatePicProcessBucket(ctx, &cos.CreatePicProcessBucketOptions{})
		wantCOSError(t, err, 403, "SignatureDoesNotMatch")
		if st := e.emu.Stats(); st.Injected != 0 {
			t.Errorf("fault consumed by an unauthenticated request: %+v", st)
		}
	})

	t.Run("drop", func(t *testing.T) {
		e := newEnv(t, Options{})
		e.emu.AddBucket(a, region, false)
		e.emu.Inject(Fault{Action: ActionCreatePicProcessBucket, Drop: true})
		c := e.client(t, defaultKey, ciHostOf(a, region), "", nil)
		_, _, err := c.CI.CreatePicProcessBucket(ctx, &cos.CreatePicProcessBucketOptions{})
		var cosErr *cos.ErrorResponse
		if err == nil || errors.As(err, &cosErr) {
			t.Fatalf("got %v, want a transport error", err)
		}
		if e.emu.Enabled(a) {
			t.Error("dropped request enabled the bucket")
		}
		reqs := e.emu.Requests()
		if len(reqs) != 1 || reqs[0].Status != 0 {
			t.Errorf("log %+v", reqs)
		}
		if _, _, err := c.CI.CreatePicProcessBucket(ctx, &cos.CreatePicProcessBucketOptions{}); err != nil {
			t.Fatalf("after the drop: %v", err)
		}
	})

	t.Run("delay only", func(t *testing.T) {
		e := newEnv(t, Options{})
		const d = 80 * time.Millisecond
		e.emu.Inject(Fault{Action: ActionGetService, Delay: d})
		c := e.client(t, defaultKey, "", "", nil)
		start := time.Now()
		if _, _, err := c.Service.Get(ctx); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el < d {
			t.Errorf("took %s, want >= %s", el, d)
		}
	})
}

func TestThrottling(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := newEnv(t, Options{QPS: 20, Now: clock.Now}) // burst 2
	e.emu.AddCredential(Credential{SecretID: "AKIDOTHER", SecretKey: "other", AppID: otherAppID})
	ctx := context.Background()
	ci := e.client(t, defaultKey, "", "", nil)
	describe := func(c *cos.Client) error {
		_, _, err := c.CI.DescribePicProcessBuckets(ctx, &cos.DescribePicProcessBucketsOptions{})
		return err
	}
	service := func(c *cos.Client) error {
		_, _, err := c.Service.Get(ctx)
		return err
	}

	for i := range 2 {
		if err := describe(ci); err != nil {
			t.Fatalf("request %d within the burst: %v", i, err)
		}
	}
	wantCOSError(t, describe(ci), 429, "SlowDown")
	wantCOSError(t, service(ci), 503, "SlowDown")

	// Authentication failures are answered as such, not throttled.
	wantCOSError(t, describe(e.client(t, key{secretID, "wrong", token}, "", "", nil)), 403, "SignatureDoesNotMatch")

	// Another account has its own bucket.
	if err := service(e.client(t, key{"AKIDOTHER", "other", ""}, "", "", nil)); err != nil {
		t.Fatalf("other account throttled: %v", err)
	}

	clock.Advance(50 * time.Millisecond) // one token
	if err := service(ci); err != nil {
		t.Fatalf("after refill: %v", err)
	}
	wantCOSError(t, service(ci), 503, "SlowDown")

	clock.Advance(time.Second) // refills to the burst, not beyond
	for i := range 2 {
		if err := describe(ci); err != nil {
			t.Fatalf("request %d after a long pause: %v", i, err)
		}
	}
	wantCOSError(t, describe(ci), 429, "SlowDown")

	if st := e.emu.Stats(); st.Throttled != 4 || st.AuthFailures != 1 {
		t.Errorf("stats %+v, want 4 throttled and 1 auth failure", st)
	}
}

func TestThrottlingSlidingWindow(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := newEnv(t, Options{QPS: 3, Limiter: LimiterWindow, Now: clock.Now})
	e.emu.AddCredential(Credential{SecretID: "AKIDOTHER", SecretKey: "other", AppID: otherAppID})
	ctx := context.Background()
	ci := e.client(t, defaultKey, "", "", nil)
	describe := func(c *cos.Client) error {
		_, _, err := c.CI.DescribePicProcessBuckets(ctx, &cos.DescribePicProcessBucketsOptions{})
		return err
	}
	service := func(c *cos.Client) error {
		_, _, err := c.Service.Get(ctx)
		return err
	}

	// Accepted at 0, 400 and 800 ms: the window holds 3.
	for i := range 3 {
		if err := describe(ci); err != nil {
			t.Fatalf("request %d within the limit: %v", i, err)
		}
		clock.Advance(400 * time.Millisecond)
	}
	// At 1200 ms the first has left the window: one more.
	if err := service(ci); err != nil {
		t.Fatalf("after the first left the window: %v", err)
	}
	// Still 3 accepted in the last second (400, 800, 1200 ms); the
	// throttled ones are not counted.
	wantCOSError(t, describe(ci), 429, "SlowDown")
	wantCOSError(t, service(ci), 503, "SlowDown")
	clock.Advance(199 * time.Millisecond) // 1399 ms: the one at 400 ms is 999 ms old
	wantCOSError(t, service(ci), 503, "SlowDown")

	// Another account has its own window.
	if err := service(e.client(t, key{"AKIDOTHER", "other", ""}, "", "", nil)); err != nil {
		t.Fatalf("other account throttled: %v", err)
	}

	clock.Advance(time.Millisecond) // 1400 ms: the one at 400 ms is out
	if err := describe(ci); err != nil {
		t.Fatalf("after one left the window: %v", err)
	}
	wantCOSError(t, describe(ci), 429, "SlowDown")

	clock.Advance(time.Second) // all out: 3 again, not more
	for i := range 3 {
		if err := service(ci); err != nil {
			t.Fatalf("request %d after a long pause: %v", i, err)
		}
	}
	wantCOSError(t, service(ci), 503, "SlowDown")

	if st := e.emu.Stats(); st.Throttled != 5 {
		t.Errorf("stats %+v, want 5 throttled", st)
	}
}

func TestUnknownLimiterPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New accepted Limiter \"leaky\"")
		}
	}()
	New(Options{Limiter: "leaky"})
}

func TestErrorRateAndLatency(t *testing.T) {
	ctx := context.Background()

	t.Run("error rate", func(t *testing.T) {
		e := newEnv(t, Options{ErrorRate: 0.5, Seed: 42})
		c := e.client(t, defaultKey, "", "", nil)
		const n = 200
		codes := map[string]int{}
		for range n {
			_, _, err := c.CI.DescribePicProcessBuckets(ctx, &cos.DescribePicProcessBucketsOptions{})
			if err == nil {
				codes["ok"]++
				continue
			}
			var ce *cos.ErrorResponse
			if !errors.As(err, &ce) {
				t.Fatalf("non-COS error %v", err)
			}
			codes[fmt.Sprintf("%d %s", ce.Response.StatusCode, ce.Code)]++
		}
		failed := codes["500 InternalError"] + codes["503 ServiceUnavailable"]
		if failed+codes["ok"] != n || failed < n/4 || failed > 3*n/4 ||
			codes["500 InternalError"] == 0 || codes["503 ServiceUnavailable"] == 0 {
			t.Errorf("answers %v", codes)
		}
		if st := e.emu.Stats(); st.RandomErrors != failed {
			t.Errorf("RandomErrors = %d, want %d", st.RandomErrors, failed)
		}
	})

	t.Run("error rate 1 still authenticates first", func(t *testing.T) {
		e := newEnv(t, Options{ErrorRate: 1})
		_, _, err := e.client(t, key{"AKIDNOPE", "x", ""}, "", "", nil).Service.Get(ctx)
		wantCOSError(t, err, 403, "InvalidAccessKeyId")
	})

	t.Run("latency", func(t *testing.T) {
		const lat, jitter = 40 * time.Millisecond, 20 * time.Millisecond
		e := newEnv(t, Options{Latency: lat, LatencyJitter: jitter})
		c := e.client(t, defaultKey, "", "", nil)
		start := time.Now()
		if _, _, err := c.Service.Get(ctx); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el < lat {
			t.Errorf("took %s, want >= %s", el, lat)
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, Options{QPS: 1e6, ErrorRate: 0.1, LatencyJitter: time.Millisecond})
	const n = 40
	for i := range n {
		e.emu.AddBucket(bucketName("c", i, appID), region, false)
	}
	e.emu.Inject(Fault{Status: 500, Times: 5})
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.client(t, defaultKey, ciHostOf(bucketName("c", i, appID), region), "", nil)
			for range 20 { // retry until enabled, like the function does
				if _, _, err := c.CI.CreatePicProcessBucket(ctx, &cos.CreatePicProcessBucketOptions{}); err == nil {
					break
				}
			}
			_, _, _ = c.CI.DescribePicProcessBuckets(ctx, &cos.DescribePicProcessBucketsOptions{})
			_ = e.emu.Requests()
			_ = e.emu.Stats()
			_ = e.emu.Buckets()
		}()
	}
	wg.Wait()
	for _, b := range e.emu.Buckets() {
		if !b.Enabled {
			t.Errorf("%s not enabled", b.Name)
		}
	}
	st := e.emu.Stats()
	if st.Total != len(e.emu.Requests()) || st.ByAction[ActionCreatePicProcessBucket] < n || st.Injected != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestSeedDemo(t *testing.T) {
	e := newEnv(t, Options{})
	got := e.emu.SeedDemo(appID, 6, []string{"ap-guangzhou", "ap-shanghai"}, 0.33)
	want := []BucketState{
		{"photos-00-" + appID, "ap-guangzhou", true},
		{"photos-01-" + appID, "ap-shanghai", true},
		{"photos-02-" + appID, "ap-guangzhou", false},
		{"photos-03-" + appID, "ap-shanghai", false},
		{"photos-04-" + appID, "ap-guangzhou", false},
		{"photos-05-" + appID, "ap-shanghai", false},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("SeedDemo = %v, want %v", got, want)
	}
	if fmt.Sprint(e.emu.Buckets()) != fmt.Sprint(want) {
		t.Fatalf("Buckets = %v", e.emu.Buckets())
	}
	if got := New(Options{}).SeedDemo(appID, 120, nil, 1); got[119].Name != "photos-119-"+appID || !got[119].Enabled || got[5].Name != "photos-005-"+appID {
		t.Errorf("wide SeedDemo: %v", got[119])
	}
}

// signManually signs r with the package's own primitives, for requests the
// SDK cannot produce (e.g. without host in q-header-list).
func signManually(r *http.Request, id, secret string, headers, params []string) {
	now := time.Now().Unix()
	keyTime := fmt.Sprintf("%d;%d", now-60, now+3600)
	httpString, err := HTTPString(r, headers, params)
	if err != nil {
		panic(err)
	}
	sig := Signature(SignKey(secret, keyTime), StringToSign(keyTime, httpString))
	r.Header.Set("Authorization", "q-sign-algorithm=sha1&q-ak="+id+"&q-sign-time="+keyTime+"&q-key-time="+keyTime+
		"&q-header-list="+strings.Join(headers, ";")+"&q-url-param-list="+strings.Join(params, ";")+"&q-signature="+sig)
}

func TestManualSigning(t *testing.T) {
	e := newEnv(t, Options{})
	e.emu.AddBucket("photos-"+appID, region, true)
	for _, tc := range []struct {
		name       string
		query      string
		headers    []string
		params     []string
		wantStatus int
		wantCode   string
	}{
		{"host and token signed", "", []string{"host", "x-cos-security-token"}, nil, 200, ""},
		{"host not signed", "", []string{"x-cos-security-token"}, nil, 403, "SignatureDoesNotMatch"},
		{"repeated parameter", "bucketNames=photos-" + appID + "&pageSize=5&pageSize=5", []string{"host", "x-cos-security-token"}, []string{"bucketnames", "pagesize"}, 200, ""},
		{"parameter listed twice", "pageSize=5", []string{"host", "x-cos-security-token"}, []string{"pagesize", "pagesize"}, 200, ""},
		{"parameter listed, not sent", "", []string{"host", "x-cos-security-token"}, []string{"pagesize"}, 200, ""},
		{"parameter sent, not listed", "pageSize=5", []string{"host", "x-cos-security-token"}, nil, 403, "SignatureDoesNotMatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/picbucket?"+tc.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "ci." + region + ".myqcloud.com"
			req.Header.Set("x-cos-security-token", token)
			signManually(req, secretID, secretKey, tc.headers, tc.params)
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantCode != "" {
				wantStatusCode(t, resp, tc.wantStatus, tc.wantCode)
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus || !strings.Contains(string(body), "<TotalCount>1</TotalCount>") {
				t.Fatalf("status %d body %s", resp.StatusCode, body)
			}
		})
	}
}
