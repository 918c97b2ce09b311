package tcapi

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/retry"
	"github.com/picbucket/picbucket/internal/rules"
)

// Defaults of the EventBridge rule and target (RuleWiring): one desired
// state, one read (ListRules, GetRule, ListTargets), one diff, and the
// writes that differ (ApplyRule, RemoveRule).
const (
	// ServiceBusRegion is where CloudAudit delivers write operations: the
	// Tencent Cloud service event bus exists in Guangzhou only for them.
	ServiceBusRegion = "ap-guangzhou"
	// ServiceBusType is the Type of the Tencent Cloud service event bus in
	// ListEventBuses (filter values: Cloud, Platform, Custom).
	ServiceBusType = "Cloud"
	// DefaultRuleName names the rule; it is how a later run finds it.
	DefaultRuleName = "picbucket-putbucket"
	// DefaultRuleDescription describes the rule (the API allows 200 characters
	// of letters, digits and common punctuation).
	DefaultRuleDescription = "Routes COS PutBucket calls recorded by CloudAudit to the picbucket SCF function"
	// DefaultPattern matches CloudAudit records of COS PutBucket calls, made
	// through the API, the console or a mini program: CloudAudit's eventType
	// is ApiCall, ConsoleCall or MiniProgramCall, and EventBridge's envelope
	// type is cos:CloudEvent:<eventType>
	// (https://www.tencentcloud.com/document/product/1108/46246; CloudAudit's
	// field table, https://www.tencentcloud.com/document/product/1021/40499;
	// docs/sources.md §3). It
	// does not filter on data.errorCode: EventBridge documents numeric ranges
	// ({"numeric":[">",0,"<=",5]}) but not an exact numeric match, and the
	// function already skips a record whose errorCode/apiErrorCode is not 0.
	DefaultPattern = `{"source":["cos.cloud.tencent"],"type":["cos:CloudEvent:ApiCall","cos:CloudEvent:ConsoleCall","cos:CloudEvent:MiniProgramCall"],"data":{"eventName":["PutBucket"]}}`
	// DefaultTargetQualifier is the function version the target invokes. Every
	// Tencent example of an EventBridge SCF target ends its
	// ResourceDescription in /$LATEST
	// (qcs::scf:<region>:uin/<uin>:namespace/<ns>/function/<name>/$LATEST;
	// none shows an alias: EventBridge's SCF target page, in
	// github.com/tencentyun/intlcloud-documents at
	// "yehe_doc/微服务和Serverless/事件总线/事件目标/SCF 云函数目标_intl_en.md",
	// and github.com/tencentcloudstack/terraform-provider-tencentcloud
	// website/docs/r/eb_event_target.html.markdown; docs/sources.md §3).
	// --qualifier selects
	// an alias or a version instead.
	DefaultTargetQualifier = "$LATEST"
)

