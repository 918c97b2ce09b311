package tcemu

// The actions go run ./cmd/wire sends, with their parameters as the SDK's models
// declare them (tencentcloud-sdk-go tencentcloud/cls/v20201016/models.go,
// tencentcloud/cloudaudit/v20190319/models.go,
// tencentcloud/scf/v20180416/models.go) and the error codes the SDK's
// errors.go files list. What the documents do not say (the exact answer to a
// refused TrackForAllMembers, the TriggerDesc SCF shows for a trigger CLS
// made) is chosen here and marked so.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

func init() {
	versions["cls"] = "2020-10-16"
	versions["cloudaudit"] = "2019-03-19"
	regional["cls"] = true
	actions["cls"] = map[string]func(*Server, request) (answer, *apiError){
		"DescribeLogsets":            (*Server).describeLogsets,
		"CreateLogset":               (*Server).createLogset,
		"DescribeTopics":             (*Server).describeTopics,
		"CreateTopic":                (*Server).createTopic,
		"CreateDeliverCloudFunction": (*Server).createDeliverCloudFunction,
	}
	actions["cloudaudit"] = map[string]func(*Server, request) (answer, *apiError){
		"DescribeAuditTracks": (*Server).describeAuditTracks,
		"DescribeAuditTrack":  (*Server).describeAuditTrack,
		"CreateAuditTrack":    (*Server).createAuditTrack,
		"ModifyAuditTrack":    (*Server).modifyAuditTrack,
	}
	actions["scf"]["ListTriggers"] = (*Server).listTriggers
}

// Logset is a CLS logset.
type Logset struct {
	Uin        int64
	Region     string
	ID, Name   string
	CreateTime string
}

// Topic is a CLS log topic.
type Topic struct {
	Uin                    int64
	Region                 string
	ID, Name, LogsetID     string
	Describes, CreateTime  string
	PartitionCount, Period int64
}

// TrackStorage is a tracking set's Storage.
type TrackStorage struct {
	StorageType, StorageRegion, StorageName, StoragePrefix string
	StorageAccountId, StorageAppId                         string
	Compress                                               *uint64 `json:",omitempty"`
}

// Track is a CloudAudit tracking set.
type Track struct {
	Uin                int64
	ID                 uint64
	Name               string
	ActionType         string
	ResourceType       string
	Status             uint64
	EventNames         []string
	Storage            TrackStorage
	TrackForAllMembers uint64
	CreateTime         string
	ExportID           string
}

// Trigger is an SCF trigger.
type Trigger struct {
	Uin                             int64
	Region, Namespace, FunctionName string
	Type, TriggerName, TriggerDesc  string
	Qualifier                       string
	Enable                          uint64
	AddTime                         string
}

type auditState struct {
	logsets  []*Logset
	topics   []*Topic
	tracks   []*Track
	triggers []*Trigger
	// refuseAllMembers is the code a TrackForAllMembers=1 request from an
	// account other than the management account is answered with.
	refuseAllMembers string
	// delegated lists the accounts that may set TrackForAllMembers besides
	// the management account (CloudAudit's delegated administrators).
	delegated map[int64]bool
	next      int
}

// DefaultAllMembersRefusal answers a TrackForAllMembers=1 request from an
// account that is neither the organization's management account nor a
// delegated administrator. CreateAuditTrack's documented codes name no
// specific one (tencentcloud-sdk-go cloudaudit/v20190319 client.go); this
// is the product's generic "未授权操作" (errors.go UNAUTHORIZEDOPERATION), an
// emulator's choice. SetAllMembersRefusal picks another.
const DefaultAllMembersRefusal = "UnauthorizedOperation"

func newAuditState() auditState {
	return auditState{refuseAllMembers: DefaultAllMembersRefusal, delegated: map[int64]bool{}}
}

const createTime = "2026-01-02 03:04:05"

// SetAllMembersRefusal sets the error code a TrackForAllMembers=1 request
// from an account that may not set it is answered with.
func (s *Server) SetAllMembersRefusal(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audit.refuseAllMembers = code
}

// AddDelegatedAuditAdmin lets an account set TrackForAllMembers, as the
// management account may.
func (s *Server) AddDelegatedAuditAdmin(uin int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audit.delegated[uin] = true
}

