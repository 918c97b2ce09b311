package signer

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestEnvReadsAtEveryCall(t *testing.T) {
	vals := map[string]string{EnvSecretID: "AKID1", EnvSecretKey: "key1", EnvSessionToken: "tok1"}
	src := Env{Getenv: func(k string) string { return vals[k] }}
	c, err := src.Credentials()
	if err != nil || c.SecretID != "AKID1" || c.SessionToken != "tok1" {
		t.Fatalf("first read: %v %v", c, err)
	}
	vals[EnvSecretID], vals[EnvSecretKey], vals[EnvSessionToken] = "AKID2", "key2", "tok2"
	c, err = src.Credentials()
	if err != nil || c.SecretID != "AKID2" || c.SecretKey != "key2" || c.SessionToken != "tok2" {
		t.Fatalf("second read: %v %v", c, err)
	}
}

func TestEnvErrors(t *testing.T) {
	tests := []struct {
		name string
		vals map[string]string
		want []string
	}{
		{"none", map[string]string{}, []string{EnvSecretID, EnvSecretKey, "execution role"}},
		{"no key", map[string]string{EnvSecretID: "AKID"}, []string{EnvSecretKey}},
		{"space", map[string]string{EnvSecretID: "AKID ", EnvSecretKey: "k"}, []string{EnvSecretID, "white space"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Env{Getenv: func(k string) string { return tt.vals[k] }}.Credentials()
			if !errors.Is(err, ErrNoCredentials) {
				t.Fatalf("err = %v, want ErrNoCredentials", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestCredentialsNeverPrintSecrets(t *testing.T) {
	const id, key, token = "AKIDabcdefghijklmnopqrstuvwxyz0123", "very-secret-key", "very-secret-token"
	c := Credentials{SecretID: id, SecretKey: key, SessionToken: token}
	values := map[string]any{
		"value":   c,
		"pointer": &c,
		"static":  Static{Key: c},
		"slice":   []Credentials{c},
		"map":     map[string]Credentials{"k": c},
		"field":   struct{ Key Credentials }{c},
		"any":     []any{c, &c},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X", "%q", "%10.3v", "%[1]T %[1]v"}
	for name, v := range values {
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, v)
			if name == "value" && verb == "%[1]T %[1]v" && out != "signer.Credentials Credentials{SecretID:AKID…0123 SecretKey:<set> SessionToken:<set>}" {
				t.Errorf("%s: %s", verb, out)
			}
			for _, secret := range []string{key, token, id, "very-", fmt.Sprintf("%x", "very-"), fmt.Sprintf("%X", "very-"), "abcdefgh"} {
				if strings.Contains(out, secret) {
					t.Errorf("%s with %s printed a secret (%q): %s", name, verb, secret, out)
				}
			}
		}
	}
	if s := c.String(); s != "Credentials{SecretID:AKID…0123 SecretKey:<set> SessionToken:<set>}" {
		t.Errorf("String = %s", s)
	}
	if s := fmt.Sprint(Credentials{SecretID: "AKID"}); s != "Credentials{SecretID:<set> SecretKey:<missing> SessionToken:<missing>}" {
		t.Errorf("short id, no key: %s", s)
	}
}

func TestStatic(t *testing.T) {
	c := Credentials{SecretID: "AKID1", SecretKey: "k1", SessionToken: "t1"}
	var src Source = Static{Key: c}
	got, err := src.Credentials()
	if err != nil || got != c {
		t.Fatalf("Static.Credentials() = %v, %v", got, err)
	}
}

type staticSource struct {
	c   Credentials
	err error
}

func (s *staticSource) Credentials() (Credentials, error) { return s.c, s.err }

func TestTransportSignsWithCurrentCredentials(t *testing.T) {
	var got []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = append(got, r) }))
	defer srv.Close()
	src := &staticSource{c: Credentials{SecretID: "AKID1", SecretKey: "k1", SessionToken: "t1"}}
	client := &http.Client{Transport: &Transport{Source: src}}
	send := func(host string) {
		req, _ := http.NewRequest("POST", srv.URL+"/picbucket", nil)
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	send("photos-1250000000.ci.ap-guangzhou.myqcloud.com")
	src.c = Credentials{SecretID: "AKID2", SecretKey: "k2", SessionToken: "t2"}
	send("service.cos.myqcloud.com")

	if len(got) != 2 {
		t.Fatalf("%d requests", len(got))
	}
	for i, want := range []struct {
		id, token, ciToken string
	}{{"AKID1", "t1", "t1"}, {"AKID2", "t2", ""}} {
		r := got[i]
		auth := r.Header.Get("Authorization")
		if !strings.Contains(auth, "q-ak="+want.id) || !strings.Contains(auth, "q-signature=") {
			t.Errorf("request %d Authorization %q, want q-ak=%s", i, auth, want.id)
		}
		if !strings.Contains(auth, "host") || !strings.Contains(auth, "x-cos-security-token") {
			t.Errorf("request %d does not sign host and the token: %q", i, auth)
		}
		if r.Header.Get("x-cos-security-token") != want.token || r.Header.Get("x-ci-security-token") != want.ciToken {
			t.Errorf("request %d tokens %q/%q, want %q/%q", i, r.Header.Get("x-cos-security-token"),
				r.Header.Get("x-ci-security-token"), want.token, want.ciToken)
		}
	}
}

func TestTransportRefusesWithoutCredentials(t *testing.T) {
	sent := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { sent = true }))
	defer srv.Close()
	client := &http.Client{Transport: &Transport{Source: Env{Getenv: func(string) string { return "" }}}}
	_, err := client.Get(srv.URL)
	if !errors.Is(err, ErrNoCredentials) || sent {
		t.Fatalf("err = %v, sent = %v; want ErrNoCredentials and nothing sent", err, sent)
	}
}
