package emulator

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
)

// The worked example of the request-signature page's Chinese version
// (https://cloud.tencent.com/document/product/436/7778; docs/sources.md §1).
const (
	vecSecretKey    = "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz"
	vecKeyTime      = "1557989753;1557996953"
	vecSignKey      = "937914bf490e9e8c189836aad2052e4feeb35eaf"
	vecHTTPString   = "get\n/exampleobject(腾讯云)\nresponse-cache-control=max-age%3D600&response-content-type=application%2Foctet-stream\ndate=Thu%2C%2016%20May%202019%2006%3A55%3A53%20GMT&host=examplebucket-1250000000.cos.ap-beijing.myqcloud.com\n"
	vecStringToSign = "sha1\n1557989753;1557996953\n54ecfe22f59d3514fdc764b87a32d8133ea611e6\n"
	vecSignature    = "01681b8c9d798a678e43b685a9f1bba0f6c0e012"
)

func TestSignatureVector(t *testing.T) {
	if got := SignKey(vecSecretKey, vecKeyTime); got != vecSignKey {
		t.Errorf("SignKey = %s, want %s", got, vecSignKey)
	}
	if got := StringToSign(vecKeyTime, vecHTTPString); got != vecStringToSign {
		t.Errorf("StringToSign = %q, want %q", got, vecStringToSign)
	}
	if got := Signature(vecSignKey, vecStringToSign); got != vecSignature {
		t.Errorf("Signature = %s, want %s", got, vecSignature)
	}
}

func TestHTTPStringVector(t *testing.T) {
	const query = "?response-content-type=application%2Foctet-stream&response-cache-control=max-age%3D600"
	for _, tc := range []struct {
		name   string
		target string
	}{
		{"utf-8 path", "/exampleobject(腾讯云)" + query},
		{"percent-encoded path", "/exampleobject%28%E8%85%BE%E8%AE%AF%E4%BA%91%29" + query},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := "GET " + tc.target + " HTTP/1.1\r\n" +
				"Host: examplebucket-1250000000.cos.ap-beijing.myqcloud.com\r\n" +
				"Date: Thu, 16 May 2019 06:55:53 GMT\r\n" +
				"User-Agent: not-signed\r\n\r\n"
			r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := HTTPString(r, []string{"date", "host"}, []string{"response-cache-control", "response-content-type"})
			if err != nil {
				t.Fatal(err)
			}
			if got != vecHTTPString {
				t.Fatalf("HTTPString =\n%q\nwant\n%q", got, vecHTTPString)
			}
			if sig := Signature(SignKey(vecSecretKey, vecKeyTime), StringToSign(vecKeyTime, got)); sig != vecSignature {
				t.Errorf("signature of the built HttpString = %s, want %s", sig, vecSignature)
			}
			auth := "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q&q-sign-time=" + vecKeyTime +
				"&q-key-time=" + vecKeyTime + "&q-header-list=date;host&q-url-param-list=response-cache-control;response-content-type&q-signature=" + vecSignature
			a, err := parseAuthorization(auth)
			if err != nil {
				t.Fatal(err)
			}
			if err := verifySignature(r, a, vecSecretKey); err != nil {
				t.Errorf("verifySignature: %v", err)
			}
			if err := verifySignature(r, a, vecSecretKey+"x"); err == nil {
				t.Error("verifySignature accepted a wrong key")
			}
		})
	}
}

func TestEncode(t *testing.T) {
	for in, want := range map[string]string{
		"max-age=600":                   "max-age%3D600",
		"Thu, 16 May 2019":              "Thu%2C%2016%20May%202019",
		"AZaz09-_.~":                    "AZaz09-_.~",
		"!'()*/+ ":                      "%21%27%28%29%2A%2F%2B%20",
		"腾":                             "%E8%85%BE",
		"application/octet-stream; q=1": "application%2Foctet-stream%3B%20q%3D1",
	} {
		if got := encode(in); got != want {
			t.Errorf("encode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseAuthorization(t *testing.T) {
	good := "q-sign-algorithm=sha1&q-ak=AK&q-sign-time=1;2&q-key-time=1;2&q-header-list=host&q-url-param-list=&q-signature=ab"
	if _, err := parseAuthorization(good); err != nil {
		t.Fatalf("parse %q: %v", good, err)
	}
	for _, bad := range []string{
		"",
		"q-sign-algorithm=sha256&q-ak=AK&q-sign-time=1;2&q-key-time=1;2&q-header-list=host&q-url-param-list=&q-signature=ab",
		"q-sign-algorithm=sha1&q-ak=AK&q-sign-time=1;2&q-key-time=1;2&q-header-list=host&q-signature=ab",
		"q-sign-algorithm=sha1&q-ak=&q-sign-time=1;2&q-key-time=1;2&q-header-list=host&q-url-param-list=&q-signature=ab",
		good + "&q-ak=AK2",
		"Bearer xyz",
	} {
		if _, err := parseAuthorization(bad); err == nil {
			t.Errorf("parseAuthorization(%q) succeeded", bad)
		}
	}
	for _, w := range []string{"1;", "a;b", "5;4", "12"} {
		if _, _, err := parseWindow(w); err == nil {
			t.Errorf("parseWindow(%q) succeeded", w)
		}
	}
}
