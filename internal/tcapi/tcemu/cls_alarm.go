package tcemu

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"time"
)

// CLS alarms and notice channels (cls 2020-10-16; tencentcloud-sdk-go
// cls/v20201016 models.go): CreateAlarmNotice {Name, Type
// Trigger|Recovery|All, NoticeReceivers []NoticeReceiver{ReceiverType,
// ReceiverIds, ReceiverChannels, StartTime, EndTime (required, 15:04:05),
// …}, WebCallbacks []WebCallback{Url,
// CallbackType, Method, …}} -> AlarmNoticeId; DescribeAlarmNotices
// {Filters, Offset, Limit} -> AlarmNotices, TotalCount; ModifyAlarmNotice,
// DeleteAlarmNotice {AlarmNoticeId}; CreateAlarm {Name, AlarmTargets
// []AlarmTarget{TopicId, Query, Number, StartTimeOffset, EndTimeOffset,
// LogsetId}, MonitorTime {Type, Time}, Condition, TriggerCount,
// AlarmPeriod, AlarmNoticeIds, Status} -> AlarmId; DescribeAlarms {Filters,
// Offset, Limit} -> Alarms, TotalCount; ModifyAlarm, DeleteAlarm {AlarmId}.

// Alarm is an alarm policy as the emulator keeps it: the request's JSON.
type Alarm struct {
	ID     string
	Name   string
	Params map[string]any
}

// Notice is a notice channel group: the request's JSON.
type Notice struct {
	ID     string
	Name   string
	Params map[string]any
}

type alarmState struct {
	alarms  map[string]*Alarm
	notices map[string]*Notice
	next    int
}

func init() {
	for name, h := range map[string]func(*Server, request) (answer, *apiError){
		"CreateAlarmNotice": (*Server).createAlarmNotice, "DescribeAlarmNotices": (*Server).describeAlarmNotices,
		"ModifyAlarmNotice": (*Server).modifyAlarmNotice, "DeleteAlarmNotice": (*Server).deleteAlarmNotice,
		"CreateAlarm": (*Server).createAlarm, "DescribeAlarms": (*Server).describeAlarms,
		"ModifyAlarm": (*Server).modifyAlarm, "DeleteAlarm": (*Server).deleteAlarm,
	} {
		actions["cls"][name] = h
	}
}

