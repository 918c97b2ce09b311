package trigger

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/picbucket/picbucket/internal/bucket"
)

// appidRE is the form of a COS APPID.
var appidRE = regexp.MustCompile(`^[0-9]{1,20}$`)

// parseCOS handles a COS trigger event:
// {"Records":[{"cos":{"cosBucket":{"name":…,"appid":…,"cosRegion":…,"region":…},…},"event":{…}}]}.
// Every record names a bucket to enable; the object event itself is ignored.
// A record that cannot be read becomes a Skip; the event fails only when no
// record can be read.
func parseCOS(top object, _ []byte, opts Options) (*Request, error) {
	items, err := arrayOf(top["Records"], "Records", 1, MaxEventList)
	if err != nil {
		return nil, err
	}
	b := newBuilder(KindCOS)
	for i, item := range items {
		p := index("Records", i)
		b.record(func() error {
			t, path, err := cosTarget(item, p, opts)
			if err != nil {
				return err
			}
			return b.addTarget(t, path, false)
		})
	}
	return b.finish()
}

// cosRegionKeys are the cosBucket fields that may hold the region, in order:
// real COS trigger events carry the full id in cosRegion and s3Region beside
// the short code in region ({"cosRegion":"ap-shanghai","region":"sh",
// "s3Region":"ap-shanghai"}, a captured event; docs/sources.md §3), while
// Tencent's documented sample has only "region":"cd"
// (https://www.tencentcloud.com/document/product/583/9707).
var cosRegionKeys = []string{"cosRegion", "s3Region", "region"}

// cosTarget reads the bucket of one COS trigger record.
func cosTarget(item json.RawMessage, p string, opts Options) (bucket.Target, string, error) {
	rec, err := objectOf(item, p)
	if err != nil {
		return bucket.Target{}, "", err
	}
	cosPath := child(p, "cos")
	cos, err := objectOf(rec["cos"], cosPath)
	if err != nil {
		return bucket.Target{}, "", err
	}
	bPath := child(cosPath, "cosBucket")
	cb, err := objectOf(cos["cosBucket"], bPath)
	if err != nil {
		return bucket.Target{}, "", err
	}
	name, err := requiredString(cb, bPath, "name", `the bucket name without "-<appid>"`)
	if err != nil {
		return bucket.Target{}, "", err
	}
	appid, err := cosAppID(cb, bPath, opts.AppID)
	if err != nil {
		return bucket.Target{}, "", err
	}
	// cosBucket.name is documented without "-<appid>"
	// (https://www.tencentcloud.com/document/product/583/9707).
	full := name
	if !strings.HasSuffix(name, "-"+appid) {
		full = name + "-" + appid
	}
	if err := bucket.ValidateName(full); err != nil {
		return bucket.Target{}, "", wrapErr(child(bPath, "name"), err)
	}
	for _, k := range cosRegionKeys {
		s, rp, ok, err := optString(cb, bPath, k)
		if err != nil {
			return bucket.Target{}, "", err
		}
		if !ok {
			continue
		}
		region, err := bucket.NormalizeRegion(s)
		if err != nil {
			return bucket.Target{}, "", wrapErr(rp, err)
		}
		return bucket.Target{Bucket: full, Region: region}, bPath, nil
	}
	return bucket.Target{}, "", invalidf(bPath, `no region: want "cosRegion" (a region id such as "ap-guangzhou"), "s3Region" or "region" (a region id or COS short code such as "gz")`)
}

// cosAppID reads cosBucket.appid: a string of digits, or a JSON integer.
// When it is absent, the account's APPID (def) is used.
func cosAppID(cb object, bPath, def string) (string, error) {
	p := child(bPath, "appid")
	raw := cb["appid"]
	var s string
	switch kindOf(raw) {
	case kMissing, kNull:
		if def != "" {
			return def, nil
		}
		return "", invalidf(p, "required: want the APPID, a string of digits")
	case kString:
		s, _ = stringOf(raw)
	case kNumber:
		s = string(trimSpace(raw))
	default:
		return "", invalidf(p, "want the APPID, a string of digits, got %s", article(kindOf(raw)))
	}
	if !appidRE.MatchString(s) {
		return "", invalidf(p, "want the APPID, 1 to 20 digits, got %s", quote(s))
	}
	return s, nil
}
