package tcemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file is the emulator's own implementation of the TencentCloud API 3.0
// signature, TC3-HMAC-SHA256, written from the documented algorithm
// ("Signature v3", TencentCloud API docs) and checked against the worked
// example in that document (sign_test.go). It shares no code with the SDK.

// Algorithm is the only signature algorithm the emulator accepts.
const Algorithm = "TC3-HMAC-SHA256"

// MaxSkew is how far X-TC-Timestamp may be from the emulator's clock: the
// documented limit is five minutes.
const MaxSkew = 5 * time.Minute

// authorization is a parsed Authorization header.
type authorization struct {
	SecretID      string
	Date          string // YYYY-MM-DD of the credential scope
	Service       string
	SignedHeaders []string // lower case, as listed
	Signature     string   // lower-case hex
}

// parseAuthorization parses
// "TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=a;b, Signature=HEX".
func parseAuthorization(h string) (authorization, error) {
	var a authorization
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg != Algorithm {
		return a, fmt.Errorf("the Authorization header must start with %q", Algorithm+" ")
	}
	parts := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok {
			return a, fmt.Errorf("malformed Authorization element %q", strings.TrimSpace(p))
		}
		parts[k] = v
	}
	cred := strings.Split(parts["Credential"], "/")
	if len(cred) != 4 || cred[0] == "" || cred[3] != "tc3_request" {
		return a, fmt.Errorf("the Credential element must be SecretId/Date/Service/tc3_request, got %q", parts["Credential"])
	}
	a.SecretID, a.Date, a.Service = cred[0], cred[1], cred[2]
	if parts["SignedHeaders"] == "" {
		return a, fmt.Errorf("SignedHeaders is missing")
	}
	a.SignedHeaders = strings.Split(parts["SignedHeaders"], ";")
	a.Signature = parts["Signature"]
	if len(a.Signature) != 64 {
		return a, errors.New("the Signature field must be 64 hex digits")
	}
	return a, nil
}

// canonicalRequest builds step 1 of the algorithm:
//
//	HTTPRequestMethod \n CanonicalURI \n CanonicalQueryString \n
//	CanonicalHeaders \n SignedHeaders \n HashedRequestPayload
//
// CanonicalHeaders is "key:value\n" for each signed header, key and value in
// lower case and trimmed, sorted by key; the host is the request's Host.
func canonicalRequest(r *http.Request, signed []string, body []byte) (string, error) {
	if !sort.StringsAreSorted(signed) {
		return "", fmt.Errorf("SignedHeaders %q must be sorted in ascending order", strings.Join(signed, ";"))
	}
	var ch strings.Builder
	seen := map[string]bool{}
	for _, k := range signed {
		if k != strings.ToLower(k) || k == "" {
			return "", fmt.Errorf("SignedHeaders %q must be lower-case names", strings.Join(signed, ";"))
		}
		v := r.Header.Get(k)
		if k == "host" {
			v = r.Host
		}
		ch.WriteString(k + ":" + strings.ToLower(strings.TrimSpace(v)) + "\n")
		seen[k] = true
	}
	if !seen["content-type"] || !seen["host"] {
		return "", fmt.Errorf("SignedHeaders must include content-type and host")
	}
	payloadHash := sha256Hex(body)
	if r.Header.Get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD" {
		payloadHash = sha256Hex([]byte("UNSIGNED-PAYLOAD"))
	}
	query := ""
	if r.Method == http.MethodGet {
		query = r.URL.RawQuery
	}
	return strings.Join([]string{r.Method, "/", query, ch.String(), strings.Join(signed, ";"), payloadHash}, "\n"), nil
}

// stringToSign builds step 2:
// Algorithm \n RequestTimestamp \n CredentialScope \n HashedCanonicalRequest.
func stringToSign(timestamp, date, service, canonical string) string {
	return Algorithm + "\n" + timestamp + "\n" + date + "/" + service + "/tc3_request\n" + sha256Hex([]byte(canonical))
}

// signature computes steps 3: the derived key and the hex signature.
func signature(secretKey, date, service, toSign string) string {
	kDate := hmacSHA256([]byte("TC3"+secretKey), date)
	kService := hmacSHA256(kDate, service)
	kSigning := hmacSHA256(kService, "tc3_request")
	return hex.EncodeToString(hmacSHA256(kSigning, toSign))
}

// utcDate is the credential-scope date of a Unix timestamp: always UTC.
func utcDate(ts string) (string, time.Time, error) {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || n <= 0 {
		return "", time.Time{}, fmt.Errorf("X-TC-Timestamp %q is not a Unix time in seconds", ts)
	}
	t := time.Unix(n, 0).UTC()
	return t.Format("2006-01-02"), t, nil
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// AuthError is a request Verify refused: Code is the API 3.0 error code
// (AuthFailure.*) and Message says why, naming no secret.
type AuthError struct{ Code, Message string }

func (e *AuthError) Error() string { return e.Code + ": " + e.Message }

func authErrf(code, format string, args ...any) *AuthError {
	return &AuthError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Verify checks an API 3.0 request the way the real endpoint does: the
// Authorization header's TC3-HMAC-SHA256 signature over the request as
// received (Host header included), the X-TC-Timestamp against now (at most
// MaxSkew away), the credential scope's date and service (want), and the
// X-TC-Token, which must be the key's token (none for a permanent key).
// lookup finds a key by its SecretId. It returns the SecretId the request was
// signed with. Other emulators of API 3.0 services (internal/tcapi/tcemu)
// share it.
func Verify(r *http.Request, body []byte, now time.Time, service string, lookup func(secretID string) (Key, bool)) (string, *AuthError) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", authErrf("AuthFailure.InvalidAuthorization", "the Authorization header is missing")
	}
	a, err := parseAuthorization(auth)
	if err != nil {
		return "", authErrf("AuthFailure.InvalidAuthorization", "%v", err)
	}
	ts := r.Header.Get("X-TC-Timestamp")
	date, t, err := utcDate(ts)
	if err != nil {
		return "", authErrf("AuthFailure.InvalidAuthorization", "%v", err)
	}
	if skew := now.Sub(t); skew > MaxSkew || skew < -MaxSkew {
		return "", authErrf("AuthFailure.SignatureExpire", "X-TC-Timestamp %s is %s away from the server's clock (at most %s)", ts, skew.Round(time.Second), MaxSkew)
	}
	if a.Date != date {
		return "", authErrf("AuthFailure.SignatureFailure", "the credential date %s is not the UTC date of X-TC-Timestamp (%s)", a.Date, date)
	}
	if a.Service != service {
		return "", authErrf("AuthFailure.SignatureFailure", "the credential scope names service %q, want %q", a.Service, service)
	}
	cred, ok := lookup(a.SecretID)
	if !ok {
		return "", authErrf("AuthFailure.SecretIdNotFound", "the SecretId %s does not exist", a.SecretID)
	}
	canonical, err := canonicalRequest(r, a.SignedHeaders, body)
	if err != nil {
		return "", authErrf("AuthFailure.SignatureFailure", "%v", err)
	}
	want := signature(cred.SecretKey, date, a.Service, stringToSign(ts, date, a.Service, canonical))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(a.Signature))) {
		return "", authErrf("AuthFailure.SignatureFailure", "the provided credentials could not be validated: the signature does not match (check the SecretKey and the signing process)")
	}
	if tok := r.Header.Get("X-TC-Token"); tok != cred.Token {
		return "", authErrf("AuthFailure.TokenFailure", "the X-TC-Token does not belong to SecretId %s", a.SecretID)
	}
	return a.SecretID, nil
}
