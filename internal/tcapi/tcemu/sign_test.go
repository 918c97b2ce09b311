package tcemu

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The worked example of the "Signature v3" document (TencentCloud API 3.0):
// CVM DescribeInstances in ap-guangzhou at timestamp 1551113065 with the
// documentation's example key.
const (
	docSecretID  = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
	docSecretKey = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
	docTimestamp = "1551113065"
	docPayload   = `{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`
	// Values the document prints for each step.
	docPayloadHash   = "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
	docCanonicalHash = "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
	docSignature     = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
	docAuthorization = "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
)

func docRequest() *http.Request {
	r := httptest.NewRequest(http.MethodPost, "https://cvm.tencentcloudapi.com/", strings.NewReader(docPayload))
	r.Host = "cvm.tencentcloudapi.com"
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	r.Header.Set("Authorization", docAuthorization)
	r.Header.Set("X-TC-Action", "DescribeInstances")
	r.Header.Set("X-TC-Timestamp", docTimestamp)
	r.Header.Set("X-TC-Version", "2017-03-12")
	r.Header.Set("X-TC-Region", "ap-guangzhou")
	return r
}

func TestSignatureMatchesDocumentedExample(t *testing.T) {
	if got := sha256Hex([]byte(docPayload)); got != docPayloadHash {
		t.Fatalf("payload hash = %s, want %s", got, docPayloadHash)
	}
	r := docRequest()
	a, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	if a.SecretID != docSecretID || a.Date != "2019-02-25" || a.Service != "cvm" || a.Signature != docSignature ||
		strings.Join(a.SignedHeaders, ";") != "content-type;host" {
		t.Fatalf("parsed %+v", a)
	}
	canonical, err := canonicalRequest(r, a.SignedHeaders, []byte(docPayload))
	if err != nil {
		t.Fatal(err)
	}
	wantCanonical := "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n" + docPayloadHash
	if canonical != wantCanonical {
		t.Fatalf("canonical request:\n%q\nwant\n%q", canonical, wantCanonical)
	}
	date, _, err := utcDate(docTimestamp)
	if err != nil || date != "2019-02-25" {
		t.Fatalf("date = %q, %v; want 2019-02-25 (UTC, not local time)", date, err)
	}
	sts := stringToSign(docTimestamp, date, "cvm", canonical)
	if want := "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n" + docCanonicalHash; sts != want {
		t.Fatalf("string to sign:\n%q\nwant\n%q", sts, want)
	}
	if got := signature(docSecretKey, date, "cvm", sts); got != docSignature {
		t.Fatalf("signature = %s, want %s", got, docSignature)
	}
}

func TestParseAuthorizationRejects(t *testing.T) {
	for _, h := range []string{
		"",
		"HMAC-SHA256 Credential=a/2019-02-25/eb/tc3_request, SignedHeaders=content-type;host, Signature=" + docSignature,
		"TC3-HMAC-SHA256 Credential=a/2019-02-25/eb, SignedHeaders=content-type;host, Signature=" + docSignature,
		"TC3-HMAC-SHA256 Credential=a/2019-02-25/eb/tc3_request, Signature=" + docSignature,
		"TC3-HMAC-SHA256 Credential=a/2019-02-25/eb/tc3_request, SignedHeaders=content-type;host, Signature=abc",
	} {
		if _, err := parseAuthorization(h); err == nil {
			t.Errorf("parseAuthorization(%q) accepted it", h)
		}
	}
}

func TestCanonicalRequestNeedsHostAndContentType(t *testing.T) {
	r := docRequest()
	if _, err := canonicalRequest(r, []string{"host"}, nil); err == nil {
		t.Error("accepted SignedHeaders without content-type")
	}
	if _, err := canonicalRequest(r, []string{"host", "content-type"}, nil); err == nil {
		t.Error("accepted unsorted SignedHeaders")
	}
}
