package trigger

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/picbucket/picbucket/internal/bucket"
)

// cosSource is the EventBridge "source" of COS CloudAudit events.
const cosSource = "cos.cloud.tencent"

// putBucket is the CloudAudit eventName of bucket creation.
const putBucket = "PutBucket"

// parseBatch handles {"EventList":[envelope, …]}. Each entry is read on its
// own: one that cannot be read becomes a Skip naming the field and what was
// wrong, and costs nothing else; the batch fails only when no entry at all
// can be read.
func parseBatch(top object, _ []byte, opts Options) (*Request, error) {
	items, err := arrayOf(top["EventList"], "EventList", 1, MaxEventList)
	if err != nil {
		return nil, err
	}
	b := newBuilder(KindEventBridge)
	for i, item := range items {
		p := index("EventList", i)
		b.record(func() error {
			env, err := objectOf(item, p)
			if err != nil {
				return err
			}
			if !isEnvelope(env) {
				return invalidf(p, `not an EventBridge event: want the key "specversion", or "source" and "data"; got keys %s`, keyList(item))
			}
			return parseEnvelope(b, env, p, opts)
		})
	}
	return b.finish()
}

// parseSingle handles one EventBridge envelope delivered on its own.
func parseSingle(top object, _ []byte, opts Options) (*Request, error) {
	b := newBuilder(KindEventBridge)
	b.record(func() error { return parseEnvelope(b, top, "", opts) })
	return b.finish()
}

// record is one CloudAudit record: the data of an EventBridge envelope, or
// the content of a CLS trigger record. Both kinds are read by the same code
// (decodeAudit, applyPut, bucket, region), so a bucket and its region come
// from the same fields in the same order whatever the route.
type record struct {
	env      object // the EventBridge envelope (subject, subjuect, region); nil for a CLS record
	envPath  string // path of the envelope ("" or "EventList[i]"); "" for a CLS record
	data     object // the CloudAudit record
	dataPath string // path of data, e.g. "EventList[2].data" or "clslogs.records[3].content"
	label    string // names the record in notes, e.g. "PutBucket record EventList[2]"
	params   object // data.requestParameters when it is (or holds) an object
	appID    string // completes bucket names: the record's qcs uid, else the account's
	// shortOK keeps a bucket name that lacks "-<APPID>" when no APPID is
	// known (CLS records of any account): named.short is then set.
	shortOK bool
}

// parseEnvelope adds what one envelope asks for to b, or returns why the
// record cannot be read (then b is unchanged). Records that are not COS
// PutBucket records, and failed PutBucket calls, are skipped.
func parseEnvelope(b *builder, env object, path string, opts Options) error {
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
	label := "PutBucket record"
	if path != "" {
		label += " " + path
	}
	r := &record{env: env, envPath: path, data: data, dataPath: dataPath, label: label, appID: opts.AppID}
	put, skip, err := decodeAudit(r)
	switch {
	case err != nil:
		return err
	case skip != nil:
		b.skip(*skip)
		return nil
	}
	return applyPut(b, put)
}

// auditPut is what a successful PutBucket record names.
type auditPut struct {
	rec        *record
	found      named  // the bucket; found.name is "" when the record names none
	region     string // the bucket's region, "" when the record gives none
	regionPath string // the field region came from
}

