// Package bucket validates COS bucket names and region ids and derives the
// only hosts the function may talk to. Every value that comes from an event
// passes through here before it can become part of a URL.
package bucket

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/picbucket/picbucket/internal/clip"
	"github.com/picbucket/picbucket/internal/spell"
)

// Domain is the only DNS suffix a request may be addressed to.
const Domain = "myqcloud.com"

// ServiceHost is the COS endpoint that lists the buckets of every region.
const ServiceHost = "service.cos." + Domain

// MaxHostLen is the documented limit on "<BucketName-APPID>.cos.<region>.myqcloud.com".
const MaxHostLen = 60

var (
	// ErrInvalidName reports a bucket name that is not "<name>-<appid>" in the documented alphabet.
	ErrInvalidName = errors.New("invalid bucket name")
	// ErrInvalidRegion reports a region that is not a well-formed COS region id.
	ErrInvalidRegion = errors.New("invalid region")
)

var (
	nameRE   = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-[0-9]+$`)
	regionRE = regexp.MustCompile(`^[a-z]{2,3}-[a-z]+(?:-[a-z0-9]+)?$`)
)

// shortRegions maps the short region codes that COS trigger records carry
// (cosBucket.region, e.g. "gz") to region ids. Sources (docs/sources.md §3):
// Tencent Cloud's region abbreviation table
// (https://cloud.tencent.com/document/product/248/50863: gz sh bj cd cq nj
// hk sg kr usw de in use th jp, and szx szjr shjr bjjr tsn tpe gzopen), and
// coscmd's legacy codes (tj, spg, ger; github.com/tencentyun/coscmd).
var shortRegions = map[string]string{
	"bj":     "ap-beijing",
	"sh":     "ap-shanghai",
	"gz":     "ap-guangzhou",
	"cd":     "ap-chengdu",
	"cq":     "ap-chongqing",
	"nj":     "ap-nanjing",
	"hk":     "ap-hongkong",
	"sg":     "ap-singapore",
	"in":     "ap-mumbai",
	"jkt":    "ap-jakarta",
	"kr":     "ap-seoul",
	"th":     "ap-bangkok",
	"jp":     "ap-tokyo",
	"usw":    "na-siliconvalley",
	"use":    "na-ashburn",
	"ca":     "na-toronto",
	"sao":    "sa-saopaulo",
	"de":     "eu-frankfurt",
	"ru":     "eu-moscow",
	"szx":    "ap-shenzhen",
	"szjr":   "ap-shenzhen-fsi",
	"shjr":   "ap-shanghai-fsi",
	"bjjr":   "ap-beijing-fsi",
	"tsn":    "ap-tianjin",
	"tpe":    "ap-taipei",
	"gzopen": "ap-guangzhou-open",
	// Legacy codes (coscmd's region map).
	"tj":  "ap-beijing-1",
	"spg": "ap-singapore",
	"ger": "eu-frankfurt",
}

// KnownRegion reports whether region is a region id of the abbreviation
// table above: a region Tencent Cloud documents. ValidateRegion checks the
// shape only; a setting that names a region also passes KnownRegion, so
// that a typo is an error instead of a filter that matches nothing.
func KnownRegion(region string) bool {
	for _, r := range shortRegions {
		if r == region {
			return true
		}
	}
	return false
}

// NearestRegion returns the known region (KnownRegion) closest to s by edit
// distance (spell.Distance), the first in alphabetical order on a tie:
// the suggestion for a mistyped region.
func NearestRegion(s string) string {
	regions := make([]string, 0, len(shortRegions))
	for _, r := range shortRegions {
		if !slices.Contains(regions, r) {
			regions = append(regions, r)
		}
	}
	slices.Sort(regions)
	best, _ := spell.Nearest(s, regions)
	return best
}

// ciUnserved lists COS regions where Cloud Infinite has no endpoint: CI's
// region list (intlcloud-documents, 数据万象/产品简介/地域与域名) lacks them,
// so a request to ci.<region>.myqcloud.com there can only fail. The
// finance-zone and special regions of the abbreviation table are not on it
// either. Regions not listed here are tried.
var ciUnserved = map[string]bool{
	"ap-beijing-1": true, "ap-jakarta": true, "sa-saopaulo": true,
	"ap-shenzhen-fsi": true, "ap-shanghai-fsi": true, "ap-beijing-fsi": true,
	"ap-guangzhou-open": true, "ap-shenzhen": true, "ap-tianjin": true, "ap-taipei": true,
}

// CIServes reports whether Cloud Infinite serves region, as far as its
// documented region list says.
func CIServes(region string) bool { return !ciUnserved[region] }

// Target is one bucket in one region: the unit the function works on.
type Target struct {
	// Bucket is the full bucket name, "<BucketName>-<APPID>".
	Bucket string `json:"bucket"`
	// Region is the bucket's region id, e.g. "ap-guangzhou".
	Region string `json:"region"`
}

// String returns "bucket@region" for messages.
func (t Target) String() string { return t.Bucket + "@" + t.Region }

// Validate checks both fields; the error wraps ErrInvalidName or ErrInvalidRegion.
func (t Target) Validate() error {
	if err := ValidateRegion(t.Region); err != nil {
		return err
	}
	if err := ValidateName(t.Bucket); err != nil {
		return err
	}
	if n := len(t.Bucket) + len(".cos.") + len(t.Region) + len("."+Domain); n > MaxHostLen {
		return fmt.Errorf("%w: %s: <bucket>.cos.%s.%s would be %d characters, the limit is %d",
			ErrInvalidName, quote(t.Bucket), t.Region, Domain, n, MaxHostLen)
	}
	return nil
}

// ValidateName checks a full bucket name "<BucketName>-<APPID>".
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: %s: want <name>-<appid> of a-z, 0-9 and '-' (no leading or trailing '-')",
			ErrInvalidName, quote(name))
	}
	return nil
}

// ValidateRegion checks a region id such as "ap-guangzhou" or "ap-beijing-1".
func ValidateRegion(region string) error {
	if !regionRE.MatchString(region) {
		return fmt.Errorf("%w: %s: want a region id such as ap-guangzhou", ErrInvalidRegion, quote(region))
	}
	return nil
}

// NormalizeRegion accepts a region id or a short COS trigger code ("gz")
// and returns the validated region id.
func NormalizeRegion(region string) (string, error) {
	if long, ok := shortRegions[region]; ok {
		return long, nil
	}
	if err := ValidateRegion(region); err != nil {
		return "", err
	}
	return region, nil
}

// shortNameRE is a bucket name without its "-<APPID>" suffix.
var shortNameRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)

// MinAppIDDigits is the fewest digits a name's last "-" segment must have
// to be read as an APPID when no APPID is known to compare it with. A
// shorter number ("logs-2024") is part of the bucket's own name.
const MinAppIDDigits = 8

// maxAppIDDigits is the most digits read as an APPID (a 64-bit number).
const maxAppIDDigits = 20

// ErrNoAppID reports a bucket name given without "-<APPID>" when no APPID
// is known to complete it.
var ErrNoAppID = errors.New("bucket name has no -<APPID> suffix and no APPID is known")

// Complete returns the full bucket name "<BucketName>-<APPID>" of a name
// that may lack its APPID suffix, as COS API parameters, EventBridge
// subjects, CLS records and manual events may give it.
//
// What Tencent documents of an APPID: it is the number assigned to an
// account when it signs up, fixed and unique, and the full bucket name is
// the custom name, "-" and the APPID, as in examplebucket-1250000000
// (intlcloud-documents yehe_doc/基础存储服务/对象存储/产品简介/基本概念_intl_en.md,
// "APPID"; the bucket naming rules, https://www.tencentcloud.com/document/product/436/13312).
// Every APPID Tencent shows has ten digits and no other width is
// documented; the custom name may itself end in "-" and digits. COS's own
// SDK takes a name with a known APPID as short unless it ends in
// "-"+APPID (github.com/tencentyun/cos-python-sdk-v5 qcloud_cos/cos_comm.py,
// format_bucket). So, with appID known:
//
//   - a name ending in "-"+appID is full;
//   - a name whose last "-" segment is a number of appID's width (not
//     starting with 0) is another account's full name, kept as it is
//     (the filter then skips it as another account's);
//   - any other name is the account's own short name, and "-"+appID is
//     appended: a date ("backup-20240520") or a shorter number
//     ("logs-2024") is part of the name.
//
// A name whose suffix has exactly appID's width but is not an APPID (a
// Unix time such as "logs-1716163200") cannot be told from another
// account's bucket by its form: such a bucket must be named in full. With
// appID unknown, a last segment of MinAppIDDigits or more digits is read
// as an APPID; any other name is an error wrapping ErrNoAppID.
//
// The result is validated; every error wraps ErrInvalidName.
func Complete(name, appID string) (string, error) {
	if !shortNameRE.MatchString(name) {
		return "", ValidateName(name) // the same message as for a full name
	}
	full := name
	if !hasAppID(name, appID) {
		if appID == "" {
			return "", fmt.Errorf("%w: %w: %s (set TENCENTCLOUD_APPID, or name the bucket as <name>-<appid>)",
				ErrInvalidName, ErrNoAppID, quote(name))
		}
		full = name + "-" + appID
	}
	if err := ValidateName(full); err != nil {
		return "", err
	}
	return full, nil
}

// hasAppID reports whether name already ends in an APPID, by the rules of
// Complete.
func hasAppID(name, appID string) bool {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return false
	}
	suffix := name[i+1:]
	if !digits(suffix) {
		return false
	}
	if appID == "" {
		return len(suffix) >= MinAppIDDigits && len(suffix) <= maxAppIDDigits
	}
	return suffix == appID || (len(suffix) == len(appID) && suffix[0] != '0')
}

// digits reports whether s is a non-empty string of ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// AppID returns the APPID suffix of a valid bucket name ("" if there is none).
func AppID(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return ""
	}
	return name[i+1:]
}

// CIHost is the CI host of one bucket: "<bucket>.ci.<region>.myqcloud.com".
func CIHost(t Target) string { return t.Bucket + ".ci." + t.Region + "." + Domain }

// COSHost is the COS host of one bucket: "<bucket>.cos.<region>.myqcloud.com".
func COSHost(t Target) string { return t.Bucket + ".cos." + t.Region + "." + Domain }

// CIRegionHost is the regional CI host that lists enabled buckets: "ci.<region>.myqcloud.com".
func CIRegionHost(region string) string { return "ci." + region + "." + Domain }

// AllowedHost reports whether host (without port) is a well-formed name
// under myqcloud.com: lower-case DNS labels only, so that no URL delimiter
// ('#', '?', '@', ':', '/') or other byte can point a URL elsewhere.
func AllowedHost(host string) bool { return allowedHostRE.MatchString(host) }

var allowedHostRE = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+myqcloud\.com$`)

// quote prints a value from an event safely and briefly.
func quote(s string) string { return clip.Quote(s) }
