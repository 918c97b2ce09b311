package emulator

import (
	"fmt"
	"math"
	"strconv"
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
