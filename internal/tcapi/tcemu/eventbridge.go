package tcemu

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"sync"
	"time"
)

// EventBridge (service eb, version 2021-04-16, host eb.tencentcloudapi.com)
// is served on the same address as every other product: ListEventBuses,
// ListRules, GetRule, CreateRule, UpdateRule, DeleteRule, ListTargets,
// CreateTarget and DeleteTarget, each parameter checked against
// tencentcloud-sdk-go eb/v20210416 models.go. The request's signature,
// token and rate are checked by the Server (tcemu.go), then the action is
// answered here from the buses, rules and targets kept in memory.
func init() {
	versions["eb"] = "2021-04-16"
	regional["eb"] = true
	actions["eb"] = map[string]func(*Server, request) (answer, *apiError){}
	for name, h := range ebActions {
		actions["eb"][name] = func(s *Server, r request) (answer, *apiError) {
			e := s.products.eb
			e.seq, e.now = s.seq, s.opts.Now
			res, aerr := h(e, r.region, r.body)
			return answer{result: res}, aerr
		}
	}
}

// products holds the state of the products added in their own files.
type products struct {
	eb        *EventBridge
	functions map[string]*Function // function.go: region/namespace/name
	indexes   map[string]*Index    // cls_index.go: topic id
	cam       camState             // cam_roles.go
	logs      map[string][]LogLine // cls_search.go: topic id
	alarms    alarmState           // cls_alarm.go
}

func newProducts(mu *sync.Mutex) products {
	return products{eb: &EventBridge{mu: mu, rules: map[string]*Rule{}, targets: map[string]*Target{}, now: time.Now},
		functions: map[string]*Function{}, indexes: map[string]*Index{},
		cam: camState{roles: map[string]*Role{}, policies: map[uint64]*Policy{}}, logs: map[string][]LogLine{}}
}

// EventBridge returns the emulator's EventBridge state: add buses, rules
// and targets to it, and read them back.
func (s *Server) EventBridge() *EventBridge { return s.products.eb }

// EventBridge is the emulator's EventBridge state. Its methods take the
// Server's lock.
type EventBridge struct {
	mu      *sync.Mutex // the Server's
	buses   []Bus
	rules   map[string]*Rule
	targets map[string]*Target
	seq     int              // the request's sequence number: new ids
	now     func() time.Time // the Server's clock
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

// AddBus adds an event bus.
func (s *EventBridge) AddBus(b Bus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buses = append(s.buses, b)
}

// Rules returns a copy of the rules of a bus, by name.
func (s *EventBridge) Rules(busID string) []Rule {
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
func (s *EventBridge) Targets(ruleID string) []Target {
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
func (s *EventBridge) SetRule(r Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := r
	s.rules[r.ID] = &c
}

// AddTarget adds a target, as a console user would (for tests).
func (s *EventBridge) AddTarget(t Target) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := t
	s.targets[t.ID] = &c
}

var ebActions = map[string]func(*EventBridge, string, []byte) (map[string]any, *apiError){
	"ListEventBuses": (*EventBridge).listEventBuses,
	"ListRules":      (*EventBridge).listRules,
	"GetRule":        (*EventBridge).getRule,
	"CreateRule":     (*EventBridge).createRule,
	"UpdateRule":     (*EventBridge).updateRule,
	"DeleteRule":     (*EventBridge).deleteRule,
	"ListTargets":    (*EventBridge).listTargets,
	"CreateTarget":   (*EventBridge).createTarget,
	"DeleteTarget":   (*EventBridge).deleteTarget,
}

type ebFilter struct {
	Name   string
	Values []string
}

type ebPage struct {
	Limit   *int64
	Offset  *int64
	OrderBy string
	Order   string
}

// window applies Limit (default 20, at most 100) and Offset to n items.
func (p ebPage) window(n int) (int, int, *apiError) {
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

func (s *EventBridge) bus(region, id string) (*Bus, *apiError) {
	for i := range s.buses {
		if s.buses[i].ID == id && s.buses[i].Region == region {
			return &s.buses[i], nil
		}
	}
	return nil, errf("ResourceNotFound.EventBus", "event bus %q not found in region %s", id, region)
}

func (s *EventBridge) rule(region, busID, ruleID string) (*Rule, *apiError) {
	if _, aerr := s.bus(region, busID); aerr != nil {
		return nil, aerr
	}
	r, ok := s.rules[ruleID]
	if !ok || r.BusID != busID {
		return nil, errf("ResourceNotFound.Rule", "rule %q not found on event bus %s", ruleID, busID)
	}
	return r, nil
}

func (s *EventBridge) listEventBuses(region string, body []byte) (map[string]any, *apiError) {
	var req struct {
		ebPage
		Filters []ebFilter
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

func (s *EventBridge) ruleJSON(r *Rule, pattern bool) map[string]any {
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

func (s *EventBridge) listRules(region string, body []byte) (map[string]any, *apiError) {
	var req struct {
		ebPage
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

func (s *EventBridge) getRule(region string, body []byte) (map[string]any, *apiError) {
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

func (s *EventBridge) createRule(region string, body []byte) (map[string]any, *apiError) {
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
	now := s.now()
	r := &Rule{ID: fmt.Sprintf("rule-%08x", s.seq), Name: req.RuleName, BusID: req.EventBusId, Description: req.Description,
		Pattern: req.EventPattern, Enable: req.Enable == nil || *req.Enable, Added: now, Modified: now}
	s.rules[r.ID] = r
	return map[string]any{"RuleId": r.ID}, nil
}

func (s *EventBridge) updateRule(region string, body []byte) (map[string]any, *apiError) {
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
	r.Modified = s.now()
	return map[string]any{}, nil
}

func (s *EventBridge) deleteRule(region string, body []byte) (map[string]any, *apiError) {
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

func (s *EventBridge) listTargets(region string, body []byte) (map[string]any, *apiError) {
	var req struct {
		ebPage
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

func (s *EventBridge) createTarget(region string, body []byte) (map[string]any, *apiError) {
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

func (s *EventBridge) deleteTarget(region string, body []byte) (map[string]any, *apiError) {
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
