// Package rules holds the rules a value must follow before the function
// uses it, each defined once: bucket-name glob patterns, account UINs, CAM
// role names and test endpoints. Settings (internal/config), event options
// (internal/trigger) and the API clients (internal/tcapi,
// internal/cosapi's Route, the cmd tools) all check through here, so a value
// one of them accepts, the others accept too.
//
// Each check returns nil or an error whose message says what is wanted
// ("want …") without repeating the value: the caller names where the value
// came from (a variable, an event field, a flag) and quotes it. Every error
// wraps ErrInvalid.
package rules

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"
)

// ErrInvalid is wrapped by every error of this package.
var ErrInvalid = errors.New("invalid value")

// refusal is a rule's error: its text is what is wanted, without the
// "invalid value" of ErrInvalid, which it wraps.
type refusal struct{ msg string }

func (e *refusal) Error() string { return e.msg }
func (e *refusal) Unwrap() error { return ErrInvalid }

// refuse makes a refusal; format and args as fmt.Sprintf.
func refuse(format string, args ...any) error {
	return &refusal{msg: fmt.Sprintf(format, args...)}
}

// MaxPatternLen is the longest bucket-name glob pattern accepted, in bytes.
const MaxPatternLen = 255

// patternAlphabet is what a glob that can match a bucket name may contain:
// the bucket name alphabet (a-z, 0-9, '-') plus path.Match syntax
// (* ? [ ] ^ \).
var patternAlphabet = regexp.MustCompile(`^[a-z0-9*?\[\]^\\-]+$`)

// BucketPattern checks one include/exclude glob (path.Match syntax) on full
// bucket names "<name>-<appid>". It refuses a pattern that can never match a
// bucket name: one with upper-case letters (bucket names are lower case), a
// '.' or '/' (a host or URL, not a bucket name), or any other character
// outside a-z, 0-9, '-' and the glob characters.
func BucketPattern(p string) error {
	switch {
	case p == "":
		return refuse("empty glob pattern: want a path.Match pattern on bucket names, e.g. photos-*")
	case len(p) > MaxPatternLen:
		return refuse("glob pattern longer than %d bytes", MaxPatternLen)
	}
	if _, err := path.Match(p, ""); err != nil {
		return refuse("bad glob pattern: %v: want path.Match syntax, e.g. photos-*", err)
	}
	if patternAlphabet.MatchString(p) {
		return nil
	}
	why := "it has a character outside a-z, 0-9, '-' and the glob characters * ? [ ] ^ \\"
	switch {
	case strings.ToLower(p) != p && patternAlphabet.MatchString(strings.ToLower(p)):
		why = "bucket names are lower case; did you mean " + strings.ToLower(p) + "?"
	case strings.ContainsAny(p, "./:"):
		why = "it looks like a host or URL; patterns match the bucket name <name>-<appid> only, e.g. photos-*"
	}
	return refuse("glob pattern can never match a bucket name: %s", why)
}

// MatchAny reports whether name matches any of the patterns (path.Match; a
// malformed pattern matches nothing).
func MatchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// uinRE is an account UIN (account ID): 5 to 20 digits, no leading zero.
var uinRE = regexp.MustCompile(`^[1-9][0-9]{4,19}$`)

// UIN checks an account UIN (account ID).
func UIN(s string) error {
	if !uinRE.MatchString(s) {
		return refuse("want an account ID (UIN): 5 to 20 digits")
	}
	return nil
}

// roleNameRE is a CAM role name: 1 to 128 of letters, digits and +=,.@_-
// (the roleName segment of an AssumeRole RoleArn).
var roleNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)

// RoleName checks a CAM role name.
func RoleName(s string) error {
	if !roleNameRE.MatchString(s) {
		return refuse("want a CAM role name: 1 to 128 of letters, digits and +=,.@_-")
	}
	return nil
}

// ParseEndpoint parses a test endpoint given as text (a setting or a flag)
// and checks it with Endpoint. It returns the URL reduced to
// http://HOST:PORT.
func ParseEndpoint(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, refuse("want http://HOST:PORT (a test setting; leave it unset in production)")
	}
	if err := Endpoint(u); err != nil {
		return nil, err
	}
	return &url.URL{Scheme: "http", Host: u.Host}, nil
}

