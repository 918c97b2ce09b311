package tcapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/picbucket/picbucket/signer"
)

// Placeholders the dry run answers with, where the real API would return ids.
const (
	DryRunBusID    = "${ServiceEventBusId}"
	DryRunRuleID   = "${RuleId}"
	DryRunTargetID = "${TargetId}"
)

// DryRunCredentials sign dry-run requests, which never leave the process.
var DryRunCredentials = signer.Credentials{SecretID: "DRY-RUN", SecretKey: "DRY-RUN"}

// DryRunTransport returns a transport that sends nothing, for an
// EventBridge dry run without credentials. It prints each
// request it is given to out (action, version, region, URL and JSON body;
// never a header, so never the signature or a token) and answers it as the
// API would for an account whose service event bus exists and where,
// with existing false, the rule does not exist yet (the requests of a first
// Apply), or, with existing true, the rule and its target exist as w
// describes (the requests of a Remove).
func DryRunTransport(out io.Writer, w RuleWiring, existing bool) http.RoundTripper {
	return &dryRun{printer: printer{out: out}, w: w, existing: existing}
}

// printer prints requests, numbered.
type printer struct {
	mu  sync.Mutex
	out io.Writer
	n   int
}

// print prints one request and returns its action and body.
func (p *printer) print(r *http.Request, verb string) (string, []byte, error) {
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return "", nil, err
		}
	}
	action := r.Header.Get("X-TC-Action")
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	service, _, _ := strings.Cut(host, ".")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	fmt.Fprintf(p.out, "%s %d: %s (service %s, version %s, region %s) POST https://%s%s\n%s\n",
		verb, p.n, action, service, r.Header.Get("X-TC-Version"), r.Header.Get("X-TC-Region"), host, r.URL.EscapedPath(), body)
	return action, body, nil
}

type dryRun struct {
	printer
	w        RuleWiring
	existing bool
}

func (d *dryRun) RoundTrip(r *http.Request) (*http.Response, error) {
	action, _, err := d.print(r, "request")
	if err != nil {
		return nil, err
	}
	busID := d.w.BusID
	if busID == "" {
		busID = DryRunBusID
	}
	rule := map[string]any{"RuleId": DryRunRuleID, "RuleName": d.w.RuleName, "EventBusId": busID,
		"Description": d.w.Description, "Enable": true, "EventPattern": d.w.Pattern}
	target := map[string]any{"TargetId": DryRunTargetID, "Type": "scf", "EventBusId": busID, "RuleId": DryRunRuleID,
		"TargetDescription": map[string]any{"ResourceDescription": d.w.Resource}}
	var res map[string]any
	switch action {
	case "ListEventBuses":
		res = map[string]any{"EventBuses": []any{map[string]any{"EventBusId": DryRunBusID, "EventBusName": "${ServiceEventBusName}", "Type": ServiceBusType}}, "TotalCount": 1}
	case "ListRules":
		res = map[string]any{"Rules": []any{}, "TotalCount": 0}
		if d.existing {
			res = map[string]any{"Rules": []any{rule}, "TotalCount": 1}
		}
	case "GetRule":
		res = rule
	case "ListTargets":
		res = map[string]any{"Targets": []any{}, "TotalCount": 0}
		if d.existing {
			res = map[string]any{"Targets": []any{target}, "TotalCount": 1}
		}
	default:
		res = writeAnswer(action)
	}
	return answer(r, res)
}

// writeAnswer is the API's answer to a write action that succeeded, with
// placeholders for the ids it would return.
func writeAnswer(action string) map[string]any {
	switch action {
	case "CreateRule":
		return map[string]any{"RuleId": DryRunRuleID}
	case "CreateTarget":
		return map[string]any{"TargetId": DryRunTargetID}
	}
	return map[string]any{}
}

// answer wraps res as the API's 200 answer to r.
func answer(r *http.Request, res map[string]any) (*http.Response, error) {
	res["RequestId"] = "dry-run"
	b, err := json.Marshal(map[string]any{"Response": res})
	if err != nil {
		return nil, err
	}
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": []string{"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(b)),
		ContentLength: int64(len(b)),
		Request:       r,
	}, nil
}

// ReadOnlyTransport (Options.ReadOnly) returns a transport that sends the read actions
// (IsRead) to next, so that a dry run sees the account as it is, and sends
// no write: it prints each write request to out, as DryRunTransport does,
// and answers it as the API would answer a write that succeeded (new ids
// are placeholders such as ${RuleId}).
func ReadOnlyTransport(out io.Writer, next http.RoundTripper) http.RoundTripper {
	return &readOnly{printer: printer{out: out}, next: next}
}

type readOnly struct {
	printer
	next http.RoundTripper
}

func (t *readOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if IsRead(r.Header.Get("X-TC-Action")) {
		return t.next.RoundTrip(r)
	}
	action, _, err := t.print(r, "would send")
	if err != nil {
		return nil, err
	}
	return answer(r, writeAnswer(action))
}