// Logsets returns copies of the logsets, in creation order.
func (s *Server) Logsets() []Logset { return copies(s, s.audit.logsets) }

// Topics returns copies of the topics, in creation order.
func (s *Server) Topics() []Topic { return copies(s, s.audit.topics) }

// Tracks returns copies of the tracking sets, in creation order.
func (s *Server) Tracks() []Track {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Track
	for _, t := range s.audit.tracks {
		c := *t
		c.EventNames = slices.Clone(t.EventNames)
		out = append(out, c)
	}
	return out
}

// Triggers returns copies of the SCF triggers, in creation order.
func (s *Server) Triggers() []Trigger { return copies(s, s.audit.triggers) }

func copies[T any](s *Server, in []*T) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]T, 0, len(in))
	for _, p := range in {
		out = append(out, *p)
	}
	return out
}

// AddLogset adds a logset, as a console user would; its ID is made when empty.
func (s *Server) AddLogset(l Logset) Logset {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.ID == "" {
		l.ID = s.auditID()
	}
	s.audit.logsets = append(s.audit.logsets, &l)
	return l
}

// AddTopic adds a topic, as a console user would; its ID is made when empty.
func (s *Server) AddTopic(t Topic) Topic {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.ID == "" {
		t.ID = s.auditID()
	}
	s.audit.topics = append(s.audit.topics, &t)
	return t
}

// SetTrack adds or replaces (by ID) a tracking set, as a console user would;
// its ID is made when zero.
func (s *Server) SetTrack(t Track) Track {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.EventNames = slices.Clone(t.EventNames)
	for i, old := range s.audit.tracks {
		if old.ID == t.ID && t.ID != 0 {
			s.audit.tracks[i] = &t
			return t
		}
	}
	if t.ID == 0 {
		s.audit.next++
		t.ID = uint64(10000 + s.audit.next)
	}
	s.audit.tracks = append(s.audit.tracks, &t)
	return t
}

// AddTrigger adds an SCF trigger, as a console user would.
func (s *Server) AddTrigger(t Trigger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audit.triggers = append(s.audit.triggers, &t)
}

// auditID makes a CLS-style id (a UUID's shape). Called with s.mu held.
func (s *Server) auditID() string {
	s.audit.next++
	return fmt.Sprintf("%08x-%04x-4000-8000-%012x", s.audit.next, s.audit.next, s.audit.next)
}

// clsFilter is cls's Filter (models.go Filter: Key, Values).
type clsFilter struct {
	Key    string
	Values []string
}

// page applies Offset and Limit (cls: default 20, at most 100).
func page[T any](all []T, offset, limit *int64) ([]T, *apiError) {
	o, l := int64(0), int64(20)
	if offset != nil {
		o = *offset
	}
	if limit != nil {
		l = *limit
	}
	if o < 0 || l < 1 || l > 100 {
		return nil, errf("InvalidParameter", "Offset %d, Limit %d: Offset must be non-negative and Limit 1-100", o, l)
	}
	lo := min(int(o), len(all))
	hi := min(lo+int(l), len(all))
	out := all[lo:hi]
	if out == nil {
		out = []T{}
	}
	return out, nil
}

// match applies cls filters: name filters match a substring unless precise,
// id filters exactly; the values of one filter are ORed, filters ANDed.
func match(filters []clsFilter, field func(key string) (value string, ok bool), precise func(key string) bool) (bool, *apiError) {
	if len(filters) > 10 {
		return false, errf("InvalidParameter", "at most 10 Filters")
	}
	for _, f := range filters {
		v, ok := field(f.Key)
		if !ok {
			return false, errf("InvalidParameter", "filter key %q is not supported", f.Key)
		}
		if len(f.Values) == 0 || len(f.Values) > 5 {
			return false, errf("InvalidParameter", "filter %q: 1-5 Values", f.Key)
		}
		hit := false
		for _, want := range f.Values {
			if precise(f.Key) {
				hit = hit || v == want
			} else {
				hit = hit || strings.Contains(v, want)
			}
		}
		if !hit {
			return false, nil
		}
	}
	return true, nil
}

