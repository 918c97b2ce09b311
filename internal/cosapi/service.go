package cosapi

import (
	"bytes"
	"cmp"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"slices"
	"strings"

	cos "github.com/tencentyun/cos-go-sdk-v5"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/ciservice"
)

// The CI services other than image processing, through cos-go-sdk-v5's
// Create…ProcessBucket and Describe…ProcessBuckets (ci_media.go, ci_doc.go).
// Each is a POST on the bucket's CI host and a GET on the region's CI host,
// as for picbucket (docs/sources.md §10). Pic goes to ListEnabled, Enable
// and IsEnabled themselves, so its requests are the same whichever way
// they are asked for.

// listed is one bucket of a listing, whatever the service's element type.
type listed struct{ name, id, region string }

// ListServiceEnabled is ListEnabled for service svc.
func (c *Client) ListServiceEnabled(ctx context.Context, svc ciservice.ID, region string, page, pageSize int) (EnabledPage, error) {
	return c.listServiceEnabled(ctx, svc, region, page, pageSize)
}

// listServiceEnabled is ListServiceEnabled; names, when given, restricts
// the query to them.
func (c *Client) listServiceEnabled(ctx context.Context, svc ciservice.ID, region string, page, pageSize int, names ...string) (EnabledPage, error) {
	if svc == ciservice.Pic {
		return c.listEnabled(ctx, region, page, pageSize, names...)
	}
	s := ciservice.Get(svc)
	if pageSize <= 0 || pageSize > s.MaxPageSize {
		pageSize = s.MaxPageSize
	}
	ctx, cancel := c.start(ctx)
	defer cancel()
	body := &bodyCopy{next: c.http.Transport}
	ci := c.sdkVia(httpsURL(bucket.CIRegionHost(region)), false, &http.Client{Transport: body, CheckRedirect: c.http.CheckRedirect}).CI
	opt := cos.DescribeMediaProcessBucketsOptions{Regions: region, BucketNames: strings.Join(names, ","), PageNumber: page, PageSize: pageSize}
	var (
		rid         string
		total, size int
		items       []listed
		resp        *cos.Response
		err         error
	)
	switch svc {
	case ciservice.Media:
		var res *cos.DescribeMediaProcessBucketsResult
		if res, resp, err = ci.DescribeMediaProcessBuckets(ctx, &opt); err == nil {
			rid, total, size = res.RequestId, res.TotalCount, res.PageSize
			items = mediaItems(res.MediaBucketList)
		}
	case ciservice.Doc:
		var res *cos.DescribeDocProcessBucketsResult
		dopt := cos.DescribeDocProcessBucketsOptions(opt)
		if res, resp, err = ci.DescribeDocProcessBuckets(ctx, &dopt); err == nil {
			rid, total, size = res.RequestId, res.TotalCount, res.PageSize
			for _, b := range res.DocBucketList {
				items = append(items, listed{b.Name, b.BucketId, b.Region})
			}
		}
	case ciservice.File:
		var res *cos.DescribeFileProcessBucketsResult
		fopt := cos.DescribeFileProcessBucketsOptions(opt)
		if res, resp, err = ci.DescribeFileProcessBuckets(ctx, &fopt); err == nil {
			rid, total, size = res.RequestId, res.TotalCount, res.PageSize
			items = mediaItems(res.FileBucketList)
		}
	case ciservice.AI:
		var res *cos.DescribeAIProcessBucketsResult
		aopt := cos.DescribeAIProcessBucketsOptions(opt)
		if res, resp, err = ci.DescribeAIProcessBuckets(ctx, &aopt); err == nil {
			rid, total, size = res.RequestId, res.TotalCount, res.PageSize
			items = mediaItems(res.MediaBucketList)
		}
	case ciservice.ASR:
		var res *cos.DescribeASRProcessBucketsResult
		sopt := cos.DescribeASRProcessBucketsOptions(opt)
		if res, resp, err = ci.DescribeASRProcessBuckets(ctx, &sopt); err == nil {
			rid, total, size = res.RequestId, res.TotalCount, res.PageSize
			items = mediaItems(res.MediaBucketList)
		}
	}
	if err != nil {
		return EnabledPage{}, wrap(s.ListOp, region, resp, err)
	}
	if len(items) == 0 && total > 0 {
		// Listed, but under an element the SDK does not read:
		// DescribeSpeechBuckets's page prints <SpeechBucketList>.
		items = anyBucketList(body.buf.Bytes())
	}
	p := EnabledPage{Total: total, Listed: len(items), PageSize: size, RequestID: cmp.Or(rid, requestID(resp))}
	for _, b := range items {
		if b.region != "" && b.region != region {
			continue
		}
		p.Buckets = append(p.Buckets, cmp.Or(b.name, b.id))
	}
	return p, nil
}

