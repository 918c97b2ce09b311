package emulator

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file implements the COS/CI request signature
// (https://www.tencentcloud.com/document/product/436/7778; docs/sources.md
// §1) independently of
// the SDK, so that the emulator checks what clients send instead of trusting
// the SDK to agree with itself.

// SignKey returns hex(HMAC-SHA1(secretKey, keyTime)), where keyTime is
// "start;end" in Unix seconds.
func SignKey(secretKey, keyTime string) string {
	return hmacSHA1Hex(secretKey, keyTime)
}

// StringToSign returns "sha1\n<keyTime>\n<hex(SHA1(httpString))>\n".
func StringToSign(keyTime, httpString string) string {
	sum := sha1.Sum([]byte(httpString))
	return "sha1\n" + keyTime + "\n" + hex.EncodeToString(sum[:]) + "\n"
}

// Signature returns hex(HMAC-SHA1(signKey, stringToSign)); signKey is the
// hex string returned by SignKey, used as the HMAC key as is.
func Signature(signKey, stringToSign string) string {
	return hmacSHA1Hex(signKey, stringToSign)
}

// HTTPString builds the HttpString of r:
//
//	lower(method) \n r.URL.Path \n HttpParameters \n HttpHeaders \n
//
// HttpParameters holds the query parameters of r whose encoded, lowercased
// names are in paramList; HttpHeaders holds the headers of r named in
// headerList, with "host" taken from r.Host. Names are URL-encoded and then
// lowercased, values URL-encoded, pairs sorted by name and then by raw
// value. Names listed but absent from r contribute nothing. It fails only if
// the raw query cannot be parsed.
func HTTPString(r *http.Request, headerList, paramList []string) (string, error) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "", fmt.Errorf("parse query %q: %w", r.URL.RawQuery, err)
	}
	headers := make(map[string][]string, len(r.Header)+1)
	for k, vs := range r.Header {
		name := signName(k)
		headers[name] = append(headers[name], vs...)
	}
	headers["host"] = []string{r.Host}

	var b strings.Builder
	b.WriteString(strings.ToLower(r.Method))
	b.WriteByte('\n')
	b.WriteString(r.URL.Path)
	b.WriteByte('\n')
	b.WriteString(formatPairs(normalize(query), paramList))
	b.WriteByte('\n')
	b.WriteString(formatPairs(headers, headerList))
	b.WriteByte('\n')
	return b.String(), nil
}

// normalize re-keys values by their signing name (encoded, lowercased).
func normalize(values url.Values) map[string][]string {
	m := make(map[string][]string, len(values))
	for k, vs := range values {
		name := signName(k)
		m[name] = append(m[name], vs...)
	}
	return m
}

// formatPairs renders "k1=v1&k2=v2" for the names in list (deduplicated,
// case-insensitive) that have values in m.
func formatPairs(m map[string][]string, list []string) string {
	names := uniqueLower(list)
	sort.Strings(names)
	var pairs []string
	for _, name := range names {
		vs := append([]string(nil), m[name]...)
		sort.Strings(vs)
		for _, v := range vs {
			pairs = append(pairs, name+"="+encode(v))
		}
	}
	return strings.Join(pairs, "&")
}

func uniqueLower(list []string) []string {
	seen := make(map[string]bool, len(list))
	out := make([]string, 0, len(list))
	for _, s := range list {
		s = strings.ToLower(s)
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// signName is how a header or parameter name appears in the signature.
func signName(name string) string { return strings.ToLower(encode(name)) }

// encode percent-encodes everything except the RFC 3986 unreserved
// characters (A-Z a-z 0-9 - _ . ~), with upper-case hex digits.
func encode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0x0f])
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

func hmacSHA1Hex(key, msg string) string {
	h := hmac.New(sha1.New, []byte(key))
	h.Write([]byte(msg))
	return hex.EncodeToString(h.Sum(nil))
}

// authorization is a parsed Authorization header.
type authorization struct {
	secretID  string
	signTime  string
	keyTime   string
	headers   []string
	params    []string
	signature string
}

var errMalformedAuth = errors.New("malformed Authorization")

// parseAuthorization parses
// "q-sign-algorithm=sha1&q-ak=…&q-sign-time=…&q-key-time=…&q-header-list=…&q-url-param-list=…&q-signature=…".
// The fields may come in any order; each must appear exactly once.
func parseAuthorization(s string) (authorization, error) {
	fields := make(map[string]string, 7)
	for _, part := range strings.Split(s, "&") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return authorization{}, fmt.Errorf("%w: field %q has no '='", errMalformedAuth, k)
		}
		k = strings.TrimSpace(k)
		if _, dup := fields[k]; dup {
			return authorization{}, fmt.Errorf("%w: duplicate field %q", errMalformedAuth, k)
		}
		fields[k] = strings.TrimSpace(v)
	}
	for _, k := range []string{"q-sign-algorithm", "q-ak", "q-sign-time", "q-key-time", "q-header-list", "q-url-param-list", "q-signature"} {
		if _, ok := fields[k]; !ok {
			return authorization{}, fmt.Errorf("%w: missing %s", errMalformedAuth, k)
		}
	}
	if alg := fields["q-sign-algorithm"]; alg != "sha1" {
		return authorization{}, fmt.Errorf("%w: unsupported q-sign-algorithm %q", errMalformedAuth, alg)
	}
	if fields["q-ak"] == "" || fields["q-signature"] == "" {
		return authorization{}, fmt.Errorf("%w: empty q-ak or q-signature", errMalformedAuth)
	}
	return authorization{
		secretID:  fields["q-ak"],
		signTime:  fields["q-sign-time"],
		keyTime:   fields["q-key-time"],
		headers:   splitList(fields["q-header-list"]),
		params:    splitList(fields["q-url-param-list"]),
		signature: fields["q-signature"],
	}, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ";")
}

// parseWindow parses "start;end" (Unix seconds, start <= end).
func parseWindow(s string) (start, end time.Time, err error) {
	a, b, ok := strings.Cut(s, ";")
	if !ok {
		return time.Time{}, time.Time{}, fmt.Errorf("time window %q is not start;end", s)
	}
	from, err1 := strconv.ParseInt(a, 10, 64)
	to, err2 := strconv.ParseInt(b, 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("time window %q: %w", s, err)
	}
	if from > to {
		return time.Time{}, time.Time{}, fmt.Errorf("time window %q ends before it starts", s)
	}
	return time.Unix(from, 0), time.Unix(to, 0), nil
}

// verifySignature checks step 5 of the documented algorithm against r: host
// is signed, every query parameter present is signed, and the signature
// recomputed with secretKey matches. It returns nil when all hold.
func verifySignature(r *http.Request, a authorization, secretKey string) error {
	if !contains(a.headers, "host") {
		return errors.New("q-header-list does not include host")
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fmt.Errorf("parse query: %w", err)
	}
	for name := range normalize(query) {
		if !contains(a.params, name) {
			return fmt.Errorf("query parameter %q is not in q-url-param-list", name)
		}
	}
	httpString, err := HTTPString(r, a.headers, a.params)
	if err != nil {
		return err
	}
	want := Signature(SignKey(secretKey, a.keyTime), StringToSign(a.keyTime, httpString))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(a.signature))) {
		return errors.New("the calculated signature does not match q-signature")
	}
	return nil
}

// contains reports whether list holds name, ignoring case.
func contains(list []string, name string) bool {
	for _, s := range list {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}
