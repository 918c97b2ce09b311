package trigger

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/picbucket/picbucket/internal/bucket"
)

// cosSource is the EventBridge "source" of COS CloudAudit events.
const cosSource = "cos.cloud.tencent"

// putBucket is the CloudAudit eventName of bucket creation.
const putBucket = "PutBucket"

// parseBatch handles {"EventList":[envelope, …]}.
func parseBatch(top object, _ []byte) (*Request, error) {
	items, err := arrayOf(top["EventList"], "EventList", 1, MaxEventList)
	if err != nil {
		return nil, err
	}
	b := newBuilder(KindEventBridge)
	for i, item := range items {
		p := index("EventList", i)
		env, err := objectOf(item, p)
		if err != nil {
			return nil, err
		}
		if !isEnvelope(env) {
			return nil, invalidf(p, `not an EventBridge event: want the key "specversion", or "source" and "data"; got keys %s`, keyList(env))
		}
		if err := parseEnvelope(b, env, p); err != nil {
			return nil, err
		}
	}
	return b.finish(), nil
}

// parseSingle handles one EventBridge envelope delivered on its own.
func parseSingle(top object, _ []byte) (*Request, error) {
	b := newBuilder(KindEventBridge)
	if err := parseEnvelope(b, top, ""); err != nil {
		return nil, err
	}
	return b.finish(), nil
}

// record is one EventBridge envelope and its decoded CloudAudit data.
type record struct {
	env    object
	data   object
	path   string // path of the envelope ("" or "EventList[i]")
	params object // data.requestParameters when it is (or holds) an object
}

// label names the record in notes.
func (r *record) label() string {
	if r.path == "" {
		return "PutBucket record"
	}
	return "PutBucket record " + r.path
}

// parseEnvelope adds what one envelope asks for to b. Records that are not
// COS PutBucket records, and failed PutBucket calls, are skipped; a
// malformed field in a record that is acted on fails the whole event.
func parseEnvelope(b *builder, env object, path string) error {
	if raw := env["source"]; !absent(raw) {
		if s, ok := stringOf(raw); !ok || s != cosSource {
			b.skip(Skip{Reason: fmt.Sprintf("source %s is not %s", describe(raw), cosSource)})
			return nil
		}
	}
	dataRaw := env["data"]
	if absent(dataRaw) {
		b.skip(Skip{Reason: "event has no data, so it is not a COS PutBucket record"})
		return nil
	}
	dataPath := child(path, "data")
	data, err := embeddedObject(dataRaw, dataPath)
	if err != nil {
		return err
	}
	if s, ok := stringOf(data["eventName"]); !ok || s != putBucket {
		b.skip(Skip{Reason: fmt.Sprintf("eventName %s is not %s", describe(data["eventName"]), putBucket)})
		return nil
	}
	r := &record{env: env, data: data, path: path}
	if raw := data["requestParameters"]; kindOf(raw) == kObject || kindOf(raw) == kString {
		// An empty or non-object requestParameters simply has no bucket or region.
		if params, err := embeddedObject(raw, child(dataPath, "requestParameters")); err == nil {
			r.params = params
		}
	}

	errorCode, apiErrorCode := data["errorCode"], data["apiErrorCode"]
	if nonZero(errorCode) || nonZero(apiErrorCode) {
		s := Skip{Reason: fmt.Sprintf("PutBucket failed: errorCode=%s apiErrorCode=%s",
			describe(errorCode), describe(apiErrorCode))}
		// Best effort: a failed call may well name an invalid bucket (that
		// may be why it failed), so nothing here can fail the event.
		if name, _, err := r.bucket(); err == nil {
			s.Bucket = name
		}
		if region, _, _, err := r.region(); err == nil {
			s.Region = region
		}
		b.skip(s)
		return nil
	}

	name, namePath, err := r.bucket()
	if err != nil {
		return err
	}
	region, _, fromEnvelope, err := r.region()
	if err != nil {
		return err
	}
	switch {
	case name == "" && region != "" && !fromEnvelope:
		b.reconcileRegion(region)
		b.note("%s names no bucket: reconciling region %s", r.label(), region)
	case name == "":
		// The envelope region is the event bus's (always ap-guangzhou for
		// CloudAudit), not the bucket's: it cannot narrow a reconciliation.
		b.reconcileRegion("")
		b.note("%s names no bucket and no bucket region: reconciling all regions", r.label())
	case region == "":
		b.reconcileRegion("")
		b.note("%s names bucket %s but no region: reconciling all regions", r.label(), name)
	default:
		if fromEnvelope {
			b.note("%s names bucket %s but no bucket region: using the envelope region %s (the event bus's region, which may not be the bucket's)",
				r.label(), name, region)
		}
		return b.addTarget(bucket.Target{Bucket: name, Region: region}, namePath)
	}
	return nil
}