// describeLogsets: models.go DescribeLogsetsRequestParams (Filters
// logsetName (fuzzy), logsetId, tagKey, tag:…; Offset; Limit).
func (s *Server) describeLogsets(r request) (answer, *apiError) {
	var req struct {
		Filters       []clsFilter
		Offset, Limit *int64
	}
	if aerr := decode(r.body, &req); aerr != nil {
		return answer{}, aerr
	}
	var all []map[string]any
	for _, l := range s.audit.logsets {
		if l.Uin != r.caller.Uin || l.Region != r.region {
			continue
		}
		ok, aerr := match(req.Filters, func(k string) (string, bool) {
			switch k {
			case "logsetName":
				return l.Name, true
			case "logsetId":
				return l.ID, true
			}
			return "", strings.HasPrefix(k, "tag")
		}, func(k string) bool { return k == "logsetId" })
		if aerr != nil {
			return answer{}, aerr
		}
		if ok {
			n := int64(0)
			for _, t := range s.audit.topics {
				if t.LogsetID == l.ID {
					n++
				}
			}
			all = append(all, map[string]any{"LogsetId": l.ID, "LogsetName": l.Name, "CreateTime": l.CreateTime, "TopicCount": n, "Tags": []any{}})
		}
	}
	items, aerr := page(all, req.Offset, req.Limit)
	if aerr != nil {
		return answer{}, aerr
	}
	return answer{result: map[string]any{"Logsets": items, "TotalCount": len(all)}}, nil
}

// createLogset: models.go CreateLogsetRequestParams (LogsetName, at most
// 255 characters, no '|'; Tags; LogsetId).
func (s *Server) createLogset(r request) (answer, *apiError) {
	var req struct {
		LogsetName, LogsetId string
		Tags                 []json.RawMessage
	}
	if aerr := decode(r.body, &req); aerr != nil {
		return answer{}, aerr
	}
	if req.LogsetName == "" {
		return answer{}, errf("MissingParameter", "LogsetName is required")
	}
	if len(req.LogsetName) > 255 || strings.Contains(req.LogsetName, "|") {
		return answer{}, errf("InvalidParameter", "LogsetName: at most 255 characters, no '|'")
	}
	for _, l := range s.audit.logsets {
		if l.Uin == r.caller.Uin && l.Region == r.region && l.Name == req.LogsetName {
			return answer{}, errf("InvalidParameter.LogsetConflict", "a logset named %q exists (emulated: the documents do not say whether names must be unique)", req.LogsetName)
		}
	}
	l := &Logset{Uin: r.caller.Uin, Region: r.region, ID: req.LogsetId, Name: req.LogsetName, CreateTime: createTime}
	if l.ID == "" {
		l.ID = s.auditID()
	}
	s.audit.logsets = append(s.audit.logsets, l)
	return answer{result: map[string]any{"LogsetId": l.ID}}, nil
}

// describeTopics: models.go DescribeTopicsRequestParams (Filters topicName,
// logsetName (fuzzy unless PreciseSearch), topicId, logsetId, tagKey, tag:…,
// storageType …; Offset; Limit; PreciseSearch 0-3; BizType).
func (s *Server) describeTopics(r request) (answer, *apiError) {
	var req struct {
		Filters       []clsFilter
		Offset, Limit *int64
		PreciseSearch *uint64
		BizType       *uint64
	}
	if aerr := decode(r.body, &req); aerr != nil {
		return answer{}, aerr
	}
	precise := uint64(0)
	if req.PreciseSearch != nil {
		precise = *req.PreciseSearch
	}
	var all []map[string]any
	for _, t := range s.audit.topics {
		if t.Uin != r.caller.Uin || t.Region != r.region {
			continue
		}
		logsetName := ""
		for _, l := range s.audit.logsets {
			if l.ID == t.LogsetID {
				logsetName = l.Name
			}
		}
		ok, aerr := match(req.Filters, func(k string) (string, bool) {
			switch k {
			case "topicName":
				return t.Name, true
			case "logsetName":
				return logsetName, true
			case "topicId":
				return t.ID, true
			case "logsetId":
				return t.LogsetID, true
			case "storageType":
				return "hot", true
			}
			return "", strings.HasPrefix(k, "tag")
		}, func(k string) bool {
			return k == "topicId" || k == "logsetId" || k == "storageType" ||
				(k == "topicName" && precise&1 != 0) || (k == "logsetName" && precise&2 != 0)
		})
		if aerr != nil {
			return answer{}, aerr
		}
		if ok {
			all = append(all, map[string]any{"LogsetId": t.LogsetID, "TopicId": t.ID, "TopicName": t.Name, "PartitionCount": t.PartitionCount,
				"Index": false, "CreateTime": t.CreateTime, "Status": true, "Tags": []any{}, "AutoSplit": true, "MaxSplitPartitions": 50,
				"StorageType": "hot", "Period": t.Period, "Describes": t.Describes, "BizType": 0})
		}
	}
	items, aerr := page(all, req.Offset, req.Limit)
	if aerr != nil {
		return answer{}, aerr
	}
	return answer{result: map[string]any{"Topics": items, "TotalCount": len(all)}}, nil
}