// Endpoint checks a test endpoint: every request is sent there over plain
// HTTP, signed and carrying the session token in clear text, so it must be
// http://HOST:PORT with HOST "localhost" or a loopback or private IP address
// (127.0.0.0/8, ::1, 10/8, 172.16/12, 192.168/16, fc00::/7), and nothing
// else in the URL.
func Endpoint(u *url.URL) error {
	if u == nil {
		return refuse("no URL: want http://HOST:PORT")
	}
	if u.Scheme != "http" || u.Host == "" || u.Port() == "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return refuse("want http://HOST:PORT (a test setting; leave it unset in production)")
	}
	if !localHost(u.Hostname()) {
		return refuse("want a loopback or private address (localhost, 127.0.0.0/8, ::1, 10/8, 172.16/12, 192.168/16, fc00::/7): " +
			"it receives signed requests and the session token in clear text; leave it unset in production")
	}
	return nil
}

// localHost reports whether host is "localhost" or a loopback or private IP
// address.
func localHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && (ip.IsLoopback() || ip.IsPrivate())
}

// functionNameRE is SCF CreateFunction's FunctionName rule (the SDK's
// tencentcloud/scf/v20180416 models.go CreateFunctionRequestParams): 2 to 60
// letters, digits, '-' and '_', starting with a letter, not ending with '-'
// or '_'.
var functionNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$`)

// namespaceRE is an SCF namespace: the form an EventBridge SCF target
// resource accepts (letters, digits, '_' and '-', starting with a letter or
// digit, at most 60): never a wildcard or a path, which would widen the
// resources of a policy or a target that name it.
var namespaceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$`)

// Namespace checks an SCF namespace.
func Namespace(s string) error {
	if !namespaceRE.MatchString(s) {
		return refuse("want an SCF namespace such as default: up to 60 letters, digits, '_' and '-'")
	}
	return nil
}

// FunctionName checks an SCF function name.
func FunctionName(s string) error {
	if !functionNameRE.MatchString(s) {
		return refuse("want an SCF function name: 2 to 60 letters, digits, '-' and '_', starting with a letter, not ending with '-' or '_'")
	}
	return nil
}

// Redirect sends every request to To, a test endpoint Endpoint accepted,
// keeping the production Host header (and so the signature over it), and
// never through a proxy. A redirected request carries a signature and the
// session token in clear text, addressed to a production host in its Host
// header: a proxy from HTTP_PROXY or HTTPS_PROXY would get all of it (Go
// bypasses the proxy only for loopback, not for the private addresses
// Endpoint accepts), and might forward it to the real host. It is the one
// place every test endpoint of this repository goes through (PICBUCKET_ENDPOINT
// via internal/cosapi's Route, PICBUCKET_API_ENDPOINT via internal/tcapi, the
// tools' --endpoint).
type Redirect struct {
	To *url.URL
	// Next sends the redirected request. An *http.Transport is used
	// without its Proxy: through a copy of it with Proxy nil, made once
	// and kept for as long as the process runs. nil means a shared copy of
	// http.DefaultTransport without a proxy. Any other RoundTripper is used
	// as is: it must not send through a proxy itself.
	Next http.RoundTripper
}

// RoundTrip implements http.RoundTripper. It refuses a To that Endpoint
// refuses, sending nothing.
func (t Redirect) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := Endpoint(t.To); err != nil {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, fmt.Errorf("test endpoint: %w", err)
	}
	r2 := r.Clone(r.Context())
	if r2.Host == "" {
		r2.Host = r.URL.Host
	}
	r2.URL.Scheme, r2.URL.Host = t.To.Scheme, t.To.Host
	return direct(t.Next).RoundTrip(r2)
}

// directs maps each *http.Transport given to Redirect to its copy without
// a proxy, so that one transport keeps one connection pool.
var directs sync.Map

// defaultDirect is http.DefaultTransport without a proxy.
var defaultDirect = sync.OnceValue(func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	return t
})

// direct returns next, or what sends as next does but never through a
// proxy, for an *http.Transport.
func direct(next http.RoundTripper) http.RoundTripper {
	switch t := next.(type) {
	case nil:
		return defaultDirect()
	case *http.Transport:
		if t.Proxy == nil {
			return t
		}
		if d, ok := directs.Load(t); ok {
			return d.(*http.Transport)
		}
		d := t.Clone()
		d.Proxy = nil
		got, _ := directs.LoadOrStore(t, d)
		return got.(*http.Transport)
	}
	return next
}
