// Package signer supplies the function's credentials and signs every COS and
// CI request with them.
//
// SCF hands a function its execution role's temporary key in environment
// variables, and scf-go-lib rewrites those variables from each invocation's
// request. A warm instance outlives a key, so the credentials are read when a
// request is signed, never once at start-up, and nothing here caches them.
package signer

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	cos "github.com/tencentyun/cos-go-sdk-v5"
)

// The environment variables that carry the execution role's temporary key.
const (
	EnvSecretID     = "TENCENTCLOUD_SECRETID"
	EnvSecretKey    = "TENCENTCLOUD_SECRETKEY"
	EnvSessionToken = "TENCENTCLOUD_SESSIONTOKEN"
)

// DefaultExpire is how long a signature stays valid (the SDK's default).
const DefaultExpire = time.Hour

// ErrNoCredentials reports that the credential variables are missing or
// malformed. It has a CredentialError method, so that packages that
// classify request errors (cosapi) recognise it without importing signer.
var ErrNoCredentials error = noCredentials{}

type noCredentials struct{}

func (noCredentials) Error() string { return "no credentials" }

// CredentialError marks the error as a missing or refused credential: no
// retry can cure it.
func (noCredentials) CredentialError() bool { return true }

// Credentials is one key: the function's own (Env), or one that STS
// AssumeRole issued for a member account (internal/tcapi). It is the only
// credentials type of the module. SessionToken is set for a temporary key.
//
// No formatting verb prints the secret key or the token, nor the whole
// secret id: String, GoString and Format (every verb, %v %+v %#v %s %d %x %q
// …) print the masked form of String, and MarshalJSON (encoding/json, and
// so zerolog's Interface) the same masked fields. A struct that holds
// Credentials in an unexported field is printed by fmt without these
// methods: such a type has a Format method of its own (tcapi.Client;
// FormatMasked helps). Only the verbs fmt reports as
// wrong for the type (%p, or %w outside Errorf's errors), which go vet
// refuses, print the fields themselves.
type Credentials struct {
	SecretID     string
	SecretKey    string
	SessionToken string
}

// String prints the secret id masked (MaskID) and whether the secret parts
// are present, never their values.
func (c Credentials) String() string {
	return "Credentials{SecretID:" + MaskID(c.SecretID) + " SecretKey:" + present(c.SecretKey) +
		" SessionToken:" + present(c.SessionToken) + "}"
}

// GoString is String, so that %#v cannot print the secrets either.
func (c Credentials) GoString() string { return c.String() }

// Format implements fmt.Formatter: every verb prints String (%q quoted), so
// that no verb, flag or width reaches the fields.
func (c Credentials) Format(f fmt.State, verb rune) { FormatMasked(f, verb, c.String()) }

// MarshalJSON implements json.Marshaler: the fields as String shows them,
// {"SecretID":"AKID…wxyz","SecretKey":"<set>","SessionToken":"<set>"}.
func (c Credentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ SecretID, SecretKey, SessionToken string }{MaskID(c.SecretID), present(c.SecretKey), present(c.SessionToken)})
}

// FormatMasked is the Format method of a type that holds a key: it prints
// masked, the type's String, which shows no secret, for every verb (%q
// quoted), ignoring flags and widths.
func FormatMasked(f fmt.State, verb rune, masked string) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", masked)
		return
	}
	io.WriteString(f, masked)
}

// MaskID shows enough of a secret id to tell two keys apart in a message:
// its first and last four characters when it is at least 16 long
// ("AKID…wxyz"), otherwise only whether it is set.
func MaskID(id string) string {
	if len(id) < 16 {
		return present(id)
	}
	return id[:4] + "…" + id[len(id)-4:]
}

func present(s string) string {
	if s == "" {
		return "<missing>"
	}
	return "<set>"
}

// Static is a Source that always yields the same key: one AssumeRole issued.
type Static struct{ Key Credentials }

// Credentials returns the key.
func (s Static) Credentials() (Credentials, error) { return s.Key, nil }

