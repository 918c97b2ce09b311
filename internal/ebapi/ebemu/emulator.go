// Package ebemu emulates the part of the Tencent Cloud EventBridge API
// (service eb, version 2021-04-16, host eb.tencentcloudapi.com) that
// cmd/ebwire uses: ListEventBuses, ListRules, GetRule, CreateRule,
// UpdateRule, DeleteRule, ListTargets, CreateTarget and DeleteTarget.
//
// It speaks the TencentCloud API 3.0 wire format: POST / with a JSON body,
// the action in X-TC-Action, the version in X-TC-Version, the region in
// X-TC-Region; every answer is HTTP 200 with {"Response":{…,"RequestId":…}},
// and a failure is {"Response":{"Error":{"Code":…,"Message":…},"RequestId":…}}.
// It verifies every request's TC3-HMAC-SHA256 signature with its own
// implementation of the documented algorithm (sign.go), the clock skew and
// the session token, and it keeps buses, rules and targets in memory.
// Parameters the real API does not know are refused (UnknownParameter), so a
// client that misspells a field fails here as it would in production.
package ebemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Version is the API version the emulator serves.
const Version = "2021-04-16"

// Service is the service name in the credential scope.
const Service = "eb"

// Credential is a key the emulator accepts. Token, when set, must arrive in
// X-TC-Token; when empty, no X-TC-Token may be sent.
type Credential struct {
	SecretID, SecretKey, Token string
}

// Bus is an event bus. Type is "Cloud" for the Tencent Cloud service event
// bus, "Custom" for a bus the user made.
type Bus struct {
	ID, Name, Type, Region, Description string
}

// Rule is an event rule as the emulator stores it.
type Rule struct {
	ID, Name, BusID, Description, Pattern string
	Enable                                bool
	Added, Modified                       time.Time
}

// Target is a rule's delivery target.
type Target struct {
	ID, RuleID, BusID, Type, Resource string
	EnableBatchDelivery               bool
	BatchTimeout, BatchEventCount     int64
}

// Call is one request the emulator answered, signed correctly or not.
type Call struct {
	Action, Version, Region string
	Host                    string // the Host header the request was signed for
	Body                    string
	ErrorCode               string // "" when the call succeeded
}

// Server is the emulator; it is an http.Handler. The zero value is not
// usable: call New.
type Server struct {
	mu      sync.Mutex
	creds   map[string]Credential
	buses   []Bus
	rules   map[string]*Rule
	targets map[string]*Target
	calls   []Call
	seq     int
	// Now is the clock used for the skew check and timestamps.
	Now func() time.Time
	// OnCall, when set, is called after each answer with its Call (for a
	// request log); it must not block. Set it before serving.
	OnCall func(Call)
	// Fault, when set, may replace an answer after the action took effect:
	// a non-zero status is sent with body instead of the API's answer (a
	// proxy's error page, a 5xx after a create that was made). Set it
	// before serving.
	Fault func(c Call, r *http.Request) (status int, body string)
}

// New returns an emulator with no credentials and no buses.
func New() *Server {
	return &Server{creds: map[string]Credential{}, rules: map[string]*Rule{}, targets: map[string]*Target{}, Now: time.Now}
}

// AddCredential makes the emulator accept c.
func (s *Server) AddCredential(c Credential) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[c.SecretID] = c
}

// AddBus adds an event bus.
func (s *Server) AddBus(b Bus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buses = append(s.buses, b)
}

