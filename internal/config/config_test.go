package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DryRun || c.Concurrency != DefaultConcurrency || c.MaxEnable != 0 || c.Endpoint != nil ||
		c.DeadlineMargin != DefaultDeadlineMargin || c.CacheTTL != DefaultCacheTTL {
		t.Errorf("defaults: %+v", c)
	}
}

func TestLoadValues(t *testing.T) {
	c, err := Load(env(map[string]string{
		DryRun: "true", Regions: "ap-guangzhou, ap-shanghai", Include: "photos-*", Exclude: "*-tmp-*",
		Concurrency: "16", MaxEnable: "100", Endpoint: "http://127.0.0.1:9000", LogLevel: "DEBUG",
		DeadlineMargin: "5s", AppID: "1250000000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.DryRun || len(c.Regions) != 2 || c.Concurrency != 16 || c.MaxEnable != 100 ||
		c.Endpoint.String() != "http://127.0.0.1:9000" || c.LogLevel.String() != "debug" || c.DeadlineMargin != 5*time.Second {
		t.Errorf("values: %+v", c)
	}
}

func TestLoadInvalid(t *testing.T) {
	tests := []struct {
		name, value string
		want        string // a further part of the message, besides the variable's name
	}{
		{DryRun, "yes please", ""},
		{Regions, "ap-guangzhou.evil.com", "want a comma-separated list of region ids"},
		{Regions, "ap-guangzou", `PICBUCKET_REGIONS="ap-guangzou": not a Tencent Cloud region; did you mean ap-guangzhou?`},
		{Regions, "ap-guangzhou,eu-frankfort", "did you mean eu-frankfurt?"},
		{Include, "[", "bad glob pattern"},
		{Include, "prod-*.cos.ap-guangzhou.myqcloud.com", "can never match a bucket name: it looks like a host"},
		{Exclude, "Prod-*", `PICBUCKET_EXCLUDE="Prod-*": glob pattern can never match a bucket name: bucket names are lower case; did you mean prod-*?`},
		{Exclude, "photos_*", "can never match a bucket name"},
		{Concurrency, "0", ""},
		{Concurrency, "1000", ""},
		{MaxEnable, "-1", ""},
		{Endpoint, "https://127.0.0.1:9000", "want http://HOST:PORT"},
		{Endpoint, "http://127.0.0.1", "want http://HOST:PORT"},
		{Endpoint, "http://127.0.0.1:9000/path", "want http://HOST:PORT"},
		{Endpoint, "http://user:pw@127.0.0.1:9000", "want http://HOST:PORT"},
		{Endpoint, "http://cos.example.com:80", "loopback or private"}, // a name: only loopback and private addresses
		{Endpoint, "http://203.0.113.7:8080", "loopback or private"},   // a public address
		{Endpoint, "http://169.254.169.254:80", "loopback or private"}, // link-local (metadata service)
		{APIEndpoint, "http://api.example.com:80", "loopback or private"},
		{APIEndpoint, "https://127.0.0.1:9000", "want http://HOST:PORT"},
		{Accounts, "1234", "5 to 20 digits"},
		{Accounts, "100000000001,x", `PICBUCKET_ACCOUNTS="x"`},
		{ExcludeAccounts, "0100000", "5 to 20 digits"},
		{MemberRole, "role/admin", "want a CAM role name"},
		{LogLevel, "loud", ""},
		{LogLevel, "disabled", ""}, // would hide the summary and failed lines
		{DeadlineMargin, "forever", ""},
		{AppID, "12a", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := Load(env(map[string]string{tt.name: tt.value}))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.name) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrInvalid naming %s and saying %q", err, tt.name, tt.want)
			}
		})
	}
}

func TestEndpointLocalAddresses(t *testing.T) {
	for _, v := range []string{"http://127.0.0.1:9000", "http://localhost:9000", "http://[::1]:9000", "http://10.1.2.3:80",
		"http://172.16.0.9:80", "http://192.168.1.2:8080"} {
		c, err := Load(env(map[string]string{Endpoint: v}))
		if err != nil || c.Endpoint == nil {
			t.Errorf("%s: %v", v, err)
		}
	}
}

func TestLoadMaxQPS(t *testing.T) {
	tests := []struct {
		value   string
		want    float64
		invalid bool
	}{
		{"", 0, false},
		{"0", 0, false},
		{" 50 ", 50, false},
		{"2.5", 2.5, false},
		{"0.5", 0.5, false},
		{"100000", 100_000, false},
		{"1e3", 1000, false},
		{"-1", 0, true},
		{"100001", 0, true},
		{"fast", 0, true},
		{"50qps", 0, true},
		{"NaN", 0, true},
		{"Inf", 0, true},
		{"1,5", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			c, err := Load(env(map[string]string{MaxQPS: tt.value}))
			if tt.invalid {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), MaxQPS) {
					t.Errorf("err = %v, want ErrInvalid naming %s", err, MaxQPS)
				}
				return
			}
			if err != nil || c.MaxQPS != tt.want {
				t.Errorf("MaxQPS = %v, err = %v; want %v", c.MaxQPS, err, tt.want)
			}
		})
	}
}

func TestLoadServices(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.Services != nil {
		t.Fatalf("unset: %v %v", c.Services, err)
	}
	c, err = Load(env(map[string]string{Services: "pic, media,doc"}))
	if err != nil || len(c.Services) != 3 || c.Services[1] != "media" {
		t.Fatalf("pic,media,doc: %v %v", c.Services, err)
	}
	_, err = Load(env(map[string]string{Services: "pic,medai"}))
	if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), Services) || !strings.Contains(err.Error(), `did you mean "media"?`) {
		t.Fatalf("pic,medai: %v", err)
	}
}
