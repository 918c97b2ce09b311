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
//   - Member: "account" (see KindMember).
//   - CLS trigger: {"clslogs":{"data":…}} (see cls.go): CloudAudit records
//     of any account, read by the same code as EventBridge's, grouped by
//     account in Request.Accounts.
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
// them: the last value wins. Keys are matched exactly (encoding/json's
// struct matching is case-insensitive, so it would let "Buckets" through);
// keys of the manual and member events and of the timer options are
// checked against an allow-list.
//
// Memory is bounded by what the event names, not by its size: the payload
// is validated with json.Valid, an object keeps only the keys some shape
// reads (knownKeys; every other key is scanned past, see scan.go), values
// are sub-slices of the payload, lists are scanned in place up to their
// limits, and a CLS document is decoded as it is decompressed, one value
// of at most MaxCLSValue at a time. A 6 MB event of any shape is read
// within the 64 MB the function deploys with (docs/performance.md).
package trigger

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/clip"
	"github.com/picbucket/picbucket/internal/rules"
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
	// KindMember asks for the reconciliation of one member account of an
	// Organization: {"account":{"uin":…,"role":…},"reconcile":{…},"dryRun":bool}.
	// The organization timer sends it to the function itself (fan-out).
	KindMember Kind = "member"
	// KindCLS is a CLS trigger event carrying CloudAudit records of any
	// account of an Organization: {"clslogs":{"data":"<base64 of gzip>"}}.
	// Its buckets are in Request.Accounts, grouped by account.
	KindCLS Kind = "cls"
)

const (
	// MaxPayload is the largest payload ParseWith accepts: 6 MiB, the SCF
	// synchronous invocation event limit (asynchronous events are capped at
	// 128 KB; https://www.tencentcloud.com/document/product/583/11637).
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
	// bytes (the rule of internal/rules).
	MaxPatternLen = rules.MaxPatternLen
)

// ErrInvalidEvent is wrapped by every error ParseWith returns (test with errors.Is).
// Errors caused by a bad bucket name or region also wrap bucket.ErrInvalidName
// or bucket.ErrInvalidRegion.
var ErrInvalidEvent = errors.New("invalid event")

// Request is what an event asks the function to do.
type Request struct {
	// Kind is the trigger that produced the event.
	Kind Kind
	// Targets are the buckets to enable: validated, de-duplicated by name,
	// in order of first occurrence.
	Targets []bucket.Target
	// Locate lists validated bucket names that the event names without a
	// bucket region (the envelope's region is the event bus's, never the
	// bucket's): the handler finds each one's region with GetService. No
	// name is in both Targets and Locate.
	Locate []string
	// Skipped lists records intentionally not acted on, with the reason
	// (e.g. a failed PutBucket API call or a non-COS EventBridge event).
	// No Skip names a bucket that is in Targets or Locate: a bucket that
	// one record of the event created is acted on, whatever another record
	// of the event says of it (a client's retry after a failed PutBucket,
	// in either order).
	Skipped []Skip
	// Reconcile, when non-nil, asks for a reconciliation: on a timer event,
	// a manual "reconcile", or a PutBucket record that names no bucket.
	Reconcile *Reconcile
	// DryRun is set only when the event says so (timer options or manual event).
	DryRun *bool
	// Notes are human-readable facts worth logging, e.g. which record caused
	// a reconciliation. They contain no unvalidated event values.
	Notes []string
	// Account is the member account a member event names; nil otherwise.
	Account *Account
	// Accounts holds, for a CLS event only, the buckets its records name,
	// one entry per account (userIdentity.accountId) in order of first
	// record; Targets, Locate and Reconcile of the Request are then empty,
	// and Skipped holds the records that could not be read.
	Accounts []AccountBuckets
}

// AccountBuckets are the buckets that the CloudAudit records of one
// account name, in a CLS event. The account decides the key that signs
// their requests; the handler decides whether the account is in scope.
type AccountBuckets struct {
	// Uin is the account's ID (UIN): the records' userIdentity.accountId.
	Uin string
	// Targets are the buckets named with their region, de-duplicated.
	Targets []bucket.Target
	// Locate lists the buckets named without a region.
	Locate []string
	// Reconcile is set when a PutBucket record names no bucket: the
	// regions it names (none: all regions).
	Reconcile *Reconcile
	// NeedAppID is set when a name in Targets or Locate is as its record
	// gave it, because the record carried no APPID (no qcs "uid/<APPID>"):
	// whether the name lacks "-<APPID>" depends on the account's APPID
	// (bucket.Complete: "backup-20240520" is short, "docs-1250000011" is
	// full). Call Complete with the account's APPID before using the names.
	NeedAppID bool
	// Notes say which record asked for what, as for an EventBridge event.
	Notes []string
}

