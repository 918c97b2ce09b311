package emulator_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	cos "github.com/tencentyun/cos-go-sdk-v5"

	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/trigger"
)

// redirectTo sends cos-go-sdk-v5's requests to the emulator, keeping Host.
type redirectTo struct{ u *url.URL }

func (t redirectTo) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.Host = r.URL.Host
	r2.URL.Scheme, r2.URL.Host = "http", t.u.Host
	return http.DefaultTransport.RoundTrip(r2)
}

// TestBucketAdmin: PutBucket and DeleteBucket through cos-go-sdk-v5, signed
// and checked; OnCreate sees each creation; a bucket of another APPID, a
// second PutBucket, a DeleteBucket of nothing are refused as COS does.
func TestBucketAdmin(t *testing.T) {
	s := emulator.New(emulator.Options{})
	s.AddCredential(emulator.Credential{SecretID: "AKIDADMIN01", SecretKey: "admin-secret", Token: "admin-token", AppID: "1250000000"})
	created := make(chan emulator.BucketCreated, 4)
	srv := httptest.NewServer(&emulator.BucketAdmin{Server: s, OnCreate: func(ev emulator.BucketCreated) { created <- ev }})
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	client := func(name string) *cos.Client {
		bu, _ := url.Parse("https://" + name + ".cos.ap-guangzhou.myqcloud.com")
		c := cos.NewClient(&cos.BaseURL{BucketURL: bu}, &http.Client{Transport: &cos.AuthorizationTransport{
			SecretID: "AKIDADMIN01", SecretKey: "admin-secret", SessionToken: "admin-token", Transport: redirectTo{u}}})
		c.Conf.RetryOpt.Count = 1
		return c
	}
	ctx := context.Background()
	code := func(err error) string {
		var e *cos.ErrorResponse
		if errors.As(err, &e) {
			return e.Code
		}
		if err != nil {
			return err.Error()
		}
		return ""
	}
	if _, err := client("photos-1250000000").Bucket.Put(ctx, nil); err != nil {
		t.Fatalf("PutBucket: %v", err)
	}
	select {
	case ev := <-created:
		if ev.Bucket != "photos-1250000000" || ev.Region != "ap-guangzhou" || ev.AppID != "1250000000" {
			t.Errorf("OnCreate got %+v", ev)
		}
		// The event is one the function reads as a PutBucket of that bucket.
		payload, err := emulator.EventBridgePutBucket(ev, 100000000001)
		if err != nil {
			t.Fatal(err)
		}
		req, err := trigger.ParseWith(payload, trigger.Options{})
		if err != nil || len(req.Targets) != 1 || req.Targets[0].Bucket != "photos-1250000000" || req.Targets[0].Region != "ap-guangzhou" {
			t.Errorf("the function reads the EventBridge event as %+v, %v", req, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnCreate was not called")
	}
	if got := code(func() error { _, err := client("photos-1250000000").Bucket.Put(ctx, nil); return err }()); got != "BucketAlreadyOwnedByYou" {
		t.Errorf("second PutBucket: %q", got)
	}
	if got := code(func() error { _, err := client("photos-1300000000").Bucket.Put(ctx, nil); return err }()); got != "AccessDenied" {
		t.Errorf("another APPID's bucket: %q", got)
	}
	if _, err := client("photos-1250000000").Bucket.Delete(ctx); err != nil {
		t.Errorf("DeleteBucket: %v", err)
	}
	if len(s.Buckets()) != 0 {
		t.Errorf("buckets after DeleteBucket: %+v", s.Buckets())
	}
	if got := code(func() error { _, err := client("photos-1250000000").Bucket.Delete(ctx); return err }()); got != "NoSuchBucket" {
		t.Errorf("DeleteBucket of nothing: %q", got)
	}
}
