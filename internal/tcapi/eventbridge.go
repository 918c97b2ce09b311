package tcapi

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// EventBridge (service eb, version 2021-04-16): the calls that wire the
// function to the Tencent Cloud service event bus, one rule matching
// CloudAudit's COS PutBucket records and one SCF target
// (eventbridge_rule.go). The request and answer shapes below follow the
// API's data types (tencentcloud-sdk-go eb/v20210416 models.go). Only the
// fields used are declared; the API sends more.
const (
	EventBridgeService = "eb"
	EventBridgeVersion = "2021-04-16"
	// EventBridgeHost is the API's host; the international site's is
	// eb.intl.tencentcloudapi.com.
	EventBridgeHost = "eb.tencentcloudapi.com"
)

// ebHostRE is an EventBridge API 3.0 host: eb.tencentcloudapi.com, the
// international site's eb.intl.tencentcloudapi.com, or a region's
// eb.<region>.tencentcloudapi.com (API 3.0's nearest-access endpoints).
var ebHostRE = regexp.MustCompile(`^eb\.((intl|[a-z]+(-[a-z]+)+(-\d+)?)\.)?tencentcloudapi\.com$`)

// EventBridgeRoot reports whether host is one of Tencent Cloud's
// EventBridge API hosts (ebHostRE), and returns its root domain (the part
// after "eb."), Options.RootDomain of a client that calls it.
func EventBridgeRoot(host string) (root string, ok bool) {
	if !ebHostRE.MatchString(host) {
		return "", false
	}
	return strings.TrimPrefix(host, EventBridgeService+"."), true
}

// IsRead reports whether an action only reads (List…, Get…, Describe…).
func IsRead(action string) bool {
	return strings.HasPrefix(action, "List") || strings.HasPrefix(action, "Get") || strings.HasPrefix(action, "Describe")
}

