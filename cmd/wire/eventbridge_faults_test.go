package main

import (
	"net/http"
	"strings"
	"testing"
	"unicode"

	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
)

// TestCreateAnswered5xxLeavesNoDuplicate: a create that took effect but was
// answered 502 is found by the read wire eventbridge makes before sending it again,
// so the rule and the target exist once each.
func TestCreateAnswered5xxLeavesNoDuplicate(t *testing.T) {
	for _, action := range []string{"CreateRule", "CreateTarget"} {
		t.Run(action, func(t *testing.T) {
			f := newFixture(t)
			failed := false
			f.emu.Fault = func(c tcemu.Call, _ *http.Request) (int, string) {
				if c.Action == action && c.ErrorCode == "" && !failed {
					failed = true
					return http.StatusBadGateway, "<html>502 Bad Gateway</html>"
				}
				return 0, ""
			}
			code, out, errs := f.run()
			if code != 0 || !failed {
				t.Fatalf("exit %d (fault injected: %v)\n%s%s", code, failed, out, errs)
			}
			rule := f.onlyRule()
			if ts := f.emu.Targets(rule.ID); len(ts) != 1 {
				t.Errorf("targets = %+v, want one", ts)
			}
			n := 0
			for _, c := range f.emu.Calls() {
				if c.Action == action {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s sent %d times, want once (the read found it)", action, n)
			}
		})
	}
}

// TestErrorBodyIsNotPrinted: a proxy's error page that echoes the request's
// headers (the Authorization header, X-TC-Token) and carries terminal
// control characters reaches stderr neither whole nor in part.
func TestErrorBodyIsNotPrinted(t *testing.T) {
	f := newFixture(t)
	f.emu.Fault = func(c tcemu.Call, r *http.Request) (int, string) {
		return http.StatusBadGateway, "<html>\x1b[2J\x1b]0;pwned\x07 Bad Gateway; you sent Authorization: " + r.Header.Get("Authorization") +
			" X-TC-Token: " + r.Header.Get("X-TC-Token") + "</html>"
	}
	code, out, errs := f.run("--timeout", "20s")
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, secret := range []string{testToken, "TC3-HMAC-SHA256", "Signature=", "pwned", "Bad Gateway"} {
		if strings.Contains(out+errs, secret) {
			t.Errorf("output quotes %q:\n%s%s", secret, out, errs)
		}
	}
	for _, r := range out + errs {
		if unicode.IsControl(r) && r != '\n' {
			t.Errorf("output holds control character %U:\n%q", r, errs)
			break
		}
	}
	if !strings.Contains(errs, "502") {
		t.Errorf("stderr does not name the status:\n%s", errs)
	}
}

// TestAPIHostOnlyTencent: --api-host takes only Tencent Cloud's EventBridge
// hosts, and a refused one costs no request.
func TestAPIHostOnlyTencent(t *testing.T) {
	for _, host := range []string{"eb.tencentcloudapi.com.evil.example", "evil.example", "eb.tencentcloudapi.com:8443",
		"eb.tencentcloudapi.com/x", "cls.tencentcloudapi.com", "eb.intl.tencentcloudapi.com.invalid"} {
		f := newFixture(t)
		code, out, errs := f.run("--api-host", host)
		if code != 2 || len(f.emu.Calls()) != 0 || !strings.Contains(errs, "eb.tencentcloudapi.com") {
			t.Errorf("--api-host %s: exit %d, %d calls\n%s%s", host, code, len(f.emu.Calls()), out, errs)
		}
	}
	for _, host := range []string{"eb.intl.tencentcloudapi.com", "eb.ap-guangzhou.tencentcloudapi.com"} {
		f := newFixture(t)
		if code, out, errs := f.run("--api-host", host); code != 0 {
			t.Errorf("--api-host %s: exit %d\n%s%s", host, code, out, errs)
		}
	}
}

// TestErrorMessageControlCharactersStripped: an API error's Code and
// Message reach stderr without terminal control characters.
func TestErrorMessageControlCharactersStripped(t *testing.T) {
	f := newFixture(t)
	f.emu.Fault = func(c tcemu.Call, r *http.Request) (int, string) {
		return http.StatusOK, `{"Response":{"Error":{"Code":"InvalidParameter\u001b[31m","Message":"bad\u001b]0;title\u0007 value\r\u0000"},"RequestId":"r-1"}}`
	}
	code, out, errs := f.run()
	if code != 1 || !strings.Contains(errs, "InvalidParameter") || !strings.Contains(errs, "bad") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, r := range out + errs {
		if unicode.IsControl(r) && r != '\n' {
			t.Fatalf("output holds control character %U:\n%q", r, errs)
		}
	}
}