var reservedTopicNames = []string{"cls_service_log", "loglistener_status", "loglistener_alarm", "loglistener_business", "cls_service_metric"}

// createTopic: models.go CreateTopicRequestParams.
func (s *Server) createTopic(r request) (answer, *apiError) {
	var req struct {
		LogsetId, TopicName, StorageType, Describes, TopicId string
		PartitionCount, MaxSplitPartitions, Period           *int64
		Tags                                                 []json.RawMessage
		AutoSplit, IsWebTracking, IsSourceFrom               *bool
		HotPeriod, Encryption, BizType, BillingMode          *uint64
		CustomKmsInfo, Extends                               json.RawMessage
	}
	if aerr := decode(r.body, &req); aerr != nil {
		return answer{}, aerr
	}
	if req.LogsetId == "" || req.TopicName == "" {
		return answer{}, errf("MissingParameter", "LogsetId and TopicName are required")
	}
	if strings.Contains(req.TopicName, "|") || slices.Contains(reservedTopicNames, req.TopicName) {
		return answer{}, errf("InvalidParameter", "TopicName %q is not allowed", req.TopicName)
	}
	found := false
	for _, l := range s.audit.logsets {
		found = found || (l.ID == req.LogsetId && l.Uin == r.caller.Uin && l.Region == r.region)
	}
	if !found {
		return answer{}, errf("ResourceNotFound.LogsetNotExist", "logset %s does not exist in %s", req.LogsetId, r.region)
	}
	for _, t := range s.audit.topics {
		if t.LogsetID == req.LogsetId && t.Name == req.TopicName {
			return answer{}, errf("InvalidParameter.TopicConflict", "logset %s has a topic named %q", req.LogsetId, req.TopicName)
		}
	}
	t := &Topic{Uin: r.caller.Uin, Region: r.region, ID: req.TopicId, Name: req.TopicName, LogsetID: req.LogsetId,
		Describes: req.Describes, CreateTime: createTime, PartitionCount: 1, Period: 30}
	if req.Period != nil {
		t.Period = *req.Period
	}
	if t.ID == "" {
		t.ID = s.auditID()
	}
	s.audit.topics = append(s.audit.topics, t)
	return answer{result: map[string]any{"TopicId": t.ID}}, nil
}

func (s *Server) topic(uin int64, region, id string) *Topic {
	for _, t := range s.audit.topics {
		if t.Uin == uin && t.Region == region && t.ID == id {
			return t
		}
	}
	return nil
}

// functionKnown reports whether a function exists (any name does until
// AddFunction is called).
func (s *Server) functionKnown(region, namespace, name string) bool {
	return len(s.functions) == 0 || s.functions[region+"/"+namespace+"/"+name]
}

