package emulator

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// SeedDemo adds n demo buckets of the account appID and returns them in
// name order. Names are "photos-NN-<appID>" (NN zero-padded to at least two
// digits, counting from 00), regions are assigned round-robin from regions
// (ap-guangzhou when empty), and the first round(n*enabledFraction) buckets
// have picbucket enabled. Like AddBucket it panics on a malformed appID or
// region.
func (s *Server) SeedDemo(appID string, n int, regions []string, enabledFraction float64) []BucketState {
	if len(regions) == 0 {
		regions = []string{"ap-guangzhou"}
	}
	enabled := int(math.Round(float64(n) * min(max(enabledFraction, 0), 1)))
	width := max(2, len(strconv.Itoa(n-1)))
	out := make([]BucketState, 0, n)
	for i := range n {
		b := BucketState{
			Name:    fmt.Sprintf("photos-%0*d-%s", width, i, appID),
			Region:  regions[i%len(regions)],
			Enabled: i < enabled,
		}
		s.AddBucket(b.Name, b.Region, b.Enabled)
		out = append(out, b)
	}
	return out
}

// SampleAppID is the APPID of the account the sample events in events/
// belong to.
const SampleAppID = "1250000000"

// SampleBuckets are the buckets the sample events in events/ name (each
// file's bucket names, CloudAudit resources and COS records), with their
// regions, so that the local runner can answer every sample as a real account
// holding those buckets would. None is enabled: a sample shows the function
// enabling them. A test fails when an events/*.json file names a bucket
// missing here, so a new sample must add its buckets to this list.
var SampleBuckets = []BucketState{
	{Name: "archive-1250000000", Region: "ap-guangzhou"},    // eventbridge-batch.json
	{Name: "bucketname-1250000000", Region: "ap-guangzhou"}, // EventBridge's own COS sample subject (uid1250000000:bucketname)
	{Name: "docs-1250000000", Region: "ap-shanghai"},        // manual.json
	{Name: "logs-1250000000", Region: "ap-shanghai"},        // cos-records.json
	{Name: "newbucket-1250000000", Region: "ap-shanghai"},
	{Name: "photos-1250000000", Region: "ap-guangzhou"}, // manual.json, cos-records.json, eventbridge-putbucket.json
	{Name: "taken-1250000000", Region: "ap-guangzhou"},  // eventbridge-batch.json (a failed PutBucket: the function skips it)
	{Name: "uploads-1250000000", Region: "ap-shanghai"},
	{Name: "videos-1250000000", Region: "ap-shanghai"}, // eventbridge-batch.json
}

// SeedSamples adds SampleBuckets (not enabled) and returns them in name
// order. A bucket already present is replaced, as with AddBucket.
func (s *Server) SeedSamples() []BucketState {
	out := make([]BucketState, 0, len(SampleBuckets))
	for _, b := range SampleBuckets {
		b.Enabled = false
		s.AddBucket(b.Name, b.Region, false)
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b BucketState) int { return strings.Compare(a.Name, b.Name) })
	return out
}
