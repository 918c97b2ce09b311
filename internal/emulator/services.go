package emulator

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/ciservice"
)

// The CI services other than picbucket (media, doc, file, ai, asr): each
// has a Create (POST <path> on the bucket's CI host) and a listing (GET
// <path> on the region's CI host), with picbucket's query parameters and
// answers whose bucket element is the service's own (docs/sources.md §10).
// Their action names are ciservice's CreateOp and ListOp.

// serviceRoute sets rt's action for a CI path other than /picbucket.
func serviceRoute(rt *route, r *http.Request, invalidURL, notAllowed *apiError) {
	var svc ciservice.Service
	found := false
	for _, s := range ciservice.All() {
		if s.ID != ciservice.Pic && s.Path == r.URL.Path {
			svc, found = s, true
		}
	}
	switch {
	case !found:
		rt.err = invalidURL
	case rt.bucket != "" && r.Method == http.MethodPost:
		rt.action, rt.service = svc.CreateOp, svc.ID
	case rt.bucket == "" && r.Method == http.MethodGet:
		rt.action, rt.service = svc.ListOp, svc.ID
	default:
		rt.err = notAllowed
	}
}

// serviceItem is one bucket element of a service's answer; its element
// name is the service's (MediaBucket, DocBucketList, …).
type serviceItem struct {
	XMLName    xml.Name
	BucketID   string `xml:"BucketId"`
	Name       string `xml:"Name"`
	Region     string `xml:"Region"`
	CreateTime string `xml:"CreateTime"`
}

type serviceCreateResult struct {
	XMLName   xml.Name `xml:"Response"`
	RequestID string   `xml:"RequestId"`
	Bucket    serviceItem
}

type serviceListResult struct {
	XMLName    xml.Name `xml:"Response"`
	RequestID  string   `xml:"RequestId"`
	TotalCount int      `xml:"TotalCount"`
	PageNumber int      `xml:"PageNumber"`
	PageSize   int      `xml:"PageSize"`
	Buckets    []serviceItem
}

func (b *bucketRecord) serviceItem(svc ciservice.Service, list bool) serviceItem {
	name := svc.Element
	if list {
		name = svc.ListElement
	}
	return serviceItem{XMLName: xml.Name{Local: name}, BucketID: b.name, Name: b.name, Region: b.region,
		CreateTime: b.services[svc.ID].In(chinaTime).Format("2006-01-02T15:04:05-0700")}
}

// serveService answers a service's Create or listing.
func (s *Server) serveService(x *exchange, account string) {
	if x.rt.service == "" {
		return
	}
	svc := ciservice.Get(x.rt.service)
	if x.rt.bucket != "" {
		s.createServiceBucket(x, account, svc)
		return
	}
	s.describeServiceBuckets(x, account, svc)
}

func (s *Server) createServiceBucket(x *exchange, account string, svc ciservice.Service) {
	name, region := x.rt.bucket, x.rt.region
	now := s.now()
	s.mu.Lock()
	b, ok := s.buckets[name]
	var e *apiError
	var item serviceItem
	switch {
	case !ok || b.region != region:
		e = &apiError{http.StatusNotFound, "NoSuchBucket", fmt.Sprintf("The bucket %s does not exist in %s.", name, region)}
	case bucket.AppID(name) != account:
		e = &apiError{http.StatusForbidden, "AccessDenied", "Access Denied. The bucket belongs to another account."}
	default:
		if _, on := b.services[svc.ID]; on && !s.opts.AlreadyEnabledOK {
			e = &apiError{http.StatusForbidden, "MediaBucketAlreadyBinded", "The bucket is already bound"}
			break
		} else if !on {
			if b.services == nil {
				b.services = map[ciservice.ID]time.Time{}
			}
			b.services[svc.ID] = now
		}
		item = b.serviceItem(svc, false)
	}
	s.mu.Unlock()
	if e != nil {
		x.fail(e)
		return
	}
	if svc.ID == ciservice.AI && s.opts.AICreateAsDocumented {
		body := fmt.Sprintf("<Response><RequestId>%s</RequestId><AiBucket><BucketId>%s</BucketId><Name>%s</Name><Region>%s</Region>"+
			"<CreateTime%s></CreateTime></AiBucket></Response>", x.requestID, item.BucketID, item.Name, item.Region, item.CreateTime)
		x.write(http.StatusOK, "", []byte(body))
		return
	}
	x.ok(serviceCreateResult{RequestID: x.requestID, Bucket: item})
}

func (s *Server) describeServiceBuckets(x *exchange, account string, svc ciservice.Service) {
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
	var matched []serviceItem
	s.mu.Lock()
	for _, b := range s.sortedBucketsLocked(account) {
		if _, on := b.services[svc.ID]; !on ||
			bucket.AppID(b.name) != account ||
			!slices.Contains(regions, b.region) ||
			len(names) > 0 && !slices.Contains(names, b.name) ||
			!strings.HasPrefix(b.name, prefix) {
			continue
		}
		it := b.serviceItem(svc, true)
		if svc.ID == ciservice.ASR && s.opts.ASRListElement != "" {
			it.XMLName.Local = s.opts.ASRListElement
		}
		matched = append(matched, it)
	}
	s.mu.Unlock()
	res := serviceListResult{RequestID: x.requestID, TotalCount: len(matched), PageNumber: pageNumber, PageSize: pageSize}
	from, to := s.listPage(pageNumber, pageSize, len(matched))
	res.Buckets = matched[from:to]
	x.ok(res)
}

// EnableService marks the CI service svc enabled on the bucket name, as
// if long ago (SeededAge); Pic is the bucket's picbucket state
// (AddBucket). It panics if the bucket does not exist, a bug in the caller.
func (s *Server) EnableService(name string, svc ciservice.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[name]
	if !ok {
		panic(fmt.Sprintf("emulator.EnableService: no bucket %q", name))
	}
	at := s.now().Add(-SeededAge)
	if svc == ciservice.Pic {
		b.enabled, b.enabledAt = true, at
		return
	}
	if b.services == nil {
		b.services = map[ciservice.ID]time.Time{}
	}
	b.services[svc] = at
}

// ServiceEnabled reports whether the CI service svc is enabled on the
// bucket name.
func (s *Server) ServiceEnabled(name string, svc ciservice.ID) bool {
	if svc == ciservice.Pic {
		return s.Enabled(name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[name]
	if !ok {
		return false
	}
	_, on := b.services[svc]
	return on
}
