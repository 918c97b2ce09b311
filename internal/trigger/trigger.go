// Package trigger turns the raw payload of an SCF invocation into a typed
// Request. It recognises the event type from the payload itself and performs
// no I/O.
//
// Accepted shapes, told apart by the exact (case-sensitive) keys of the
// top-level JSON object:
//
//   - EventBridge batch: {"EventList":[envelope, …]}.
//   - EventBridge envelope: has "specversion", or both "source" and "data".
//     Only CloudAudit PutBucket records from cos.cloud.tencent are acted on;
//     other records are returned in Request.Skipped.
//   - Timer: "Type" is "Timer" (compared case-insensitively). "Message" is
//     empty or a JSON options object.
//   - COS trigger: {"Records":[…]}.
//   - Manual: only the keys "buckets", "reconcile" and "dryRun".
//
// A PutBucket record takes its bucket from the first present of
// data.resourceName, data.requestParameters.{bucket,Bucket,bucketName,
// BucketName}, subject, subjuect and data.resources (qcs resource strings
// are understood), and its region from data.requestParameters.{region,
// Region}, data.eventRegion, the region segment of a qcs resource string,
// then the envelope region. The envelope region is the event bus's, so it is
// used only with a named bucket (and a Note says so); a record that names no
// bucket triggers a reconciliation of its data region, or of all regions.
// A record whose errorCode or apiErrorCode is non-zero is skipped, and its
// values are never a reason to fail the event. The envelope's id, type and
// time are not used.
//
// An object that has the keys of more than one shape is rejected as
// ambiguous rather than resolved by precedence: it can only come from a hand
// written test event, and guessing could ignore a "dryRun" the sender meant.
//
// Every bucket and region is validated with package bucket before it reaches
// a Request. Error messages name the offending field with a path such as
// EventList[2].data.requestParameters.bucket and never echo more than 80
// bytes of any value taken from the event.
//
// JSON objects with duplicate keys are decoded the way encoding/json decodes
// them: the last value wins. Keys are matched exactly; keys of the manual
// event and of the timer options are checked against an allow-list both
// exactly and with json.Decoder.DisallowUnknownFields (whose own matching is
// case-insensitive, so it alone would let "Buckets" through).
package trigger

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/picbucket/picbucket/internal/bucket"
)

// Kind names the trigger that produced an event.
type Kind string

const (
	// KindEventBridge is an EventBridge event (single envelope or EventList batch)
	// carrying CloudAudit records.
	KindEventBridge Kind = "eventbridge"
	// KindTimer is an SCF timer trigger event.
	KindTimer Kind = "timer"
	// KindCOS is a COS trigger (object event) record batch.
	KindCOS Kind = "cos"
	// KindManual is a hand-written invocation: {"buckets":[…],"reconcile":{…},"dryRun":bool}.
	KindManual Kind = "manual"
)

const (
	// MaxPayload is the largest payload Parse accepts: 6 MiB, the SCF
	// synchronous invocation event limit (asynchronous events are capped at
	// 128 KB by the platform).
	MaxPayload = 6 << 20
	// MaxEventList is the largest number of entries accepted in an EventBridge
	// "EventList" batch (the documented batch maximum) and in a COS "Records"
	// array.
	MaxEventList = 10000
	// MaxTargets is the largest number of buckets one Request may name
	// (after de-duplication); it bounds the manual "buckets" list.
	MaxTargets = 10000
	// MaxOptionList is the largest number of entries in each of the
	// reconcile options "regions", "include" and "exclude".
	MaxOptionList = 1000
	// MaxPatternLen is the longest include/exclude glob pattern accepted, in
	// bytes. Bucket host names are at most 60 characters, so longer patterns
	// can only be mistakes.
	MaxPatternLen = 255
)

// ErrInvalidEvent is wrapped by every error Parse returns (test with errors.Is).
// Errors caused by a bad bucket name or region also wrap bucket.ErrInvalidName
// or bucket.ErrInvalidRegion.
var ErrInvalidEvent = errors.New("invalid event")

