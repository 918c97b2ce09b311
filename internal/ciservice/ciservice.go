// Package ciservice is the one table of the Cloud Infinite (CI) services a
// bucket can be bound to, and of each one's wire and permission facts: the
// path of its Create and listing, the API and CAM action names, the XML
// element of its listing, and the regions that offer it. Every fact is
// cited in docs/sources.md §10; cmd/wire reads each service's CreateAction and
// ListAction from here.
package ciservice

import (
	"fmt"
	"slices"
	"strings"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/spell"
)

// ID names a service in PICBUCKET_SERVICES.
type ID string

// The services, in the order they are reported.
const (
	Pic   ID = "pic"   // image processing (async)
	Media ID = "media" // media processing
	Doc   ID = "doc"   // document processing (preview)
	File  ID = "file"  // file processing
	AI    ID = "ai"    // AI content recognition
	ASR   ID = "asr"   // speech recognition
)

// Service is one CI service's facts.
type Service struct {
	ID   ID
	Name string // what users call it, for reasons and errors
	// Path is the URI of both its Create (POST, on the bucket's CI host
	// <bucket>.ci.<region>.myqcloud.com) and its listing (GET, on the
	// region's CI host ci.<region>.myqcloud.com).
	Path string
	// CreateOp and ListOp are the API names (cos-go-sdk-v5's method names
	// for all but Pic, whose names are CI's own).
	CreateOp, ListOp string
	// CreateAction and ListAction are the CAM actions a policy must allow.
	CreateAction, ListAction string
	// Element is the XML element of the bucket in the Create answer;
	// ListElement is the repeated element of the listing.
	Element, ListElement string
	// MaxPageSize is the largest pageSize the listing is asked for: 100,
	// the maximum the picbucket, media, AI, file and speech listings
	// document (the document listing prints none). The paging loop numbers
	// pages by the size the server serves, so a smaller one costs pages,
	// never a bucket.
	MaxPageSize int
	// unserved lists the regions CI offers but this service does not.
	unserved map[string]bool
}

// table holds every service, in report order.
var table = []Service{
	{ID: Pic, Name: "image processing (async)", Path: "/picbucket",
		CreateOp: "CreatePicProcessBucket", ListOp: "DescribePicProcessBuckets",
		CreateAction: "ci:CreatePicProcessBucket", ListAction: "ci:DescribePicProcessBucket",
		Element: "PicBucket", ListElement: "PicBucketList", MaxPageSize: 100},
	{ID: Media, Name: "media processing", Path: "/mediabucket",
		CreateOp: "CreateMediaProcessBucket", ListOp: "DescribeMediaProcessBuckets",
		CreateAction: "ci:CreateMediaBucket", ListAction: "ci:DescribeMediaBuckets",
		Element: "MediaBucket", ListElement: "MediaBucketList", MaxPageSize: 100},
	{ID: Doc, Name: "document processing", Path: "/docbucket",
		CreateOp: "CreateDocProcessBucket", ListOp: "DescribeDocProcessBuckets",
		CreateAction: "ci:CreateDocProcessBucket", ListAction: "ci:DescribeDocProcessBucket",
		Element: "DocBucket", ListElement: "DocBucketList", MaxPageSize: 100},
	{ID: File, Name: "file processing", Path: "/file_bucket",
		CreateOp: "CreateFileProcessBucket", ListOp: "DescribeFileProcessBuckets",
		CreateAction: "ci:CreateFileProcessBucket", ListAction: "ci:DescribeFileProcessBucket",
		Element: "FileBucket", ListElement: "FileBucketList", MaxPageSize: 100},
	{ID: AI, Name: "AI content recognition", Path: "/ai_bucket",
		CreateOp: "CreateAIProcessBucket", ListOp: "DescribeAIProcessBuckets",
		CreateAction: "ci:CreateAiProcessBucket", ListAction: "ci:DescribeAiProcessBucket",
		Element: "AiBucket", ListElement: "AiBucketList", MaxPageSize: 100},
	{ID: ASR, Name: "speech recognition", Path: "/asrbucket",
		CreateOp: "CreateASRProcessBucket", ListOp: "DescribeASRProcessBuckets",
		CreateAction: "ci:CreateAsrBucket", ListAction: "ci:DescribeAsrBuckets",
		Element: "AsrBucket", ListElement: "AsrBucketList", MaxPageSize: 100},
}

// All returns every service, in report order.
func All() []Service { return slices.Clone(table) }

// IDs returns every service's id, in report order.
func IDs() []string {
	out := make([]string, len(table))
	for i, s := range table {
		out[i] = string(s.ID)
	}
	return out
}

// Lookup returns the service id names.
func Lookup(id ID) (Service, bool) {
	for _, s := range table {
		if s.ID == id {
			return s, true
		}
	}
	return Service{}, false
}

// Get is Lookup for an id known to be in the table; it panics otherwise.
func Get(id ID) Service {
	s, ok := Lookup(id)
	if !ok {
		panic("ciservice: unknown id " + string(id))
	}
	return s
}

// ByOp returns the service whose CreateOp or ListOp is op.
func ByOp(op string) (Service, bool) {
	for _, s := range table {
		if s.CreateOp == op || s.ListOp == op {
			return s, true
		}
	}
	return Service{}, false
}

// Parse reads a comma list of ids (PICBUCKET_SERVICES): each known id once,
// in the order given. An unknown id is refused naming the nearest known one;
// an empty list is refused.
func Parse(list string) ([]ID, error) {
	var out []ID
	for _, part := range strings.Split(list, ",") {
		v := strings.ToLower(strings.TrimSpace(part))
		if v == "" {
			continue
		}
		if _, ok := Lookup(ID(v)); !ok {
			near, _ := spell.Nearest(v, IDs())
			return nil, fmt.Errorf("unknown service %q (did you mean %q?); the services are %s", part, near, strings.Join(IDs(), ", "))
		}
		if !slices.Contains(out, ID(v)) {
			out = append(out, ID(v))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no service named; the services are %s", strings.Join(IDs(), ", "))
	}
	return out, nil
}

// Serves reports whether s is offered in region, and if not, why. CI
// itself is not offered everywhere COS is (bucket.CIServes); no per-service
// region list is published (docs/sources.md §10), so every service is
// taken to be offered wherever CI is, unless its unserved set says
// otherwise.
func (s Service) Serves(region string) (bool, string) {
	if !bucket.CIServes(region) {
		return false, "Cloud Infinite does not serve " + region
	}
	if s.unserved[region] {
		return false, "Cloud Infinite's " + s.Name + " is not offered in " + region
	}
	return true, ""
}
