package trigger

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/rules"
)

// optionKeyRE finds an options key in a timer Message that is not JSON.
var optionKeyRE = regexp.MustCompile(`(?i)dry.?run|regions|include|exclude`)

// parseTimer handles an SCF timer event:
// {"Type":"Timer","TriggerName":…,"Time":…,"Message":…}. Keys other than
// Type and Message are ignored. Message is empty or a JSON options object;
// text that is not JSON at all (a habit from other functions, such as
// "argument: hello") is ignored with a note, unless it names an option (it
// may have asked for a dry run: a run the user tried to narrow is never
// widened); JSON that is not a valid options object is an invalid event.
func parseTimer(top object, _ []byte, _ Options) (*Request, error) {
	typ, ok := stringOf(top["Type"])
	if !ok || !strings.EqualFold(typ, "Timer") {
		return nil, invalidf("Type", `want "Timer" (a timer event), got %s`, describe(top["Type"]))
	}
	req := &Request{Kind: KindTimer, Reconcile: &Reconcile{}}
	raw := top["Message"]
	if absent(raw) {
		return req, nil
	}
	msg, ok := stringOf(raw)
	if !ok {
		return nil, invalidf("Message", "want a string (empty, or a JSON options object), got %s", article(kindOf(raw)))
	}
	msgBytes := trimSpace([]byte(msg))
	if len(strings.TrimSpace(msg)) == 0 {
		return req, nil
	}
	const want = `want the timer argument to be empty or a JSON object {"regions":["ap-…"],"include":["glob"],"exclude":["glob"],"dryRun":bool}`
	if err := checkJSON(msgBytes); err != nil {
		if c := msgBytes[0]; c == '{' || c == '[' || c == '"' || optionKeyRE.Match(msgBytes) {
			return nil, invalidf("Message", "%s, got %s (not JSON: %s)", want, quote(msg), err)
		}
		req.Notes = append(req.Notes, fmt.Sprintf("timer Message %s is not JSON and names no option: ignored, reconciling with the defaults", quote(msg)))
		return req, nil
	}
	if k := kindOf(msgBytes); k != kObject {
		return nil, invalidf("Message", "%s, got %s", want, article(k))
	}
	opts, err := strictObject(msgBytes, "Message", "regions", "include", "exclude", "dryRun")
	if err != nil {
		return nil, err
	}
	rec, err := parseReconcile(opts, "Message")
	if err != nil {
		return nil, err
	}
	req.Reconcile = rec
	if req.DryRun, err = optBool(opts["dryRun"], "Message.dryRun"); err != nil {
		return nil, err
	}
	return req, nil
}

// parseManual handles {"buckets":[{"bucket":…,"region":…}],"reconcile":{…},"dryRun":bool}.
func parseManual(top object, raw []byte, opts Options) (*Request, error) {
	if _, err := strictObject(raw, "", "buckets", "reconcile", "dryRun"); err != nil {
		return nil, err
	}
	b := newBuilder(KindManual)
	var err error
	if b.req.DryRun, err = optBool(top["dryRun"], "dryRun"); err != nil {
		return nil, err
	}
	hasBuckets := !absent(top["buckets"])
	if hasBuckets {
		items, err := arrayOf(top["buckets"], "buckets", 1, MaxTargets)
		if err != nil {
			return nil, err
		}
		for i, item := range items {
			p := index("buckets", i)
			o, err := strictObject(item, p, "bucket", "region")
			if err != nil {
				return nil, err
			}
			name, err := requiredString(o, p, "bucket", `a bucket name "<name>-<appid>"`)
			if err != nil {
				return nil, err
			}
			if name, err = manualName(name, opts.AppID); err != nil {
				return nil, wrapErr(child(p, "bucket"), err)
			}
			region, err := requiredString(o, p, "region", `a region id such as "ap-guangzhou"`)
			if err != nil {
				return nil, err
			}
			if err := bucket.ValidateRegion(region); err != nil {
				return nil, wrapErr(child(p, "region"), err)
			}
			if err := b.addTarget(bucket.Target{Bucket: name, Region: region}, p, false); err != nil {
				return nil, err
			}
		}
	}
	req, err := b.finish()
	if err != nil {
		return nil, err
	}
	if raw := top["reconcile"]; !absent(raw) {
		o, err := strictObject(raw, "reconcile", "regions", "include", "exclude")
		if err != nil {
			return nil, err
		}
		if req.Reconcile, err = parseReconcile(o, "reconcile"); err != nil {
			return nil, err
		}
	} else if !hasBuckets {
		return nil, invalidf("", `a manual event needs "buckets" (a non-empty array) or "reconcile" (an object), or both`)
	}
	return req, nil
}