// Alarms and Notices return copies of the state, by name.
func (s *Server) Alarms() []Alarm {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Alarm
	for _, a := range s.products.alarms.alarms {
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Notices returns copies of the notice channel groups.
func (s *Server) Notices() []Notice {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Notice
	for _, n := range s.products.alarms.notices {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (st *alarmState) init() {
	if st.alarms == nil {
		st.alarms, st.notices = map[string]*Alarm{}, map[string]*Notice{}
	}
}

func params(body []byte) (map[string]any, *apiError) {
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, errf("InvalidParameter", "the body is not a JSON object")
	}
	return p, nil
}

// checkNotice validates a notice group: a name, a type, and at least one
// receiver or callback; a callback URL must be https.
func checkNotice(p map[string]any) *apiError {
	name, _ := p["Name"].(string)
	typ, _ := p["Type"].(string)
	if name == "" || (typ != "Trigger" && typ != "Recovery" && typ != "All") {
		return errf("InvalidParameter", "Name and Type (Trigger, Recovery or All) are required")
	}
	recv, _ := p["NoticeReceivers"].([]any)
	cbs, _ := p["WebCallbacks"].([]any)
	if len(recv) == 0 && len(cbs) == 0 {
		return errf("InvalidParameter", "NoticeReceivers or WebCallbacks is required")
	}
	for _, rc := range recv {
		m, _ := rc.(map[string]any)
		typ, _ := m["ReceiverType"].(string)
		ids, _ := m["ReceiverIds"].([]any)
		chans, _ := m["ReceiverChannels"].([]any)
		if (typ != "Uin" && typ != "Group") || len(ids) == 0 || len(chans) == 0 {
			return errf("InvalidParameter", "NoticeReceivers[]: ReceiverType (Uin or Group), ReceiverIds and ReceiverChannels are required")
		}
		for _, c := range chans {
			if !slices.Contains([]any{"Email", "Sms", "WeChat", "Phone"}, c) {
				return errf("InvalidParameter", "NoticeReceivers[].ReceiverChannels: %v is not Email, Sms, WeChat or Phone", c)
			}
		}
		// StartTime and EndTime: "格式：`15:04:05`。必填" (models.go NoticeReceiver).
		for _, k := range []string{"StartTime", "EndTime"} {
			v, _ := m[k].(string)
			if _, err := time.Parse(time.TimeOnly, v); err != nil {
				return errf("InvalidParameter", "NoticeReceivers[].%s is required, in the form 15:04:05", k)
			}
		}
	}
	for _, c := range cbs {
		m, _ := c.(map[string]any)
		u, _ := m["Url"].(string)
		if pu, err := url.Parse(u); err != nil || pu.Scheme != "https" || pu.Host == "" {
			return errf("InvalidParameter.WebCallbackUrl", "WebCallbacks[].Url must be an https URL")
		}
		// CallbackType: Http, WeCom, DingTalk or Lark; Method is required
		// for Http (models.go WebCallback).
		typ, _ := m["CallbackType"].(string)
		if !slices.Contains([]string{"Http", "WeCom", "DingTalk", "Lark"}, typ) {
			return errf("InvalidParameter", "WebCallbacks[].CallbackType %q is not Http, WeCom, DingTalk or Lark", typ)
		}
		if method, _ := m["Method"].(string); typ == "Http" && method != "POST" && method != "PUT" {
			return errf("InvalidParameter", "WebCallbacks[].Method (POST or PUT) is required for an Http callback")
		}
	}
	return nil
}

func (s *Server) createAlarmNotice(r request) (answer, *apiError) {
	p, aerr := params(r.body)
	if aerr != nil {
		return answer{}, aerr
	}
	if aerr := checkNotice(p); aerr != nil {
		return answer{}, aerr
	}
	st := &s.products.alarms
	st.init()
	for _, n := range st.notices {
		if n.Name == p["Name"] {
			return answer{}, errf("InvalidParameter.AlarmNoticeConflict", "a notice group named %v exists", p["Name"])
		}
	}
	st.next++
	n := &Notice{ID: fmt.Sprintf("notice-%08d", st.next), Name: p["Name"].(string), Params: p}
	st.notices[n.ID] = n
	return answer{result: map[string]any{"AlarmNoticeId": n.ID}}, nil
}

func (s *Server) modifyAlarmNotice(r request) (answer, *apiError) {
	p, aerr := params(r.body)
	if aerr != nil {
		return answer{}, aerr
	}
	st := &s.products.alarms
	st.init()
	id, _ := p["AlarmNoticeId"].(string)
	n := st.notices[id]
	if n == nil {
		return answer{}, errf("ResourceNotFound.AlarmNoticeNotExist", "notice group %s does not exist", id)
	}
	delete(p, "AlarmNoticeId")
	if aerr := checkNotice(p); aerr != nil {
		return answer{}, aerr
	}
	n.Params, n.Name = p, p["Name"].(string)
	return answer{result: map[string]any{}}, nil
}

func (s *Server) deleteAlarmNotice(r request) (answer, *apiError) {
	var p struct{ AlarmNoticeId string }
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	st := &s.products.alarms
	st.init()
	if st.notices[p.AlarmNoticeId] == nil {
		return answer{}, errf("ResourceNotFound.AlarmNoticeNotExist", "notice group %s does not exist", p.AlarmNoticeId)
	}
	// A group an alarm notifies is not deleted (cls errors.go
	// OperationDenied.NoticeHasAlarm).
	for _, a := range st.alarms {
		if ids, _ := a.Params["AlarmNoticeIds"].([]any); slices.Contains(ids, any(p.AlarmNoticeId)) {
			return answer{}, errf("OperationDenied.NoticeHasAlarm", "notice group %s is used by alarm %s", p.AlarmNoticeId, a.ID)
		}
	}
	delete(st.notices, p.AlarmNoticeId)
	return answer{result: map[string]any{}}, nil
}

func (s *Server) describeAlarmNotices(r request) (answer, *apiError) {
	name, aerr := nameFilter(r.body)
	if aerr != nil {
		return answer{}, aerr
	}
	st := &s.products.alarms
	st.init()
	out := named(st.notices, name, "AlarmNoticeId", func(n *Notice) (string, string, map[string]any) { return n.ID, n.Name, n.Params })
	return answer{result: map[string]any{"AlarmNotices": out, "TotalCount": len(out)}}, nil
}

// nameFilter reads Filters [{Key:"name", Values:[…]}] (one name), Offset
// and Limit.
func nameFilter(body []byte) (string, *apiError) {
	var p struct {
		Filters []struct {
			Key    string
			Values []string
		}
		Offset, Limit *int64
	}
	if aerr := decode(body, &p); aerr != nil {
		return "", aerr
	}
	for _, f := range p.Filters {
		if f.Key != "name" && f.Key != "alarmId" && f.Key != "alarmNoticeId" && f.Key != "topicId" && f.Key != "enable" {
			return "", errf("InvalidParameter", "filter key %q", f.Key)
		}
		if f.Key == "name" && len(f.Values) > 0 {
			return f.Values[0], nil
		}
	}
	return "", nil
}

func checkAlarm(s *Server, r request, p map[string]any) *apiError {
	name, _ := p["Name"].(string)
	targets, _ := p["AlarmTargets"].([]any)
	cond, _ := p["Condition"].(string)
	if name == "" || len(targets) == 0 || cond == "" || p["MonitorTime"] == nil {
		return errf("MissingParameter", "Name, AlarmTargets, MonitorTime and Condition are required")
	}
	for _, t := range targets {
		m, _ := t.(map[string]any)
		id, _ := m["TopicId"].(string)
		if s.topic(r.caller.Uin, r.region, id) == nil {
			return errf("ResourceNotFound.TopicNotExist", "topic %s does not exist", id)
		}
		start, _ := m["StartTimeOffset"].(float64)
		end, _ := m["EndTimeOffset"].(float64)
		if start < -1440 || end > 0 || start >= end {
			return errf("InvalidParameter", "StartTimeOffset and EndTimeOffset: -1440 <= start < end <= 0")
		}
	}
	ids, _ := p["AlarmNoticeIds"].([]any)
	for _, id := range ids {
		if st := &s.products.alarms; st.notices[fmt.Sprint(id)] == nil {
			return errf("ResourceNotFound.AlarmNoticeNotExist", "notice group %v does not exist", id)
		}
	}
	return nil
}

func (s *Server) createAlarm(r request) (answer, *apiError) {
	p, aerr := params(r.body)
	if aerr != nil {
		return answer{}, aerr
	}
	st := &s.products.alarms
	st.init()
	if aerr := checkAlarm(s, r, p); aerr != nil {
		return answer{}, aerr
	}
	st.next++
	a := &Alarm{ID: fmt.Sprintf("alarm-%08d", st.next), Name: p["Name"].(string), Params: p}
	st.alarms[a.ID] = a
	return answer{result: map[string]any{"AlarmId": a.ID}}, nil
}

func (s *Server) modifyAlarm(r request) (answer, *apiError) {
	p, aerr := params(r.body)
	if aerr != nil {
		return answer{}, aerr
	}
	st := &s.products.alarms
	st.init()
	id, _ := p["AlarmId"].(string)
	a := st.alarms[id]
	if a == nil {
		return answer{}, errf("ResourceNotFound.AlarmNotExist", "alarm %s does not exist", id)
	}
	delete(p, "AlarmId")
	if aerr := checkAlarm(s, r, p); aerr != nil {
		return answer{}, aerr
	}
	a.Params, a.Name = p, p["Name"].(string)
	return answer{result: map[string]any{}}, nil
}

func (s *Server) deleteAlarm(r request) (answer, *apiError) {
	var p struct{ AlarmId string }
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	st := &s.products.alarms
	st.init()
	if st.alarms[p.AlarmId] == nil {
		return answer{}, errf("ResourceNotFound.AlarmNotExist", "alarm %s does not exist", p.AlarmId)
	}
	delete(st.alarms, p.AlarmId)
	return answer{result: map[string]any{}}, nil
}

func (s *Server) describeAlarms(r request) (answer, *apiError) {
	name, aerr := nameFilter(r.body)
	if aerr != nil {
		return answer{}, aerr
	}
	st := &s.products.alarms
	st.init()
	out := named(st.alarms, name, "AlarmId", func(a *Alarm) (string, string, map[string]any) { return a.ID, a.Name, a.Params })
	return answer{result: map[string]any{"Alarms": out, "TotalCount": len(out)}}, nil
}

// named is a Describe answer's list: each object named name (every one
// when name is ""), as its request's JSON plus its id under idKey.
func named[T any](objs map[string]*T, name, idKey string, fields func(*T) (id, name string, params map[string]any)) []map[string]any {
	out := []map[string]any{}
	for _, o := range objs {
		id, n, params := fields(o)
		if name != "" && n != name {
			continue
		}
		m := map[string]any{idKey: id}
		for k, v := range params {
			m[k] = v
		}
		out = append(out, m)
	}
	return out
}
