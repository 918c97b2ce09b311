package handler

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/picbucket/picbucket/signer"
)

func TestMaskEvent(t *testing.T) {
	ev := `{"data":{"userIdentity":{"secretId":"AKIDcallerKEY123","accountId":1},"sourceIPAddress":"203.0.113.7",` +
		`"requestParameters":"{\"Bucket\":\"photos-1250000000\",\"SecretId\":\"AKIDinnerKEY456\"}"},` +
		`"Records":[{"event":{"requestParameters":{"requestSourceIP":"198.51.100.9","requestHeaders":{"Authorization":"q-sign-algorithm=sha1&q-signature=abc"}}}}]}`
	got := maskEvent([]byte(ev))
	for _, secret := range []string{"AKIDcallerKEY123", "AKIDinnerKEY456", "203.0.113.7", "198.51.100.9", "q-signature=abc"} {
		if strings.Contains(got, secret) {
			t.Errorf("masked event still holds %q: %s", secret, got)
		}
	}
	if !strings.Contains(got, "photos-1250000000") {
		t.Errorf("masking removed the bucket name: %s", got)
	}
	if long := maskEvent(bytes.Repeat([]byte("a"), 10*maxLoggedEvent)); len(long) != maxLoggedEvent {
		t.Errorf("long event logged as %d bytes, want %d", len(long), maxLoggedEvent)
	}
}

func TestLoggerRedactsCurrentSecrets(t *testing.T) {
	var out bytes.Buffer
	creds := signer.Credentials{SecretID: "AKID", SecretKey: "the-secret-key-XYZ", SessionToken: "the-token-ABC"}
	log := newLogger(&out, zerolog.DebugLevel, "r1", newSecretSet(creds))
	log.Info().Str("error", "server said the-secret-key-XYZ and the-token-ABC").Msg("x")
	if strings.Contains(out.String(), "the-secret-key-XYZ") || strings.Contains(out.String(), "the-token-ABC") || !strings.Contains(out.String(), "[redacted]") {
		t.Errorf("log line not redacted: %s", out.String())
	}
}

// TestLoggerRedactsEscapedSecrets: a secret with characters the JSON
// encoders escape is redacted in every form it can take on a line: as
// zerolog writes a field, as encoding/json writes it, and inside a string
// holding JSON.
func TestLoggerRedactsEscapedSecrets(t *testing.T) {
	secret := `key"with\odd<chars>&` + "\x01tail"
	var out bytes.Buffer
	log := newLogger(&out, zerolog.DebugLevel, "r1", newSecretSet(signer.Credentials{SecretID: "AKID", SecretKey: secret}))
	nested, _ := json.Marshal(map[string]string{"k": secret})
	log.Info().Str("a", secret).Str("b", string(nested)).RawJSON("c", nested).Msg("x")
	for _, form := range []string{secret, jsonEscaped(secret, false), jsonEscaped(secret, true), "odd<chars>", `odd\u003cchars`} {
		if strings.Contains(out.String(), form) {
			t.Errorf("the line holds %q: %s", form, out.String())
		}
	}
	if strings.Count(out.String(), "[redacted]") != 3 {
		t.Errorf("want 3 redactions: %s", out.String())
	}
}

// TestMaskEventHidesCLSData: the gzip of a CLS trigger event is not
// logged, only its size.
func TestMaskEventHidesCLSData(t *testing.T) {
	got := maskEvent([]byte(`{"clslogs":{"data":"H4sIAAAAAAAA/6pWKkktLlGyUlAqS8wpTVWqBQQAAP//"}}`))
	if strings.Contains(got, "H4sI") || !strings.Contains(got, "bytes of base64 gzip") {
		t.Errorf("masked CLS event: %s", got)
	}
}