// Complete returns a with every bucket name completed with the account's
// APPID (names that already end in an APPID are kept), de-duplicated, and
// the names that cannot be completed as Skips naming the account.
func (a AccountBuckets) Complete(appID string) (AccountBuckets, []Skip) {
	out := a
	out.Targets, out.Locate, out.NeedAppID = nil, nil, false
	seen := map[string]bool{}
	var skipped []Skip
	for _, t := range a.Targets {
		full, err := bucket.Complete(t.Bucket, appID)
		if err == nil {
			err = checkTarget(bucket.Target{Bucket: full, Region: t.Region}, "")
		}
		if err != nil {
			skipped = append(skipped, Skip{Region: t.Region, Reason: fmt.Sprintf("bucket %s of account %s: %s", quote(t.Bucket), a.Uin, unprefixed{err}.Error())})
			continue
		}
		if !seen[full] {
			seen[full] = true
			out.Targets = append(out.Targets, bucket.Target{Bucket: full, Region: t.Region})
		}
	}
	for _, name := range a.Locate {
		full, err := bucket.Complete(name, appID)
		if err != nil {
			skipped = append(skipped, Skip{Reason: fmt.Sprintf("bucket %s of account %s: %s", quote(name), a.Uin, err)})
			continue
		}
		if !seen[full] {
			seen[full] = true
			out.Locate = append(out.Locate, full)
		}
	}
	return out, skipped
}

// Account is a member account of an Organization and the role to assume in it.
type Account struct {
	// Uin is the member's account ID (UIN), digits.
	Uin string `json:"uin"`
	// Role is the CAM role name to assume; "" means the configured default.
	Role string `json:"role,omitempty"`
}

// Options are facts about the account that decoding needs.
type Options struct {
	// AppID is the account's APPID. It completes bucket names that an event
	// gives without "-<APPID>" when the record itself carries no qcs
	// "uid/<APPID>".
	AppID string
}

// Skip is a record that was intentionally not acted on, or that could not
// be read (then Reason starts with "unreadable record: " and names the field).
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
	Regions []string `json:"regions,omitempty"`
	// Include holds glob patterns (path.Match syntax) on full bucket names;
	// empty means every bucket.
	Include []string `json:"include,omitempty"`
	// Exclude holds glob patterns (path.Match syntax) of bucket names to leave alone.
	Exclude []string `json:"exclude,omitempty"`
}

// shapesHelp describes the accepted event shapes for error messages.
const shapesHelp = `want a JSON object that is one of: an EventBridge event (keys "specversion", or "source" and "data"), ` +
	`an EventBridge batch ({"EventList":[…]}), a timer event ({"Type":"Timer","Message":…}), ` +
	`a COS trigger event ({"Records":[…]}), a manual event ` +
	`({"buckets":[{"bucket":"name-appid","region":"ap-…"}],"reconcile":{"regions":[…],"include":[…],"exclude":[…]},"dryRun":bool}), ` +
	`a member event ({"account":{"uin":"…","role":"…"},"reconcile":{…},"dryRun":bool}), ` +
	`or a CLS trigger event ({"clslogs":{"data":"<base64 of a gzip document>"}})`