// bucketKeys are the requestParameters keys that may hold the bucket name.
var bucketKeys = []string{"bucket", "Bucket", "bucketName", "BucketName"}

// bucket returns the validated bucket name of the record and the field it
// came from, or "" when the record names none. The first field present
// wins: data.resourceName, data.requestParameters.{bucket,Bucket,bucketName,
// BucketName}, subject, subjuect, data.resources.
func (r *record) bucket() (name, path string, err error) {
	dataPath := child(r.path, "data")

	if s, p, ok, err := optString(r.data, dataPath, "resourceName"); err != nil {
		return "", "", err
	} else if ok {
		return bucketRef(s, p)
	}

	if r.params != nil {
		paramsPath := child(dataPath, "requestParameters")
		for _, k := range bucketKeys {
			s, p, ok, err := optString(r.params, paramsPath, k)
			if err != nil {
				return "", "", err
			}
			if ok {
				if err := bucket.ValidateName(s); err != nil {
					return "", "", wrapErr(p, err)
				}
				return s, p, nil
			}
		}
	}

	for _, k := range []string{"subject", "subjuect"} {
		if s, p, ok, err := optString(r.env, r.path, k); err != nil {
			return "", "", err
		} else if ok {
			return bucketRef(s, p)
		}
	}

	resPath := child(dataPath, "resources")
	switch raw := r.data["resources"]; kindOf(raw) {
	case kMissing, kNull:
	case kString:
		if s, _ := stringOf(raw); s != "" {
			return bucketRef(s, resPath)
		}
	case kArray:
		items, err := arrayOf(raw, resPath, 0, MaxEventList)
		if err != nil {
			return "", "", err
		}
		for i, item := range items {
			p := index(resPath, i)
			s, err := requireString(item, p)
			if err != nil {
				return "", "", err
			}
			if s != "" {
				return bucketRef(s, p)
			}
		}
	default:
		return "", "", invalidf(resPath, "want a qcs resource string or an array of them, got %s", article(kindOf(raw)))
	}
	return "", "", nil
}

// region returns the normalized region of the record's bucket and the field
// it came from, or "" when there is none. The first field present wins:
// data.requestParameters.{region,Region}, data.eventRegion, the region
// segment of a qcs resource string (data.resourceName, subject, subjuect,
// data.resources), the envelope region (fromEnvelope=true).
func (r *record) region() (region, path string, fromEnvelope bool, err error) {
	dataPath := child(r.path, "data")
	norm := func(s, p string) (string, string, bool, error) {
		n, err := bucket.NormalizeRegion(s)
		if err != nil {
			return "", "", false, wrapErr(p, err)
		}
		return n, p, false, nil
	}

	if r.params != nil {
		paramsPath := child(dataPath, "requestParameters")
		for _, k := range []string{"region", "Region"} {
			s, p, ok, err := optString(r.params, paramsPath, k)
			if err != nil {
				return "", "", false, err
			}
			if ok {
				return norm(s, p)
			}
		}
	}

	if s, p, ok, err := optString(r.data, dataPath, "eventRegion"); err != nil {
		return "", "", false, err
	} else if ok {
		return norm(s, p)
	}

	for _, c := range r.qcsCandidates() {
		if _, seg, err := parseQCS(c.value); err == nil && seg != "" {
			return norm(seg, c.path)
		}
	}

	if s, p, ok, err := optString(r.env, r.path, "region"); err != nil {
		return "", "", false, err
	} else if ok {
		region, p, _, err := norm(s, p)
		return region, p, err == nil, err
	}
	return "", "", false, nil
}

