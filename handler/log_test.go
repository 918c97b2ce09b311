package handler

import (
	"bytes"
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
