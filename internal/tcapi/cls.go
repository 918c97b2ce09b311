package tcapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// CLS (service cls, version 2020-10-16): a topic's index. The shapes follow
// tencentcloud-sdk-go cls/v20201016 models.go: DescribeIndexRequestParams
// {TopicId}; its answer {TopicId, Status, Rule RuleInfo}; RuleInfo
// {FullText, KeyValue RuleKeyValueInfo, Tag, DynamicIndex};
// RuleKeyValueInfo {CaseSensitive, KeyValues []KeyValueInfo}; KeyValueInfo
// {Key, Value ValueInfo}; ValueInfo {Type "long"|"text"|"double", Tokenizer
// (empty for long and double), SqlFlag (statistics), ContainZH}.
// CreateIndex and ModifyIndex take TopicId, Rule, Status,
// IncludeInternalFields, MetadataFlag and CoverageField.
const (
	CLSService = "cls"
	CLSVersion = "2020-10-16"
)

// IndexField is one field of a key-value index: Type text, long or double;
// SQL turns statistics (analysis) on.
type IndexField struct {
	Key, Type string
	SQL       bool
}

// Index is what DescribeIndex found: Exists is false for a topic without
// an index (an error code naming IndexNotExist, or an answer without a
// key-value rule: the documents do not say which the API sends).
type Index struct {
	Exists, Status bool
	Fields         []IndexField

	// What ModifyIndexParams sends back unchanged: the rule's other parts
	// (FullText, Tag, DynamicIndex), each field's Value as answered
	// (Tokenizer, ContainZH, Alias …), CaseSensitive, and the topic's
	// IncludeInternalFields, MetadataFlag and CoverageField.
	rule          map[string]json.RawMessage
	values        map[string]json.RawMessage
	order         []string
	caseSensitive *bool
	extra         map[string]json.RawMessage
}

// present reports whether a raw JSON value is there and not null.
func present(v json.RawMessage) bool { return len(v) > 0 && string(v) != "null" }

// DescribeIndex reads a topic's index.
func (c *Client) DescribeIndex(ctx context.Context, topicID string) (Index, error) {
	var out struct {
		Status                                             *bool
		Rule                                               json.RawMessage
		IncludeInternalFields, MetadataFlag, CoverageField json.RawMessage
	}
	err := c.call(ctx, api{CLSService, CLSVersion, "DescribeIndex"}, c.opts.Region, map[string]any{"TopicId": topicID}, &out)
	if err != nil {
		if strings.Contains(Code(err), "IndexNotExist") {
			return Index{}, nil
		}
		return Index{}, err
	}
	ix := Index{Exists: present(out.Rule), Status: out.Status == nil || *out.Status, values: map[string]json.RawMessage{},
		extra: map[string]json.RawMessage{}}
	for k, v := range map[string]json.RawMessage{"IncludeInternalFields": out.IncludeInternalFields, "MetadataFlag": out.MetadataFlag, "CoverageField": out.CoverageField} {
		if present(v) {
			ix.extra[k] = v
		}
	}
	if !ix.Exists {
		return ix, nil
	}
	if err := json.Unmarshal(out.Rule, &ix.rule); err != nil {
		return Index{}, fmt.Errorf("cls DescribeIndex: Rule: %w", err)
	}
	if kvRaw := ix.rule["KeyValue"]; present(kvRaw) {
		var kv struct {
			CaseSensitive *bool
			KeyValues     []struct {
				Key   string
				Value json.RawMessage
			}
		}
		if err := json.Unmarshal(kvRaw, &kv); err != nil {
			return Index{}, fmt.Errorf("cls DescribeIndex: Rule.KeyValue: %w", err)
		}
		ix.caseSensitive = kv.CaseSensitive
		for _, e := range kv.KeyValues {
			var v struct {
				Type    string
				SqlFlag bool
			}
			json.Unmarshal(e.Value, &v)
			ix.Fields = append(ix.Fields, IndexField{Key: e.Key, Type: v.Type, SQL: v.SqlFlag})
			ix.values[e.Key], ix.order = e.Value, append(ix.order, e.Key)
		}
	}
	return ix, nil
}

