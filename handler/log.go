package handler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/picbucket/picbucket/signer"
)

func init() {
	zerolog.TimeFieldFormat = time.RFC3339Nano
	zerolog.DurationFieldUnit = time.Millisecond
}

// newLogger returns a JSON logger whose every line carries the SCF request id
// and passes through a filter that blanks the current credentials' secret
// parts, wherever they might come from.
func newLogger(out io.Writer, level zerolog.Level, requestID string, secrets *secretSet) zerolog.Logger {
	return zerolog.New(redactor{w: out, secrets: secrets, mu: &sync.Mutex{}}).Level(level).With().
		Timestamp().Str("scfRequestId", requestID).Logger()
}

// secretSet holds the secret parts of every key an invocation uses: the
// function's own, and in organization runs each member's assumed key. It
// keeps them indexed (secretIndex), rebuilt on each add, so that blanking
// them in a log line costs the same whatever their number: an
// organization run of 500 accounts holds 1,000 secrets and logs a line per
// bucket.
type secretSet struct {
	mu    sync.Mutex // serializes add
	list  []string
	index atomic.Pointer[secretIndex] // nil until a secret is added
}

// newSecretSet returns a set holding c's secret key and token.
func newSecretSet(c signer.Credentials) *secretSet {
	s := &secretSet{}
	s.add(c)
	return s
}

// minSecret is the shortest value kept: shorter ones would blank ordinary
// text.
const minSecret = 4

// add records c's secret key and token.
func (s *secretSet) add(c signer.Credentials) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for _, secret := range []string{c.SecretKey, c.SessionToken} {
		// A secret may reach a line escaped by the JSON encoders (zerolog,
		// encoding/json: quotes, backslashes, control characters, <>&), or
		// escaped twice inside a JSON string: each form is matched.
		plain, html := jsonEscaped(secret, false), jsonEscaped(secret, true)
		for _, v := range []string{secret, plain, html, jsonEscaped(plain, false), jsonEscaped(html, true)} {
			if len(v) >= minSecret && !slices.Contains(s.list, v) {
				s.list = append(s.list, v)
				changed = true
			}
		}
	}
	if changed {
		s.index.Store(newSecretIndex(s.list))
	}
}

// jsonEscaped returns s as it appears inside a JSON string: as zerolog
// writes it (html false), or as encoding/json does by default, which also
// escapes <, > and & (html true).
func jsonEscaped(s string, html bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(b.String(), "\n"), `"`), `"`)
}

// redactBytes returns p with every secret replaced by "[redacted]"; p
// itself when it holds none.
func (s *secretSet) redactBytes(p []byte) []byte {
	if s == nil {
		return p
	}
	return s.index.Load().replace(p)
}

// redact is redactBytes for a string.
func (s *secretSet) redact(x string) string {
	if s == nil || s.index.Load() == nil {
		return x
	}
	out := s.redactBytes([]byte(x))
	return string(out)
}

// secretIndex finds the secrets in a text in one pass whose cost per byte
// does not depend on how many secrets there are (Rabin-Karp): a rolling
// hash of the last window bytes, window being the shortest secret's length,
// is looked up in a bit filter, and only on a hit in a map from the hash
// of each secret's first window bytes to the secrets that start so. It is
// immutable once built.
type secretIndex struct {
	window  int
	pow     uint64              // hashBase^(window-1)
	filter  []uint64            // 1<<filterBits bits
	byStart map[uint64][]string // longest first
}

const (
	hashBase   = 1099511628211 // the 64-bit FNV prime
	filterBits = 18            // 32 KiB: about 0.4% false hits with 1,000 secrets
)

func newSecretIndex(secrets []string) *secretIndex {
	x := &secretIndex{window: len(secrets[0]), filter: make([]uint64, 1<<filterBits/64), byStart: map[uint64][]string{}}
	for _, v := range secrets {
		x.window = min(x.window, len(v))
	}
	x.pow = 1
	for range x.window - 1 {
		x.pow *= hashBase
	}
	for _, v := range secrets {
		h := hashOf([]byte(v[:x.window]))
		x.filter[filterSlot(h)/64] |= 1 << (filterSlot(h) % 64)
		x.byStart[h] = append(x.byStart[h], v)
	}
	for _, c := range x.byStart {
		slices.SortFunc(c, func(a, b string) int { return len(b) - len(a) })
	}
	return x
}

func hashOf(p []byte) uint64 {
	var h uint64
	for _, c := range p {
		h = h*hashBase + uint64(c)
	}
	return h
}

func filterSlot(h uint64) uint64 { return (h * 0x9E3779B97F4A7C15) >> (64 - filterBits) }

// replace returns p with every secret replaced, scanning left to right
// and taking the longest secret that starts at a position; p itself when
// it holds none.
func (x *secretIndex) replace(p []byte) []byte {
	if x == nil || len(p) < x.window {
		return p
	}
	w := x.window
	var out []byte
	last := 0 // p[last:] is not copied to out yet
	h := hashOf(p[:w])
	for i := 0; ; {
		if slot := filterSlot(h); x.filter[slot/64]&(1<<(slot%64)) != 0 {
			if s := x.match(p[i:], h); s > 0 {
				out = append(append(out, p[last:i]...), "[redacted]"...)
				i += s
				last = i
				if i+w > len(p) {
					break
				}
				h = hashOf(p[i : i+w])
				continue
			}
		}
		if i+w >= len(p) {
			break
		}
		h = (h-uint64(p[i])*x.pow)*hashBase + uint64(p[i+w])
		i++
	}
	if out == nil {
		return p
	}
	return append(out, p[last:]...)
}

