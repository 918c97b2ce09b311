package auditapi

import (
	"context"
	"github.com/picbucket/picbucket/internal/tcapi"
)

// The shapes below follow the SDK's models (tencentcloud-sdk-go
// tencentcloud/cls/v20201016/models.go, tencentcloud/cloudaudit/v20190319/
// models.go, tencentcloud/scf/v20180416/models.go); only the fields used
// are declared. The writes (CreateLogset, CreateTopic, CreateAuditTrack,
// ModifyAuditTrack, CreateDeliverCloudFunction) are built in wire.go's Diff
// from the same models.

// Logset is cls LogsetInfo.
type Logset struct {
	LogsetId, LogsetName string
}

// Topic is cls TopicInfo.
type Topic struct {
	LogsetId, TopicId, TopicName string
}

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

// TriggerInfo is scf TriggerInfo, an item of ListTriggers.
type TriggerInfo struct {
	Type, TriggerName, TriggerDesc, Qualifier string
	Enable                                    uint64
	// ResourceId is deprecated in the models but read by the Serverless
	// toolkit to find a CLS trigger's topic.
	ResourceId string
}

// clsFilter is cls Filter (Key, Values).
type clsFilter struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

// pageSize is the largest page the list actions take (cls Limit "最大值100").
const pageSize = 100

// maxPages bounds a listing.
const maxPages = 100

// DescribeLogsets lists the region's logsets whose name contains name (cls
// DescribeLogsetsRequestParams: Filters logsetName, Offset, Limit).
func (c *Client) DescribeLogsets(ctx context.Context, name string) ([]Logset, error) {
	return tcapi.List("DescribeLogsets", maxPages, func(offset int) ([]Logset, int, error) {
		var out struct {
			Logsets    []Logset
			TotalCount int
		}
		err := c.call(ctx, CLS, CLSVersion, "DescribeLogsets", map[string]any{
			"Filters": []clsFilter{{Key: "logsetName", Values: []string{name}}}, "Offset": offset, "Limit": pageSize}, &out)
		return out.Logsets, out.TotalCount, err
	})
}

// DescribeTopics lists a logset's topics named name (cls
// DescribeTopicsRequestParams: Filters logsetId and topicName, PreciseSearch
// 1 "topicName 精确匹配", Offset, Limit).
func (c *Client) DescribeTopics(ctx context.Context, logsetID, name string) ([]Topic, error) {
	return tcapi.List("DescribeTopics", maxPages, func(offset int) ([]Topic, int, error) {
		var out struct {
			Topics     []Topic
			TotalCount int
		}
		err := c.call(ctx, CLS, CLSVersion, "DescribeTopics", map[string]any{
			"Filters":       []clsFilter{{Key: "logsetId", Values: []string{logsetID}}, {Key: "topicName", Values: []string{name}}},
			"PreciseSearch": 1, "Offset": offset, "Limit": pageSize}, &out)
		return out.Topics, out.TotalCount, err
	})
}

// DescribeAuditTracks lists the account's tracking sets
// (DescribeAuditTracksRequestParams: PageNumber from 1, PageSize).
func (c *Client) DescribeAuditTracks(ctx context.Context) ([]Track, error) {
	return tcapi.List("DescribeAuditTracks", maxPages, func(offset int) ([]Track, int, error) {
		var out struct {
			Tracks     []Track
			TotalCount int
		}
		err := c.call(ctx, CloudAudit, CloudAuditVersion, "DescribeAuditTracks", map[string]any{
			"PageNumber": offset/pageSize + 1, "PageSize": pageSize}, &out)
		return out.Tracks, out.TotalCount, err
	})
}

// DescribeAuditTrack returns one tracking set with TrackForAllMembers
// (DescribeAuditTrackRequestParams: TrackId).
func (c *Client) DescribeAuditTrack(ctx context.Context, id uint64) (TrackDetail, error) {
	var out TrackDetail
	err := c.call(ctx, CloudAudit, CloudAuditVersion, "DescribeAuditTrack", map[string]any{"TrackId": id}, &out)
	return out, err
}

// ListTriggers lists a function's triggers (ListTriggersRequestParams:
// FunctionName, Namespace, Offset, Limit). It fails with
// ResourceNotFound.Function when the function does not exist.
func (c *Client) ListTriggers(ctx context.Context, namespace, function string) ([]TriggerInfo, error) {
	return tcapi.List("ListTriggers", maxPages, func(offset int) ([]TriggerInfo, int, error) {
		var out struct {
			Triggers   []TriggerInfo
			TotalCount int
		}
		err := c.call(ctx, SCF, SCFVersion, "ListTriggers", map[string]any{
			"FunctionName": function, "Namespace": namespace, "Offset": offset, "Limit": pageSize}, &out)
		return out.Triggers, out.TotalCount, err
	})
}