// createDeliverCloudFunction: models.go CreateDeliverCloudFunctionRequestParams
// (TopicId, FunctionName, Namespace, Qualifier, Timeout default 60,
// MaxMsgNum default 100 in [1,10000]). The trigger it makes appears in SCF's
// ListTriggers as Type "cls"; its TriggerName and TriggerDesc there are the
// emulator's choice (the topic id, and the fields the Serverless toolkit's
// cls trigger uses: topic_id, max_wait, max_size, qualifier …), which the
// documents do not show.
func (s *Server) createDeliverCloudFunction(r request) (answer, *apiError) {
	var req struct {
		TopicId, FunctionName, Namespace, Qualifier string
		Timeout, MaxMsgNum                          *uint64
	}
	if aerr := decode(r.body, &req); aerr != nil {
		return answer{}, aerr
	}
	if req.TopicId == "" || req.FunctionName == "" {
		return answer{}, errf("MissingParameter", "TopicId and FunctionName are required")
	}
	if req.Namespace == "" {
		req.Namespace = "default"
	}
	if req.Qualifier == "" {
		req.Qualifier = "$LATEST"
	}
	timeout, maxMsg := uint64(60), uint64(100)
	if req.Timeout != nil {
		timeout = *req.Timeout
	}
	if req.MaxMsgNum != nil {
		maxMsg = *req.MaxMsgNum
	}
	if timeout < 3 || timeout > 300 {
		return answer{}, errf("InvalidParameter", "Timeout %d: the CLS trigger waits 3-300 seconds", timeout)
	}
	if maxMsg < 1 || maxMsg > 10000 {
		return answer{}, errf("InvalidParameter", "MaxMsgNum %d: the range is 1-10000", maxMsg)
	}
	if s.topic(r.caller.Uin, r.region, req.TopicId) == nil {
		return answer{}, errf("ResourceNotFound.TopicNotExist", "topic %s does not exist in %s", req.TopicId, r.region)
	}
	if !s.functionKnown(r.region, req.Namespace, req.FunctionName) {
		return answer{}, errf("InvalidParameter", "function %s does not exist in namespace %s of %s", req.FunctionName, req.Namespace, r.region)
	}
	for _, t := range s.audit.triggers {
		if t.Uin == r.caller.Uin && t.Region == r.region && t.Type == "cls" && t.TriggerName == req.TopicId {
			return answer{}, errf("FailedOperation", "topic %s already delivers to function %s (emulated: one function per topic)", req.TopicId, t.FunctionName)
		}
	}
	desc, _ := json.Marshal(map[string]any{"topic_id": req.TopicId, "max_wait": timeout, "max_size": maxMsg,
		"function_name": req.FunctionName, "name_space": req.Namespace, "qualifier": req.Qualifier, "effective": true})
	s.audit.triggers = append(s.audit.triggers, &Trigger{Uin: r.caller.Uin, Region: r.region, Namespace: req.Namespace,
		FunctionName: req.FunctionName, Type: "cls", TriggerName: req.TopicId, TriggerDesc: string(desc), Qualifier: req.Qualifier,
		Enable: 1, AddTime: createTime})
	return answer{result: map[string]any{}}, nil
}

// listTriggers: scf models.go ListTriggersRequestParams (FunctionName,
// Namespace, Offset, Limit default 20, OrderBy, Order, Filters).
func (s *Server) listTriggers(r request) (answer, *apiError) {
	var req struct {
		FunctionName, Namespace, OrderBy, Order string
		Offset, Limit                           *int64
		Filters                                 []json.RawMessage
	}
	if aerr := decode(r.body, &req); aerr != nil {
		return answer{}, aerr
	}
	if req.FunctionName == "" {
		return answer{}, errf("MissingParameter", "FunctionName is required")
	}
	if req.Namespace == "" {
		req.Namespace = "default"
	}
	if !s.functionKnown(r.region, req.Namespace, req.FunctionName) {
		return answer{}, errf("ResourceNotFound.Function", "function %s not found in namespace %s of %s", req.FunctionName, req.Namespace, r.region)
	}
	var all []map[string]any
	for _, t := range s.audit.triggers {
		if t.Uin == r.caller.Uin && t.Region == r.region && t.Namespace == req.Namespace && t.FunctionName == req.FunctionName {
			all = append(all, map[string]any{"Enable": t.Enable, "Qualifier": t.Qualifier, "TriggerName": t.TriggerName, "Type": t.Type,
				"TriggerDesc": t.TriggerDesc, "AvailableStatus": "Available", "AddTime": t.AddTime, "ModTime": t.AddTime,
				"CustomArgument": "", "Description": ""})
		}
	}
	items, aerr := page(all, req.Offset, req.Limit)
	if aerr != nil {
		return answer{}, aerr
	}
	return answer{result: map[string]any{"Triggers": items, "TotalCount": len(all)}}, nil
}

