package tcemu

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// CAM roles and policies (cam 2019-01-16; tencentcloud-sdk-go
// cam/v20190116 models.go): GetRole {RoleId|RoleName} -> RoleInfo
// {RoleId, RoleName, PolicyDocument, Description}, InvalidParameter.RoleNotExist
// when there is none; CreateRole {RoleName, PolicyDocument, Description,
// ConsoleLogin, SessionDuration} -> RoleId; DeleteRole {RoleId|RoleName};
// CreatePolicy {PolicyName, PolicyDocument, Description} -> PolicyId;
// GetPolicy {PolicyId} -> PolicyName, Description, Type, PolicyDocument;
// UpdatePolicy {PolicyId, PolicyName, Description, PolicyDocument};
// DeletePolicy {PolicyId[]}; ListPolicies {Rp, Page, Scope, Keyword} ->
// List[]{PolicyId, PolicyName, Description, Type}, TotalNum;
// AttachRolePolicy {PolicyId|PolicyName, AttachRoleId|AttachRoleName};
// DetachRolePolicy {PolicyId|PolicyName, DetachRoleId|DetachRoleName};
// ListAttachedRolePolicies {Page, Rp (at most 200), RoleId|RoleName} ->
// List[]{PolicyId, PolicyName, PolicyType}, TotalNum. One account's CAM:
// the emulator keeps roles and policies for every caller alike.

// Role is a CAM role.
type Role struct {
	ID, Name, Document, Description string
	Policies                        []uint64 // attached
}

// Policy is a CAM policy; Type 1 custom, 2 preset (QCS).
type Policy struct {
	ID                          uint64
	Name, Document, Description string
	Type                        uint64
}

type camState struct {
	roles    map[string]*Role // by name
	policies map[uint64]*Policy
	next     uint64
}

func init() {
	for name, h := range map[string]func(*Server, request) (answer, *apiError){
		"GetRole": (*Server).getRole, "CreateRole": (*Server).createRole, "DeleteRole": (*Server).deleteRole,
		"CreatePolicy": (*Server).createPolicy, "GetPolicy": (*Server).getPolicy, "UpdatePolicy": (*Server).updatePolicy,
		"DeletePolicy": (*Server).deletePolicy, "ListPolicies": (*Server).listPolicies,
		"AttachRolePolicy": (*Server).attachRolePolicy, "DetachRolePolicy": (*Server).detachRolePolicy,
		"ListAttachedRolePolicies": (*Server).listAttachedRolePolicies,
	} {
		actions["cam"][name] = h
	}
}

// AddRole adds a role (with its attached policy ids), as a user would.
func (s *Server) AddRole(r Role) Role {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &s.products.cam
	c.next++
	if r.ID == "" {
		r.ID = fmt.Sprintf("46116860184273%05d", c.next)
	}
	c.roles[r.Name] = &r
	return r
}

// AddPolicy adds a policy, as a user (Type 1) or Tencent (Type 2) would.
func (s *Server) AddPolicy(p Policy) Policy {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &s.products.cam
	c.next++
	p.ID = 200000000 + c.next
	if p.Type == 0 {
		p.Type = 1
	}
	c.policies[p.ID] = &p
	return p
}

