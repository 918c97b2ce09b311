package handler

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
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
// function's own, and in organization runs each member's assumed key.
type secretSet struct {
	mu   sync.Mutex
	list []string
}

// newSecretSet returns a set holding c's secret key and token.
func newSecretSet(c signer.Credentials) *secretSet {
	s := &secretSet{}
	s.add(c)
	return s
}

// add records c's secret key and token.
func (s *secretSet) add(c signer.Credentials) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range []string{c.SecretKey, c.SessionToken} {
		if len(v) >= 4 {
			s.list = append(s.list, v)
		}
	}
}

// values returns the secrets recorded so far.
func (s *secretSet) values() []string {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.list)
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
	q := p
	for _, s := range r.secrets.values() {
		if bytes.Contains(q, []byte(s)) {
			q = bytes.ReplaceAll(q, []byte(s), []byte("[redacted]"))
		}
	}
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
	clean := msg
	for _, s := range secrets.values() {
		clean = strings.ReplaceAll(clean, s, "[redacted]")
	}
	if clean == msg {
		return err
	}
	return errors.New(clean)
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
