package ebapi

import (
	"context"
	"fmt"
	"github.com/picbucket/picbucket/internal/tcapi"
)

// The request and answer shapes below follow the API's data types
// (tencentcloud-sdk-go eb/v20210416 models.go). Only the fields this package
// uses are declared; the API sends more.

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

// pageSize is the largest Limit the List actions take.
const pageSize = 100

// maxPages bounds a listing (100 × 100 items, far past the documented quotas).
const maxPages = 100

// ListEventBuses lists the buses of the client's region that pass filters.
func (c *Client) ListEventBuses(ctx context.Context, filters ...Filter) ([]EventBus, error) {
	return tcapi.List("ListEventBuses", maxPages, func(offset int) ([]EventBus, int, error) {
		var out struct {
			EventBuses []EventBus
			TotalCount int
		}
		params := map[string]any{"Limit": pageSize, "Offset": offset}
		if len(filters) > 0 {
			params["Filters"] = filters
		}
		err := c.Call(ctx, "ListEventBuses", params, &out)
		return out.EventBuses, out.TotalCount, err
	})
}

// ListRules lists the rules of a bus (without their patterns).
func (c *Client) ListRules(ctx context.Context, busID string) ([]Rule, error) {
	return tcapi.List("ListRules", maxPages, func(offset int) ([]Rule, int, error) {
		var out struct {
			Rules      []Rule
			TotalCount int
		}
		err := c.Call(ctx, "ListRules", map[string]any{"EventBusId": busID, "Limit": pageSize, "Offset": offset}, &out)
		return out.Rules, out.TotalCount, err
	})
}

// GetRule returns one rule with its pattern.
func (c *Client) GetRule(ctx context.Context, busID, ruleID string) (Rule, error) {
	var out Rule
	err := c.Call(ctx, "GetRule", map[string]any{"EventBusId": busID, "RuleId": ruleID}, &out)
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
	err := c.Call(ctx, "CreateRule", map[string]any{"EventBusId": busID, "RuleName": r.Name,
		"Description": r.Description, "EventPattern": r.Pattern, "Enable": r.Enable}, &out)
	if err == nil && out.RuleId == "" {
		err = fmt.Errorf("CreateRule: the answer has no RuleId")
	}
	return out.RuleId, err
}

// UpdateRule sets a rule's pattern, description and switch.
func (c *Client) UpdateRule(ctx context.Context, busID, ruleID string, r RuleSpec) error {
	return c.Call(ctx, "UpdateRule", map[string]any{"EventBusId": busID, "RuleId": ruleID, "RuleName": r.Name,
		"Description": r.Description, "EventPattern": r.Pattern, "Enable": r.Enable}, nil)
}

// DeleteRule deletes a rule; the API refuses while it has targets.
func (c *Client) DeleteRule(ctx context.Context, busID, ruleID string) error {
	return c.Call(ctx, "DeleteRule", map[string]any{"EventBusId": busID, "RuleId": ruleID}, nil)
}

// ListTargets lists a rule's targets.
func (c *Client) ListTargets(ctx context.Context, busID, ruleID string) ([]Target, error) {
	return tcapi.List("ListTargets", maxPages, func(offset int) ([]Target, int, error) {
		var out struct {
			Targets    []Target
			TotalCount int
		}
		err := c.Call(ctx, "ListTargets", map[string]any{"EventBusId": busID, "RuleId": ruleID, "Limit": pageSize, "Offset": offset}, &out)
		return out.Targets, out.TotalCount, err
	})
}

// CreateSCFTarget adds an SCF function target (single-event delivery) to a
// rule and returns its id.
func (c *Client) CreateSCFTarget(ctx context.Context, busID, ruleID, resource string) (string, error) {
	var out struct{ TargetId string }
	err := c.Call(ctx, "CreateTarget", map[string]any{"EventBusId": busID, "RuleId": ruleID, "Type": "scf",
		"TargetDescription": TargetDescription{ResourceDescription: resource}}, &out)
	if err == nil && out.TargetId == "" {
		err = fmt.Errorf("CreateTarget: the answer has no TargetId")
	}
	return out.TargetId, err
}

// DeleteTarget removes a target from a rule.
func (c *Client) DeleteTarget(ctx context.Context, busID, ruleID, targetID string) error {
	return c.Call(ctx, "DeleteTarget", map[string]any{"EventBusId": busID, "RuleId": ruleID, "TargetId": targetID}, nil)
}
