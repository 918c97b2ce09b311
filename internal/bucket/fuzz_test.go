package bucket

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// hostileNames and hostileRegions seed the fuzz targets below: look-alikes,
// separators, ports, user info, control characters and case tricks.
var (
	hostileNames = []string{
		"photos-1250000000", "a-1", "my-photos-2-1250000000", "Photos-1250000000", "photos",
		"-photos-1250000000", "photos-1250000000-", "photos/../x-1250000000", "photos@evil.com-1",
		"evil.com-1250000000", "phоtos-1250000000", "ｐhotos-1250000000", "photos-１２５",
		"photos-1250000000\n", "photos-1250000000\r\nHost: evil.com", "photos-1250000000\x00",
		"photos-1250000000:443", "photos-1250000000.evil.com", "evil.com#-1", "a?b-1", "a%2f-1",
		"a\\b-1", "[::1]-1", "a b-1", "a\tb-1", "", "-", "-1", "0-0", strings.Repeat("a", 40) + "-1250000000",
		strings.Repeat("a", 45) + "-1",
	}
	hostileRegions = []string{
		"ap-guangzhou", "ap-beijing-1", "na-siliconvalley", "gz", "sh", "tj", "GZ", "AP-GUANGZHOU",
		"ap-guangzhou.evil.com", "ap-guangzhou:443", "localhost", "127.0.0.1", "ap-guangzhou/x",
		"ap-guangzhou@evil.com", "ap-guangzhou\n", "ap-guangzhou\x00", "ap-guangzhоu", "", "a-b-c-d",
		"evil.com#", "ap-guangzhou%2e", "[::1]",
	}
)

// hostOK is the property every host derived from a validated target must
// have: under myqcloud.com by AllowedHost, and none of the characters that
// would change where a URL points.
func hostOK(t *testing.T, what, host string) {
	t.Helper()
	if !AllowedHost(host) {
		t.Errorf("%s: host %q fails AllowedHost", what, host)
	}
	if strings.ContainsAny(host, ":/@") {
		t.Errorf("%s: host %q contains ':', '/' or '@'", what, host)
	}
	if !strings.HasSuffix(host, "."+Domain) {
		t.Errorf("%s: host %q is not under %s", what, host, Domain)
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			t.Errorf("%s: host %q has %q outside [a-z0-9.-]", what, host, r)
			return
		}
	}
}

// FuzzTarget checks that a target that passes Validate can only produce
// hosts under myqcloud.com, within the documented length, and that
// Validate's errors wrap the documented sentinels.
func FuzzTarget(f *testing.F) {
	for _, n := range hostileNames {
		for _, r := range hostileRegions {
			f.Add(n, r)
		}
	}
	f.Fuzz(func(t *testing.T, name, region string) {
		tg := Target{Bucket: name, Region: region}
		err := tg.Validate()
		if err != nil {
			if !errors.Is(err, ErrInvalidName) && !errors.Is(err, ErrInvalidRegion) {
				t.Fatalf("Validate(%q, %q) = %v: wraps neither ErrInvalidName nor ErrInvalidRegion", name, region, err)
			}
			return
		}
		if ValidateName(name) != nil || ValidateRegion(region) != nil {
			t.Fatalf("Validate accepted %q@%q that ValidateName/ValidateRegion refuse", name, region)
		}
		hostOK(t, "CIHost", CIHost(tg))
		hostOK(t, "CIRegionHost", CIRegionHost(region))
		if n := len(name + ".cos." + region + "." + Domain); n > MaxHostLen {
			t.Errorf("%q@%q: COS host is %d characters, limit %d", name, region, n, MaxHostLen)
		}
		// The CI host splits back into exactly the bucket and the region:
		// no label of either can bleed into the other.
		labels := strings.Split(strings.TrimSuffix(CIHost(tg), "."+Domain), ".")
		if len(labels) != 3 || labels[0] != name || labels[1] != "ci" || labels[2] != region {
			t.Errorf("CIHost(%q@%q) splits into %q", name, region, labels)
		}
		if id := AppID(name); id == "" || strings.Trim(id, "0123456789") != "" {
			t.Errorf("AppID(%q) = %q, want the digits after the last '-'", name, id)
		}
	})
}

