package cosapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/signer"
)

func TestRouteRefusesForeignHosts(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	rt := &Route{Endpoint: u}
	for _, target := range []string{"https://evil.com/x", "https://myqcloud.com.evil.com/", "http://127.0.0.1:1/"} {
		req, _ := http.NewRequest("GET", target, nil)
		if _, err := rt.RoundTrip(req); !errors.Is(err, ErrHostNotAllowed) {
			t.Errorf("%s: err = %v, want ErrHostNotAllowed", target, err)
		}
	}
	// A Host header that differs from the URL is refused too.
	req, _ := http.NewRequest("GET", "https://service.cos.myqcloud.com/", nil)
	req.Host = "evil.com"
	if _, err := rt.RoundTrip(req); !errors.Is(err, ErrHostNotAllowed) {
		t.Errorf("spoofed Host: err = %v", err)
	}
	if hits != 0 {
		t.Fatalf("%d refused requests reached the server", hits)
	}
	req, _ = http.NewRequest("GET", "https://service.cos.myqcloud.com/", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil || hits != 1 {
		t.Fatalf("allowed host: %v, hits %d", err, hits)
	}
	resp.Body.Close()
}

// TestRouteRefusesForeignEndpoints: a test endpoint outside loopback and
// private addresses (rules.Endpoint) sends nothing, whoever built the Route.
func TestRouteRefusesForeignEndpoints(t *testing.T) {
	for _, ep := range []string{"http://cos.example.com:80", "http://203.0.113.7:8080", "https://127.0.0.1:9000", "http://127.0.0.1", "http://u:pw@127.0.0.1:1"} {
		t.Run(ep, func(t *testing.T) {
			u, err := url.Parse(ep)
			if err != nil {
				t.Fatal(err)
			}
			sent := 0
			next := roundTripFunc(func(*http.Request) (*http.Response, error) { sent++; return nil, errors.New("sent") })
			req, _ := http.NewRequest("GET", "https://service.cos.myqcloud.com/", nil)
			_, err = (&Route{Endpoint: u, Next: next}).RoundTrip(req)
			if !errors.Is(err, ErrHostNotAllowed) || sent != 0 {
				t.Fatalf("err = %v, %d sent; want ErrHostNotAllowed and nothing sent", err, sent)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestClassify(t *testing.T) {
	api := func(status int, code string) error { return &Error{Op: "X", Status: status, Code: code} }
	tests := []struct {
		err                                  error
		retryable, already, credential, slow bool
	}{
		{api(503, "ServiceUnavailable"), true, false, false, false},
		{api(500, "InternalError"), true, false, false, false},
		{api(429, "SlowDown"), true, false, false, true},
		{api(503, "SlowDown"), true, false, false, true},
		{api(403, "MediaBucketAlreadyBinded"), false, true, false, false},
		{api(400, "BucketAlreadyBinded"), false, true, false, false},
		{api(403, "AccessDenied"), false, false, false, false},
		// The words of a message never make a credential error: only codes do.
		{&Error{Op: "X", Status: 403, Code: "AccessDenied", Message: "Request has expired"}, false, false, false, false},
		{&Error{Op: "X", Status: 403, Code: "AccessDenied", Message: "The security token is invalid"}, false, false, false, false},
		{&Error{Op: "X", Status: 403, Code: "AccessDenied", Message: "token expired"}, false, false, false, false},
		{api(403, "QueueSaturated"), true, false, false, false},
		{api(403, "QueuePaused"), false, false, false, false},
		{api(403, "SignatureDoesNotMatch"), false, false, true, false},
		{api(400, "ExpiredToken"), false, false, true, false},
		{api(401, "SignatureExpired"), false, false, true, false},
		{api(404, "NoSuchBucket"), false, false, false, false},
		{&Error{Op: "X", Err: errors.New("connection reset")}, true, false, false, false},
		{fmt.Errorf("wrapped: %w", api(503, "ServiceUnavailable")), true, false, false, false},
		{&Error{Op: "X", Err: context.Canceled}, false, false, false, false},
		{fmt.Errorf("x: %w", signer.ErrNoCredentials), false, false, true, false},
		{&Error{Op: "X", Err: ErrHostNotAllowed}, false, false, false, false},
	}
	for _, tt := range tests {
		if got := IsRetryable(tt.err); got != tt.retryable {
			t.Errorf("IsRetryable(%v) = %v", tt.err, got)
		}
		if got := IsAlreadyEnabled(tt.err); got != tt.already {
			t.Errorf("IsAlreadyEnabled(%v) = %v", tt.err, got)
		}
		if got := IsCredentialError(tt.err); got != tt.credential {
			t.Errorf("IsCredentialError(%v) = %v", tt.err, got)
		}
		if got := IsThrottled(tt.err); got != tt.slow {
			t.Errorf("IsThrottled(%v) = %v", tt.err, got)
		}
	}
}

// answerRT answers every request with one canned response.
type answerRT struct {
	status int
	body   string
	got    *http.Request
}

func (a *answerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	a.got = r
	return &http.Response{StatusCode: a.status, Header: http.Header{"Content-Type": {"application/xml"}},
		Body: io.NopCloser(strings.NewReader(a.body)), Request: r}, nil
}

// TestTagsAnswers: the forms of GetBucketTagging's answer (docs/sources.md §7).
func TestTagsAnswers(t *testing.T) {
	errBody := func(code string) string {
		return "<?xml version='1.0' encoding='utf-8' ?>\n<Error><Code>" + code + "</Code><Message>m</Message><RequestId>r</RequestId></Error>"
	}
	tests := []struct {
		name    string
		status  int
		body    string
		want    map[string]string
		wantErr string
	}{
		{"tags", 200, `<Tagging><TagSet><Tag><Key>picbucket</Key><Value>off</Value></Tag><Tag><Key>team</Key><Value></Value></Tag></TagSet></Tagging>`,
			map[string]string{"picbucket": "off", "team": ""}, ""},
		{"NoSuchTagSet", 404, errBody("NoSuchTagSet"), map[string]string{}, ""},
		{"NoSuchTagSetError", 404, errBody("NoSuchTagSetError"), map[string]string{}, ""},
		{"404 without a code", 404, "<Error><Message>m</Message></Error>", map[string]string{}, ""},
		// A 404 whose body is not COS's XML says nothing about the tags.
		{"bare 404", 404, "", nil, "404"},
		{"a proxy's page", 404, "<html><body><h1>404 Not Found</h1>nginx</body></html>", nil, "404"},
		{"a gateway's JSON", 404, `{"message":"no route"}`, nil, "404"},
		{"NoSuchBucket", 404, errBody("NoSuchBucket"), nil, "NoSuchBucket"},
		{"AccessDenied", 403, errBody("AccessDenied"), nil, "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := &answerRT{status: tt.status, body: tt.body}
			tags, _, err := New(rt).Tags(context.Background(), bucket.Target{Bucket: "photos-1250000000", Region: "ap-guangzhou"})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || !maps.Equal(tags, tt.want) {
				t.Fatalf("tags %v, err %v; want %v", tags, err, tt.want)
			}
			if rt.got.Method != http.MethodGet || rt.got.URL.Host != "photos-1250000000.cos.ap-guangzhou.myqcloud.com" || rt.got.URL.RawQuery != "tagging" {
				t.Errorf("request %s %s", rt.got.Method, rt.got.URL)
			}
		})
	}
}
