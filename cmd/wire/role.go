package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"reflect"
	"slices"
	"strings"

	"github.com/picbucket/picbucket/internal/ciservice"
	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/deploy"
	"github.com/picbucket/picbucket/internal/tcapi"
)

// The execution role (serverless.yml inputs.role) and its policy: one
// desired state (desiredPolicy), one read (readRole), one diff (roleState.diff).
const (
	// roleMarker and policyMarker are the descriptions wire gives what it
	// makes: how a later run (and --delete) knows them from the user's.
	roleMarker   = "picbucket execution role, made by go run ./cmd/wire apply"
	policyMarker = "picbucket: least privilege for serverless.yml's settings, made by go run ./cmd/wire apply"
	// scfService is the principal SCF assumes roles as (terraform-provider-
	// tencentcloud's SCF tests: "principal": {"service":["scf.qcloud.com"]}).
	scfService = "scf.qcloud.com"
)

// scfTrust is the role's trust policy: SCF may assume it.
var scfTrust = `{"version":"2.0","statement":[{"action":"name/sts:AssumeRole","effect":"allow","principal":{"service":["` + scfService + `"]}}]}`

// policyName is the name of the policy wire writes for role.
func policyName(role string) string { return role + "-policy" }

type statement struct {
	Effect   string   `json:"effect"`
	Action   []string `json:"action"`
	Resource []string `json:"resource"`
}

type policyDoc struct {
	Version   string      `json:"version"`
	Statement []statement `json:"statement"`
}

// ciActions are the Create and listing actions of the CI services the
// settings name (PICBUCKET_SERVICES; image processing alone when unset):
// internal/ciservice, the one table of them.
func ciActions(cfg config.Config) (creates, lists []string) {
	ids := cfg.Services
	if len(ids) == 0 {
		ids = []ciservice.ID{ciservice.Pic}
	}
	for _, id := range ids {
		svc := ciservice.Get(id)
		creates = append(creates, svc.CreateAction)
		lists = append(lists, svc.ListAction)
	}
	return creates, lists
}

// neededActions are the CAM actions the function's settings need: the
// CI services' Create and listing and COS's bucket listing; with a tag
// setting, cos:GetBucketTagging; in organization mode, the members'
// listing, the member role's AssumeRole and the function's own invocation
// (fan-out).
func neededActions(s *deploy.Serverless) []string {
	cfg, _ := s.Settings()
	creates, lists := ciActions(cfg)
	a := append(append(creates, lists...), "cos:GetService")
	if cfg.SkipTag != nil || cfg.RequireTag != nil {
		a = append(a, "cos:GetBucketTagging")
	}
	if cfg.OrgAll || len(cfg.MemberUins) > 0 {
		a = append(a, "organization:DescribeOrganizationMembers", "sts:AssumeRole", "scf:InvokeFunction")
	}
	return a
}

// desiredPolicy is the least-privilege policy of s: each action of
// neededActions on the narrowest resource known (docs/operating.md, "The
// execution role").
func desiredPolicy(s *deploy.Serverless, appID, uin string) policyDoc {
	cfg, _ := s.Settings()
	creates, read := ciActions(cfg)
	read = append(read, "cos:GetService")
	if cfg.SkipTag != nil || cfg.RequireTag != nil {
		read = append(read, "cos:GetBucketTagging")
	}
	d := policyDoc{Version: "2.0", Statement: []statement{
		{Effect: "allow", Action: creates, Resource: []string{"qcs::ci::uid/" + appID + ":bucket/*"}},
		{Effect: "allow", Action: read, Resource: []string{"*"}},
	}}
	if cfg.OrgAll || len(cfg.MemberUins) > 0 {
		var roles []string
		if cfg.OrgAll {
			roles = []string{"qcs::cam::uin/*:roleName/" + cfg.MemberRole}
		}
		for _, m := range cfg.MemberUins {
			roles = append(roles, "qcs::cam::uin/"+m+":roleName/"+cfg.MemberRole)
		}
		d.Statement = append(d.Statement,
			statement{Effect: "allow", Action: []string{"organization:DescribeOrganizationMembers"}, Resource: []string{"*"}},
			statement{Effect: "allow", Action: []string{"sts:AssumeRole"}, Resource: roles},
			statement{Effect: "allow", Action: []string{"scf:InvokeFunction"},
				Resource: []string{fmt.Sprintf("qcs::scf:%s:uin/%s:namespace/%s/function/%s", s.Region, uin, s.Namespace, s.Function)}})
	}
	return d
}

func (d policyDoc) String() string { b, _ := json.Marshal(d); return string(b) }

// sameDoc reports whether two policy documents are the same JSON value.
func sameDoc(a, b string) bool {
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return a == b
	}
	return reflect.DeepEqual(va, vb)
}

// strs reads a policy field that is a string or a list of strings.
func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// statements reads a policy document's statements with their keys in
// lower case: Tencent's documents write "action", Terraform's examples
// "Action".
func statements(doc string) []map[string]any {
	var d struct{ Statement []map[string]any }
	if json.Unmarshal([]byte(doc), &d) != nil {
		return nil
	}
	out := make([]map[string]any, 0, len(d.Statement))
	for _, st := range d.Statement {
		m := make(map[string]any, len(st))
		for k, v := range st {
			m[strings.ToLower(k)] = v
		}
		out = append(out, m)
	}
	return out
}

