package cosapi

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/ciservice"
)

// TestServiceWire sends each service's Create and listing and reads the
// answer forms Tencent's pages show (docs/sources.md §10): the request
// goes to the documented host and path, and the listing's own element is
// read.
func TestServiceWire(t *testing.T) {
	t0 := bucket.Target{Bucket: "photos-1250000000", Region: "ap-chongqing"}
	for _, s := range ciservice.All() {
		t.Run(string(s.ID), func(t *testing.T) {
			var got []string
			rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				got = append(got, r.Method+" "+r.URL.Host+r.URL.Path+"?"+r.URL.RawQuery)
				body := "<Response><RequestId>rid-create</RequestId><" + s.Element + "><BucketId>photos-1250000000</BucketId>" +
					"<Region>ap-chongqing</Region><CreateTime>2022-08-08T16:23:11+0800></CreateTime></" + s.Element + "></Response>"
				if r.Method == http.MethodGet {
					item := func(name string) string {
						return "<" + s.ListElement + "><BucketId>" + name + "</BucketId><Name>" + name + "</Name><Region>ap-chongqing</Region>" +
							"<CreateTime>2022-08-08T16:23:11+0800</CreateTime></" + s.ListElement + ">"
					}
					body = "<Response><RequestId>rid-list</RequestId><TotalCount>3</TotalCount><PageNumber>1</PageNumber><PageSize>100</PageSize>" +
						item("photos-1250000000") + item("other-1250000000") +
						"<" + s.ListElement + "><BucketId>far-1250000000</BucketId><Region>ap-beijing</Region></" + s.ListElement + "></Response>"
				}
				return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/xml"}},
					Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
			})
			c := New(rt)
			ctx := context.Background()
			e, err := c.EnableService(ctx, s.ID, t0)
			if err != nil || e.RequestID != "rid-create" || e.CreateTime.IsZero() {
				t.Fatalf("EnableService = %+v, %v", e, err)
			}
			p, err := c.ListServiceEnabled(ctx, s.ID, "ap-chongqing", 2, 0)
			if err != nil || p.Total != 3 || strings.Join(p.Buckets, ",") != "photos-1250000000,other-1250000000" || p.RequestID != "rid-list" {
				t.Fatalf("ListServiceEnabled = %+v, %v", p, err)
			}
			on, _, err := c.IsServiceEnabled(ctx, s.ID, t0)
			if err != nil || !on {
				t.Fatalf("IsServiceEnabled = %v, %v", on, err)
			}
			want := []string{
				"POST photos-1250000000.ci.ap-chongqing.myqcloud.com" + s.Path + "?",
				"GET ci.ap-chongqing.myqcloud.com" + s.Path + "?pageNumber=2&pageSize=100&regions=ap-chongqing",
				"GET ci.ap-chongqing.myqcloud.com" + s.Path + "?bucketNames=photos-1250000000&pageNumber=1&pageSize=100&regions=ap-chongqing",
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if c.Requests() != 3 {
				t.Errorf("Requests() = %d", c.Requests())
			}
		})
	}
}

// TestServiceErrorNamesOp: a refusal names the service's own API.
func TestServiceErrorNamesOp(t *testing.T) {
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 403, Header: http.Header{"Content-Type": {"application/xml"}}, Request: r,
			Body: io.NopCloser(strings.NewReader("<Error><Code>AccessDenied</Code><Message>no</Message></Error>"))}, nil
	})
	_, err := New(rt).EnableService(context.Background(), ciservice.Media, bucket.Target{Bucket: "photos-1250000000", Region: "ap-guangzhou"})
	if err == nil || !strings.HasPrefix(err.Error(), "CreateMediaProcessBucket photos-1250000000@ap-guangzhou: 403 AccessDenied") {
		t.Fatalf("err = %v", err)
	}
}