// decodeAudit reads one CloudAudit record. A record that is not a PutBucket
// (another eventName) or whose call failed (a non-zero errorCode or
// apiErrorCode) returns a Skip, whose Bucket and Region are filled in when
// the record names valid ones: its values are never a reason to fail. A
// successful PutBucket returns its bucket and region; a value that tries to
// name one and is malformed is the error. r.appID is the account's APPID
// (or ""); the record's own qcs uid replaces it.
func decodeAudit(r *record) (auditPut, *Skip, error) {
	data, dataPath := r.data, r.dataPath
	if s, ok := stringOf(data["eventName"]); !ok || s != putBucket {
		return auditPut{}, &Skip{Reason: fmt.Sprintf("eventName %s is not %s", describe(data["eventName"]), putBucket)}, nil
	}
	if raw := data["requestParameters"]; kindOf(raw) == kObject || kindOf(raw) == kString {
		// An empty or non-object requestParameters simply has no bucket or region.
		if params, err := embeddedObject(raw, child(dataPath, "requestParameters")); err == nil {
			r.params = params
		}
	}
	if uid := r.qcsAppID(); uid != "" {
		r.appID = uid
	}

	errorCode, apiErrorCode := data["errorCode"], data["apiErrorCode"]
	if nonZero(errorCode) || nonZero(apiErrorCode) {
		s := &Skip{Reason: fmt.Sprintf("PutBucket failed: errorCode=%s apiErrorCode=%s",
			describe(errorCode), describe(apiErrorCode))}
		// Best effort: a failed call may well name an invalid bucket (that
		// may be why it failed), so nothing here can fail the event.
		if found, err := r.bucket(); err == nil && !found.short {
			s.Bucket = found.name
		}
		if region, _, err := r.region(); err == nil {
			s.Region = region
		}
		return auditPut{}, s, nil
	}

	found, err := r.bucket()
	if err != nil {
		return auditPut{}, nil, err
	}
	if r.env != nil {
		// The envelope's region is the event bus's and is never used, but a
		// malformed one still makes the record unreadable.
		if s, p, ok, err := optString(r.env, r.envPath, "region"); err != nil {
			return auditPut{}, nil, err
		} else if ok {
			if _, err := bucket.NormalizeRegion(s); err != nil {
				return auditPut{}, nil, wrapErr(p, err)
			}
		}
	}
	region, regionPath, err := r.region()
	if err != nil {
		return auditPut{}, nil, err
	}
	return auditPut{rec: r, found: found, region: region, regionPath: regionPath}, nil, nil
}

// applyPut adds what a successful PutBucket record asks for to b: its
// bucket (with its region, or to be located), or a reconciliation of its
// region (or of all regions) when it names no bucket.
func applyPut(b *builder, put auditPut) error {
	found, region, r := put.found, put.region, put.rec
	switch {
	case found.name == "" && region != "":
		b.reconcileRegion(region)
		b.note("%s names no bucket%s: reconciling region %s (from %s)", r.label, found.passedNote(), region, put.regionPath)
	case found.name == "":
		// The envelope region is the event bus's (always ap-guangzhou for
		// CloudAudit), not the bucket's: it cannot narrow a reconciliation.
		b.reconcileRegion("")
		b.note("%s names no bucket%s and no bucket region: reconciling all regions", r.label, found.passedNote())
	case region == "":
		// The envelope region is the bus's, never the bucket's: the handler
		// finds the bucket's region with GetService.
		if err := b.addLocate(found.name, found.path, found.short); err != nil {
			return err
		}
		b.note("%s names bucket %s (from %s%s) but no bucket region: locating it with GetService",
			r.label, found.name, found.path, found.passedNote())
	default:
		if err := b.addTarget(bucket.Target{Bucket: found.name, Region: region}, found.path, found.short); err != nil {
			return err
		}
		if len(found.passed) > 0 {
			b.note("%s: bucket %s from %s%s", r.label, found.name, found.path, found.passedNote())
		}
	}
	return nil
}

// bucketKeys are the requestParameters keys that may hold the bucket name.
var bucketKeys = []string{"bucket", "Bucket", "bucketName", "BucketName"}

// named is the outcome of searching a record's bucket sources.
type named struct {
	name   string   // the full, validated bucket name; "" when every source is absent
	short  bool     // name lacks "-<APPID>": no APPID was known (record.shortOK)
	path   string   // the field it came from
	passed []string // the present fields passed over because they name no bucket
}

// passedNote renders the fields passed over for a note ("" when none).
func (n named) passedNote() string {
	if len(n.passed) == 0 {
		return ""
	}
	return "; passed over " + strings.Join(n.passed, ", ") + " (no bucket named)"
}