// match returns the length of the longest secret p starts with whose
// first window bytes hash to h, or 0.
func (x *secretIndex) match(p []byte, h uint64) int {
	for _, s := range x.byStart[h] {
		if len(s) <= len(p) && string(p[:len(s)]) == s {
			return len(s)
		}
	}
	return 0
}

// redactor replaces every secret in what it writes with "[redacted]". It
// writes one line at a time (workers log concurrently), so that lines never
// interleave whatever out is.
type redactor struct {
	w       io.Writer
	secrets *secretSet
	mu      *sync.Mutex
}

func (r redactor) Write(p []byte) (int, error) {
	q := r.secrets.redactBytes(p)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.w.Write(q); err != nil {
		return 0, err
	}
	return len(p), nil
}

// redactError returns err, or a plain error with the secrets blanked if its
// text holds one.
func redactError(err error, secrets *secretSet) error {
	msg := err.Error()
	clean := secrets.redact(msg)
	if clean == msg {
		return err
	}
	return errors.New(clean)
}

// redactResult blanks the secrets in res's texts: a service's answer may
// echo a key into a bucket's error, and the Result is returned to the
// caller as it is.
func redactResult(res *Result, secrets *secretSet) {
	for i := range res.Results {
		b := &res.Results[i]
		b.Error, b.Reason = secrets.redact(b.Error), secrets.redact(b.Reason)
	}
	for i := range res.Accounts {
		res.Accounts[i].Error = secrets.redact(res.Accounts[i].Error)
	}
	for i, n := range res.Notes {
		res.Notes[i] = secrets.redact(n)
	}
}

// maxLoggedEvent bounds the event text a debug line carries.
const maxLoggedEvent = 4096

// sensitiveField matches the value of an event field that identifies a
// caller or carries a credential: CloudAudit's userIdentity.secretId and
// sourceIPAddress, COS records' requestSourceIP and request headers'
// Authorization and security tokens. It also matches inside JSON-encoded
// strings (escaped quotes), as in CloudAudit's requestParameters.
var sensitiveField = regexp.MustCompile(`(?i)(\\?"(?:secretid|sourceipaddress|requestsourceip|sourceip|authorization|x-cos-security-token|x-ci-security-token|sessiontoken|token|signature)\\?"\s*:\s*\\?")[^"\\]*`)

// sensitiveKeys are the (lower-cased) field names whose values maskEvent hides.
var sensitiveKeys = map[string]bool{"secretid": true, "sourceipaddress": true, "requestsourceip": true, "sourceip": true,
	"authorization": true, "x-cos-security-token": true, "x-ci-security-token": true, "sessiontoken": true, "token": true, "signature": true}

// maskEvent returns the event's text for a debug line: the values of
// sensitive fields replaced by "***" at every level, including strings that
// hold JSON (as CloudAudit's requestParameters does), cut to maxLoggedEvent
// bytes. Text that is not JSON is masked by pattern.
func maskEvent(payload []byte) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		s := payload
		if len(s) > maxLoggedEvent {
			s = s[:maxLoggedEvent]
		}
		return sensitiveField.ReplaceAllString(string(s), "${1}***")
	}
	if m, ok := v.(map[string]any); ok {
		// A CLS trigger event's data is gzip: its first bytes alone would
		// give back whole CloudAudit records, callers' secret ids and
		// addresses among them. Its size is all the line says.
		if cls, ok := m["clslogs"].(map[string]any); ok {
			if d, ok := cls["data"].(string); ok {
				cls["data"] = fmt.Sprintf("<%d bytes of base64 gzip, not logged>", len(d))
			}
		}
	}
	out := []byte(encodeJSON(maskValue(v, 0)))
	if len(out) > maxLoggedEvent {
		out = out[:maxLoggedEvent]
	}
	return string(out)
}

// maskValue masks v in place and returns it; depth bounds how many levels
// of JSON-in-a-string it opens.
func maskValue(v any, depth int) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if sensitiveKeys[strings.ToLower(k)] {
				x[k] = "***"
			} else {
				x[k] = maskValue(val, depth)
			}
		}
	case []any:
		for i := range x {
			x[i] = maskValue(x[i], depth)
		}
	case string:
		if t := strings.TrimSpace(x); depth < 4 && len(t) > 1 && (t[0] == '{' || t[0] == '[') {
			var inner any
			dec := json.NewDecoder(strings.NewReader(t))
			dec.UseNumber()
			if dec.Decode(&inner) == nil {
				return encodeJSON(maskValue(inner, depth+1))
			}
		}
	}
	return v
}

// encodeJSON encodes v without HTML escaping.
func encodeJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimRight(b.String(), "\n")
}
