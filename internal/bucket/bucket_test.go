package bucket

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		bucket, region string
		want           error
	}{
		{"photos-1250000000", "ap-guangzhou", nil},
		{"a-1", "ap-beijing-1", nil},
		{"my-photos-2-1250000000", "na-siliconvalley", nil},
		{"Photos-1250000000", "ap-guangzhou", ErrInvalidName},
		{"photos", "ap-guangzhou", ErrInvalidName},
		{"-photos-1250000000", "ap-guangzhou", ErrInvalidName},
		{"photos--1250000000x", "ap-guangzhou", ErrInvalidName},
		{"photos/../x-1250000000", "ap-guangzhou", ErrInvalidName},
		{"photos@evil.com-1", "ap-guangzhou", ErrInvalidName},
		{"evil.com-1250000000", "ap-guangzhou", ErrInvalidName},
		{"phоtos-1250000000", "ap-guangzhou", ErrInvalidName}, // Cyrillic о
		{"photos-1250000000\n", "ap-guangzhou", ErrInvalidName},
		{strings.Repeat("a", 40) + "-1250000000", "ap-guangzhou", ErrInvalidName}, // host over 60
		{"photos-1250000000", "ap-guangzhou.evil.com", ErrInvalidRegion},
		{"photos-1250000000", "ap-guangzhou:443", ErrInvalidRegion},
		{"photos-1250000000", "localhost", ErrInvalidRegion},
		{"photos-1250000000", "", ErrInvalidRegion},
		{"photos-1250000000", "AP-GUANGZHOU", ErrInvalidRegion},
	}
	for _, tt := range tests {
		err := Target{Bucket: tt.bucket, Region: tt.region}.Validate()
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("Validate(%q, %q) = %v, want %v", tt.bucket, tt.region, err, tt.want)
		}
		if err == nil && !AllowedHost(CIHost(Target{tt.bucket, tt.region})) {
			t.Errorf("valid target %q@%q gives host %q outside %s", tt.bucket, tt.region, CIHost(Target{tt.bucket, tt.region}), Domain)
		}
	}
}