// bucket returns the record's bucket: the first source that names one, in
// the order data.resourceName, data.requestParameters.{bucket,Bucket,
// bucketName,BucketName}, subject, subjuect, data.resources. A value of a
// form that names no bucket ("*", "", policy/…, a qcs string of another
// service) is passed over; a value that tries to name a bucket and is
// malformed is an error, and so is a name without "-<APPID>" when no APPID
// is known.
func (r *record) bucket() (named, error) {
	dataPath := r.dataPath
	var out named
	try := func(raw json.RawMessage, p string) (bool, error) {
		if absent(raw) {
			return false, nil
		}
		s, err := requireString(raw, p)
		if err != nil {
			return false, err
		}
		src, appID, ok, err := bucketSource(s, p)
		if err != nil {
			return false, err
		}
		if !ok {
			if s != "" {
				out.passed = append(out.passed, p+"="+quote(s))
			}
			return false, nil
		}
		if appID == "" && r.appID == "" && r.shortOK {
			// Kept as written, validated as it will be once completed with
			// the account's APPID (AccountBuckets.Complete): whether a digit
			// suffix is an APPID depends on the account's (bucket.Complete).
			if _, err := bucket.Complete(src, placeholderAppID); err != nil {
				return false, wrapErr(p, err)
			}
			out.name, out.path, out.short = src, p, true
			return true, nil
		}
		name, err := bucket.Complete(src, cmp.Or(appID, r.appID))
		if err != nil {
			return false, wrapErr(p, err)
		}
		out.name, out.path = name, p
		return true, nil
	}

	if ok, err := try(r.data["resourceName"], child(dataPath, "resourceName")); ok || err != nil {
		return out, err
	}
	if r.params != nil {
		paramsPath := child(dataPath, "requestParameters")
		for _, k := range bucketKeys {
			if ok, err := try(r.params[k], child(paramsPath, k)); ok || err != nil {
				return out, err
			}
		}
	}
	for _, k := range []string{"subject", "subjuect"} {
		if ok, err := try(r.env[k], child(r.envPath, k)); ok || err != nil {
			return out, err
		}
	}
	resPath := child(dataPath, "resources")
	switch raw := r.data["resources"]; kindOf(raw) {
	case kMissing, kNull, kString:
		if ok, err := try(raw, resPath); ok || err != nil {
			return out, err
		}
	case kArray:
		items, err := arrayOf(raw, resPath, 0, MaxEventList)
		if err != nil {
			return out, err
		}
		for i, item := range items {
			if ok, err := try(item, index(resPath, i)); ok || err != nil {
				return out, err
			}
		}
	default:
		return out, invalidf(resPath, "want a qcs resource string or an array of them, got %s", article(kindOf(raw)))
	}
	return out, nil
}

// region returns the normalized region of the record's bucket and the field
// it came from, or "" when the record gives none. The first field present
// wins: data.requestParameters.{region,Region}, data.eventRegion, the region
// segment of a COS qcs resource string (data.resourceName, subject,
// subjuect, data.resources). Short codes ("gz") are accepted. The envelope's
// "region" is the event bus's and is never used.
func (r *record) region() (region, path string, err error) {
	dataPath := r.dataPath
	norm := func(s, p string) (string, string, error) {
		n, err := bucket.NormalizeRegion(s)
		if err != nil {
			return "", "", wrapErr(p, err)
		}
		return n, p, nil
	}

	if r.params != nil {
		paramsPath := child(dataPath, "requestParameters")
		for _, k := range []string{"region", "Region"} {
			s, p, ok, err := optString(r.params, paramsPath, k)
			if err != nil {
				return "", "", err
			}
			if ok && s != "*" {
				return norm(s, p)
			}
		}
	}

	if s, p, ok, err := optString(r.data, dataPath, "eventRegion"); err != nil {
		return "", "", err
	} else if ok && s != "*" {
		return norm(s, p)
	}

	for _, c := range r.qcsCandidates() {
		if q, err := parseQCS(c.value); err == nil && q.service == "cos" && q.region != "" {
			return norm(q.region, c.path)
		}
	}
	return "", "", nil
}

// qcsAppID returns the APPID of the first COS qcs string of the record that
// carries one ("uid/1250000000" or "uid1250000000"), or "".
func (r *record) qcsAppID() string {
	for _, c := range r.qcsCandidates() {
		if q, err := parseQCS(c.value); err == nil && q.service == "cos" && q.appID != "" {
			return q.appID
		}
	}
	return ""
}

// candidate is a string field value and its path.
type candidate struct{ value, path string }