// String shows the key masked (Credentials.String).
func (s Static) String() string { return "signer.Static{" + s.Key.String() + "}" }

// GoString is String.
func (s Static) GoString() string { return s.String() }

// Format implements fmt.Formatter as Credentials does. (Without it, a
// *Static inside a slice or a struct, under a verb such as %s that fmt
// reports as wrong for a pointer, would be printed field by field.)
func (s Static) Format(f fmt.State, verb rune) { FormatMasked(f, verb, s.String()) }

// Source yields the credentials to sign the next request with.
type Source interface {
	Credentials() (Credentials, error)
}

// Env reads the credentials from the process environment at every call.
// Getenv defaults to os.Getenv.
type Env struct {
	Getenv func(string) string
}

// Credentials returns the current values of the three variables. A missing
// secret id or key, or a value with surrounding white space, is an error
// wrapping ErrNoCredentials that names the variables (never their values).
func (e Env) Credentials() (Credentials, error) {
	get := e.Getenv
	if get == nil {
		get = os.Getenv
	}
	c := Credentials{SecretID: get(EnvSecretID), SecretKey: get(EnvSecretKey), SessionToken: get(EnvSessionToken)}
	var missing []string
	for _, v := range []struct{ name, value string }{
		{EnvSecretID, c.SecretID}, {EnvSecretKey, c.SecretKey},
	} {
		if v.value == "" {
			missing = append(missing, v.name)
		} else if strings.TrimSpace(v.value) != v.value {
			return Credentials{}, fmt.Errorf("%w: %s has leading or trailing white space", ErrNoCredentials, v.name)
		}
	}
	if len(missing) > 0 {
		return Credentials{}, fmt.Errorf("%w: %s not set; give the function an execution role "+
			"(serverless.yml inputs.role) so that SCF provides %s, %s and %s",
			ErrNoCredentials, strings.Join(missing, " and "), EnvSecretID, EnvSecretKey, EnvSessionToken)
	}
	return c, nil
}

// Transport signs each request with one snapshot of the Source's credentials
// (so the id, key and token always belong together) and passes it to Next.
//
// The signature is cos-go-sdk-v5's (cos.AddAuthorizationHeader: HMAC-SHA1 over
// method, path, query and the host and x-cos-* headers), which also sends the
// token as x-cos-security-token. On CI hosts the token is sent a second time
// as x-ci-security-token, the header CI's documentation names; both are signed.
type Transport struct {
	Source Source
	// Expire is the signature's validity; DefaultExpire when zero.
	Expire time.Duration
	// Next sends the signed request; http.DefaultTransport when nil.
	Next http.RoundTripper
}

// String names the Source's type, never its key, and the other fields.
func (t Transport) String() string {
	return fmt.Sprintf("signer.Transport{Source:%T Expire:%s Next:%T}", t.Source, t.Expire, t.Next)
}

// GoString is String.
func (t Transport) GoString() string { return t.String() }

// Format implements fmt.Formatter: every verb prints String.
func (t Transport) Format(f fmt.State, verb rune) { FormatMasked(f, verb, t.String()) }

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	creds, err := t.Source.Credentials()
	if err != nil {
		closeBody(req)
		return nil, err
	}
	r := req.Clone(req.Context())
	if r.Host == "" {
		r.Host = r.URL.Host
	}
	r.Header.Del("Authorization")
	r.Header.Del("x-ci-security-token")
	if creds.SessionToken != "" && isCIHost(r.Host) {
		r.Header.Set("x-ci-security-token", creds.SessionToken)
	}
	expire := t.Expire
	if expire <= 0 {
		expire = DefaultExpire
	}
	cos.AddAuthorizationHeader(creds.SecretID, creds.SecretKey, creds.SessionToken, r, cos.NewAuthTime(expire))
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

func isCIHost(host string) bool {
	return strings.HasPrefix(host, "ci.") || strings.Contains(host, ".ci.")
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
