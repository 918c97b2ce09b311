package tcapi

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/picbucket/picbucket/internal/rules"
)

// Defaults of the wiring.
const (
	DefaultLogset = "picbucket"
	DefaultTopic  = "picbucket-cloudaudit"
	DefaultTrack  = "picbucket-cos-write"
	// DefaultFunction is the function's name (serverless.yml inputs.name)
	// and DefaultNamespace its namespace (the component's default).
	DefaultFunction  = "picbucket"
	DefaultNamespace = "default"
	// DefaultTriggerQualifier is what the trigger invokes: SCF's CreateTrigger
	// document recommends $DEFAULT for triggers (scf models.go
	// CreateTriggerRequestParams.Qualifier), and serverless.yml's timer uses it.
	DefaultTriggerQualifier = "$DEFAULT"
	// DefaultMaxWait and DefaultMaxMsgNum are CreateDeliverCloudFunction's
	// defaults (cls models.go: Timeout 60 s, MaxMsgNum 100 in [1,10000]).
	DefaultMaxWait   = 60
	DefaultMaxMsgNum = 100
)

// EventName is the COS action the tracking set must deliver: bucket creation.
const EventName = "PutBucket"

// TrailWiring is the organization trail that must exist: a CLS logset and
// topic in the function's region, a CloudAudit tracking set delivering
// every member's COS write events to it, and the topic's CLS trigger of
// the function. ReadTrail finds what exists, DiffTrail plans the writes,
// Execute sends them.
type TrailWiring struct {
	// Function, Namespace and Qualifier name what the CLS trigger invokes;
	// the client's region is the function's.
	Function, Namespace, Qualifier string
	// LogsetName and TopicName name the CLS logset and topic (found by name).
	LogsetName, TopicName string
	// TrackName names the CloudAudit tracking set (found by name).
	TrackName string
	// MaxWait (seconds, 3–300) and MaxMsgNum bound the trigger's batches.
	MaxWait, MaxMsgNum uint64
}