// candidate is a string field value and its path.
type candidate struct{ value, path string }

// qcsCandidates lists the string fields that may hold a qcs resource string,
// in the order they are searched; non-strings are ignored here.
func (r *record) qcsCandidates() []candidate {
	dataPath := child(r.path, "data")
	var out []candidate
	add := func(raw json.RawMessage, p string) {
		if s, ok := stringOf(raw); ok && strings.HasPrefix(s, "qcs:") {
			out = append(out, candidate{s, p})
		}
	}
	add(r.data["resourceName"], child(dataPath, "resourceName"))
	add(r.env["subject"], child(r.path, "subject"))
	add(r.env["subjuect"], child(r.path, "subjuect"))
	resPath := child(dataPath, "resources")
	switch raw := r.data["resources"]; kindOf(raw) {
	case kString:
		add(raw, resPath)
	case kArray:
		if items, err := arrayOf(raw, resPath, 0, MaxEventList); err == nil {
			for i, item := range items {
				add(item, index(resPath, i))
			}
		}
	}
	return out
}

// bucketRef extracts and validates a bucket name from a field that may hold
// a bare name ("photos-1250000000"), a name followed by a path
// ("photos-1250000000/key"), or a qcs resource string.
func bucketRef(s, path string) (string, string, error) {
	name := s
	if strings.HasPrefix(s, "qcs:") {
		n, _, err := parseQCS(s)
		if err != nil {
			return "", "", wrapErr(path, err)
		}
		name = n
	} else if i := strings.IndexByte(s, '/'); i >= 0 {
		name = s[:i]
	}
	if err := bucket.ValidateName(name); err != nil {
		return "", "", wrapErr(path, err)
	}
	return name, path, nil
}

// qcsHelp describes the accepted qcs resource strings.
const qcsHelp = "want qcs:<project>:cos:<region>:uid/<appid>:<resource> with <resource> " +
	"<name>-<appid>, bucket/<name>-<appid> or prefix//<appid>/<name>"

// parseQCS splits a COS qcs resource string, e.g.
// "qcs::cos:ap-shanghai:uid/1250000000:photos-1250000000" or
// "qcs:id/0:cos:ap-shanghai:uid/1250000000:prefix//1250000000/photos/…",
// into its bucket name (not validated) and region segment (may be "").
func parseQCS(s string) (name, region string, err error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "qcs" {
		return "", "", fmt.Errorf("%w: %s: %s", bucket.ErrInvalidName, quote(s), qcsHelp)
	}
	if parts[2] != "cos" {
		return "", "", fmt.Errorf("%w: %s: not a COS resource: %s", bucket.ErrInvalidName, quote(s), qcsHelp)
	}
	region, res := parts[3], parts[5]
	switch {
	case strings.HasPrefix(res, "prefix//"):
		seg := strings.SplitN(strings.TrimPrefix(res, "prefix//"), "/", 3)
		if len(seg) < 2 {
			return "", "", fmt.Errorf("%w: %s: %s", bucket.ErrInvalidName, quote(s), qcsHelp)
		}
		appid, n := seg[0], seg[1]
		if !strings.HasSuffix(n, "-"+appid) {
			n += "-" + appid
		}
		return n, region, nil
	case strings.HasPrefix(res, "bucket/"):
		res = strings.TrimPrefix(res, "bucket/")
	}
	if i := strings.IndexByte(res, '/'); i >= 0 {
		res = res[:i]
	}
	return res, region, nil
}