// trackParams are CreateAuditTrack's and ModifyAuditTrack's parameters
// (models.go CreateAuditTrackRequestParams, ModifyAuditTrackRequestParams).
type trackParams struct {
	TrackId                        *uint64
	Name, ActionType, ResourceType string
	Status, TrackForAllMembers     *uint64
	EventNames                     []string
	Storage                        *TrackStorage
	ExportId                       string
}

var (
	trackNameRE     = regexp.MustCompile(`^[A-Za-z0-9_-]{3,48}$`)
	storagePrefixRE = regexp.MustCompile(`^[A-Za-z0-9]{3,40}$`)
)

// check validates a tracking set as the models describe it.
func (s *Server) checkTrack(r request, p trackParams) *apiError {
	if p.Name == "" || p.ActionType == "" || p.ResourceType == "" || p.Status == nil || len(p.EventNames) == 0 || p.Storage == nil {
		return errf("MissingParameter", "Name, ActionType, ResourceType, Status, EventNames and Storage are required")
	}
	if !trackNameRE.MatchString(p.Name) {
		return errf("InvalidParameter", "Name %q: 3-48 letters, digits, - and _", p.Name)
	}
	if p.ActionType != "Read" && p.ActionType != "Write" && p.ActionType != "*" {
		return errf("InvalidParameter", "ActionType %q: Read, Write or *", p.ActionType)
	}
	if *p.Status > 1 {
		return errf("InvalidParameter", "Status %d: 0 or 1", *p.Status)
	}
	if len(p.EventNames) > 10 {
		return errf("InvalidParameter", "EventNames: at most 10")
	}
	if p.ResourceType == "*" && !slices.Equal(p.EventNames, []string{"*"}) {
		return errf("InvalidParameter", "EventNames must be [\"*\"] when ResourceType is *")
	}
	st := p.Storage
	// StoragePrefix is required (terraform-provider-tencentcloud
	// resource_tc_audit_track.go: storage_prefix Required; models.go Storage:
	// "cos日志文件前缀仅支持字母和数字的组合，3-40个字符").
	if st.StoragePrefix == "" {
		return errf("MissingParameter", "Storage.StoragePrefix is required")
	}
	if st.StorageType == "cos" && !storagePrefixRE.MatchString(st.StoragePrefix) {
		return errf("InvalidParameter", "Storage.StoragePrefix %q: 3-40 letters and digits", st.StoragePrefix)
	}
	switch st.StorageType {
	case "cls":
		if s.topic(r.caller.Uin, st.StorageRegion, st.StorageName) == nil {
			return errf("FailedOperation.CheckClsTopicIsExistFailed", "CLS topic %s does not exist in %s", st.StorageName, st.StorageRegion)
		}
	case "cos", "ckafka":
	default:
		return errf("InvalidParameter", "StorageType %q: cos, cls or ckafka", st.StorageType)
	}
	if p.TrackForAllMembers != nil && *p.TrackForAllMembers == 1 {
		mgmt := s.opts.Management.Uin
		if (mgmt == 0 || r.caller.Uin != mgmt) && !s.audit.delegated[r.caller.Uin] {
			return errf(s.audit.refuseAllMembers, "account %d may not deliver the organization members' logs (TrackForAllMembers): "+
				"only the management account or a delegated administrator may (emulated refusal)", r.caller.Uin)
		}
	} else if p.TrackForAllMembers != nil && *p.TrackForAllMembers > 1 {
		return errf("InvalidParameter", "TrackForAllMembers %d: 0 or 1", *p.TrackForAllMembers)
	}
	return nil
}

func (s *Server) track(uin int64, id uint64) *Track {
	for _, t := range s.audit.tracks {
		if t.Uin == uin && t.ID == id {
			return t
		}
	}
	return nil
}

func (s *Server) createAuditTrack(r request) (answer, *apiError) {
	var p trackParams
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	if p.TrackId != nil {
		return answer{}, errf("UnknownParameter", "the parameter \"TrackId\" is not recognized")
	}
	if aerr := s.checkTrack(r, p); aerr != nil {
		return answer{}, aerr
	}
	for _, t := range s.audit.tracks {
		if t.Uin == r.caller.Uin && t.Name == p.Name {
			return answer{}, errf("InvalidParameterValue.AliasAlreadyExists", "a tracking set named %q exists", p.Name)
		}
	}
	s.audit.next++
	t := &Track{Uin: r.caller.Uin, ID: uint64(10000 + s.audit.next), CreateTime: createTime, ExportID: p.ExportId}
	setTrack(t, p)
	s.audit.tracks = append(s.audit.tracks, t)
	return answer{result: map[string]any{"TrackId": t.ID}}, nil
}

