// Package config reads the function's settings from environment variables.
// It is read at every invocation: SCF may change the variables between two
// invocations of a warm instance, and an invalid value must fail that
// invocation with a clear error instead of crashing the process.
package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/picbucket/picbucket/internal/bucket"
)

// Names of the settings. Names lists them all; it is the one source of truth
// for README and serverless.yml checks.
const (
	DryRun         = "PICBUCKET_DRY_RUN"
	Regions        = "PICBUCKET_REGIONS"
	Include        = "PICBUCKET_INCLUDE"
	Exclude        = "PICBUCKET_EXCLUDE"
	Concurrency    = "PICBUCKET_CONCURRENCY"
	MaxEnable      = "PICBUCKET_MAX_ENABLE"
	MaxQPS         = "PICBUCKET_MAX_QPS"
	DeadlineMargin = "PICBUCKET_DEADLINE_MARGIN"
	CacheTTL       = "PICBUCKET_CACHE_TTL"
	Endpoint       = "PICBUCKET_ENDPOINT"
	LogLevel       = "LOG_LEVEL"
	AppID          = "TENCENTCLOUD_APPID"
)

// Names lists every variable the function reads besides the credentials.
var Names = []string{DryRun, Regions, Include, Exclude, Concurrency, MaxEnable, MaxQPS, DeadlineMargin, CacheTTL, Endpoint, LogLevel, AppID}

// ErrInvalid reports a setting with a value the function cannot use.
var ErrInvalid = errors.New("invalid setting")

// Defaults.
const (
	DefaultConcurrency    = 8
	MaxConcurrency        = 64
	MaxMaxQPS             = 100_000 // the highest PICBUCKET_MAX_QPS accepted
	DefaultDeadlineMargin = 2 * time.Second
	DefaultCacheTTL       = 5 * time.Minute
)

// Config is one invocation's settings.
type Config struct {
	DryRun         bool          // report would_enable, send no Create
	Regions        []string      // regions to act on; empty = all
	Include        []string      // glob patterns a bucket name must match (any); empty = all
	Exclude        []string      // glob patterns that exclude a bucket name
	Concurrency    int           // parallel Creates
	MaxEnable      int           // most Creates per invocation; 0 = no cap
	MaxQPS         float64       // the account's request limit per second, when known; 0 = unknown
	DeadlineMargin time.Duration // stop starting buckets this long before the deadline
	CacheTTL       time.Duration // how long a warm instance trusts a bucket it confirmed
	Endpoint       *url.URL      // test setting: send every request to this http://HOST:PORT
	LogLevel       zerolog.Level
	AppID          string // the account's APPID, when known
}

// Load reads the settings through getenv. Every problem is reported, each
// naming its variable.
func Load(getenv func(string) string) (Config, error) {
	c := Config{Concurrency: DefaultConcurrency, DeadlineMargin: DefaultDeadlineMargin, CacheTTL: DefaultCacheTTL, LogLevel: zerolog.InfoLevel}
	var errs []error
	bad := func(name, value, want string) {
		errs = append(errs, fmt.Errorf("%w: %s=%q: %s", ErrInvalid, name, clip(value), want))
	}
	if v := strings.TrimSpace(getenv(DryRun)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(DryRun, v, "want true or false")
		}
		c.DryRun = b
	}
	for _, r := range List(getenv(Regions)) {
		if err := bucket.ValidateRegion(r); err != nil {
			bad(Regions, r, "want a comma-separated list of region ids such as ap-guangzhou")
			continue
		}
		c.Regions = append(c.Regions, r)
	}
	for _, s := range []struct {
		name string
		dst  *[]string
	}{{Include, &c.Include}, {Exclude, &c.Exclude}} {
		for _, p := range List(getenv(s.name)) {
			if _, err := path.Match(p, ""); err != nil {
				bad(s.name, p, "want comma-separated glob patterns such as logs-*")
				continue
			}
			*s.dst = append(*s.dst, p)
		}
	}
	intVar := func(name string, dst *int, lo, hi int) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			bad(name, v, fmt.Sprintf("want a whole number from %d to %d", lo, hi))
			return
		}
		*dst = n
	}
	intVar(Concurrency, &c.Concurrency, 1, MaxConcurrency)
	intVar(MaxEnable, &c.MaxEnable, 0, 1_000_000)
	if v := strings.TrimSpace(getenv(MaxQPS)); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || f < 0 || f > MaxMaxQPS {
			bad(MaxQPS, v, fmt.Sprintf("want the account's request limit per second, a number from 0 (unknown) to %d, such as 50 or 2.5", MaxMaxQPS))
		} else {
			c.MaxQPS = f
		}
	}
	durVar := func(name string, dst *time.Duration, lo, hi time.Duration) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < lo || d > hi {
			bad(name, v, fmt.Sprintf("want a duration from %s to %s, such as 2s", lo, hi))
			return
		}
		*dst = d
	}
	durVar(DeadlineMargin, &c.DeadlineMargin, 0, 5*time.Minute)
	durVar(CacheTTL, &c.CacheTTL, 0, 24*time.Hour)
	if v := strings.TrimSpace(getenv(Endpoint)); v != "" {
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "http" || u.Host == "" || u.Port() == "" || (u.Path != "" && u.Path != "/") ||
			u.RawQuery != "" || u.User != nil || u.Fragment != "" {
			bad(Endpoint, v, "want http://HOST:PORT (a test setting; leave it unset in production)")
		} else {
			c.Endpoint = &url.URL{Scheme: "http", Host: u.Host}
		}
	}
	if v := strings.TrimSpace(getenv(LogLevel)); v != "" {
		l, err := zerolog.ParseLevel(strings.ToLower(v))
		if err != nil || l == zerolog.NoLevel {
			bad(LogLevel, v, "want debug, info, warn or error")
		} else {
			c.LogLevel = l
		}
	}
	if v := strings.TrimSpace(getenv(AppID)); v != "" {
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			bad(AppID, v, "want the account's numeric APPID")
		} else {
			c.AppID = v
		}
	}
	return c, errors.Join(errs...)
}

// Allows reports whether the filters let a bucket through, and if not, why.
func (c Config) Allows(t bucket.Target) (bool, string) {
	if len(c.Regions) > 0 && !slices.Contains(c.Regions, t.Region) {
		return false, "region not in " + Regions
	}
	if len(c.Include) > 0 && !matchAny(c.Include, t.Bucket) {
		return false, "not matched by " + Include
	}
	if matchAny(c.Exclude, t.Bucket) {
		return false, "matched by " + Exclude
	}
	return true, ""
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// List splits a comma-separated setting, dropping blanks.
func List(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