// Calls returns the requests answered so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Rules returns a copy of the rules of a bus, by name.
func (s *Server) Rules(busID string) []Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Rule
	for _, r := range s.rules {
		if r.BusID == busID {
			out = append(out, *r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Targets returns a copy of a rule's targets, by id.
func (s *Server) Targets(ruleID string) []Target {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Target
	for _, t := range s.targets {
		if t.RuleID == ruleID {
			out = append(out, *t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// SetRule adds or replaces a rule, as a console user would (for tests).
func (s *Server) SetRule(r Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := r
	s.rules[r.ID] = &c
}

// AddTarget adds a target, as a console user would (for tests).
func (s *Server) AddTarget(t Target) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := t
	s.targets[t.ID] = &c
}

// apiError is an API error answer.
type apiError struct{ Code, Message string }

func errf(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ServeHTTP answers one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	call := Call{Action: r.Header.Get("X-TC-Action"), Version: r.Header.Get("X-TC-Version"), Region: r.Header.Get("X-TC-Region"), Host: r.Host, Body: string(body)}

	s.mu.Lock()
	s.seq++
	requestID := fmt.Sprintf("ebemu-%08d-0000-4000-8000-%012d", s.seq, s.seq)
	result, aerr := s.handle(r, body, call)
	if aerr != nil {
		call.ErrorCode = aerr.Code
	}
	s.calls = append(s.calls, call)
	s.mu.Unlock()
	if s.OnCall != nil {
		defer s.OnCall(call)
	}
	if s.Fault != nil {
		if status, body := s.Fault(call, r); status != 0 {
			w.WriteHeader(status)
			io.WriteString(w, body)
			return
		}
	}

	resp := map[string]any{}
	if aerr != nil {
		resp["Error"] = map[string]string{"Code": aerr.Code, "Message": aerr.Message}
	} else {
		for k, v := range result {
			resp[k] = v
		}
	}
	resp["RequestId"] = requestID
	b, _ := json.Marshal(map[string]any{"Response": resp})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-TC-RequestId", requestID)
	w.WriteHeader(http.StatusOK) // API 3.0 answers 200 even to errors
	w.Write(b)
}

func (s *Server) handle(r *http.Request, body []byte, c Call) (map[string]any, *apiError) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return nil, errf("UnsupportedProtocol", "the emulator serves POST / only, got %s %s", r.Method, r.URL.Path)
	}
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	if ct != "application/json" && !strings.HasPrefix(ct, "application/json;") {
		return nil, errf("InvalidParameter", "Content-Type %q is not application/json", r.Header.Get("Content-Type"))
	}
	if aerr := s.authenticate(r, body); aerr != nil {
		return nil, aerr
	}
	if c.Action == "" {
		return nil, errf("MissingParameter", "the X-TC-Action header is missing")
	}
	if c.Version != Version {
		return nil, errf("InvalidAction", "action %q is not available in version %q (want %s)", c.Action, c.Version, Version)
	}
	if c.Region == "" {
		return nil, errf("MissingParameter", "the X-TC-Region header is missing")
	}
	h, ok := actions[c.Action]
	if !ok {
		return nil, errf("InvalidAction", "the emulator does not implement action %q", c.Action)
	}
	return h(s, c.Region, body)
}

// authenticate verifies the TC3-HMAC-SHA256 signature, the timestamp and the token.
func (s *Server) authenticate(r *http.Request, body []byte) *apiError {
	_, aerr := Verify(r, body, s.Now(), Service, func(id string) (Credential, bool) {
		c, ok := s.creds[id]
		return c, ok
	})
	if aerr != nil {
		return &apiError{Code: aerr.Code, Message: aerr.Message}
	}
	return nil
}

// decode reads a request body into v, refusing unknown parameters.
func decode(body []byte, v any) *apiError {
	if code, msg := Decode(body, v); code != "" {
		return errf(code, "%s", msg)
	}
	return nil
}

// Decode reads an API 3.0 request body into v (a pointer to a struct whose
// field names are the parameters), as the API does: parameter names are
// case-sensitive (encoding/json is not, so they are checked first) and an
// unknown one is refused. It returns the error code and message to answer,
// or "" when the body is good. The other API 3.0 emulators share it.
func Decode(body []byte, v any) (code, message string) {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		return "InvalidParameter", fmt.Sprintf("the request body is not a JSON object: %v", err)
	}
	known := fieldNames(reflect.TypeOf(v).Elem())
	for k := range keys {
		if !known[k] {
			return "UnknownParameter", fmt.Sprintf("the parameter %q is not recognized", k)
		}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return "InvalidParameter", fmt.Sprintf("the request body is not the expected JSON: %v", err)
	}
	return "", ""
}

// fieldNames lists the JSON names of a struct's fields, embedded ones included.
func fieldNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			for k := range fieldNames(f.Type) {
				names[k] = true
			}
			continue
		}
		names[f.Name] = true
	}
	return names
}

var actions = map[string]func(*Server, string, []byte) (map[string]any, *apiError){
	"ListEventBuses": (*Server).listEventBuses,
	"ListRules":      (*Server).listRules,
	"GetRule":        (*Server).getRule,
	"CreateRule":     (*Server).createRule,
	"UpdateRule":     (*Server).updateRule,
	"DeleteRule":     (*Server).deleteRule,
	"ListTargets":    (*Server).listTargets,
	"CreateTarget":   (*Server).createTarget,
	"DeleteTarget":   (*Server).deleteTarget,
}

type filter struct {
	Name   string
	Values []string
}

type page struct {
	Limit   *int64
	Offset  *int64
	OrderBy string
	Order   string
}

