package tcapi

import "context"

// CloudAudit (service cloudaudit, version 2019-03-19): the tracking sets
// of the organization trail (trail.go). The shapes below follow the SDK's
// models (tencentcloud-sdk-go tencentcloud/cloudaudit/v20190319/models.go);
// only the fields used are declared. The writes (CreateAuditTrack,
// ModifyAuditTrack, and the CLS CreateLogset, CreateTopic,
// CreateDeliverCloudFunction) are built in trail.go's DiffTrail from the
// same models.
const (
	CloudAuditService = "cloudaudit"
	CloudAuditVersion = "2019-03-19"
)

// Storage is cloudaudit Storage: for CLS, StorageType "cls", StorageRegion
// the topic's region, StorageName the topic id.
type Storage struct {
	StorageType, StorageRegion, StorageName, StoragePrefix string
}

// Track is cloudaudit Tracks, an item of DescribeAuditTracks (which does not
// carry TrackForAllMembers).
type Track struct {
	TrackId      uint64
	Name         string
	ActionType   string
	ResourceType string
	Status       uint64
	EventNames   []string
	Storage      Storage
}

// TrackDetail is DescribeAuditTrack's answer (DescribeAuditTrackResponseParams).
type TrackDetail struct {
	Track
	TrackForAllMembers uint64
}

// pageSize is the largest page the list actions of cls, cloudaudit, scf
// (cls Limit "最大值100") and eb take.
const pageSize = 100

// maxPages bounds such a listing.
const maxPages = 100

// DescribeAuditTracks lists the account's tracking sets
// (DescribeAuditTracksRequestParams: PageNumber from 1, PageSize).
func (c *Client) DescribeAuditTracks(ctx context.Context) ([]Track, error) {
	return List("DescribeAuditTracks", maxPages, func(offset int) ([]Track, int, error) {
		var out struct {
			Tracks     []Track
			TotalCount int
		}
		err := c.callHinted(ctx, api{CloudAuditService, CloudAuditVersion, "DescribeAuditTracks"}, map[string]any{
			"PageNumber": offset/pageSize + 1, "PageSize": pageSize}, &out)
		return out.Tracks, out.TotalCount, err
	})
}

// DescribeAuditTrack returns one tracking set with TrackForAllMembers
// (DescribeAuditTrackRequestParams: TrackId).
func (c *Client) DescribeAuditTrack(ctx context.Context, id uint64) (TrackDetail, error) {
	var out TrackDetail
	err := c.callHinted(ctx, api{CloudAuditService, CloudAuditVersion, "DescribeAuditTrack"}, map[string]any{"TrackId": id}, &out)
	return out, err
}