// ModifyIndexParams are ModifyIndex's parameters that make want's fields
// part of ix, enabled, and keep everything else of ix as DescribeIndex
// answered it: its other fields with their whole Value, FullText, Tag,
// DynamicIndex, CaseSensitive, IncludeInternalFields, MetadataFlag and
// CoverageField. ModifyIndex takes the whole Rule; whether it keeps a part
// the request omits is not documented, and sending it back is right either
// way.
func ModifyIndexParams(topicID string, ix Index, want []IndexField) map[string]any {
	ours := map[string]IndexField{}
	for _, f := range want {
		ours[f.Key] = f
	}
	value := func(f IndexField) map[string]any { return map[string]any{"Type": f.Type, "SqlFlag": f.SQL} }
	kvs := make([]map[string]any, 0, len(ix.order)+len(want))
	for _, k := range ix.order {
		if f, ok := ours[k]; ok {
			kvs = append(kvs, map[string]any{"Key": k, "Value": value(f)})
			delete(ours, k)
		} else {
			kvs = append(kvs, map[string]any{"Key": k, "Value": ix.values[k]})
		}
	}
	for _, f := range want {
		if _, left := ours[f.Key]; left {
			kvs = append(kvs, map[string]any{"Key": f.Key, "Value": value(f)})
		}
	}
	cs := true
	if ix.caseSensitive != nil {
		cs = *ix.caseSensitive
	}
	rule := map[string]any{}
	for k, v := range ix.rule {
		if k != "KeyValue" && present(v) {
			rule[k] = v
		}
	}
	rule["KeyValue"] = map[string]any{"CaseSensitive": cs, "KeyValues": kvs}
	p := map[string]any{"TopicId": topicID, "Status": true, "Rule": rule}
	for k, v := range ix.extra {
		p[k] = v
	}
	return p
}

// IndexParams are CreateIndex's and ModifyIndex's parameters for a
// key-value index of fields, enabled, case-sensitive, text fields without
// a tokenizer (each value one token: bucket names and codes match whole).
func IndexParams(topicID string, fields []IndexField) map[string]any {
	kvs := make([]map[string]any, 0, len(fields))
	for _, f := range fields {
		kvs = append(kvs, map[string]any{"Key": f.Key, "Value": map[string]any{"Type": f.Type, "SqlFlag": f.SQL}})
	}
	return map[string]any{"TopicId": topicID, "Status": true,
		"Rule": map[string]any{"KeyValue": map[string]any{"CaseSensitive": true, "KeyValues": kvs}}}
}

// LogLine is one line SearchLog found: its time and its content (LogJson,
// the line's fields as JSON).
type LogLine struct {
	Time time.Time
	JSON string
}

// SearchLog searches a topic's lines between from and to with query (CLS
// syntax), at most limit of them (cls SearchLogRequestParams: TopicId,
// From, To in Unix ms, Query, Limit; the answer's Results[].Time and
// .LogJson).
func (c *Client) SearchLog(ctx context.Context, topicID string, from, to time.Time, query string, limit int) ([]LogLine, error) {
	var out struct {
		Results []struct {
			Time    int64
			LogJson string
		}
	}
	err := c.call(ctx, api{CLSService, CLSVersion, "SearchLog"}, c.opts.Region, map[string]any{"TopicId": topicID,
		"From": from.UnixMilli(), "To": to.UnixMilli(), "Query": query, "Limit": limit}, &out)
	var lines []LogLine
	for _, r := range out.Results {
		lines = append(lines, LogLine{Time: time.UnixMilli(r.Time), JSON: r.LogJson})
	}
	return lines, err
}

// Tag is a resource tag (cls models.go Tag {Key, Value}): CreateAlarm,
// ModifyAlarm, CreateAlarmNotice and ModifyAlarmNotice take Tags, and
// AlarmInfo and AlarmNotice carry them.
type Tag struct{ Key, Value string }

// Alarm is a CLS alarm policy (cls models.go AlarmInfo; only the fields
// compared).
type Alarm struct {
	AlarmId, Name, Condition  string
	AlarmTargets              []AlarmTarget
	MonitorTime               MonitorTime
	TriggerCount, AlarmPeriod int64
	AlarmNoticeIds            []string
	Status                    bool
	Tags                      []Tag
}