// ebCall sends one EventBridge action with params (a struct or map
// marshalled to JSON) and decodes the Response object into out (nil to
// discard it). A read (IsRead) is retried as Options.Retry says; a write is
// sent once (ApplyRule reads before it sends a create again). An error
// answer carries Hint's advice.
func (c *Client) ebCall(ctx context.Context, action string, params, out any) error {
	var m map[string]any
	body, err := json.Marshal(params)
	if err == nil {
		err = json.Unmarshal(body, &m)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	send := c
	if !IsRead(action) {
		send = c.once()
	}
	return send.callHinted(ctx, api{EventBridgeService, EventBridgeVersion, action}, m, out)
}

// Filter narrows ListEventBuses: Name is EventBusName, EventBusId, Type
// (Cloud, Platform, Custom) or TagKey; Values are ORed (at most 5).
type Filter struct {
	Name   string   `json:"Name"`
	Values []string `json:"Values"`
}

// EventBus is an event bus. Type "Cloud" is the Tencent Cloud service event bus.
type EventBus struct {
	EventBusId   string `json:"EventBusId"`
	EventBusName string `json:"EventBusName"`
	Type         string `json:"Type"`
	Description  string `json:"Description"`
}

// Rule is an event rule. ListRules leaves EventPattern out; GetRule has it.
type Rule struct {
	RuleId       string `json:"RuleId"`
	RuleName     string `json:"RuleName"`
	EventBusId   string `json:"EventBusId"`
	Description  string `json:"Description"`
	Enable       bool   `json:"Enable"`
	Status       string `json:"Status"`
	EventPattern string `json:"EventPattern"`
}

// TargetDescription locates a target: for an SCF function, the six-segment
// resource qcs::scf:<region>:uin/<uin>:namespace/<ns>/function/<fn>/<qualifier>.
type TargetDescription struct {
	ResourceDescription string `json:"ResourceDescription"`
}

// Target is a rule's delivery target.
type Target struct {
	TargetId          string            `json:"TargetId"`
	Type              string            `json:"Type"`
	EventBusId        string            `json:"EventBusId"`
	RuleId            string            `json:"RuleId"`
	TargetDescription TargetDescription `json:"TargetDescription"`
}

// ListEventBuses lists the buses of the client's region that pass filters.
func (c *Client) ListEventBuses(ctx context.Context, filters ...Filter) ([]EventBus, error) {
	return List("ListEventBuses", maxPages, func(offset int) ([]EventBus, int, error) {
		var out struct {
			EventBuses []EventBus
			TotalCount int
		}
		params := map[string]any{"Limit": pageSize, "Offset": offset}
		if len(filters) > 0 {
			params["Filters"] = filters
		}
		err := c.ebCall(ctx, "ListEventBuses", params, &out)
		return out.EventBuses, out.TotalCount, err
	})
}

// ListRules lists the rules of a bus (without their patterns).
func (c *Client) ListRules(ctx context.Context, busID string) ([]Rule, error) {
	return List("ListRules", maxPages, func(offset int) ([]Rule, int, error) {
		var out struct {
			Rules      []Rule
			TotalCount int
		}
		err := c.ebCall(ctx, "ListRules", map[string]any{"EventBusId": busID, "Limit": pageSize, "Offset": offset}, &out)
		return out.Rules, out.TotalCount, err
	})
}

// GetRule returns one rule with its pattern.
func (c *Client) GetRule(ctx context.Context, busID, ruleID string) (Rule, error) {
	var out Rule
	err := c.ebCall(ctx, "GetRule", map[string]any{"EventBusId": busID, "RuleId": ruleID}, &out)
	return out, err
}

// RuleSpec is what CreateRule and UpdateRule set.
type RuleSpec struct {
	Name, Description, Pattern string
	Enable                     bool
}

// CreateRule creates a rule on a bus and returns its id.
func (c *Client) CreateRule(ctx context.Context, busID string, r RuleSpec) (string, error) {
	var out struct{ RuleId string }
	err := c.ebCall(ctx, "CreateRule", map[string]any{"EventBusId": busID, "RuleName": r.Name,
		"Description": r.Description, "EventPattern": r.Pattern, "Enable": r.Enable}, &out)
	if err == nil && out.RuleId == "" {
		err = fmt.Errorf("CreateRule: the answer has no RuleId")
	}
	return out.RuleId, err
}

// UpdateRule sets a rule's pattern, description and switch.
func (c *Client) UpdateRule(ctx context.Context, busID, ruleID string, r RuleSpec) error {
	return c.ebCall(ctx, "UpdateRule", map[string]any{"EventBusId": busID, "RuleId": ruleID, "RuleName": r.Name,
		"Description": r.Description, "EventPattern": r.Pattern, "Enable": r.Enable}, nil)
}

// DeleteRule deletes a rule; the API refuses while it has targets.
func (c *Client) DeleteRule(ctx context.Context, busID, ruleID string) error {
	return c.ebCall(ctx, "DeleteRule", map[string]any{"EventBusId": busID, "RuleId": ruleID}, nil)
}

// ListTargets lists a rule's targets.
func (c *Client) ListTargets(ctx context.Context, busID, ruleID string) ([]Target, error) {
	return List("ListTargets", maxPages, func(offset int) ([]Target, int, error) {
		var out struct {
			Targets    []Target
			TotalCount int
		}
		err := c.ebCall(ctx, "ListTargets", map[string]any{"EventBusId": busID, "RuleId": ruleID, "Limit": pageSize, "Offset": offset}, &out)
		return out.Targets, out.TotalCount, err
	})
}

// CreateSCFTarget adds an SCF function target (single-event delivery) to a
// rule and returns its id.
func (c *Client) CreateSCFTarget(ctx context.Context, busID, ruleID, resource string) (string, error) {
	var out struct{ TargetId string }
	err := c.ebCall(ctx, "CreateTarget", map[string]any{"EventBusId": busID, "RuleId": ruleID, "Type": "scf",
		"TargetDescription": TargetDescription{ResourceDescription: resource}}, &out)
	if err == nil && out.TargetId == "" {
		err = fmt.Errorf("CreateTarget: the answer has no TargetId")
	}
	return out.TargetId, err
}

// DeleteTarget removes a target from a rule.
func (c *Client) DeleteTarget(ctx context.Context, busID, ruleID, targetID string) error {
	return c.ebCall(ctx, "DeleteTarget", map[string]any{"EventBusId": busID, "RuleId": ruleID, "TargetId": targetID}, nil)
}
