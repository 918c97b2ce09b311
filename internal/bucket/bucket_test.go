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