func TestNormalizeRegion(t *testing.T) {
	for in, want := range map[string]string{"gz": "ap-guangzhou", "sh": "ap-shanghai", "bj": "ap-beijing", "cd": "ap-chengdu", "ap-tokyo": "ap-tokyo"} {
		if got, err := NormalizeRegion(in); err != nil || got != want {
			t.Errorf("NormalizeRegion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := NormalizeRegion("gz.evil.com"); !errors.Is(err, ErrInvalidRegion) {
		t.Errorf("NormalizeRegion(gz.evil.com) err = %v", err)
	}
}

func TestAllowedHost(t *testing.T) {
	for host, want := range map[string]bool{
		"service.cos.myqcloud.com": true, "a-1.ci.ap-guangzhou.myqcloud.com": true,
		"myqcloud.com": false, "evil.com": false, "myqcloud.com.evil.com": false, "x.myqcloud.com:443": false,
		"evilmyqcloud.com": false, "a@b.myqcloud.com": false,
	} {
		if got := AllowedHost(host); got != want {
			t.Errorf("AllowedHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestComplete(t *testing.T) {
	tests := []struct {
		name, appID, want string
		err               error
	}{
		{"bucketname", "1250000000", "bucketname-1250000000", nil},
		{"bucketname-1250000000", "1250000000", "bucketname-1250000000", nil},
		{"bucketname-1250000000", "", "bucketname-1250000000", nil},
		{"logs-2024", "1250000000", "logs-2024-1250000000", nil},             // a short number is part of the name
		{"x-1300000000", "1250000000", "x-1300000000", nil},                  // another account's full name stays (owner check)
		{"a-12345678", "1250000000", "a-12345678-1250000000", nil},           // not an APPID's width: part of the name
		{"backup-20240520", "1250000000", "backup-20240520-1250000000", nil}, // a date (issue 19, item 2)
		{"backup-2024-05-20", "1250000000", "backup-2024-05-20-1250000000", nil},
		{"backup-20240520-1250000000", "1250000000", "backup-20240520-1250000000", nil},
		{"snap-0000000001", "1250000000", "snap-0000000001-1250000000", nil}, // no APPID starts with 0
		{"backup-20240520", "10012345", "backup-20240520", nil},              // an 8-digit APPID's width: another account's
		{"backup-20240520", "", "backup-20240520", nil},                      // unknown APPID: 8 digits read as one
		{"x-12345678901234567890", "", "x-12345678901234567890", nil},
		{"x-123456789012345678901", "", "", ErrNoAppID},
		{"bucketname", "", "", ErrNoAppID},
		{"logs-2024", "", "", ErrNoAppID},
		{"Bucket", "1250000000", "", ErrInvalidName},
		{"photos.cos.ap-guangzhou.myqcloud.com", "1250000000", "", ErrInvalidName},
		{"a@b", "1250000000", "", ErrInvalidName},
		{"x\r\n", "1250000000", "", ErrInvalidName},
		{"", "1250000000", "", ErrInvalidName},
	}
	for _, tt := range tests {
		got, err := Complete(tt.name, tt.appID)
		if got != tt.want || (tt.err == nil) != (err == nil) || (tt.err != nil && !errors.Is(err, tt.err)) {
			t.Errorf("Complete(%q, %q) = %q, %v; want %q, %v", tt.name, tt.appID, got, err, tt.want, tt.err)
		}
		if errors.Is(err, ErrNoAppID) && !errors.Is(err, ErrInvalidName) {
			t.Errorf("Complete(%q) error %v does not wrap ErrInvalidName", tt.name, err)
		}
	}
}

func TestShortRegionCodes(t *testing.T) {
	// Tencent's abbreviation table (cloud.tencent.com/document/product/248/50863)
	// and coscmd's legacy codes (github.com/tencentyun/coscmd); docs/sources.md §3.
	for in, want := range map[string]string{
		"gz": "ap-guangzhou", "sh": "ap-shanghai", "kr": "ap-seoul", "usw": "na-siliconvalley", "de": "eu-frankfurt",
		"in": "ap-mumbai", "use": "na-ashburn", "th": "ap-bangkok", "jp": "ap-tokyo", "szjr": "ap-shenzhen-fsi",
		"shjr": "ap-shanghai-fsi", "bjjr": "ap-beijing-fsi", "tsn": "ap-tianjin", "tpe": "ap-taipei",
		"gzopen": "ap-guangzhou-open", "szx": "ap-shenzhen", "tj": "ap-beijing-1", "spg": "ap-singapore", "ger": "eu-frankfurt",
	} {
		if got, err := NormalizeRegion(in); err != nil || got != want {
			t.Errorf("NormalizeRegion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, r := range []string{"ap-shanghai-fsi", "ap-beijing-1", "ap-jakarta"} {
		if CIServes(r) {
			t.Errorf("CIServes(%q) = true; CI's region list does not name it", r)
		}
	}
}

func TestKnownAndNearestRegion(t *testing.T) {
	tests := []struct {
		in      string
		known   bool
		nearest string
	}{
		{"ap-guangzhou", true, "ap-guangzhou"},
		{"ap-beijing-1", true, "ap-beijing-1"},
		{"na-siliconvalley", true, "na-siliconvalley"},
		{"ap-guangzou", false, "ap-guangzhou"},
		{"ap-shangai", false, "ap-shanghai"},
		{"ap-bejing", false, "ap-beijing"},
		{"eu-frankfort", false, "eu-frankfurt"},
		{"ap-hong-kong", false, "ap-hongkong"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := KnownRegion(tt.in); got != tt.known {
				t.Errorf("KnownRegion(%q) = %v, want %v", tt.in, got, tt.known)
			}
			if got := NearestRegion(tt.in); got != tt.nearest {
				t.Errorf("NearestRegion(%q) = %q, want %q", tt.in, got, tt.nearest)
			}
		})
	}
	for short, long := range shortRegions {
		if !KnownRegion(long) {
			t.Errorf("KnownRegion(%q) = false for the region of %q", long, short)
		}
	}
}