// Request is what an event asks the function to do.
type Request struct {
	// Kind is the trigger that produced the event.
	Kind Kind
	// Targets are the buckets to enable: validated, de-duplicated, in order
	// of first occurrence.
	Targets []bucket.Target
	// Skipped lists records intentionally not acted on, with the reason
	// (e.g. a failed PutBucket API call or a non-COS EventBridge event).
	Skipped []Skip
	// Reconcile, when non-nil, asks for a reconciliation: on a timer event,
	// a manual "reconcile", or a PutBucket record that names no bucket.
	Reconcile *Reconcile
	// DryRun is set only when the event says so (timer options or manual event).
	DryRun *bool
	// Notes are human-readable facts worth logging, e.g. which record caused
	// a reconciliation. They contain no unvalidated event values.
	Notes []string
}

// Skip is a record that was intentionally not acted on.
type Skip struct {
	// Bucket is the record's bucket when it names a valid one, else "".
	Bucket string
	// Region is the record's region when it names a valid one, else "".
	Region string
	// Reason says why the record was skipped; event values in it are quoted
	// and truncated.
	Reason string
}

// Reconcile asks for a reconciliation: list buckets and enable the missing ones.
type Reconcile struct {
	// Regions are validated region ids; empty means all regions.
	Regions []string
	// Include holds glob patterns (path.Match syntax) on full bucket names;
	// empty means every bucket.
	Include []string
	// Exclude holds glob patterns (path.Match syntax) of bucket names to leave alone.
	Exclude []string
}

// shapesHelp describes the accepted event shapes for error messages.
const shapesHelp = `want a JSON object that is one of: an EventBridge event (keys "specversion", or "source" and "data"), ` +
	`an EventBridge batch ({"EventList":[…]}), a timer event ({"Type":"Timer","Message":…}), ` +
	`a COS trigger event ({"Records":[…]}), or a manual event ` +
	`({"buckets":[{"bucket":"name-appid","region":"ap-…"}],"reconcile":{"regions":[…],"include":[…],"exclude":[…]},"dryRun":bool})`

// Parse decodes a raw SCF event payload into a Request. Every error wraps
// ErrInvalidEvent. Parse never panics and performs no I/O.
func Parse(payload []byte) (*Request, error) {
	if len(payload) > MaxPayload {
		return nil, invalidf("", "payload is %d bytes, more than MaxPayload (%d bytes, the SCF synchronous event limit)",
			len(payload), MaxPayload)
	}
	trimmed := trimSpace(payload)
	if len(trimmed) == 0 {
		return nil, invalidf("", "empty payload: %s", shapesHelp)
	}
	if err := checkJSON(trimmed); err != nil {
		return nil, invalidf("", "payload is not valid JSON (%s): %s", err, shapesHelp)
	}
	if k := kindOf(trimmed); k != kObject {
		return nil, invalidf("", "payload is a JSON %s: %s", k, shapesHelp)
	}
	top, err := objectOf(trimmed, "")
	if err != nil {
		return nil, err
	}

	type shape struct {
		name  string
		parse func(object, []byte) (*Request, error)
	}
	var shapes []shape
	if top.has("EventList") {
		shapes = append(shapes, shape{`an EventBridge batch ("EventList")`, parseBatch})
	}
	if isEnvelope(top) {
		shapes = append(shapes, shape{`an EventBridge event ("specversion", or "source" and "data")`, parseSingle})
	}
	if top.has("Type") {
		shapes = append(shapes, shape{`a timer event ("Type")`, parseTimer})
	}
	if top.has("Records") {
		shapes = append(shapes, shape{`a COS trigger event ("Records")`, parseCOS})
	}
	if top.has("buckets") || top.has("reconcile") || top.has("dryRun") {
		shapes = append(shapes, shape{`a manual event ("buckets", "reconcile", "dryRun")`, parseManual})
	}
	switch len(shapes) {
	case 0:
		return nil, invalidf("", "unrecognised event with top-level keys %s: %s", keyList(top), shapesHelp)
	case 1:
		return shapes[0].parse(top, trimmed)
	default:
		return nil, invalidf("", "ambiguous event: it has the keys of both %s and %s; send one event shape per invocation",
			shapes[0].name, shapes[1].name)
	}
}