// AlarmTarget is what an alarm queries (cls models.go AlarmTarget,
// AlarmTargetInfo): offsets in minutes, non-positive.
type AlarmTarget struct {
	TopicId, Query, LogsetId       string
	Number                         int64
	StartTimeOffset, EndTimeOffset int64
}

// MonitorTime is how often an alarm runs: Type Period (every Time
// minutes) or Fixed.
type MonitorTime struct {
	Type string
	Time int64
}

// AlarmNotice is a notice channel group (cls models.go AlarmNotice). A
// WebCallback's Url may hold a key (a WeCom robot's): never print it.
type AlarmNotice struct {
	AlarmNoticeId, Name, Type string
	NoticeReceivers           []struct {
		ReceiverType     string
		ReceiverIds      []int64
		ReceiverChannels []string
	}
	WebCallbacks []struct{ Url, CallbackType string }
	Tags         []Tag
}

// FindAlarms lists the alarms named name (Filters name).
func (c *Client) FindAlarms(ctx context.Context, name string) ([]Alarm, error) {
	return List("DescribeAlarms", 10, func(offset int) ([]Alarm, int, error) {
		var out struct {
			Alarms     []Alarm
			TotalCount int
		}
		err := c.call(ctx, api{CLSService, CLSVersion, "DescribeAlarms"}, c.opts.Region, map[string]any{
			"Filters": []map[string]any{{"Key": "name", "Values": []string{name}}}, "Offset": offset, "Limit": 100}, &out)
		return out.Alarms, out.TotalCount, err
	})
}

// FindAlarmNotices lists the notice channel groups named name.
func (c *Client) FindAlarmNotices(ctx context.Context, name string) ([]AlarmNotice, error) {
	return List("DescribeAlarmNotices", 10, func(offset int) ([]AlarmNotice, int, error) {
		var out struct {
			AlarmNotices []AlarmNotice
			TotalCount   int
		}
		err := c.call(ctx, api{CLSService, CLSVersion, "DescribeAlarmNotices"}, c.opts.Region, map[string]any{
			"Filters": []map[string]any{{"Key": "name", "Values": []string{name}}}, "Offset": offset, "Limit": 100}, &out)
		return out.AlarmNotices, out.TotalCount, err
	})
}

// The trail's logset and topic (trail.go): tencentcloud-sdk-go
// cls/v20201016 models.go.

// Logset is cls LogsetInfo.
type Logset struct {
	LogsetId, LogsetName string
}

// Topic is cls TopicInfo.
type Topic struct {
	LogsetId, TopicId, TopicName string
}

// clsFilter is cls Filter (Key, Values).
type clsFilter struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

// DescribeLogsets lists the region's logsets whose name contains name (cls
// DescribeLogsetsRequestParams: Filters logsetName, Offset, Limit).
func (c *Client) DescribeLogsets(ctx context.Context, name string) ([]Logset, error) {
	return List("DescribeLogsets", maxPages, func(offset int) ([]Logset, int, error) {
		var out struct {
			Logsets    []Logset
			TotalCount int
		}
		err := c.callHinted(ctx, api{CLSService, CLSVersion, "DescribeLogsets"}, map[string]any{
			"Filters": []clsFilter{{Key: "logsetName", Values: []string{name}}}, "Offset": offset, "Limit": pageSize}, &out)
		return out.Logsets, out.TotalCount, err
	})
}

// DescribeTopics lists a logset's topics named name (cls
// DescribeTopicsRequestParams: Filters logsetId and topicName, PreciseSearch
// 1 "topicName 精确匹配", Offset, Limit).
func (c *Client) DescribeTopics(ctx context.Context, logsetID, name string) ([]Topic, error) {
	return List("DescribeTopics", maxPages, func(offset int) ([]Topic, int, error) {
		var out struct {
			Topics     []Topic
			TotalCount int
		}
		err := c.callHinted(ctx, api{CLSService, CLSVersion, "DescribeTopics"}, map[string]any{
			"Filters":       []clsFilter{{Key: "logsetId", Values: []string{logsetID}}, {Key: "topicName", Values: []string{name}}},
			"PreciseSearch": 1, "Offset": offset, "Limit": pageSize}, &out)
		return out.Topics, out.TotalCount, err
	})
}