var (
	qualifierRE = regexp.MustCompile(`^(\$LATEST|\$DEFAULT|[1-9]\d*|[A-Za-z][A-Za-z0-9_-]{0,59})$`)
	// trackNameRE: "仅支持大小写字母、数字、-以及_的组合，3-48个字符"
	// (cloudaudit models.go CreateAuditTrackRequestParams.Name).
	trackNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{3,48}$`)
	// RegionRE is a region id such as ap-guangzhou.
	RegionRE = regexp.MustCompile(`^[a-z]+(-[a-z]+)+(-\d+)?$`)
)

// reservedTopics may not name a topic (cls models.go CreateTopicRequestParams.TopicName).
var reservedTopics = []string{"cls_service_log", "loglistener_status", "loglistener_alarm", "loglistener_business", "cls_service_metric"}

// Validate checks w before anything is sent.
func (w TrailWiring) Validate() error {
	var bad []string
	check := func(ok bool, format string, a ...any) {
		if !ok {
			bad = append(bad, fmt.Sprintf(format, a...))
		}
	}
	if err := rules.FunctionName(w.Function); err != nil {
		check(false, "function %q: %v", w.Function, err)
	}
	check(rules.Namespace(w.Namespace) == nil, "namespace %q: want an SCF namespace such as default", w.Namespace)
	check(qualifierRE.MatchString(w.Qualifier), "qualifier %q: want $DEFAULT, $LATEST, a version number or an alias", w.Qualifier)
	check(w.LogsetName != "" && len(w.LogsetName) <= 255 && !strings.Contains(w.LogsetName, "|"),
		"logset name %q: want 1-255 characters without |", w.LogsetName)
	check(w.TopicName != "" && !strings.Contains(w.TopicName, "|") && !slices.Contains(reservedTopics, w.TopicName),
		"topic name %q: want a name without |, not one of %s", w.TopicName, strings.Join(reservedTopics, ", "))
	check(trackNameRE.MatchString(w.TrackName), "tracking set name %q: want 3-48 letters, digits, - and _", w.TrackName)
	check(w.MaxWait >= 3 && w.MaxWait <= 300, "max wait %d s: want 3-300", w.MaxWait)
	check(w.MaxMsgNum >= 1 && w.MaxMsgNum <= 10000, "max messages %d: want 1-10000", w.MaxMsgNum)
	if bad != nil {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(bad, "; "))
	}
	return nil
}

// TrailState is what ReadTrail found.
type TrailState struct {
	Region string
	// Logset and Topic are the ones named by the wiring, when they exist.
	Logset *Logset
	Topic  *Topic
	// Track is the tracking set named by the wiring, in detail, when it exists.
	Track *TrackDetail
	// Triggers are the function's triggers.
	Triggers []TriggerInfo
}

// ReadTrail finds what exists: the function's triggers first (so that a missing
// function fails before anything else is read), then the logset, the topic
// and the tracking set, by name. It only reads.
func (c *Client) ReadTrail(ctx context.Context, w TrailWiring) (TrailState, error) {
	st := TrailState{Region: c.opts.Region}
	if err := w.Validate(); err != nil {
		return st, err
	}
	var err error
	if st.Triggers, err = c.ListTriggers(ctx, w.Namespace, w.Function); err != nil {
		return st, err
	}
	logsets, err := c.DescribeLogsets(ctx, w.LogsetName)
	if err != nil {
		return st, err
	}
	if st.Logset, err = one("logset", w.LogsetName, logsets, func(l Logset) (string, string) { return l.LogsetName, l.LogsetId }); err != nil {
		return st, err
	}
	if st.Logset != nil {
		topics, err := c.DescribeTopics(ctx, st.Logset.LogsetId, w.TopicName)
		if err != nil {
			return st, err
		}
		if st.Topic, err = one("topic", w.TopicName, topics, func(t Topic) (string, string) { return t.TopicName, t.TopicId }); err != nil {
			return st, err
		}
	}
	tracks, err := c.DescribeAuditTracks(ctx)
	if err != nil {
		return st, err
	}
	found, err := one("tracking set", w.TrackName, tracks, func(t Track) (string, string) { return t.Name, fmt.Sprint(t.TrackId) })
	if err != nil || found == nil {
		return st, err
	}
	d, err := c.DescribeAuditTrack(ctx, found.TrackId)
	if err != nil {
		return st, err
	}
	d.TrackId = found.TrackId
	st.Track = &d
	return st, nil
}

// one returns the item whose name is exactly name: nil when none, an error
// naming the ids when several (the APIs' name filters match substrings).
func one[T any](what, name string, items []T, key func(T) (name, id string)) (*T, error) {
	var found []T
	for _, it := range items {
		if n, _ := key(it); n == name {
			found = append(found, it)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return &found[0], nil
	}
	var ids []string
	for _, it := range found {
		_, id := key(it)
		ids = append(ids, id)
	}
	return nil, fmt.Errorf("%d %ss are named %q (%s): delete the extra ones, or pass another name", len(found), what, name, strings.Join(ids, ", "))
}

// StoragePrefix is the tracking set's Storage.StoragePrefix. The API
// requires it for every storage type: terraform-provider-tencentcloud
// (tencentcloud/services/audit/resource_tc_audit_track.go) declares
// storage_prefix Required, and the SDK's model describes it as "存储目录前缀，
// cos日志文件前缀仅支持字母和数字的组合，3-40个字符" (cloudaudit
// v20190319 models.go Storage). Letters and digits, so it suits COS too.
const StoragePrefix = "picbucket"

// desiredStorage is the tracking set's Storage: the topic, in the function's
// region (cloudaudit models.go Storage: StorageType cls, StorageRegion,
// StorageName "cls：存储名称为日志主题id", StoragePrefix).
func desiredStorage(region, topicID string) map[string]any {
	return map[string]any{"StorageType": "cls", "StorageRegion": region, "StorageName": topicID, "StoragePrefix": StoragePrefix}
}

// DiffTrail plans the writes that make st hold w. It sends nothing.
func DiffTrail(w TrailWiring, st TrailState) Plan {
	p := Plan{Logset: Exists, Topic: Exists, Track: Exists, Trigger: Exists}
	if st.Logset != nil {
		p.LogsetID = st.Logset.LogsetId
	} else {
		p.Logset, p.LogsetID = Create, LogsetIDPlaceholder
		p.Steps = append(p.Steps, Step{CLSService, CLSVersion, "CreateLogset", map[string]any{"LogsetName": w.LogsetName}})
	}
	if st.Topic != nil {
		p.TopicID = st.Topic.TopicId
	} else {
		p.Topic, p.TopicID = Create, TopicIDPlaceholder
		p.Steps = append(p.Steps, Step{CLSService, CLSVersion, "CreateTopic", map[string]any{"LogsetId": p.LogsetID, "TopicName": w.TopicName,
			"Describes": "CloudAudit COS write events of every organization member, delivered to the picbucket function"}})
	}

	spec, diffs := trackSpec(w, st)
	switch {
	case st.Track == nil:
		p.Track = Create
		p.Steps = append(p.Steps, Step{CloudAuditService, CloudAuditVersion, "CreateAuditTrack", spec})
	case len(diffs) > 0:
		p.Track, p.TrackID = Update, st.Track.TrackId
		spec["TrackId"] = st.Track.TrackId
		p.Steps = append(p.Steps, Step{CloudAuditService, CloudAuditVersion, "ModifyAuditTrack", spec})
		p.Notes = append(p.Notes, "tracking set differed in: "+strings.Join(diffs, ", "))
	default:
		p.TrackID = st.Track.TrackId
	}

	var onTopic *TriggerInfo
	if st.Topic != nil {
		for i, t := range st.Triggers {
			if t.Type == "cls" && TriggerTopic(t) == st.Topic.TopicId {
				onTopic = &st.Triggers[i]
				break
			}
		}
	}
	switch {
	case onTopic == nil:
		p.Trigger = Create
		p.Steps = append(p.Steps, Step{CLSService, CLSVersion, "CreateDeliverCloudFunction", map[string]any{"TopicId": p.TopicID,
			"FunctionName": w.Function, "Namespace": w.Namespace, "Qualifier": w.Qualifier, "Timeout": w.MaxWait, "MaxMsgNum": w.MaxMsgNum}})
	case onTopic.Qualifier != "" && onTopic.Qualifier != w.Qualifier:
		p.Notes = append(p.Notes, fmt.Sprintf("kept: the topic's trigger invokes qualifier %s, not %s; delete it in the SCF console and run again to change it",
			onTopic.Qualifier, w.Qualifier))
	}
	if onTopic != nil && onTopic.Enable == 0 {
		p.Notes = append(p.Notes, "the topic's trigger is disabled: enable it in the SCF console (wire does not change it)")
	}
	return p
}

// trackSpec is the tracking set the wiring wants, keeping what an existing
// one has that already covers it (ActionType "*", ResourceType "*", more
// event names), and what differs.
func trackSpec(w TrailWiring, st TrailState) (map[string]any, []string) {
	action, resource, events := "Write", "cos", []string{EventName}
	var diffs []string
	if t := st.Track; t != nil {
		if t.ActionType == "Write" || t.ActionType == "*" {
			action = t.ActionType
		} else {
			diffs = append(diffs, "ActionType "+t.ActionType)
		}
		if t.ResourceType == "cos" || t.ResourceType == "*" {
			resource = t.ResourceType
		} else {
			diffs = append(diffs, "ResourceType "+t.ResourceType)
		}
		switch {
		case resource == "*":
			events = []string{"*"} // required with ResourceType "*" (models.go EventNames)
			if !slices.Equal(t.EventNames, events) {
				diffs = append(diffs, "EventNames")
			}
		case slices.Contains(t.EventNames, EventName) || slices.Contains(t.EventNames, "*"):
			events = t.EventNames
		case len(t.EventNames) < 10 && len(diffs) == 0:
			events = append(slices.Clone(t.EventNames), EventName)
			diffs = append(diffs, "EventNames lack "+EventName)
		default:
			diffs = append(diffs, "EventNames lack "+EventName)
		}
		if t.Status != 1 {
			diffs = append(diffs, "disabled")
		}
		topicID := ""
		if st.Topic != nil {
			topicID = st.Topic.TopicId
		}
		if s := t.Storage; s.StorageType != "cls" || s.StorageRegion != st.Region || s.StorageName != topicID || topicID == "" || s.StoragePrefix == "" {
			diffs = append(diffs, fmt.Sprintf("storage %s %s %s", s.StorageType, s.StorageRegion, s.StorageName))
		}
		if t.TrackForAllMembers != 1 {
			diffs = append(diffs, "TrackForAllMembers 0 (own account only)")
		}
	}
	topicID := TopicIDPlaceholder
	if st.Topic != nil {
		topicID = st.Topic.TopicId
	}
	return map[string]any{"Name": w.TrackName, "Status": 1, "ActionType": action, "ResourceType": resource, "EventNames": events,
		"Storage": desiredStorage(st.Region, topicID), "TrackForAllMembers": 1}, diffs
}

// TriggerTopic is the CLS topic a trigger of Type "cls" reads, from what
// ListTriggers shows. The documents do not show a CLS trigger's TriggerDesc
// there; the Serverless toolkit (serverless-tencent/tencent-component-toolkit
// src/modules/triggers/cls.ts) reads the topic from the last segment of
// ResourceId, and writes TriggerDesc as {"topic_id":…,"max_wait":…,…}. So
// each is tried: TriggerDesc's topic_id (or TopicId/topicId), ResourceId's
// last segment, and the TriggerName.
func TriggerTopic(t TriggerInfo) string {
	var desc map[string]any
	if json.Unmarshal([]byte(t.TriggerDesc), &desc) == nil {
		for _, k := range []string{"topic_id", "TopicId", "topicId"} {
			if s, ok := desc[k].(string); ok && s != "" {
				return s
			}
		}
	}
	if i := strings.LastIndexByte(t.ResourceId, '/'); i >= 0 && i+1 < len(t.ResourceId) {
		return t.ResourceId[i+1:]
	}
	return t.TriggerName
}

// trackID finds the id of the tracking set named name.
func (c *Client) trackID(ctx context.Context, name string) (uint64, error) {
	tracks, err := c.DescribeAuditTracks(ctx)
	if err != nil {
		return 0, err
	}
	t, err := one("tracking set", name, tracks, func(t Track) (string, string) { return t.Name, fmt.Sprint(t.TrackId) })
	if err != nil {
		return 0, err
	}
	if t == nil {
		return 0, fmt.Errorf("cloudaudit CreateAuditTrack: the answer has no TrackId and DescribeAuditTracks does not list %q", name)
	}
	return t.TrackId, nil
}