// isEnvelope reports whether obj has the keys of an EventBridge envelope.
func isEnvelope(obj object) bool {
	return obj.has("specversion") || (obj.has("source") && obj.has("data"))
}

// keyList lists up to five keys of obj, sorted and quoted, for messages.
func keyList(obj object) string {
	if len(obj) == 0 {
		return "(none)"
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	const max = 5
	var b strings.Builder
	for i, k := range keys {
		if i == max {
			fmt.Fprintf(&b, " and %d more", len(keys)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(k))
	}
	return b.String()
}

// builder accumulates the parts of a Request.
type builder struct {
	req        Request
	seen       map[bucket.Target]bool
	reconcile  bool
	allRegions bool
	regionSeen map[string]bool
	regions    []string
}

func newBuilder(kind Kind) *builder {
	return &builder{req: Request{Kind: kind}, seen: map[bucket.Target]bool{}, regionSeen: map[string]bool{}}
}

// addTarget validates t (path names the field it came from) and appends it
// unless it is a duplicate.
func (b *builder) addTarget(t bucket.Target, path string) error {
	// Checked here first because Target.Validate's length error echoes the
	// whole name, which may be arbitrarily long.
	if n := len(t.Bucket) + len(".cos.") + len(t.Region) + len("."+bucket.Domain); n > bucket.MaxHostLen {
		return wrapErr(path, fmt.Errorf("%w: %s in region %s: the COS host name would be %d characters, the limit is %d",
			bucket.ErrInvalidName, quote(t.Bucket), quote(t.Region), n, bucket.MaxHostLen))
	}
	if err := t.Validate(); err != nil {
		return wrapErr(path, err)
	}
	if b.seen[t] {
		return nil
	}
	if len(b.req.Targets) >= MaxTargets {
		return invalidf(path, "more than MaxTargets (%d) distinct buckets in one event", MaxTargets)
	}
	b.seen[t] = true
	b.req.Targets = append(b.req.Targets, t)
	return nil
}

func (b *builder) skip(s Skip) { b.req.Skipped = append(b.req.Skipped, s) }

func (b *builder) note(format string, args ...any) {
	b.req.Notes = append(b.req.Notes, fmt.Sprintf(format, args...))
}

// reconcileRegion asks for a reconciliation of one validated region, or of
// all regions when region is "".
func (b *builder) reconcileRegion(region string) {
	b.reconcile = true
	if region == "" {
		b.allRegions = true
		return
	}
	if !b.regionSeen[region] {
		b.regionSeen[region] = true
		b.regions = append(b.regions, region)
	}
}

func (b *builder) finish() *Request {
	req := b.req
	if b.reconcile {
		r := &Reconcile{}
		if !b.allRegions {
			r.Regions = b.regions
		}
		req.Reconcile = r
	}
	return &req
}

// invalidf builds an error wrapping ErrInvalidEvent; path names the field.
func invalidf(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if path == "" {
		return fmt.Errorf("%w: %s", ErrInvalidEvent, msg)
	}
	return fmt.Errorf("%w: %s: %s", ErrInvalidEvent, path, msg)
}

// wrapErr prefixes err (e.g. from package bucket) with ErrInvalidEvent and
// the field path, keeping err in the chain.
func wrapErr(path string, err error) error {
	if path == "" {
		return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrInvalidEvent, path, err)
}

// maxEcho is the most bytes of any event value copied into a message.
const maxEcho = 80

// quote prints a value from an event safely and briefly: Go-quoted, at most
// maxEcho bytes of the value, with the full length when it was cut.
func quote(s string) string {
	if len(s) > maxEcho {
		return fmt.Sprintf("%q…(%d bytes)", s[:maxEcho], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// truncate shortens text that is already safe to print (e.g. a JSON number
// or a library error message) to a bounded length.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return s[:max] + fmt.Sprintf("…(%d bytes)", len(s))
}

// child joins a field path and a key.
func child(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// index joins a field path and an array index.
func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// trimSpace removes JSON whitespace (space, tab, CR, LF) from both ends.
func trimSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n")
}
