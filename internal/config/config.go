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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/ciservice"
	"github.com/picbucket/picbucket/internal/clip"
	"github.com/picbucket/picbucket/internal/rules"
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

	// Organization-wide runs.
	Accounts        = "PICBUCKET_ACCOUNTS"
	MemberRole      = "PICBUCKET_MEMBER_ROLE"
	ExcludeAccounts = "PICBUCKET_EXCLUDE_ACCOUNTS"
	Fanout          = "PICBUCKET_FANOUT"
	APIEndpoint     = "PICBUCKET_API_ENDPOINT"

	// Bucket owners decide by tag.
	SkipTag    = "PICBUCKET_SKIP_TAG"
	RequireTag = "PICBUCKET_REQUIRE_TAG"

	// Services is the comma list of Cloud Infinite services each bucket
	// should have (internal/ciservice).
	Services = "PICBUCKET_SERVICES"
)

// Names lists every variable the function reads besides the credentials.
var Names = []string{DryRun, Regions, Include, Exclude, Concurrency, MaxEnable, MaxQPS, DeadlineMargin, CacheTTL, Endpoint, LogLevel, AppID,
	Accounts, MemberRole, ExcludeAccounts, Fanout, APIEndpoint, SkipTag, RequireTag, Services}

// ErrInvalid reports a setting with a value the function cannot use.
var ErrInvalid = errors.New("invalid setting")

// Defaults.
const (
	DefaultConcurrency    = 8
	MaxConcurrency        = 64
	MaxMaxQPS             = 100_000 // the highest PICBUCKET_MAX_QPS accepted
	DefaultDeadlineMargin = 2 * time.Second
	DefaultCacheTTL       = 5 * time.Minute
	// DefaultMemberRole is the role assumed in each member account: the
	// identity Tencent's Organization presets in members (docs/sources.md §6,
	// which records that no Tencent page naming it was found).
	DefaultMemberRole = "OrganizationAccessControlRole"
	// AccountsOrg is the PICBUCKET_ACCOUNTS value for every member of the
	// Organization the function's account manages.
	AccountsOrg = "org"
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

	// Organization-wide runs; Org is false when PICBUCKET_ACCOUNTS is empty.
	Org             bool
	OrgAll          bool            // PICBUCKET_ACCOUNTS=org: every member of the Organization
	MemberUins      []string        // PICBUCKET_ACCOUNTS as a list of member UINs
	MemberRole      string          // the role assumed in each member
	ExcludeAccounts map[string]bool // UINs left alone
	Fanout          bool            // one asynchronous invocation per member account
	APIEndpoint     *url.URL        // test setting: send every API 3.0 request to this http://HOST:PORT

	// Tags, when set, are read for each bucket about to get a Create.
	SkipTag    *Tag // a bucket carrying it is left alone
	RequireTag *Tag // only buckets carrying it are enabled

	// Services are the CI services each bucket should have, as
	// PICBUCKET_SERVICES lists them; nil when it is unset, which means image
	// processing alone, reported exactly as before the setting existed
	// (no service field on any line).
	Services []ciservice.ID
}

// Load reads the settings through getenv. Every problem is reported, each
// naming its variable.
func Load(getenv func(string) string) (Config, error) {
	c := Config{Concurrency: DefaultConcurrency, DeadlineMargin: DefaultDeadlineMargin, CacheTTL: DefaultCacheTTL, LogLevel: zerolog.InfoLevel}
	var errs []error
	bad := func(name, value, want string) {
		errs = append(errs, fmt.Errorf("%w: %s=%s: %s", ErrInvalid, name, clip.Quote(value), want))
	}
	// broken reports a value a rule (internal/rules) refused.
	broken := func(name, value string, err error) {
		errs = append(errs, fmt.Errorf("%w: %s=%s: %w", ErrInvalid, name, clip.Quote(value), err))
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
		if !bucket.KnownRegion(r) {
			// A typo would otherwise be a filter that matches no bucket.
			bad(Regions, r, fmt.Sprintf("not a Tencent Cloud region; did you mean %s?", bucket.NearestRegion(r)))
			continue
		}
		c.Regions = append(c.Regions, r)
	}
	for _, s := range []struct {
		name string
		dst  *[]string
	}{{Include, &c.Include}, {Exclude, &c.Exclude}} {
		for _, p := range List(getenv(s.name)) {
			if err := rules.BucketPattern(p); err != nil {
				broken(s.name, p, err)
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
	for _, e := range []struct {
		name string
		dst  **url.URL
	}{{Endpoint, &c.Endpoint}, {APIEndpoint, &c.APIEndpoint}} {
		if v := strings.TrimSpace(getenv(e.name)); v != "" {
			// A production function with the setting left over would send
			// signed requests and its session token in clear text there.
			if u, err := rules.ParseEndpoint(v); err != nil {
				broken(e.name, v, err)
			} else {
				*e.dst = u
			}
		}
	}
	if v := strings.TrimSpace(getenv(LogLevel)); v != "" {
		l, err := zerolog.ParseLevel(strings.ToLower(v))
		if err != nil || l == zerolog.NoLevel || l == zerolog.Disabled {
			// disabled would also silence the summary and failed lines,
			// which alarms and operators depend on.
			bad(LogLevel, v, "want trace, debug, info, warn or error")
		} else {
			c.LogLevel = l
		}
	}
	c.MemberRole = DefaultMemberRole
	if v := strings.TrimSpace(getenv(Accounts)); v != "" {
		c.Org = true
		if strings.EqualFold(v, AccountsOrg) {
			c.OrgAll = true
		} else {
			for _, u := range List(v) {
				if err := rules.UIN(u); err != nil {
					broken(Accounts, u, fmt.Errorf(`%w (%s is "org" or a comma-separated list of member UINs)`, err, Accounts))
					continue
				}
				if !slices.Contains(c.MemberUins, u) {
					c.MemberUins = append(c.MemberUins, u)
				}
			}
		}
	}
	if v := strings.TrimSpace(getenv(MemberRole)); v != "" {
		if err := rules.RoleName(v); err != nil {
			broken(MemberRole, v, err)
		} else {
			c.MemberRole = v
		}
	}
	for _, u := range List(getenv(ExcludeAccounts)) {
		if err := rules.UIN(u); err != nil {
			broken(ExcludeAccounts, u, fmt.Errorf("%w (in a comma-separated list)", err))
			continue
		}
		if c.ExcludeAccounts == nil {
			c.ExcludeAccounts = map[string]bool{}
		}
		c.ExcludeAccounts[u] = true
	}
	c.Fanout = c.Org
	if v := strings.TrimSpace(getenv(Fanout)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(Fanout, v, "want true or false")
		}
		c.Fanout = b && c.Org
	}
	if v := strings.TrimSpace(getenv(AppID)); v != "" {
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			bad(AppID, v, "want the account's numeric APPID")
		} else {
			c.AppID = v
		}
	}
	for _, s := range []struct {
		name string
		dst  **Tag
	}{{SkipTag, &c.SkipTag}, {RequireTag, &c.RequireTag}} {
		if v := strings.TrimSpace(getenv(s.name)); v != "" {
			t, err := ParseTag(v)
			if err != nil {
				bad(s.name, v, err.Error())
				continue
			}
			*s.dst = &t
		}
	}
	if v := strings.TrimSpace(getenv(Services)); v != "" {
		ids, err := ciservice.Parse(v)
		if err != nil {
			broken(Services, v, err)
		} else {
			c.Services = ids
		}
	}
	return c, errors.Join(errs...)
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
