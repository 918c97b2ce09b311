package handler

import (
	"slices"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/ciservice"
	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/rules"
	"github.com/picbucket/picbucket/internal/trigger"
)

// filter is the one place that decides which buckets are acted on: by name
// and region (the settings, the reconcile options), and by the bucket's own
// tags (PICBUCKET_SKIP_TAG, PICBUCKET_REQUIRE_TAG). The plan asks byName;
// the executor asks byTags once it has read a bucket's tags.
type filter struct {
	cfg   config.Config
	appID string // the account's APPID; "" when unknown
	// service is the CI service judged, when PICBUCKET_SERVICES is set:
	// a region that does not offer it skips the bucket (service.go).
	service *ciservice.Service
}

// filteredOut is the verdict for a bucket that the settings or the
// reconcile options leave out. A listed bucket so left out is only counted
// (Summary.Filtered, and named in a debug line); a bucket the event names
// is reported skipped.
const filteredOut Outcome = "filtered"

// verdict is the filter's answer: act (outcome ""), or the outcome and the
// reason to report instead.
type verdict struct {
	outcome Outcome
	reason  string
}

// act reports whether the bucket is acted on.
func (v verdict) act() bool { return v.outcome == "" }

// byName judges t by its name and region. spec is the reconciliation's
// options, nil for a bucket the event names.
func (f filter) byName(t bucket.Target, spec *trigger.Reconcile) verdict {
	if err := t.Validate(); err != nil {
		return verdict{Skipped, "listed bucket not usable: " + err.Error()}
	}
	if f.appID != "" && bucket.AppID(t.Bucket) != f.appID {
		return verdict{Skipped, "other account: APPID " + bucket.AppID(t.Bucket) + " is not " + f.appID}
	}
	switch {
	case len(f.cfg.Regions) > 0 && !slices.Contains(f.cfg.Regions, t.Region):
		return verdict{filteredOut, "region not in " + config.Regions}
	case len(f.cfg.Include) > 0 && !rules.MatchAny(f.cfg.Include, t.Bucket):
		return verdict{filteredOut, "not matched by " + config.Include}
	case rules.MatchAny(f.cfg.Exclude, t.Bucket):
		return verdict{filteredOut, "matched by " + config.Exclude}
	}
	if spec != nil && !specAllows(spec, t) {
		return verdict{filteredOut, "left out by the reconcile options"}
	}
	if !bucket.CIServes(t.Region) {
		return verdict{Skipped, "Cloud Infinite does not serve " + t.Region}
	}
	if f.service != nil {
		if ok, why := f.service.Serves(t.Region); !ok {
			return verdict{Skipped, why}
		}
	}
	return verdict{}
}

// needsTags reports whether byTags needs the bucket's tags: only when a
// tag setting is set.
func (f filter) needsTags() bool { return f.cfg.SkipTag != nil || f.cfg.RequireTag != nil }

// byTags judges a bucket by its tags. A bucket lacking the required tag is
// skipped when the event names it and filtered out in a reconciliation.
func (f filter) byTags(tags map[string]string, fromEvent bool) verdict {
	if t := f.cfg.SkipTag; t != nil && t.In(tags) {
		return verdict{Skipped, "the bucket carries the tag " + t.String() + " (" + config.SkipTag + "): its owner opted out"}
	}
	if t := f.cfg.RequireTag; t != nil && !t.In(tags) {
		o := filteredOut
		if fromEvent {
			o = Skipped
		}
		return verdict{o, "the bucket lacks the tag " + t.String() + " (" + config.RequireTag + ")"}
	}
	return verdict{}
}

func specAllows(spec *trigger.Reconcile, t bucket.Target) bool {
	if len(spec.Regions) > 0 && !slices.Contains(spec.Regions, t.Region) {
		return false
	}
	if len(spec.Include) > 0 && !rules.MatchAny(spec.Include, t.Bucket) {
		return false
	}
	return !rules.MatchAny(spec.Exclude, t.Bucket)
}