// FuzzNormalizeRegion checks that whatever NormalizeRegion returns is a
// valid region id whose hosts are under myqcloud.com.
func FuzzNormalizeRegion(f *testing.F) {
	for _, r := range hostileRegions {
		f.Add(r)
	}
	for short := range shortRegions {
		f.Add(short)
		f.Add(strings.ToUpper(short))
		f.Add(short + ".evil.com")
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalizeRegion(in)
		if err != nil {
			if out != "" || !errors.Is(err, ErrInvalidRegion) {
				t.Fatalf("NormalizeRegion(%q) = %q, %v; want \"\" and ErrInvalidRegion", in, out, err)
			}
			// quote echoes at most 80 bytes of the input, each at most 4
			// characters once escaped ("\xa0").
			if len(err.Error()) > 4*80+150 {
				t.Errorf("error is %d bytes: it echoes too much of the input", len(err.Error()))
			}
			return
		}
		if err := ValidateRegion(out); err != nil {
			t.Fatalf("NormalizeRegion(%q) = %q, which ValidateRegion refuses: %v", in, out, err)
		}
		if _, short := shortRegions[in]; !short && out != in {
			t.Errorf("NormalizeRegion(%q) = %q: a region id must come back unchanged", in, out)
		}
		hostOK(t, "CIRegionHost", CIRegionHost(out))
		hostOK(t, "CIHost", CIHost(Target{Bucket: "a-1", Region: out}))
	})
}

// FuzzAllowedHost checks that a host AllowedHost accepts keeps its meaning
// when it is put into a URL: "https://" + host + "/picbucket" parses to a
// host that is still under myqcloud.com, or does not parse at all. A host that passes AllowedHost
// but parses to another host (e.g. "evil.com#.myqcloud.com", whose URL
// points at evil.com) would defeat the check for any caller that builds a
// URL from a string.
func FuzzAllowedHost(f *testing.F) {
	for _, h := range []string{
		"service.cos.myqcloud.com", "a-1.ci.ap-guangzhou.myqcloud.com", "myqcloud.com", ".myqcloud.com",
		"evil.com", "myqcloud.com.evil.com", "x.myqcloud.com:443", "evilmyqcloud.com", "a@b.myqcloud.com",
		"a/b.myqcloud.com", "x.myqcloud.com.", "X.MYQCLOUD.COM", "a\x00.myqcloud.com", "a\n.myqcloud.com",
	} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, host string) {
		if !AllowedHost(host) {
			return
		}
		if !strings.HasSuffix(host, "."+Domain) || strings.ContainsAny(host, ":/@#? \t\r\n") {
			t.Fatalf("AllowedHost(%q) = true", host)
		}
		u, err := url.Parse("https://" + host + "/picbucket")
		if err != nil {
			return
		}
		if got := u.Hostname(); !strings.HasSuffix(got, "."+Domain) {
			t.Errorf("AllowedHost(%q) = true, but a URL built from it points at %q", host, got)
		}
	})
}

// TestAllowedHostURLDelimiters: a host that ends the URL authority early
// ('#', '?') or is otherwise not plain DNS labels would let a URL built from
// it point elsewhere; AllowedHost refuses it.
func TestAllowedHostURLDelimiters(t *testing.T) {
	for _, h := range []string{"evil.com#.myqcloud.com", "evil.com?.myqcloud.com", "#.myqcloud.com",
		"a\x00.myqcloud.com", "a..myqcloud.com", ".myqcloud.com", "A.myqcloud.com", "a_b.myqcloud.com", "a%41.myqcloud.com"} {
		if AllowedHost(h) {
			t.Errorf("AllowedHost(%q) = true, want false", h)
		}
	}
}