// qcsCandidates lists the string fields that may hold a qcs resource string,
// in the order they are searched; non-strings are ignored here.
func (r *record) qcsCandidates() []candidate {
	dataPath := r.dataPath
	var out []candidate
	add := func(raw json.RawMessage, p string) {
		if s, ok := stringOf(raw); ok && strings.HasPrefix(s, "qcs:") {
			out = append(out, candidate{s, p})
		}
	}
	add(r.data["resourceName"], child(dataPath, "resourceName"))
	add(r.env["subject"], child(r.envPath, "subject"))
	add(r.env["subjuect"], child(r.envPath, "subjuect"))
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

// typeWordRE is the <type> of a "<type>/<id>" resource name such as
// "policy/7934***" (CloudAudit's example of resourceName).
var typeWordRE = regexp.MustCompile(`^[A-Za-z][A-Za-z_]*$`)

// bucketSource reads a bucket name from a field value that may hold a
// bare name ("photos-1250000000", or "photos" to be completed), a
// "bucket/<name>" or other "<type>/<id>" resource name, or a qcs resource
// string; appID is the APPID the value itself carries (a qcs string's),
// else "". The name is not completed or validated yet. ok=false with a nil
// error means the value names no bucket: "", "*", a "<type>/<id>" of
// another type, a qcs string of another service or of no bucket. A path
// ("a/b/c") or a malformed qcs string is an error naming path.
func bucketSource(s, path string) (name, appID string, ok bool, err error) {
	if s == "" || s == "*" {
		return "", "", false, nil
	}
	if strings.HasPrefix(s, "qcs:") {
		q, err := parseQCS(s)
		if err != nil {
			return "", "", false, wrapErr(path, err)
		}
		if q.service != "cos" || q.bucket == "" {
			return "", "", false, nil
		}
		return q.bucket, q.appID, true, nil
	}
	if typ, id, found := strings.Cut(s, "/"); found {
		switch {
		case typ == "bucket" && !strings.Contains(id, "/"):
			return id, "", true, nil
		case typeWordRE.MatchString(typ) && typ != "bucket":
			return "", "", false, nil
		default:
			return "", "", false, wrapErr(path, fmt.Errorf("%w: %s: want a bucket name, bucket/<name>, <type>/<id> or a qcs resource string, not a path",
				bucket.ErrInvalidName, quote(s)))
		}
	}
	return s, "", true, nil
}

// qcsHelp describes the accepted qcs resource strings.
const qcsHelp = "want qcs:<project>:<service>:<region>:uid/<appid>:<resource>, for COS with <resource> " +
	"<name>[-<appid>][/<key>], bucket/<name>-<appid> or prefix//<appid>/<name>"

// qcs is a parsed qcs resource string.
type qcs struct {
	service string // "cos" for COS resources
	region  string // the region segment, may be ""
	appID   string // from "uid/<appid>" or "uid<appid>", may be ""
	bucket  string // the bucket named by the resource (not validated), or ""
}

// parseQCS splits a qcs resource string, e.g.
// "qcs::cos:ap-shanghai:uid/1250000000:photos-1250000000",
// "qcs::cos:ap-guangzhou:uid1250000000:bucketname" (EventBridge's COS
// sample) or "qcs:id/0:cos:ap-shanghai:uid/1250000000:prefix//1250000000/photos/…".
// Only the six-part form is accepted; the service, region and APPID are
// returned for any service, the bucket only for COS.
func parseQCS(s string) (qcs, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "qcs" {
		return qcs{}, fmt.Errorf("%w: %s: %s", bucket.ErrInvalidName, quote(s), qcsHelp)
	}
	q := qcs{service: parts[2], region: parts[3]}
	if uid := strings.TrimPrefix(strings.TrimPrefix(parts[4], "uid"), "/"); uid != parts[4] && appidRE.MatchString(uid) {
		q.appID = uid
	}
	if q.service != "cos" {
		return q, nil
	}
	res := parts[5]
	switch {
	case res == "" || res == "*":
	case strings.HasPrefix(res, "prefix//"):
		seg := strings.SplitN(strings.TrimPrefix(res, "prefix//"), "/", 3)
		if len(seg) < 2 || !appidRE.MatchString(seg[0]) {
			return qcs{}, fmt.Errorf("%w: %s: %s", bucket.ErrInvalidName, quote(s), qcsHelp)
		}
		q.appID, q.bucket = seg[0], seg[1]
	default:
		res = strings.TrimPrefix(res, "bucket/")
		q.bucket, _, _ = strings.Cut(res, "/") // a CAM object resource: <bucket>/<key>
		if q.bucket == "*" {
			q.bucket = ""
		}
	}
	return q, nil
}
