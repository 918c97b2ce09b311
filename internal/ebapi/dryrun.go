package ebapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// Placeholders the dry run answers with, where the real API would return ids.
const (
	DryRunBusID    = "${ServiceEventBusId}"
	DryRunRuleID   = "${RuleId}"
	DryRunTargetID = "${TargetId}"
)

// DryRunCredentials sign dry-run requests, which never leave the process.
var DryRunCredentials = Credentials{SecretID: "DRY-RUN", SecretKey: "DRY-RUN"}

// DryRunTransport returns a transport that sends nothing. It prints each
// request it is given to out (action, version, region, URL and JSON body;
// never a header, so never the signature or a token) and answers it as the
// API would for an account whose service event bus exists and where,
// with existing false, the rule does not exist yet (the requests of a first
// Apply), or, with existing true, the rule and its target exist as w
// describes (the requests of a Remove).
func DryRunTransport(out io.Writer, w Wiring, existing bool) http.RoundTripper {
	return &dryRun{out: out, w: w, existing: existing}
}

type dryRun struct {
	mu       sync.Mutex
	out      io.Writer
	w        Wiring
	existing bool
	n        int
}

func (d *dryRun) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	action := r.Header.Get("X-TC-Action")
	d.mu.Lock()
	d.n++
	fmt.Fprintf(d.out, "request %d: %s (service %s, version %s, region %s) POST %s\n%s\n",
		d.n, action, Service, r.Header.Get("X-TC-Version"), r.Header.Get("X-TC-Region"), r.URL.Redacted(), body)
	d.mu.Unlock()

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
	case "CreateRule":
		res = map[string]any{"RuleId": DryRunRuleID}
	case "ListTargets":
		res = map[string]any{"Targets": []any{}, "TotalCount": 0}
		if d.existing {
			res = map[string]any{"Targets": []any{target}, "TotalCount": 1}
		}
	case "CreateTarget":
		res = map[string]any{"TargetId": DryRunTargetID}
	default:
		res = map[string]any{}
	}
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
