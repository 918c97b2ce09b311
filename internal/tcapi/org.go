package tcapi

import (
	"context"
	"fmt"
	"strconv"
)

// Organization DescribeOrganizationMembers (service organization, version
// 2021-03-31, host organization.tencentcloudapi.com):
// https://cloud.tencent.com/document/api/850/67220 ("获取企业组织成员列表"),
// https://www.tencentcloud.com/document/api/1031/52062, and the SDK's
// tencentcloud/organization/v20210331 (models.go
// DescribeOrganizationMembersRequestParams, OrgMember). Region is not
// required (none is sent); Offset ("an integer multiple of Limit") and
// Limit (1–50) are required; the answer is Items[] of OrgMember (MemberUin
// int64, Name, MemberType Invite|Create, PermissionStatus
// Confirmed|UnConfirmed, …) and Total. 20 requests/s.
var apiDescribeOrganizationMembers = api{"organization", "2021-03-31", "DescribeOrganizationMembers"}

// PageSize is the Limit ListMemberPages sends: the API's maximum.
const PageSize = 50

// MaxPages bounds ListMemberPages: 200 pages of 50, 10,000 members.
const MaxPages = 200

// Member is an account of the organization.
type Member struct {
	Uin              int64  // MemberUin
	Name             string // the member's name in the organization
	MemberType       string // Invite or Create
	PermissionStatus string // Confirmed or UnConfirmed
}

// ListMemberPages lists the members of the organization the client's key
// manages, page by page (Limit PageSize, Offset 0, 50, 100 …) until Total
// members arrived, a page comes back short, or MaxPages (an error). A
// member listed twice (the list changed between pages) is kept once.
// Whether the management account lists itself is not documented: callers
// should expect either. It hands each page's members to page as soon as
// the page arrives (the members not handed before; a page may hand none),
// so that a caller can act on the first members while the next page is on
// its way. page runs on the
// calling goroutine, before the next page is asked for. The pages are
// requested one after the other: at a page per answer, under the 20
// requests/s DescribeOrganizationMembers allows unless an answer takes
// under 50 ms; a throttled page is retried (Options.Retry).
func (c *Client) ListMemberPages(ctx context.Context, page func([]Member)) error {
	return c.memberPages(ctx, "", page)
}

// FindMember reports whether the organization the client's key manages
// lists account uin, with one DescribeOrganizationMembers request in the
// usual case: SearchKey, "成员名或者成员ID搜索" (search by member name or
// member ID; tencentcloud-sdk-go
// tencentcloud/organization/v20210331/models.go,
// DescribeOrganizationMembersRequestParams), set to the UIN's digits.
// Tencent does not document whether the search matches whole or in part,
// nor whether a name that holds the digits matches too, so the answer's
// Items[].MemberUin is compared exactly and the pages of a wider answer
// are read until the UIN or the end. An error means the membership is not
// known: the caller must treat the account as outside.
func (c *Client) FindMember(ctx context.Context, uin int64) (Member, bool, error) {
	if uin <= 0 {
		return Member{}, false, nil
	}
	var found *Member
	err := c.memberPages(ctx, strconv.FormatInt(uin, 10), func(ms []Member) {
		for _, m := range ms {
			if m.Uin == uin && found == nil {
				found = &m
			}
		}
	})
	if err != nil || found == nil {
		return Member{}, false, err
	}
	return *found, true, nil
}

// memberPages pages through DescribeOrganizationMembers with SearchKey
// search ("" for every member).
func (c *Client) memberPages(ctx context.Context, search string, page func([]Member)) error {
	seen := map[int64]bool{}
	for n := 0; ; n++ {
		if n >= MaxPages {
			return fmt.Errorf("organization DescribeOrganizationMembers: more than %d pages of %d members; listing stopped", MaxPages, PageSize)
		}
		var out struct {
			Items []struct {
				MemberUin        int64
				Name             string
				MemberType       string
				PermissionStatus string
			}
			Total int64
		}
		params := map[string]any{"Offset": int64(n * PageSize), "Limit": int64(PageSize)}
		if search != "" {
			params["SearchKey"] = search
		}
		if err := c.call(ctx, apiDescribeOrganizationMembers, "", params, &out); err != nil {
			return err
		}
		var members []Member
		for _, it := range out.Items {
			if it.MemberUin <= 0 || seen[it.MemberUin] {
				continue
			}
			seen[it.MemberUin] = true
			members = append(members, Member{Uin: it.MemberUin, Name: it.Name, MemberType: it.MemberType, PermissionStatus: it.PermissionStatus})
		}
		page(members)
		if len(out.Items) < PageSize || int64((n+1)*PageSize) >= out.Total {
			return nil
		}
	}
}