// ParseWith decodes a raw SCF event payload into a Request. Every error
// wraps ErrInvalidEvent. In an EventBridge batch and a COS "Records" array,
// a record that cannot be read becomes a Skip naming the field and what was
// wrong; the event fails only when it is not JSON, matches no known shape,
// or no record at all can be read. ParseWith never panics and performs no I/O.
func ParseWith(payload []byte, opts Options) (*Request, error) {
	if len(payload) > MaxPayload {
		return nil, invalidf("", "payload is %d bytes, more than MaxPayload (%d bytes, the SCF synchronous event limit)",
			len(payload), MaxPayload)
	}
	trimmed := trimSpace(payload)
	if len(trimmed) == 0 {
		return nil, invalidf("", "empty payload: %s", shapesHelp)
	}
	// Checked whole, so that a syntax error's line and column are the payload's.
	if err := checkJSON(payload); err != nil {
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
		parse func(object, []byte, Options) (*Request, error)
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
	if top.has("clslogs") {
		shapes = append(shapes, shape{`a CLS trigger event ("clslogs")`, parseCLS})
	}
	if top.has("account") {
		shapes = append(shapes, shape{`a member event ("account")`, parseMember})
	} else if top.has("buckets") || top.has("reconcile") || top.has("dryRun") {
		shapes = append(shapes, shape{`a manual event ("buckets", "reconcile", "dryRun")`, parseManual})
	}
	switch len(shapes) {
	case 0:
		return nil, invalidf("", "unrecognised event with top-level keys %s: %s", keyList(trimmed), shapesHelp)
	case 1:
		return shapes[0].parse(top, trimmed, opts)
	default:
		return nil, invalidf("", "ambiguous event: it has the keys of both %s and %s; send one event shape per invocation",
			shapes[0].name, shapes[1].name)
	}
}

// isEnvelope reports whether obj has the keys of an EventBridge envelope.
func isEnvelope(obj object) bool {
	return obj.has("specversion") || (obj.has("source") && obj.has("data"))
}

// keyList lists up to five keys of the JSON object raw, sorted and
// quoted, for messages; it keeps no more than five keys whatever raw holds.
func keyList(raw []byte) string {
	const max = 5
	var smallest []string // sorted
	n := 0
	members(trimSpace(raw), func(key, _ []byte) bool {
		n++
		k := keyText(key)
		if len(smallest) == max && k >= smallest[max-1] {
			return true
		}
		i, _ := slices.BinarySearch(smallest, k)
		smallest = slices.Insert(smallest, i, k)
		if len(smallest) > max {
			smallest = smallest[:max]
		}
		return true
	})
	if n == 0 {
		return "(none)"
	}
	var b strings.Builder
	for i, k := range smallest {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(k))
	}
	if n > max {
		fmt.Fprintf(&b, " and %d more", n-max)
	}
	return b.String()
}

// builder accumulates the parts of a Request.
type builder struct {
	req  Request
	seen map[string]bool // bucket names in Targets or Locate
	// skipped counts the Skips listed in req.Skipped that name each bucket:
	// a bucket that becomes a target drops them.
	skipped    map[string]int
	reconcile  bool
	allRegions bool
	regionSeen map[string]bool
	regions    []string
	records    int   // records read, including skipped ones
	unreadable int   // records that could not be read
	firstErr   error // why the first unreadable record could not be read
	notes      int   // notes added; at most maxNotes are kept
	overSkips  int   // Skips past maxSkips, counted in a note instead
	short      bool  // a name in Targets or Locate lacks "-<APPID>"
	// shared, when set, counts the buckets of every builder of the event
	// against MaxTargets (the accounts of a CLS event); else this builder's.
	shared *int
}

// maxNotes bounds the notes of one Request: a batch of 10,000 records must
// not make 10,000 log lines.
const maxNotes = 20

// maxSkips bounds the Skips of one Request: a CLS event may hold
// MaxCLSRecords (100,000) unreadable records, and a Skip and a result line
// each would take the function's memory. As many as an EventBridge batch
// may hold (MaxEventList) are listed; the rest are counted in one note.
const maxSkips = MaxEventList

func newBuilder(kind Kind) *builder {
	return &builder{req: Request{Kind: kind}, seen: map[string]bool{}, skipped: map[string]int{}, regionSeen: map[string]bool{}}
}

// record reads one record with read, which either adds to b or returns why
// the record cannot be read. A record that cannot be read changes nothing
// but a Skip naming the field: read must return its error before it adds
// anything to b.
func (b *builder) record(read func() error) {
	b.records++
	err := read()
	if err == nil {
		return
	}
	b.unreadable++
	if b.firstErr == nil {
		b.firstErr = err
	}
	b.skip(Skip{Reason: "unreadable record: " + unprefixed{err}.Error()})
}

// checkTarget validates t; path names the field it came from.
func checkTarget(t bucket.Target, path string) error {
	// Checked here first because Target.Validate's length error echoes the
	// whole name, which may be arbitrarily long.
	if n := len(t.Bucket) + len(".cos.") + len(t.Region) + len("."+bucket.Domain); n > bucket.MaxHostLen {
		return wrapErr(path, fmt.Errorf("%w: %s in region %s: the COS host name would be %d characters, the limit is %d",
			bucket.ErrInvalidName, quote(t.Bucket), quote(t.Region), n, bucket.MaxHostLen))
	}
	if err := t.Validate(); err != nil {
		return wrapErr(path, err)
	}
	return nil
}

// placeholderAppID stands in for an APPID not known yet, only to validate
// a bucket name that lacks "-<APPID>" as it will be once completed (a
// 10-digit APPID, the length of today's).
const placeholderAppID = "1250000000"

