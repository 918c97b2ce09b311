package rules

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestBucketPattern(t *testing.T) {
	tests := []struct {
		pattern string
		want    string // a part of the error; "" = accepted
	}{
		{"photos-*", ""},
		{"*", ""},
		{"logs-[0-9]*-125000000?", ""},
		{"a[^b]c", ""},
		{`x\*`, ""},
		{strings.Repeat("a", MaxPatternLen), ""},
		{"", "empty glob pattern"},
		{strings.Repeat("a", MaxPatternLen+1), "longer than 255"},
		{"[a-", "bad glob pattern"},
		{"Prod-*", "lower case; did you mean prod-*?"},
		{"prod-*.cos.ap-guangzhou.myqcloud.com", "looks like a host or URL"},
		{"https://x", "looks like a host or URL"},
		{"photos_*", "outside a-z, 0-9"},
		{"photos *", "outside a-z, 0-9"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			check(t, BucketPattern(tt.pattern), tt.want)
		})
	}
}

func TestMatchAny(t *testing.T) {
	tests := []struct {
		patterns []string
		name     string
		want     bool
	}{
		{nil, "a-1250000000", false},
		{[]string{"a-*"}, "a-1250000000", true},
		{[]string{"b-*", "a-*"}, "a-1250000000", true},
		{[]string{"[a-"}, "a-1250000000", false}, // malformed: matches nothing
		{[]string{"b-*"}, "a-1250000000", false},
	}
	for _, tt := range tests {
		if got := MatchAny(tt.patterns, tt.name); got != tt.want {
			t.Errorf("MatchAny(%q, %q) = %v, want %v", tt.patterns, tt.name, got, tt.want)
		}
	}
}

func TestUIN(t *testing.T) {
	tests := []struct {
		uin  string
		want string
	}{
		{"10000", ""},
		{"100000000001", ""},
		{"1" + strings.Repeat("0", 19), ""},
		{"1234", "5 to 20 digits"},
		{"1" + strings.Repeat("0", 20), "5 to 20 digits"},
		{"0123456", "5 to 20 digits"},
		{"12345a", "5 to 20 digits"},
		{"", "5 to 20 digits"},
		{" 123456", "5 to 20 digits"},
	}
	for _, tt := range tests {
		t.Run(tt.uin, func(t *testing.T) { check(t, UIN(tt.uin), tt.want) })
	}
}

func TestRoleName(t *testing.T) {
	tests := []struct {
		role string
		want string
	}{
		{"OrganizationAccessControlRole", ""},
		{"a", ""},
		{"role+=,.@_-1", ""},
		{strings.Repeat("r", 128), ""},
		{strings.Repeat("r", 129), "CAM role name"},
		{"", "CAM role name"},
		{"role name", "CAM role name"},
		{"role/x", "CAM role name"},
		{"rôle", "CAM role name"},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) { check(t, RoleName(tt.role), tt.want) })
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		endpoint string
		want     string // the reduced URL, or a part of the error
		ok       bool
	}{
		{"http://127.0.0.1:9000", "http://127.0.0.1:9000", true},
		{"http://127.0.0.1:9000/", "http://127.0.0.1:9000", true},
		{"http://localhost:1", "http://localhost:1", true},
		{"http://[::1]:9000", "http://[::1]:9000", true},
		{"http://10.1.2.3:80", "http://10.1.2.3:80", true},
		{"http://192.168.0.1:80", "http://192.168.0.1:80", true},
		{"https://127.0.0.1:9000", "want http://HOST:PORT", false},
		{"http://127.0.0.1", "want http://HOST:PORT", false},
		{"http://127.0.0.1:9000/path", "want http://HOST:PORT", false},
		{"http://127.0.0.1:9000/?a=b", "want http://HOST:PORT", false},
		{"http://127.0.0.1:9000/#f", "want http://HOST:PORT", false},
		{"http://user:pw@127.0.0.1:9000", "want http://HOST:PORT", false},
		{"http:127.0.0.1:9000", "want http://HOST:PORT", false},
		{"://", "want http://HOST:PORT", false},
		{"http://cos.example.com:80", "loopback or private", false},
		{"http://203.0.113.7:8080", "loopback or private", false},
		{"http://169.254.169.254:80", "loopback or private", false},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			u, err := ParseEndpoint(tt.endpoint)
			if tt.ok {
				if err != nil || u.String() != tt.want {
					t.Fatalf("ParseEndpoint(%q) = %v, %v; want %s", tt.endpoint, u, err, tt.want)
				}
				return
			}
			if u != nil {
				t.Fatalf("ParseEndpoint(%q) = %v, want nil", tt.endpoint, u)
			}
			check(t, err, tt.want)
			if strings.Contains(err.Error(), "pw") {
				t.Fatalf("the error prints the password: %v", err)
			}
		})
	}
	check(t, Endpoint(nil), "no URL")
	check(t, Endpoint(&url.URL{Scheme: "http", Host: "127.0.0.1:1"}), "")
}

// check fails unless err is nil (want "") or wraps ErrInvalid and contains want.
func check(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("refused: %v", err)
	case want == "":
	case err == nil:
		t.Fatalf("accepted, want an error containing %q", want)
	case !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want):
		t.Fatalf("error %q, want one wrapping ErrInvalid containing %q", err, want)
	}
}