func setTrack(t *Track, p trackParams) {
	t.Name, t.ActionType, t.ResourceType, t.Status = p.Name, p.ActionType, p.ResourceType, *p.Status
	t.EventNames = slices.Clone(p.EventNames)
	t.Storage = *p.Storage
	t.TrackForAllMembers = 0
	if p.TrackForAllMembers != nil {
		t.TrackForAllMembers = *p.TrackForAllMembers
	}
}

func (s *Server) modifyAuditTrack(r request) (answer, *apiError) {
	var p trackParams
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	if p.ExportId != "" {
		return answer{}, errf("UnknownParameter", "the parameter \"ExportId\" is not recognized")
	}
	if p.TrackId == nil {
		return answer{}, errf("MissingParameter", "TrackId is required")
	}
	t := s.track(r.caller.Uin, *p.TrackId)
	if t == nil {
		return answer{}, errf("ResourceNotFound.AuditNotExist", "tracking set %d does not exist", *p.TrackId)
	}
	if p.Name != "" && p.Name != t.Name {
		return answer{}, errf("InvalidParameterValue.AuditTrackNameNotSupportModify", "a tracking set's name cannot be changed")
	}
	if aerr := s.checkTrack(r, p); aerr != nil {
		return answer{}, aerr
	}
	setTrack(t, p)
	return answer{result: map[string]any{}}, nil
}

func trackJSON(t *Track) map[string]any {
	return map[string]any{"TrackId": t.ID, "Name": t.Name, "ActionType": t.ActionType, "ResourceType": t.ResourceType,
		"Status": t.Status, "EventNames": t.EventNames, "Storage": t.Storage, "CreateTime": t.CreateTime}
}

// describeAuditTracks: models.go DescribeAuditTracksRequestParams
// (PageNumber, PageSize); the answer's Tracks lack TrackForAllMembers.
func (s *Server) describeAuditTracks(r request) (answer, *apiError) {
	var req struct{ PageNumber, PageSize *uint64 }
	if aerr := decode(r.body, &req); aerr != nil {
		return answer{}, aerr
	}
	num, size := uint64(1), uint64(10)
	if req.PageNumber != nil {
		num = *req.PageNumber
	}
	if req.PageSize != nil {
		size = *req.PageSize
	}
	if num < 1 || size < 1 || size > 100 {
		return answer{}, errf("InvalidParameter", "PageNumber %d, PageSize %d", num, size)
	}
	var mine []*Track
	for _, t := range s.audit.tracks {
		if t.Uin == r.caller.Uin {
			mine = append(mine, t)
		}
	}
	sort.SliceStable(mine, func(i, j int) bool { return mine[i].ID < mine[j].ID })
	items := []map[string]any{}
	lo := min(int((num-1)*size), len(mine))
	hi := min(lo+int(size), len(mine))
	for _, t := range mine[lo:hi] {
		items = append(items, trackJSON(t))
	}
	return answer{result: map[string]any{"Tracks": items, "TotalCount": len(mine)}}, nil
}

// describeAuditTrack: models.go DescribeAuditTrackRequestParams (TrackId).
func (s *Server) describeAuditTrack(r request) (answer, *apiError) {
	var req struct{ TrackId *uint64 }
	if aerr := decode(r.body, &req); aerr != nil {
		return answer{}, aerr
	}
	if req.TrackId == nil {
		return answer{}, errf("MissingParameter", "TrackId is required")
	}
	t := s.track(r.caller.Uin, *req.TrackId)
	if t == nil {
		return answer{}, errf("ResourceNotFound.AuditNotExist", "tracking set %d does not exist", *req.TrackId)
	}
	res := trackJSON(t)
	delete(res, "TrackId")
	res["TrackForAllMembers"] = t.TrackForAllMembers
	return answer{result: res}, nil
}