// window applies Limit (default 20, at most 100) and Offset to n items.
func (p page) window(n int) (int, int, *apiError) {
	limit, offset := int64(20), int64(0)
	if p.Limit != nil {
		limit = *p.Limit
	}
	if p.Offset != nil {
		offset = *p.Offset
	}
	if limit < 1 || limit > 100 || offset < 0 {
		return 0, 0, errf("InvalidParameterValue", "Limit must be 1-100 and Offset ≥ 0")
	}
	lo := min(int(offset), n)
	return lo, min(lo+int(limit), n), nil
}

func (s *Server) bus(region, id string) (*Bus, *apiError) {
	for i := range s.buses {
		if s.buses[i].ID == id && s.buses[i].Region == region {
			return &s.buses[i], nil
		}
	}
	return nil, errf("ResourceNotFound.EventBus", "event bus %q not found in region %s", id, region)
}

func (s *Server) rule(region, busID, ruleID string) (*Rule, *apiError) {
	if _, aerr := s.bus(region, busID); aerr != nil {
		return nil, aerr
	}
	r, ok := s.rules[ruleID]
	if !ok || r.BusID != busID {
		return nil, errf("ResourceNotFound.Rule", "rule %q not found on event bus %s", ruleID, busID)
	}
	return r, nil
}

func (s *Server) listEventBuses(region string, body []byte) (map[string]any, *apiError) {
	var req struct {
		page
		Filters []filter
	}
	if aerr := decode(body, &req); aerr != nil {
		return nil, aerr
	}
	var match []map[string]any
	for _, b := range s.buses {
		if b.Region != region {
			continue
		}
		ok := true
		for _, f := range req.Filters {
			var v string
			switch f.Name {
			case "Type":
				v = b.Type
			case "EventBusName":
				v = b.Name
			case "EventBusId":
				v = b.ID
			default:
				return nil, errf("InvalidParameterValue", "unsupported filter %q", f.Name)
			}
			found := false
			for _, want := range f.Values {
				found = found || want == v
			}
			ok = ok && found
		}
		if ok {
			match = append(match, map[string]any{"EventBusId": b.ID, "EventBusName": b.Name, "Type": b.Type,
				"Description": b.Description, "AddTime": "2021-04-16T00:00:00Z", "ModTime": "2021-04-16T00:00:00Z",
				"PayMode": "PAYASYOUGO", "ConnectionBriefs": nil, "TargetBriefs": nil})
		}
	}
	lo, hi, aerr := req.window(len(match))
	if aerr != nil {
		return nil, aerr
	}
	return map[string]any{"EventBuses": orEmpty(match[lo:hi]), "TotalCount": len(match)}, nil
}

func (s *Server) ruleJSON(r *Rule, pattern bool) map[string]any {
	m := map[string]any{"RuleId": r.ID, "RuleName": r.Name, "EventBusId": r.BusID, "Description": r.Description,
		"Enable": r.Enable, "Status": "ACTIVE", "AddTime": r.Added.UTC().Format(time.RFC3339),
		"ModTime": r.Modified.UTC().Format(time.RFC3339)}
	if pattern {
		m["EventPattern"] = r.Pattern
	} else {
		var briefs []map[string]any
		for _, t := range s.targets {
			if t.RuleID == r.ID {
				briefs = append(briefs, map[string]any{"TargetId": t.ID, "Type": t.Type})
			}
		}
		m["Targets"] = orEmpty(briefs)
		m["DeadLetterConfig"] = nil
	}
	return m
}