// grants reports whether a policy document allows action (its allow
// statements' actions, with * patterns, in either form Tencent writes them:
// "cos:GetService" or "name/cos:GetService", as COS's "Working with COS API
// authorization policies" does; deny statements and conditions are not
// weighed, and resources are not compared).
func grants(doc, action string) bool {
	for _, st := range statements(doc) {
		if e, _ := st["effect"].(string); !strings.EqualFold(e, "allow") {
			continue
		}
		for _, a := range strs(st["action"]) {
			a = strings.TrimPrefix(strings.ToLower(a), "name/")
			if ok, _ := path.Match(a, strings.ToLower(action)); ok {
				return true
			}
		}
	}
	return false
}

// trustsSCF reports whether a trust policy lets SCF assume the role.
func trustsSCF(doc string) bool {
	for _, st := range statements(doc) {
		p, _ := st["principal"].(map[string]any)
		if e, _ := st["effect"].(string); strings.EqualFold(e, "allow") && slices.Contains(strs(p["service"]), scfService) {
			return true
		}
	}
	return false
}

// roleState is what readRole found.
type roleState struct {
	role     *tcapi.Role
	attached []tcapi.AttachedPolicy
	ours     *tcapi.PolicyInfo // the policy named policyName(role), with its document
}

// readRole reads the role, its attached policies and the policy wire names;
// it only reads.
func readRole(ctx context.Context, api *tcapi.Client, name string) (roleState, error) {
	var st roleState
	r, found, err := api.GetRole(ctx, name)
	if err != nil {
		return st, err
	}
	if found {
		st.role = &r
		if st.attached, err = api.ListAttachedRolePolicies(ctx, name); err != nil {
			return st, err
		}
	}
	ps, err := api.FindPolicies(ctx, policyName(name))
	if err != nil {
		return st, err
	}
	for _, p := range ps {
		if p.PolicyName == policyName(name) {
			full, err := api.GetPolicy(ctx, p.PolicyId)
			if err != nil {
				return st, err
			}
			st.ours = &full
		}
	}
	return st, nil
}

// diff plans the writes that make the role and its policy as desired. It
// never changes a role or a policy wire did not make (their descriptions
// lack the markers): it says so in the notes instead.
func (st roleState) diff(name string, want policyDoc) tcapi.Plan {
	var p tcapi.Plan
	step := func(action string, params map[string]any) {
		p.Steps = append(p.Steps, tcapi.Step{Service: tcapi.CAMService, Version: tcapi.CAMVersion, Action: action, Params: params})
	}
	if st.role == nil {
		step("CreateRole", map[string]any{"RoleName": name, "PolicyDocument": scfTrust, "Description": roleMarker})
	} else if !trustsSCF(st.role.PolicyDocument) {
		p.Notes = append(p.Notes, fmt.Sprintf("role %s does not trust %s: not changed (wire changes no role it did not make); fix its trust policy in CAM", name, scfService))
	}
	pol := policyName(name)
	switch {
	case st.ours == nil:
		step("CreatePolicy", map[string]any{"PolicyName": pol, "PolicyDocument": want.String(), "Description": policyMarker})
	case st.ours.Description != policyMarker:
		p.Notes = append(p.Notes, fmt.Sprintf("policy %s (%d) was not made by wire: left alone and not attached; rename it to let wire write its own", pol, st.ours.PolicyId))
		return p
	case !sameDoc(st.ours.PolicyDocument, want.String()):
		step("UpdatePolicy", map[string]any{"PolicyId": st.ours.PolicyId, "PolicyDocument": want.String()})
		p.Notes = append(p.Notes, "policy "+pol+" differs from the settings' least privilege: updated")
	}
	attached := st.ours != nil && slices.ContainsFunc(st.attached, func(a tcapi.AttachedPolicy) bool { return a.PolicyId == st.ours.PolicyId })
	if !attached {
		step("AttachRolePolicy", map[string]any{"PolicyName": pol, "AttachRoleName": name})
	}
	return p
}

// deletePlan removes what wire made: its policy (detached first), then the
// role if wire made it and nothing else is attached to it.
func (st roleState) deletePlan(name string) tcapi.Plan {
	var p tcapi.Plan
	step := func(action string, params map[string]any) {
		p.Steps = append(p.Steps, tcapi.Step{Service: tcapi.CAMService, Version: tcapi.CAMVersion, Action: action, Params: params})
	}
	others := len(st.attached)
	if st.ours != nil && st.ours.Description == policyMarker {
		if slices.ContainsFunc(st.attached, func(a tcapi.AttachedPolicy) bool { return a.PolicyId == st.ours.PolicyId }) {
			step("DetachRolePolicy", map[string]any{"PolicyId": st.ours.PolicyId, "DetachRoleName": name})
			others--
		}
		step("DeletePolicy", map[string]any{"PolicyId": []uint64{st.ours.PolicyId}})
	}
	switch {
	case st.role == nil:
	case st.role.Description != roleMarker:
		p.Notes = append(p.Notes, "kept: role "+name+" was not made by wire")
	case others > 0:
		p.Notes = append(p.Notes, fmt.Sprintf("kept: role %s still has %d other policies", name, others))
	default:
		step("DeleteRole", map[string]any{"RoleName": name})
	}
	return p
}
