package tcapi

import "context"

// ListMembers lists every member as ListMemberPages does, collected into
// one slice; on an error it returns the members listed so far with it. The
// function itself acts on each page as it arrives, so only the tests use
// this.
func (c *Client) ListMembers(ctx context.Context) ([]Member, error) {
	var members []Member
	err := c.ListMemberPages(ctx, func(page []Member) { members = append(members, page...) })
	return members, err
}