var (
	// RuleNameRE is the documented rule name: 2-60 characters, letters,
	// digits, _ and -, starting with a letter, ending with a letter or digit.
	RuleNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$`)
)

// ValidRegion reports whether s looks like a region id such as ap-guangzhou
// (bucket.ValidateRegion).
func ValidRegion(s string) bool { return bucket.ValidateRegion(s) == nil }

// SCFResource returns the six-segment resource of an SCF target:
// qcs::scf:<region>:uin/<uin>:namespace/<namespace>/function/<function>/<qualifier>
// (the format of the API's TargetDescription.ResourceDescription), after
// checking each part.
func SCFResource(region, uin, namespace, function, qualifier string) (string, error) {
	var bad []string
	check := func(ok bool, what, v, want string) {
		if !ok {
			bad = append(bad, fmt.Sprintf("%s %q: want %s", what, v, want))
		}
	}
	check(ValidRegion(region), "function region", region, "a region id such as ap-guangzhou")
	check(rules.UIN(uin) == nil, "uin", uin, "the account's numeric UIN (account ID), 5 to 20 digits")
	check(rules.Namespace(namespace) == nil, "namespace", namespace, "an SCF namespace such as default")
	check(rules.FunctionName(function) == nil, "function", function, "an SCF function name")
	check(qualifierRE.MatchString(qualifier), "qualifier", qualifier, "$DEFAULT, $LATEST, a version number or an alias")
	if bad != nil {
		return "", fmt.Errorf("eventbridge: %s", strings.Join(bad, "; "))
	}
	return fmt.Sprintf("qcs::scf:%s:uin/%s:namespace/%s/function/%s/%s", region, uin, namespace, function, qualifier), nil
}

// sameFunction reports whether two SCF target resources name the same
// function, whatever their qualifiers.
func sameFunction(a, b string) bool {
	i, j := strings.LastIndexByte(a, '/'), strings.LastIndexByte(b, '/')
	return i > 0 && j > 0 && a[:i] == b[:j]
}

// PatternEqual reports whether two event patterns are the same JSON value
// (key order and white space aside).
func PatternEqual(a, b string) bool {
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return a == b
	}
	return reflect.DeepEqual(va, vb)
}

// CheckPattern checks that p is a JSON object, as the API requires.
func CheckPattern(p string) error {
	var v map[string]any
	if err := json.Unmarshal([]byte(p), &v); err != nil {
		return fmt.Errorf("eventbridge: event pattern is not a JSON object: %w", err)
	}
	if len(v) == 0 {
		return fmt.Errorf("eventbridge: event pattern is empty")
	}
	return nil
}

// RuleWiring is the desired rule and target.
type RuleWiring struct {
	// BusID is the event bus; when empty, the Tencent Cloud service event
	// bus of the client's region is looked up (ServiceBus).
	BusID       string
	RuleName    string
	Description string
	Pattern     string
	// Resource is the SCF target's six-segment resource (SCFResource).
	Resource string
	// ExplicitQualifier says that Resource's qualifier was chosen (for
	// wire eventbridge, --qualifier was given). A rule must hold one target per
	// function, or each event runs it once per target. So when the rule
	// already targets the same function with another qualifier, ApplyRule keeps
	// that target if the qualifier is only the default, and replaces it
	// (creates the new target, then deletes the old) if it was chosen.
	ExplicitQualifier bool
}

// Outcomes in a RuleReport, besides Created and Updated (plan.go).
const (
	Unchanged = "unchanged"
	Deleted   = "deleted"
	Absent    = "absent"
)

// RuleReport says what ApplyRule or RemoveRule found and did.
type RuleReport struct {
	BusID, BusName string
	RuleID, Rule   string // Rule is an outcome
	TargetID       string
	Target         string // an outcome
	// TargetResource is the resource the rule's target invokes after Apply:
	// Wiring.Resource, or a kept target's (another qualifier of the function).
	TargetResource string
	// Writes lists the write actions sent, in order (e.g. "CreateRule").
	Writes []string
	// Notes are facts worth telling the operator (e.g. foreign targets left alone).
	Notes []string
}

// ServiceBus finds the Tencent Cloud service event bus (Type Cloud) of the
// client's region. It fails when there is none or more than one.
func (c *Client) ServiceBus(ctx context.Context) (EventBus, error) {
	buses, err := c.ListEventBuses(ctx, Filter{Name: "Type", Values: []string{ServiceBusType}})
	if err != nil {
		return EventBus{}, err
	}
	var cloud []EventBus
	for _, b := range buses {
		if b.Type == "" || b.Type == ServiceBusType {
			cloud = append(cloud, b)
		}
	}
	switch len(cloud) {
	case 1:
		return cloud[0], nil
	case 0:
		return EventBus{}, fmt.Errorf("no Tencent Cloud service event bus (Type %s) in %s: open the EventBridge console in %s, "+
			"activate EventBridge and enable CloudAudit on the service event bus, then run again (or pass its id with --bus-id)",
			ServiceBusType, c.opts.Region, ServiceBusRegion)
	default:
		var ids []string
		for _, b := range cloud {
			ids = append(ids, fmt.Sprintf("%s (%s)", b.EventBusId, b.EventBusName))
		}
		return EventBus{}, fmt.Errorf("%d buses of Type %s in %s: %s; pass the service event bus's id with --bus-id",
			len(cloud), ServiceBusType, c.opts.Region, strings.Join(ids, ", "))
	}
}

func (c *Client) resolveBus(ctx context.Context, w RuleWiring, rep *RuleReport) error {
	if w.BusID != "" {
		rep.BusID = w.BusID
		return nil
	}
	b, err := c.ServiceBus(ctx)
	if err != nil {
		return err
	}
	rep.BusID, rep.BusName = b.EventBusId, b.EventBusName
	return nil
}

// findRule returns the bus's rule named name, or nil.
func (c *Client) findRule(ctx context.Context, busID, name string) (*Rule, error) {
	rules, err := c.ListRules(ctx, busID)
	if err != nil {
		return nil, err
	}
	var found *Rule
	for i := range rules {
		if rules[i].RuleName != name {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("two rules are named %q on event bus %s (%s, %s): delete one in the EventBridge console",
				name, busID, found.RuleId, rules[i].RuleId)
		}
		found = &rules[i]
	}
	return found, nil
}

func (w RuleWiring) validate() error {
	if !RuleNameRE.MatchString(w.RuleName) {
		return fmt.Errorf("eventbridge: rule name %q: want 2-60 letters, digits, _ or -, starting with a letter and ending with a letter or digit", w.RuleName)
	}
	if len(w.Description) > 200 {
		return fmt.Errorf("eventbridge: description is longer than 200 characters")
	}
	if w.Resource == "" {
		return fmt.Errorf("eventbridge: no target resource")
	}
	return CheckPattern(w.Pattern)
}

// ApplyRule makes the bus hold the rule and its SCF target as w describes,
// changing only what differs: the rule is found by name (ListRules) and
// created when missing, or read (GetRule) and updated (UpdateRule) when its
// pattern, description or switch differ; the target is created when the
// rule has none with w.Resource. Other targets of the rule are left alone
// and reported in Notes. A second ApplyRule with the same w sends no write.
func (c *Client) ApplyRule(ctx context.Context, w RuleWiring) (RuleReport, error) {
	rep := RuleReport{Rule: Unchanged, Target: Unchanged}
	if err := w.validate(); err != nil {
		return rep, err
	}
	if err := c.resolveBus(ctx, w, &rep); err != nil {
		return rep, err
	}
	spec := RuleSpec{Name: w.RuleName, Description: w.Description, Pattern: w.Pattern, Enable: true}
	rule, err := c.findRule(ctx, rep.BusID, w.RuleName)
	if err != nil {
		return rep, err
	}
	if rule == nil {
		id, err := createOnce(ctx, func() (string, error) { return c.CreateRule(ctx, rep.BusID, spec) },
			func() (string, error) {
				r, err := c.findRule(ctx, rep.BusID, w.RuleName)
				if r == nil || err != nil {
					return "", err
				}
				return r.RuleId, nil
			})
		rep.Writes = append(rep.Writes, "CreateRule")
		if err != nil {
			return rep, err
		}
		rep.RuleID, rep.Rule = id, Created
	} else {
		rep.RuleID = rule.RuleId
		cur, err := c.GetRule(ctx, rep.BusID, rule.RuleId)
		if err != nil {
			return rep, err
		}
		var diffs []string
		if !PatternEqual(cur.EventPattern, w.Pattern) {
			diffs = append(diffs, "pattern")
		}
		if cur.Description != w.Description {
			diffs = append(diffs, "description")
		}
		if !cur.Enable {
			diffs = append(diffs, "disabled")
		}
		if len(diffs) > 0 {
			if err := c.UpdateRule(ctx, rep.BusID, rule.RuleId, spec); err != nil {
				return rep, err
			}
			rep.Rule = Updated
			rep.Writes = append(rep.Writes, "UpdateRule")
			rep.Notes = append(rep.Notes, "rule differed in: "+strings.Join(diffs, ", "))
			if diffs[0] == "pattern" {
				rep.Notes = append(rep.Notes, "its pattern was "+cur.EventPattern)
			}
		}
	}

	var targets []Target
	if rep.Rule != Created { // a new rule has no targets: skip the listing
		if targets, err = c.ListTargets(ctx, rep.BusID, rep.RuleID); err != nil {
			return rep, err
		}
	}
	rep.TargetResource = w.Resource
	var replace []Target // targets of the same function with another qualifier, to delete
	for _, t := range targets {
		if t.Type == "scf" && t.TargetDescription.ResourceDescription == w.Resource {
			if rep.TargetID == "" {
				rep.TargetID = t.TargetId
			}
			continue
		}
		if t.Type == "scf" && sameFunction(t.TargetDescription.ResourceDescription, w.Resource) {
			if w.ExplicitQualifier {
				replace = append(replace, t)
				continue
			}
			if rep.TargetID == "" {
				rep.TargetID, rep.TargetResource = t.TargetId, t.TargetDescription.ResourceDescription
				rep.Notes = append(rep.Notes, fmt.Sprintf("kept: target %s invokes the same function with another qualifier; pass --qualifier to replace it",
					t.TargetId))
				continue
			}
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("left alone: target %s (%s %s)", t.TargetId, t.Type, t.TargetDescription.ResourceDescription))
	}
	if rep.TargetID == "" {
		id, err := createOnce(ctx, func() (string, error) { return c.CreateSCFTarget(ctx, rep.BusID, rep.RuleID, w.Resource) },
			func() (string, error) {
				ts, err := c.ListTargets(ctx, rep.BusID, rep.RuleID)
				for _, t := range ts {
					if t.Type == "scf" && t.TargetDescription.ResourceDescription == w.Resource {
						return t.TargetId, nil
					}
				}
				return "", err
			})
		rep.Writes = append(rep.Writes, "CreateTarget")
		if err != nil {
			return rep, err
		}
		rep.TargetID, rep.Target = id, Created
	}
	// The new target exists before the old ones go: no event is missed,
	// and none runs the function twice once this returns.
	for _, t := range replace {
		if err := c.DeleteTarget(ctx, rep.BusID, rep.RuleID, t.TargetId); err != nil {
			return rep, err
		}
		rep.Target = Updated
		rep.Writes = append(rep.Writes, "DeleteTarget")
		rep.Notes = append(rep.Notes, fmt.Sprintf("replaced: target %s (%s), so that each event runs the function once",
			t.TargetId, t.TargetDescription.ResourceDescription))
	}
	return rep, nil
}

// createPolicy bounds the attempts of a create.
var createPolicy = retry.Default

// createOnce sends a create, and after a failure that may be transient
// (throttled, HTTP 5xx, a transport error: Transient) reads first (find)
// and sends it again only when what it creates does not exist: a create
// that took effect although its answer was lost or a 5xx leaves no
// duplicate. find returns the id of what exists, or "".
func createOnce(ctx context.Context, create, find func() (string, error)) (string, error) {
	var id string
	tries := 0
	_, err := createPolicy.Do(ctx, Transient, func(context.Context) error {
		tries++
		if tries > 1 {
			found, err := find()
			if err != nil {
				return err
			}
			if found != "" {
				id = found
				return nil
			}
		}
		var err error
		id, err = create()
		return err
	})
	return id, err
}

// RemoveRule deletes what ApplyRule made: the rule's target for w.Resource
// (DeleteTarget), then the rule (DeleteRule). It refuses to delete a rule
// that still has other targets, which someone else added. Nothing to delete
// is not an error.
func (c *Client) RemoveRule(ctx context.Context, w RuleWiring) (RuleReport, error) {
	rep := RuleReport{Rule: Absent, Target: Absent}
	if !RuleNameRE.MatchString(w.RuleName) {
		return rep, fmt.Errorf("eventbridge: rule name %q is not valid", w.RuleName)
	}
	if err := c.resolveBus(ctx, w, &rep); err != nil {
		return rep, err
	}
	rule, err := c.findRule(ctx, rep.BusID, w.RuleName)
	if err != nil || rule == nil {
		return rep, err
	}
	rep.RuleID, rep.Rule = rule.RuleId, Unchanged
	targets, err := c.ListTargets(ctx, rep.BusID, rule.RuleId)
	if err != nil {
		return rep, err
	}
	var others []string
	for _, t := range targets {
		if t.Type == "scf" && t.TargetDescription.ResourceDescription == w.Resource {
			if err := c.DeleteTarget(ctx, rep.BusID, rule.RuleId, t.TargetId); err != nil {
				return rep, err
			}
			rep.TargetID, rep.Target = t.TargetId, Deleted
			rep.Writes = append(rep.Writes, "DeleteTarget")
			continue
		}
		others = append(others, fmt.Sprintf("%s (%s %s)", t.TargetId, t.Type, t.TargetDescription.ResourceDescription))
	}
	if len(others) > 0 {
		return rep, fmt.Errorf("rule %s (%s) still has other targets, so it was kept: %s; remove them in the EventBridge console and run again",
			w.RuleName, rule.RuleId, strings.Join(others, ", "))
	}
	if err := c.DeleteRule(ctx, rep.BusID, rule.RuleId); err != nil {
		return rep, err
	}
	rep.Rule = Deleted
	rep.Writes = append(rep.Writes, "DeleteRule")
	return rep, nil
}