// Roles and Policies return copies of the state.
func (s *Server) Roles() []Role {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Role
	for _, r := range s.products.cam.roles {
		c := *r
		c.Policies = slices.Clone(r.Policies)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Policies returns copies of the policies.
func (s *Server) Policies() []Policy {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.policiesLocked()
}

func (s *Server) roleOf(id, name string) (*Role, *apiError) {
	for _, r := range s.products.cam.roles {
		if id != "" && r.ID == id || id == "" && name != "" && r.Name == name {
			return r, nil
		}
	}
	if id == "" && name == "" {
		return nil, errf("InvalidParameter.ParamError", "RoleId or RoleName is required")
	}
	return nil, errf("InvalidParameter.RoleNotExist", "role %s%s does not exist", id, name)
}

func (s *Server) policyOf(id uint64, name string) (*Policy, *apiError) {
	for _, p := range s.products.cam.policies {
		if id != 0 && p.ID == id || id == 0 && name != "" && p.Name == name {
			return p, nil
		}
	}
	return nil, errf("InvalidParameter.PolicyIdNotExist", "policy %d%s does not exist", id, name)
}

func (s *Server) getRole(r request) (answer, *apiError) {
	var p struct{ RoleId, RoleName string }
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	role, aerr := s.roleOf(p.RoleId, p.RoleName)
	if aerr != nil {
		return answer{}, aerr
	}
	return answer{result: map[string]any{"RoleInfo": map[string]any{"RoleId": role.ID, "RoleName": role.Name,
		"PolicyDocument": role.Document, "Description": role.Description, "ConsoleLogin": 0, "RoleType": "user"}}}, nil
}

func (s *Server) createRole(r request) (answer, *apiError) {
	var p struct {
		RoleName, PolicyDocument, Description string
		ConsoleLogin, SessionDuration         *uint64
	}
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	if p.RoleName == "" || p.PolicyDocument == "" {
		return answer{}, errf("MissingParameter", "RoleName and PolicyDocument are required")
	}
	if s.products.cam.roles[p.RoleName] != nil {
		return answer{}, errf("InvalidParameter.RoleNameInUse", "a role named %s exists", p.RoleName)
	}
	c := &s.products.cam
	c.next++
	role := &Role{ID: fmt.Sprintf("46116860184273%05d", c.next), Name: p.RoleName, Document: p.PolicyDocument, Description: p.Description}
	c.roles[p.RoleName] = role
	return answer{result: map[string]any{"RoleId": role.ID}}, nil
}

func (s *Server) deleteRole(r request) (answer, *apiError) {
	var p struct{ RoleId, RoleName string }
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	role, aerr := s.roleOf(p.RoleId, p.RoleName)
	if aerr != nil {
		return answer{}, aerr
	}
	delete(s.products.cam.roles, role.Name)
	return answer{result: map[string]any{}}, nil
}

func (s *Server) createPolicy(r request) (answer, *apiError) {
	var p struct{ PolicyName, PolicyDocument, Description string }
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	if p.PolicyName == "" || p.PolicyDocument == "" {
		return answer{}, errf("MissingParameter", "PolicyName and PolicyDocument are required")
	}
	if _, aerr := s.policyOf(0, p.PolicyName); aerr == nil {
		return answer{}, errf("FailedOperation.PolicyNameInUse", "a policy named %s exists", p.PolicyName)
	}
	c := &s.products.cam
	c.next++
	pol := &Policy{ID: 200000000 + c.next, Name: p.PolicyName, Document: p.PolicyDocument, Description: p.Description, Type: 1}
	c.policies[pol.ID] = pol
	return answer{result: map[string]any{"PolicyId": pol.ID}}, nil
}

func (s *Server) getPolicy(r request) (answer, *apiError) {
	var p struct{ PolicyId uint64 }
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	pol, aerr := s.policyOf(p.PolicyId, "")
	if aerr != nil {
		return answer{}, aerr
	}
	return answer{result: map[string]any{"PolicyName": pol.Name, "Description": pol.Description, "Type": pol.Type,
		"PolicyDocument": pol.Document, "AddTime": createTime, "UpdateTime": createTime}}, nil
}

func (s *Server) updatePolicy(r request) (answer, *apiError) {
	var p struct {
		PolicyId                                       uint64
		PolicyName, Description, PolicyDocument, Alias string
	}
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	pol, aerr := s.policyOf(p.PolicyId, p.PolicyName)
	if aerr != nil {
		return answer{}, aerr
	}
	if pol.Type != 1 {
		return answer{}, errf("InvalidParameter.PolicyIdError", "a preset policy cannot be changed")
	}
	if p.PolicyDocument != "" {
		pol.Document = p.PolicyDocument
	}
	if p.Description != "" {
		pol.Description = p.Description
	}
	return answer{result: map[string]any{"PolicyId": pol.ID}}, nil
}

func (s *Server) deletePolicy(r request) (answer, *apiError) {
	var p struct{ PolicyId []uint64 }
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	for _, id := range p.PolicyId {
		if _, aerr := s.policyOf(id, ""); aerr != nil {
			return answer{}, aerr
		}
		delete(s.products.cam.policies, id)
		for _, role := range s.products.cam.roles {
			role.Policies = slices.DeleteFunc(role.Policies, func(x uint64) bool { return x == id })
		}
	}
	return answer{result: map[string]any{}}, nil
}

func (s *Server) listPolicies(r request) (answer, *apiError) {
	var p struct {
		Rp, Page       *uint64
		Scope, Keyword string
	}
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	var all []map[string]any
	for _, pol := range s.policiesLocked() {
		if p.Scope == "Local" && pol.Type != 1 || p.Scope == "QCS" && pol.Type != 2 {
			continue
		}
		if p.Keyword != "" && !containsFold(pol.Name, p.Keyword) {
			continue
		}
		all = append(all, map[string]any{"PolicyId": pol.ID, "PolicyName": pol.Name, "Description": pol.Description, "Type": pol.Type})
	}
	return answer{result: map[string]any{"List": pageOf(all, p.Page, p.Rp), "TotalNum": len(all)}}, nil
}

// policiesLocked is Policies with the lock held.
func (s *Server) policiesLocked() []Policy {
	var out []Policy
	for _, p := range s.products.cam.policies {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Server) attachRolePolicy(r request) (answer, *apiError) {
	var p struct {
		PolicyId                     uint64
		PolicyName                   string
		AttachRoleId, AttachRoleName string
	}
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	role, aerr := s.roleOf(p.AttachRoleId, p.AttachRoleName)
	if aerr != nil {
		return answer{}, aerr
	}
	pol, aerr := s.policyOf(p.PolicyId, p.PolicyName)
	if aerr != nil {
		return answer{}, aerr
	}
	if !slices.Contains(role.Policies, pol.ID) {
		role.Policies = append(role.Policies, pol.ID)
	}
	return answer{result: map[string]any{}}, nil
}

func (s *Server) detachRolePolicy(r request) (answer, *apiError) {
	var p struct {
		PolicyId                     uint64
		PolicyName                   string
		DetachRoleId, DetachRoleName string
	}
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	role, aerr := s.roleOf(p.DetachRoleId, p.DetachRoleName)
	if aerr != nil {
		return answer{}, aerr
	}
	pol, aerr := s.policyOf(p.PolicyId, p.PolicyName)
	if aerr != nil {
		return answer{}, aerr
	}
	role.Policies = slices.DeleteFunc(role.Policies, func(x uint64) bool { return x == pol.ID })
	return answer{result: map[string]any{}}, nil
}

func (s *Server) listAttachedRolePolicies(r request) (answer, *apiError) {
	var p struct {
		Page, Rp                              *uint64
		RoleId, RoleName, PolicyType, Keyword string
	}
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	if p.Page == nil || p.Rp == nil {
		return answer{}, errf("MissingParameter", "Page and Rp are required")
	}
	if *p.Rp > 200 || *p.Rp == 0 || *p.Page == 0 {
		return answer{}, errf("InvalidParameter.ParamError", "Rp 1-200, Page from 1")
	}
	role, aerr := s.roleOf(p.RoleId, p.RoleName)
	if aerr != nil {
		return answer{}, aerr
	}
	var all []map[string]any
	for _, id := range role.Policies {
		pol := s.products.cam.policies[id]
		if pol == nil {
			continue
		}
		typ := "User"
		if pol.Type == 2 {
			typ = "QCS"
		}
		all = append(all, map[string]any{"PolicyId": pol.ID, "PolicyName": pol.Name, "PolicyType": typ, "AddTime": createTime})
	}
	return answer{result: map[string]any{"List": pageOf(all, p.Page, p.Rp), "TotalNum": len(all)}}, nil
}

// pageOf returns page (from 1) of size rp (20 when nil) of all.
func pageOf(all []map[string]any, page, rp *uint64) []map[string]any {
	pg, size := uint64(1), uint64(20)
	if page != nil && *page > 0 {
		pg = *page
	}
	if rp != nil && *rp > 0 {
		size = *rp
	}
	from := (pg - 1) * size
	if from >= uint64(len(all)) {
		return []map[string]any{}
	}
	return all[from:min(from+size, uint64(len(all)))]
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
