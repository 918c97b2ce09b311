package handler

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/signer"
)

// randomSecret is n characters of base64: the alphabet of STS tokens.
func randomSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// secretsOf returns a set holding the function's key and one assumed key
// per further account, as an organization run collects them.
func secretsOf(accounts int) (*secretSet, []signer.Credentials) {
	var all []signer.Credentials
	var s *secretSet
	for i := range accounts {
		c := signer.Credentials{SecretID: fmt.Sprintf("AKID%032d", i), SecretKey: randomSecret(32), SessionToken: randomSecret(300)}
		all = append(all, c)
		if s == nil {
			s = newSecretSet(c)
		} else {
			s.add(c)
		}
	}
	return s, all
}

// bucketLine is a typical log line: a bucket's outcome.
const bucketLine = `{"level":"info","scfRequestId":"3f1e9b2c-7d4a-4c1e-9a8b-0c2d4e6f8a1b","account":"200000000123","time":"2026-01-01T00:00:00.123456789Z",` +
	`"bucket":"photos-1300000123","region":"ap-guangzhou","outcome":"enabled","attempts":1,"requestId":"NjVhZmQ0YjRfNjRhMTFkMGJfMTM0N18x","message":"bucket"}` + "\n"

// BenchmarkRedact measures one log line through the redactor with the
// secrets of 1 and of 500 accounts: the cost must not grow with them.
func BenchmarkRedact(b *testing.B) {
	for _, accounts := range []int{1, 500} {
		b.Run(fmt.Sprintf("accounts=%d", accounts), func(b *testing.B) {
			s, _ := secretsOf(accounts)
			r := redactor{w: io.Discard, secrets: s, mu: &sync.Mutex{}}
			line := []byte(bucketLine)
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				r.Write(line)
			}
		})
	}
}

func TestRedactorBlanksEverySecret(t *testing.T) {
	s, all := secretsOf(50)
	var out bytes.Buffer
	r := redactor{w: &out, secrets: s, mu: &sync.Mutex{}}
	for i, c := range all {
		out.Reset()
		line := fmt.Sprintf(`{"error":"key %s token %s twice %s%s","n":%d}`+"\n", c.SecretKey, c.SessionToken, c.SecretKey, c.SecretKey, i)
		if n, err := r.Write([]byte(line)); err != nil || n != len(line) {
			t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(line))
		}
		got := out.String()
		if strings.Contains(got, c.SecretKey) || strings.Contains(got, c.SessionToken) {
			t.Errorf("account %d: a secret survived: %s", i, got)
		}
		if want := fmt.Sprintf(`{"error":"key [redacted] token [redacted] twice [redacted][redacted]","n":%d}`+"\n", i); got != want {
			t.Errorf("account %d: got %q, want %q", i, got, want)
		}
	}
	out.Reset()
	r.Write([]byte(bucketLine))
	if out.String() != bucketLine {
		t.Errorf("a line without secrets changed: %q", out.String())
	}
}

func TestRedactTable(t *testing.T) {
	s := newSecretSet(signer.Credentials{SecretKey: "abcd", SessionToken: "abcdefgh"})
	s.add(signer.Credentials{SecretKey: "xyz", SessionToken: "defgh-long-token"}) // "xyz" is too short to be kept
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"abc", "abc"},
		{"abcd", "[redacted]"},
		{"abcdefgh", "[redacted]"},           // the longer secret wins at the same start
		{"abcdefg", "[redacted]efg"},         // only the shorter one is whole
		{"xxabcdxx", "xx[redacted]xx"},       // inside text
		{"defgh-long-token!", "[redacted]!"}, // a secret longer than the index window
		{"xyz", "xyz"},
		{"abcabcd", "abc[redacted]"},
		{"ab\ncd abcd", "ab\ncd [redacted]"},
	} {
		if got := s.redact(tc.in); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactError(t *testing.T) {
	s := newSecretSet(signer.Credentials{SecretKey: "the-secret-key", SessionToken: "the-token"})
	plain := fmt.Errorf("nothing secret")
	if got := redactError(plain, s); got != plain {
		t.Errorf("an error without secrets was replaced: %v", got)
	}
	if got := redactError(fmt.Errorf("denied the-secret-key / the-token"), s).Error(); got != "denied [redacted] / [redacted]" {
		t.Errorf("redactError = %q", got)
	}
}

// requestIDEcho answers each Create as the emulator does, with the
// answer's RequestId replaced by the function's session token: a field that
// redactResult does not blank (it blanks errors, reasons and notes).
type requestIDEcho struct{ next http.RoundTripper }

var requestIDElement = regexp.MustCompile(`<RequestId>[^<]*</RequestId>`)

func (e requestIDEcho) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := e.next.RoundTrip(r)
	if err != nil || r.Method != http.MethodPost {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	body = requestIDElement.ReplaceAll(body, []byte("<RequestId>unit-token</RequestId>"))
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// TestInvokeRedactsTheWholeReturnValue: Invoke's return value (RetMsg) is
// redacted as a whole, not only the texts redactResult knows: a service
// echoing the session token as its request id leaves the bucket enabled,
// and the token reaches neither the return value nor the log.
func TestInvokeRedactsTheWholeReturnValue(t *testing.T) {
	h, _, out := newTest(t, emulator.Options{}, 1, nil)
	h.Transport = requestIDEcho{next: http.DefaultTransport}
	ret, err := h.Invoke(ctxWithTimeout(t, 10*time.Second), []byte(`{"buckets":[{"bucket":"photos-00-`+appID+`","region":"ap-guangzhou"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(ret, []byte(`"requestId":"[redacted]"`)) || !bytes.Contains(ret, []byte(`"outcome":"enabled"`)) {
		t.Fatalf("the return value holds no enabled bucket with a redacted request id, so the test shows nothing: %s", ret)
	}
	if bytes.Contains(ret, []byte("unit-token")) || strings.Contains(out.String(), "unit-token") {
		t.Errorf("the session token reached the return value or the log:\n%s\n%s", ret, out)
	}
}

// TestHandleRedactsNotes: Handle's Result carries the event's notes, which
// may quote the event's text; a key in that text is blanked in the notes,
// as in the errors and reasons.
func TestHandleRedactsNotes(t *testing.T) {
	h, _, _ := newTest(t, emulator.Options{}, 1, nil)
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second),
		[]byte(`{"Type":"Timer","TriggerName":"t","Time":"2024-01-01T00:00:00Z","Message":"key unit-key"}`))
	if err != nil {
		t.Fatal(err)
	}
	quoted := false
	for _, n := range res.Notes {
		if strings.Contains(n, "key [redacted]") {
			quoted = true
		}
		if strings.Contains(n, "unit-key") {
			t.Errorf("a note carries the secret key: %q", n)
		}
	}
	if !quoted {
		t.Errorf("notes %q: none quotes the timer's Message, so the test shows nothing", res.Notes)
	}
}