func (s *Server) listRules(region string, body []byte) (map[string]any, *apiError) {
	var req struct {
		page
		EventBusId string
	}
	if aerr := decode(body, &req); aerr != nil {
		return nil, aerr
	}
	if _, aerr := s.bus(region, req.EventBusId); aerr != nil {
		return nil, aerr
	}
	var rules []*Rule
	for _, r := range s.rules {
		if r.BusID == req.EventBusId {
			rules = append(rules, r)
		}
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	lo, hi, aerr := req.window(len(rules))
	if aerr != nil {
		return nil, aerr
	}
	var out []map[string]any
	for _, r := range rules[lo:hi] {
		out = append(out, s.ruleJSON(r, false))
	}
	return map[string]any{"Rules": orEmpty(out), "TotalCount": len(rules)}, nil
}

func (s *Server) getRule(region string, body []byte) (map[string]any, *apiError) {
	var req struct{ EventBusId, RuleId string }
	if aerr := decode(body, &req); aerr != nil {
		return nil, aerr
	}
	r, aerr := s.rule(region, req.EventBusId, req.RuleId)
	if aerr != nil {
		return nil, aerr
	}
	return s.ruleJSON(r, true), nil
}

// ruleNameRE is the documented rule name: 2-60 letters, digits, _ and -,
// starting with a letter and ending with a letter or digit.
var ruleNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$`)

func checkPattern(p string) *apiError {
	var v map[string]any
	if err := json.Unmarshal([]byte(p), &v); err != nil || len(v) == 0 {
		return errf("InvalidParameterValue.EventPattern", "EventPattern must be a non-empty JSON object")
	}
	return nil
}

func (s *Server) createRule(region string, body []byte) (map[string]any, *apiError) {
	var req struct {
		EventPattern, EventBusId, RuleName, Description string
		Enable                                          *bool
	}
	if aerr := decode(body, &req); aerr != nil {
		return nil, aerr
	}
	if _, aerr := s.bus(region, req.EventBusId); aerr != nil {
		return nil, aerr
	}
	if !ruleNameRE.MatchString(req.RuleName) {
		return nil, errf("InvalidParameterValue.RuleName", "RuleName %q must be 2-60 letters, digits, _ or -, start with a letter and end with a letter or digit", req.RuleName)
	}
	if len(req.Description) > 200 {
		return nil, errf("InvalidParameterValue.Description", "Description is longer than 200 characters")
	}
	if aerr := checkPattern(req.EventPattern); aerr != nil {
		return nil, aerr
	}
	for _, r := range s.rules {
		if r.BusID == req.EventBusId && r.Name == req.RuleName {
			return nil, errf("ResourceInUse.Rule", "a rule named %q already exists on event bus %s", req.RuleName, req.EventBusId)
		}
	}
	now := s.Now()
	r := &Rule{ID: fmt.Sprintf("rule-%08x", s.seq), Name: req.RuleName, BusID: req.EventBusId, Description: req.Description,
		Pattern: req.EventPattern, Enable: req.Enable == nil || *req.Enable, Added: now, Modified: now}
	s.rules[r.ID] = r
	return map[string]any{"RuleId": r.ID}, nil
}

func (s *Server) updateRule(region string, body []byte) (map[string]any, *apiError) {
	var req struct {
		RuleId, EventBusId                  string
		Enable                              *bool
		Description, EventPattern, RuleName *string
	}
	if aerr := decode(body, &req); aerr != nil {
		return nil, aerr
	}
	r, aerr := s.rule(region, req.EventBusId, req.RuleId)
	if aerr != nil {
		return nil, aerr
	}
	if req.EventPattern != nil {
		if aerr := checkPattern(*req.EventPattern); aerr != nil {
			return nil, aerr
		}
		r.Pattern = *req.EventPattern
	}
	if req.RuleName != nil {
		if !ruleNameRE.MatchString(*req.RuleName) {
			return nil, errf("InvalidParameterValue.RuleName", "RuleName %q is not valid", *req.RuleName)
		}
		r.Name = *req.RuleName
	}
	if req.Description != nil {
		r.Description = *req.Description
	}
	if req.Enable != nil {
		r.Enable = *req.Enable
	}
	r.Modified = s.Now()
	return map[string]any{}, nil
}

func (s *Server) deleteRule(region string, body []byte) (map[string]any, *apiError) {
	var req struct{ EventBusId, RuleId string }
	if aerr := decode(body, &req); aerr != nil {
		return nil, aerr
	}
	if _, aerr := s.rule(region, req.EventBusId, req.RuleId); aerr != nil {
		return nil, aerr
	}
	for _, t := range s.targets {
		if t.RuleID == req.RuleId {
			return nil, errf("ResourceInUse.Rule", "rule %s still has targets: delete them first", req.RuleId)
		}
	}
	delete(s.rules, req.RuleId)
	return map[string]any{}, nil
}

func targetJSON(t *Target) map[string]any {
	return map[string]any{"TargetId": t.ID, "Type": t.Type, "EventBusId": t.BusID, "RuleId": t.RuleID,
		"TargetDescription":   map[string]any{"ResourceDescription": t.Resource},
		"EnableBatchDelivery": t.EnableBatchDelivery, "BatchTimeout": t.BatchTimeout, "BatchEventCount": t.BatchEventCount}
}

func (s *Server) listTargets(region string, body []byte) (map[string]any, *apiError) {
	var req struct {
		page
		EventBusId, RuleId string
	}
	if aerr := decode(body, &req); aerr != nil {
		return nil, aerr
	}
	if _, aerr := s.rule(region, req.EventBusId, req.RuleId); aerr != nil {
		return nil, aerr
	}
	var ts []*Target
	for _, t := range s.targets {
		if t.RuleID == req.RuleId {
			ts = append(ts, t)
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].ID < ts[j].ID })
	lo, hi, aerr := req.window(len(ts))
	if aerr != nil {
		return nil, aerr
	}
	var out []map[string]any
	for _, t := range ts[lo:hi] {
		out = append(out, targetJSON(t))
	}
	return map[string]any{"Targets": orEmpty(out), "TotalCount": len(ts)}, nil
}

// scfResourceRE is the six-segment resource of an SCF target:
// qcs::scf:<region>:uin/<uin>:namespace/<namespace>/function/<function>/<version or alias>.
var scfResourceRE = regexp.MustCompile(`^qcs::scf:[a-z]+(-[a-z]+)+(-\d+)?:uin/\d+:namespace/[A-Za-z0-9_-]+/function/[A-Za-z][A-Za-z0-9_-]*/(\$LATEST|\$DEFAULT|\d+|[A-Za-z][A-Za-z0-9_-]*)$`)

func (s *Server) createTarget(region string, body []byte) (map[string]any, *apiError) {
	var req struct {
		EventBusId, Type, RuleId string
		TargetDescription        *struct {
			ResourceDescription string
			SCFParams           *struct {
				BatchTimeout, BatchEventCount *int64
				EnableBatchDelivery           *bool
			}
		}
		BatchTimeout, BatchEventCount *int64
		EnableBatchDelivery           *bool
	}
	if aerr := decode(body, &req); aerr != nil {
		return nil, aerr
	}
	if _, aerr := s.rule(region, req.EventBusId, req.RuleId); aerr != nil {
		return nil, aerr
	}
	if req.Type != "scf" {
		return nil, errf("InvalidParameterValue.Type", "the emulator supports Type \"scf\" only, got %q", req.Type)
	}
	if req.TargetDescription == nil || !scfResourceRE.MatchString(req.TargetDescription.ResourceDescription) {
		return nil, errf("InvalidParameterValue.TargetDescription",
			"TargetDescription.ResourceDescription must be qcs::scf:<region>:uin/<uin>:namespace/<ns>/function/<name>/<version or alias>")
	}
	for _, t := range s.targets {
		if t.RuleID == req.RuleId && t.Resource == req.TargetDescription.ResourceDescription {
			return nil, errf("ResourceInUse", "rule %s already delivers to %s", req.RuleId, t.Resource)
		}
	}
	t := &Target{ID: fmt.Sprintf("target-%08x", s.seq), RuleID: req.RuleId, BusID: req.EventBusId, Type: req.Type,
		Resource: req.TargetDescription.ResourceDescription}
	if req.EnableBatchDelivery != nil {
		t.EnableBatchDelivery = *req.EnableBatchDelivery
	}
	s.targets[t.ID] = t
	return map[string]any{"TargetId": t.ID}, nil
}

func (s *Server) deleteTarget(region string, body []byte) (map[string]any, *apiError) {
	var req struct{ EventBusId, TargetId, RuleId string }
	if aerr := decode(body, &req); aerr != nil {
		return nil, aerr
	}
	if _, aerr := s.rule(region, req.EventBusId, req.RuleId); aerr != nil {
		return nil, aerr
	}
	t, ok := s.targets[req.TargetId]
	if !ok || t.RuleID != req.RuleId {
		return nil, errf("ResourceNotFound.Target", "target %q not found on rule %s", req.TargetId, req.RuleId)
	}
	delete(s.targets, req.TargetId)
	return map[string]any{}, nil
}

func orEmpty(v []map[string]any) []map[string]any {
	if v == nil {
		return []map[string]any{}
	}
	return v
}

// Actions lists the actions the emulator implements.
func Actions() []string {
	var a []string
	for k := range actions {
		a = append(a, k)
	}
	return a
}

// Answer runs one action for a caller whose request another emulator has
// already verified (tcemu, which serves every API 3.0 product on one
// address), records it among Calls, and returns its result or its error
// code and message.
func (s *Server) Answer(action, region string, body []byte) (result map[string]any, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	call := Call{Action: action, Version: Version, Region: region, Host: Service + ".tencentcloudapi.com", Body: string(body)}
	h, ok := actions[action]
	var aerr *apiError
	if !ok {
		aerr = errf("InvalidAction", "the emulator does not implement action %q", action)
	} else {
		result, aerr = h(s, region, body)
	}
	if aerr != nil {
		call.ErrorCode = aerr.Code
		code, message = aerr.Code, aerr.Message
	}
	s.calls = append(s.calls, call)
	return result, code, message
}