// addTarget validates t (path names the field it came from) and appends it
// unless a bucket of that name is already there. short says that t.Bucket
// lacks "-<APPID>" (then b.req.NeedAppID is set; see AccountBuckets).
func (b *builder) addTarget(t bucket.Target, path string, short bool) error {
	check := t
	if short {
		full, err := bucket.Complete(t.Bucket, placeholderAppID)
		if err != nil {
			return wrapErr(path, err)
		}
		check.Bucket = full
	}
	if err := checkTarget(check, path); err != nil {
		return err
	}
	if b.seen[t.Bucket] {
		return nil
	}
	if err := b.countTarget(path); err != nil {
		return err
	}
	b.claim(t.Bucket)
	b.req.Targets = append(b.req.Targets, t)
	b.short = b.short || short
	return nil
}

// addLocate appends a validated bucket name whose region is unknown, unless
// a bucket of that name is already there. short is as for addTarget.
func (b *builder) addLocate(name, path string, short bool) error {
	check := name
	if short {
		full, err := bucket.Complete(name, placeholderAppID)
		if err != nil {
			return wrapErr(path, err)
		}
		check = full
	}
	if err := bucket.ValidateName(check); err != nil {
		return wrapErr(path, err)
	}
	if b.seen[name] {
		return nil
	}
	if err := b.countTarget(path); err != nil {
		return err
	}
	b.claim(name)
	b.req.Locate = append(b.req.Locate, name)
	b.short = b.short || short
	return nil
}

// countTarget counts one more bucket against MaxTargets, or returns why
// it cannot be added.
func (b *builder) countTarget(path string) error {
	n := len(b.req.Targets) + len(b.req.Locate)
	if b.shared != nil {
		n = *b.shared
	}
	if n >= MaxTargets {
		return invalidf(path, "more than MaxTargets (%d) distinct buckets in one event", MaxTargets)
	}
	if b.shared != nil {
		*b.shared++
	}
	return nil
}

// claim marks name as a bucket the event acts on, and drops the Skips
// listed for it: a record that names a bucket successfully outweighs one
// whose call failed, which came first (a client's retry after a 5xx, or a
// second PutBucket answered BucketAlreadyOwnedByYou).
func (b *builder) claim(name string) {
	b.seen[name] = true
	if b.skipped[name] == 0 {
		return
	}
	delete(b.skipped, name)
	b.req.Skipped = slices.DeleteFunc(b.req.Skipped, func(s Skip) bool { return s.Bucket == name })
	if len(b.req.Skipped) == 0 {
		b.req.Skipped = nil
	}
}

// skip lists s, unless it names a bucket that the event acts on.
func (b *builder) skip(s Skip) {
	if s.Bucket != "" && b.seen[s.Bucket] {
		return
	}
	if len(b.req.Skipped) >= maxSkips {
		b.overSkips++
		return
	}
	b.req.Skipped = append(b.req.Skipped, s)
	if s.Bucket != "" {
		b.skipped[s.Bucket]++
	}
}

func (b *builder) note(format string, args ...any) {
	b.notes++
	switch {
	case b.notes <= maxNotes:
		b.req.Notes = append(b.req.Notes, fmt.Sprintf(format, args...))
	case b.notes == maxNotes+1:
		b.req.Notes = append(b.req.Notes, "further notes left out")
	}
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

// finish returns the Request, or an error when records were given and none
// of them could be read.
func (b *builder) finish() (*Request, error) {
	if b.records > 0 && b.unreadable == b.records {
		if b.records == 1 {
			return nil, b.firstErr
		}
		return nil, fmt.Errorf("%w: none of the %d records could be read; the first: %w", ErrInvalidEvent, b.records,
			unprefixed{b.firstErr})
	}
	if b.overSkips > 0 {
		b.req.Notes = append(b.req.Notes, fmt.Sprintf("%d more records were skipped (unreadable, or not acted on); only the first %d are listed", b.overSkips, maxSkips))
	}
	req := b.req
	if b.reconcile {
		r := &Reconcile{}
		if !b.allRegions {
			r.Regions = b.regions
		}
		req.Reconcile = r
	}
	return &req, nil
}

// unprefixed is an error wrapping ErrInvalidEvent shown without the
// "invalid event: " prefix, to be wrapped in another such error.
type unprefixed struct{ err error }

func (u unprefixed) Error() string {
	return strings.TrimPrefix(u.err.Error(), ErrInvalidEvent.Error()+": ")
}
func (u unprefixed) Unwrap() error { return u.err }

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
const maxEcho = clip.MaxEcho

// quote prints a value from an event safely and briefly (clip.Quote).
func quote(s string) string { return clip.Quote(s) }

// truncate shortens text that is already safe to print (clip.String).
func truncate(s string, max int) string { return clip.String(s, max) }

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