// parseMember handles {"account":{"uin":…,"role":…},"reconcile":{…},"dryRun":bool}:
// the reconciliation of one member account. "reconcile" defaults to all
// regions and buckets.
func parseMember(top object, raw []byte, _ Options) (*Request, error) {
	if _, err := strictObject(raw, "", "account", "reconcile", "dryRun"); err != nil {
		return nil, err
	}
	a, err := strictObject(top["account"], "account", "uin", "role")
	if err != nil {
		return nil, err
	}
	uin, p := "", child("account", "uin")
	switch kindOf(a["uin"]) {
	case kString:
		uin, _ = stringOf(a["uin"])
	case kNumber:
		uin = string(trimSpace(a["uin"]))
	default:
		return nil, invalidf(p, "required: want the member's account ID (UIN), digits")
	}
	if err := rules.UIN(uin); err != nil {
		return nil, wrapErr(p, fmt.Errorf("%w, got %s", err, quote(uin)))
	}
	req := &Request{Kind: KindMember, Account: &Account{Uin: uin}, Reconcile: &Reconcile{}}
	if s, rp, ok, err := optString(a, "account", "role"); err != nil {
		return nil, err
	} else if ok {
		if err := rules.RoleName(s); err != nil {
			return nil, wrapErr(rp, fmt.Errorf("%w, got %s", err, quote(s)))
		}
		req.Account.Role = s
	}
	if raw := top["reconcile"]; !absent(raw) {
		o, err := strictObject(raw, "reconcile", "regions", "include", "exclude")
		if err != nil {
			return nil, err
		}
		if req.Reconcile, err = parseReconcile(o, "reconcile"); err != nil {
			return nil, err
		}
	}
	if req.DryRun, err = optBool(top["dryRun"], "dryRun"); err != nil {
		return nil, err
	}
	return req, nil
}

// manualName is the full name of a bucket a manual event names: with the
// account's APPID known, a name without "-<APPID>" is completed by the
// rules of bucket.Complete ("backup-20240520" is the account's own
// backup-20240520-<APPID>; "photos-1250000011" stays another account's);
// without it, the name must be full.
func manualName(name, appID string) (string, error) {
	if appID == "" {
		return name, bucket.ValidateName(name)
	}
	return bucket.Complete(name, appID)
}

// requiredString reads a non-empty JSON string field.
func requiredString(o object, path, key, want string) (string, error) {
	s, p, ok, err := optString(o, path, key)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", invalidf(p, "required: want %s", want)
	}
	return s, nil
}

// optBool decodes an optional JSON boolean (absent or null → nil).
func optBool(raw json.RawMessage, path string) (*bool, error) {
	if absent(raw) {
		return nil, nil
	}
	if kindOf(raw) != kBool {
		return nil, invalidf(path, "want true or false, got %s", describe(raw))
	}
	v := string(trimSpace(raw)) == "true"
	return &v, nil
}

// parseReconcile reads the regions/include/exclude options of o (path names o).
func parseReconcile(o object, p string) (*Reconcile, error) {
	r := &Reconcile{}
	regions, err := stringList(o["regions"], child(p, "regions"))
	if err != nil {
		return nil, err
	}
	for i, region := range regions {
		if err := bucket.ValidateRegion(region); err != nil {
			return nil, wrapErr(index(child(p, "regions"), i), err)
		}
	}
	r.Regions = dedup(regions)
	for _, f := range []struct {
		key string
		dst *[]string
	}{{"include", &r.Include}, {"exclude", &r.Exclude}} {
		fp := child(p, f.key)
		patterns, err := stringList(o[f.key], fp)
		if err != nil {
			return nil, err
		}
		for i, pat := range patterns {
			if err := rules.BucketPattern(pat); err != nil {
				return nil, wrapErr(index(fp, i), fmt.Errorf("%w, got %s", err, quote(pat)))
			}
		}
		*f.dst = dedup(patterns)
	}
	return r, nil
}

// stringList decodes an optional array of JSON strings (absent or null → nil).
func stringList(raw json.RawMessage, p string) ([]string, error) {
	if absent(raw) {
		return nil, nil
	}
	items, err := arrayOf(raw, p, 0, MaxOptionList)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		s, err := requireString(item, index(p, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// dedup removes repeated strings, keeping first occurrences; nil for none.
func dedup(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