// maxListingBody bounds the copy bodyCopy keeps: a page of 100 buckets
// is some 25 KB.
const maxListingBody = 1 << 20

// bodyCopy is an http.RoundTripper that keeps a copy of the first
// maxListingBody bytes of the answer's body as the SDK reads it. A Client
// sends each listing through its own.
type bodyCopy struct {
	next http.RoundTripper
	buf  bytes.Buffer
}

func (b *bodyCopy) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := b.next.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	b.buf.Reset()
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.TeeReader(resp.Body, &limitedWriter{&b.buf, maxListingBody}), resp.Body}
	return resp, nil
}

// limitedWriter writes the first n bytes to w and drops the rest.
type limitedWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// anyBucketList reads the buckets of a listing's body whatever their
// element is called, as long as its name ends in "BucketList".
func anyBucketList(body []byte) []listed {
	var res struct {
		Elements []struct {
			XMLName  xml.Name
			BucketID string `xml:"BucketId"`
			Name     string `xml:"Name"`
			Region   string `xml:"Region"`
		} `xml:",any"`
	}
	if xml.Unmarshal(body, &res) != nil {
		return nil
	}
	var out []listed
	for _, e := range res.Elements {
		if strings.HasSuffix(e.XMLName.Local, "BucketList") {
			out = append(out, listed{e.Name, e.BucketID, e.Region})
		}
	}
	return out
}

func mediaItems(list []cos.MediaProcessBucket) []listed {
	out := make([]listed, 0, len(list))
	for _, b := range list {
		out = append(out, listed{b.Name, b.BucketId, b.Region})
	}
	return out
}

// IsServiceEnabled is IsEnabled for service svc.
func (c *Client) IsServiceEnabled(ctx context.Context, svc ciservice.ID, t bucket.Target) (bool, string, error) {
	p, err := c.listServiceEnabled(ctx, svc, t.Region, 1, 0, t.Bucket)
	if err != nil {
		return false, "", err
	}
	return slices.Contains(p.Buckets, t.Bucket), p.RequestID, nil
}

// EnableService is Enable for service svc: POST <Path> on t's CI host.
func (c *Client) EnableService(ctx context.Context, svc ciservice.ID, t bucket.Target) (Enabled, error) {
	if svc == ciservice.Pic {
		return c.Enable(ctx, t)
	}
	if err := t.Validate(); err != nil {
		return Enabled{}, err
	}
	s := ciservice.Get(svc)
	ctx, cancel := c.start(ctx)
	defer cancel()
	ci := c.sdk(httpsURL(bucket.CIHost(t)), false).CI
	var (
		rid, created string
		resp         *cos.Response
		err          error
	)
	switch svc {
	case ciservice.Media:
		var res *cos.CreateMediaProcessBucketResult
		if res, resp, err = ci.CreateMediaProcessBucket(ctx, &cos.CreateMediaProcessBucketOptions{}); err == nil {
			rid, created = res.RequestId, res.MediaBucket.CreateTime
		}
	case ciservice.Doc:
		var res *cos.CreateDocProcessBucketResult
		if res, resp, err = ci.CreateDocProcessBucket(ctx, &cos.CreateDocProcessBucketOptions{}); err == nil {
			rid, created = res.RequestId, res.DocBucket.CreateTime
		}
	case ciservice.File:
		var res *cos.CreateFileProcessBucketResult
		if res, resp, err = ci.CreateFileProcessBucket(ctx, &cos.CreateFileProcessBucketOptions{}); err == nil {
			rid, created = res.RequestId, res.FileProcessBucket.CreateTime
		}
	case ciservice.AI:
		var res *cos.CreateAIProcessBucketResult
		if res, resp, err = ci.CreateAIProcessBucket(ctx, &cos.CreateAIProcessBucketOptions{}); err == nil {
			rid, created = res.RequestId, res.AiBucket.CreateTime
		}
	case ciservice.ASR:
		var res *cos.CreateASRProcessBucketResult
		if res, resp, err = ci.CreateASRProcessBucket(ctx, &cos.CreateASRProcessBucketOptions{}); err == nil {
			rid, created = res.RequestId, res.AsrBucketBucket.CreateTime
		}
	}
	if err != nil {
		return Enabled{RequestID: requestID(resp)}, wrap(s.CreateOp, t.String(), resp, err)
	}
	return Enabled{RequestID: cmp.Or(rid, requestID(resp)), CreateTime: parseCITime(created)}, nil
}
