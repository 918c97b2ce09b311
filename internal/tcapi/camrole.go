package tcapi

import (
	"context"
)

// CAM roles and policies (service cam, version 2019-01-16; tencentcloud-sdk-go
// cam/v20190116 models.go). CAM takes no region. GetRole {RoleName} answers
// RoleInfo {RoleId, RoleName, PolicyDocument (the trust policy), Description}
// or InvalidParameter.RoleNotExist; ListAttachedRolePolicies {Page from 1,
// Rp at most 200, RoleName} answers List []AttachedPolicyOfRole {PolicyId,
// PolicyName, PolicyType "User"|"QCS"} and TotalNum; ListPolicies {Rp, Page,
// Scope "Local", Keyword} answers List []StrategyInfo {PolicyId, PolicyName,
// Description} and TotalNum; GetPolicy {PolicyId} answers PolicyName,
// Description, Type, PolicyDocument.
const (
	CAMService = "cam"
	CAMVersion = "2019-01-16"
)

// Role is a CAM role as GetRole describes it.
type Role struct {
	RoleId, RoleName, PolicyDocument, Description string
}

// AttachedPolicy is a policy attached to a role.
type AttachedPolicy struct {
	PolicyId               uint64
	PolicyName, PolicyType string
}

// PolicyInfo is a policy as ListPolicies and GetPolicy describe it.
type PolicyInfo struct {
	PolicyId                                uint64
	PolicyName, Description, PolicyDocument string
	Type                                    uint64
}

// camPages bounds a CAM listing (200 a page).
const camPages = 50

// GetRole reads a role by name; found is false when it does not exist.
func (c *Client) GetRole(ctx context.Context, name string) (r Role, found bool, err error) {
	var out struct{ RoleInfo Role }
	err = c.call(ctx, api{CAMService, CAMVersion, "GetRole"}, "", map[string]any{"RoleName": name}, &out)
	if Code(err) == "InvalidParameter.RoleNotExist" {
		return Role{}, false, nil
	}
	return out.RoleInfo, err == nil, err
}

// ListAttachedRolePolicies lists the policies attached to a role.
func (c *Client) ListAttachedRolePolicies(ctx context.Context, role string) ([]AttachedPolicy, error) {
	return List("ListAttachedRolePolicies", camPages, func(offset int) ([]AttachedPolicy, int, error) {
		var out struct {
			List     []AttachedPolicy
			TotalNum int
		}
		err := c.call(ctx, api{CAMService, CAMVersion, "ListAttachedRolePolicies"}, "",
			map[string]any{"RoleName": role, "Page": offset/200 + 1, "Rp": 200}, &out)
		return out.List, out.TotalNum, err
	})
}

// FindPolicies lists the account's own (custom) policies whose name
// contains keyword.
func (c *Client) FindPolicies(ctx context.Context, keyword string) ([]PolicyInfo, error) {
	return List("ListPolicies", camPages, func(offset int) ([]PolicyInfo, int, error) {
		var out struct {
			List     []PolicyInfo
			TotalNum int
		}
		err := c.call(ctx, api{CAMService, CAMVersion, "ListPolicies"}, "",
			map[string]any{"Scope": "Local", "Keyword": keyword, "Page": offset/200 + 1, "Rp": 200}, &out)
		return out.List, out.TotalNum, err
	})
}

// GetPolicy reads one policy, its document included.
func (c *Client) GetPolicy(ctx context.Context, id uint64) (PolicyInfo, error) {
	var out PolicyInfo
	err := c.call(ctx, api{CAMService, CAMVersion, "GetPolicy"}, "", map[string]any{"PolicyId": id}, &out)
	out.PolicyId = id
	return out, err
}
