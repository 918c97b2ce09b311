package trigger

import (
	"regexp"
	"strings"

	"github.com/picbucket/picbucket/internal/bucket"
)

// appidRE is the form of a COS APPID.
var appidRE = regexp.MustCompile(`^[0-9]{1,20}$`)

// parseCOS handles a COS trigger event:
// {"Records":[{"cos":{"cosBucket":{"name":…,"appid":…,"region":…},…},"event":{…}}]}.
// Every record names a bucket to enable; the object event itself is ignored.
func parseCOS(top object, _ []byte) (*Request, error) {
	items, err := arrayOf(top["Records"], "Records", 1, MaxEventList)
	if err != nil {
		return nil, err
	}
	b := newBuilder(KindCOS)
	for i, item := range items {
		p := index("Records", i)
		rec, err := objectOf(item, p)
		if err != nil {
			return nil, err
		}
		cosPath := child(p, "cos")
		cos, err := objectOf(rec["cos"], cosPath)
		if err != nil {
			return nil, err
		}
		bPath := child(cosPath, "cosBucket")
		cb, err := objectOf(cos["cosBucket"], bPath)
		if err != nil {
			return nil, err
		}
		name, err := requiredString(cb, bPath, "name", `the bucket name without "-<appid>"`)
		if err != nil {
			return nil, err
		}
		appid, err := cosAppID(cb, bPath)
		if err != nil {
			return nil, err
		}
		full := name
		if !strings.HasSuffix(name, "-"+appid) {
			full = name + "-" + appid
		}
		if err := bucket.ValidateName(full); err != nil {
			return nil, wrapErr(child(bPath, "name"), err)
		}
		region, err := requiredString(cb, bPath, "region", `a region id or COS short code such as "gz"`)
		if err != nil {
			return nil, err
		}
		if region, err = bucket.NormalizeRegion(region); err != nil {
			return nil, wrapErr(child(bPath, "region"), err)
		}
		if err := b.addTarget(bucket.Target{Bucket: full, Region: region}, bPath); err != nil {
			return nil, err
		}
	}
	return b.finish(), nil
}

// cosAppID reads cosBucket.appid: a string of digits, or a JSON integer.
func cosAppID(cb object, bPath string) (string, error) {
	p := child(bPath, "appid")
	raw := cb["appid"]
	var s string
	switch kindOf(raw) {
	case kMissing, kNull:
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
