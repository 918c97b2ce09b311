package signer_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/signer"
)

type fixedSource signer.Credentials

func (s fixedSource) Credentials() (signer.Credentials, error) { return signer.Credentials(s), nil }

// serve is a RoundTripper that hands the request to an http.Handler.
type serve struct {
	h   http.Handler
	got *http.Request
}

func (s *serve) RoundTrip(req *http.Request) (*http.Response, error) {
	s.got = req
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// validToken reports whether tok can travel as an HTTP header value
// unchanged: visible ASCII and inner spaces only.
func validToken(tok string) bool {
	if strings.TrimSpace(tok) != tok {
		return false
	}
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c < ' ' || c > '~' {
			return false
		}
	}
	return true
}

// FuzzTransportSignature signs GetService and DescribePicProcessBuckets
// requests with arbitrary secret keys, tokens and query values (a GetService
// marker comes from the service's own NextMarker; regions from the event)
// and checks them with the emulator's independent implementation of the COS
// signature: every one must verify, carry the token as documented, and
// never carry the secret key.
func FuzzTransportSignature(f *testing.F) {
	for _, s := range []struct {
		key, token, value string
		ci                bool
	}{
		{"e2e-secret-key-Zq8sW1", "e2e-session-token-Hx93Lp", "", false},
		{"BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz", "", "photos-1250000000", false},
		{"k", "t", "ap-guangzhou", true},
		{"key with spaces+/=", "tok/+=", "a b&c=d%e+f", false},
		{"ключ", "token", "ä/ö?#[]", true},
		{"\x00\xff", "x", "ap-guangzhou,ap-shanghai", true},
		{"k", "t", "~!*'();:@$,", false},
	} {
		f.Add(s.key, s.token, s.value, s.ci)
	}
	f.Fuzz(func(t *testing.T, key, token, value string, ci bool) {
		if key == "" || !validToken(token) {
			t.Skip()
		}
		const id = "AKIDfuzz0001"
		emu := emulator.New(emulator.Options{})
		emu.AddCredential(emulator.Credential{SecretID: id, SecretKey: key, Token: token, AppID: "1250000000"})
		var u string
		if ci {
			u = "https://ci.ap-guangzhou.myqcloud.com/picbucket?" +
				url.Values{"regions": {value}, "pageNumber": {"1"}, "pageSize": {"100"}}.Encode()
		} else {
			u = "https://service.cos.myqcloud.com/?" + url.Values{"max-keys": {"2000"}, "marker": {value}}.Encode()
		}
		req, err := http.NewRequest("GET", u, nil)
		if err != nil {
			t.Fatalf("request %q: %v", u, err)
		}
		next := &serve{h: emu}
		resp, err := (&signer.Transport{Source: fixedSource{SecretID: id, SecretKey: key, SessionToken: token}, Next: next}).RoundTrip(req)
		if err != nil {
			t.Fatalf("RoundTrip: %v", err)
		}
		resp.Body.Close()
		reqs := emu.Requests()
		if len(reqs) != 1 {
			t.Fatalf("emulator saw %d requests", len(reqs))
		}
		if r := reqs[0]; !r.SignatureValid || r.Status != 200 {
			t.Errorf("key %q token %q value %q: signature valid %v, answer %d %s; Authorization %q",
				key, token, value, r.SignatureValid, r.Status, r.Code, next.got.Header.Get("Authorization"))
		}
		out := next.got
		if token != "" {
			if out.Header.Get("x-cos-security-token") != token {
				t.Errorf("x-cos-security-token %q, want the token", out.Header.Get("x-cos-security-token"))
			}
			if want := map[bool]string{true: token, false: ""}[ci]; out.Header.Get("x-ci-security-token") != want {
				t.Errorf("x-ci-security-token %q on a %v CI host", out.Header.Get("x-ci-security-token"), ci)
			}
		}
		if len(key) >= 12 {
			for name, vs := range out.Header {
				for _, v := range vs {
					if strings.Contains(v, key) {
						t.Errorf("header %s carries the secret key", name)
					}
				}
			}
			if strings.Contains(out.URL.String(), key) {
				t.Errorf("URL carries the secret key")
			}
		}
	})
}
