package main

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"

	"github.com/picbucket/picbucket/internal/rules"
	"github.com/picbucket/picbucket/internal/tcapi"
)

// The three alarms of docs/operating.md ("Alarms") on the log topic, and the
// notice channel group they notify: one desired state (alarmDefs,
// channel), one read (readAlarms), one diff (diffAlarms).

// noticeName names the notice channel group wire makes.
const noticeName = "picbucket-notice"

// wireTag marks the alarms and the notice group wire makes (cls CreateAlarm
// and CreateAlarmNotice Tags; an alarm has no description): one of the same
// name without it is the user's, and wire neither changes nor deletes it.
var wireTag = tcapi.Tag{Key: "made-by", Value: "picbucket-wire"}

func tagParams() []map[string]any {
	return []map[string]any{{"Key": wireTag.Key, "Value": wireTag.Value}}
}

// madeByWire reports whether tags carry wireTag.
func madeByWire(tags []tcapi.Tag) bool { return slices.Contains(tags, wireTag) }

// alarmDef is one alarm (cls CreateAlarm: AlarmTargets[0].Query and its
// offsets in minutes, MonitorTime Period every minutes, Condition,
// TriggerCount, AlarmPeriod in minutes).
type alarmDef struct {
	name, query, condition string
	from, every, times     int64
	repeat                 int64
}

var alarmDefs = []alarmDef{
	{name: "picbucket-failures", query: "message:summary AND level:error | SELECT count(*) AS bad", condition: "$1.bad > 0",
		from: -60, every: 15, times: 1, repeat: 60},
	{name: "picbucket-timer-stopped", query: "message:summary AND trigger:timer | SELECT count(*) AS runs", condition: "$1.runs < 1",
		from: -120, every: 60, times: 1, repeat: 120},
	{name: "picbucket-falling-behind", query: "message:summary AND trigger:timer | SELECT sum(deferred) AS d", condition: "$1.d > 0",
		from: -180, every: 60, times: 3, repeat: 180},
}

// channel is where the alarms notify: an existing notice group's id, a
// WeCom robot's webhook (https), or a CAM user's UIN.
type channel struct {
	noticeID, wecom, uin string
}

// parseChannel checks the channel flags before anything is sent: at most
// one, a notice id of CLS's form, an https webhook, a numeric UIN.
func parseChannel(notice, wecom, uin string) (channel, error) {
	n := 0
	for _, v := range []string{notice, wecom, uin} {
		if v != "" {
			n++
		}
	}
	if n > 1 {
		return channel{}, fmt.Errorf("--notice, --wecom and --notify-uin: give one")
	}
	if notice != "" && !noticeIDRE(notice) {
		return channel{}, fmt.Errorf("--notice %q: want a CLS notice group id such as notice-0123abcd", notice)
	}
	if wecom != "" {
		u, err := url.Parse(wecom)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
			return channel{}, fmt.Errorf("--wecom: want the robot's https webhook URL (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…)")
		}
	}
	if uin != "" {
		if err := rules.UIN(uin); err != nil {
			return channel{}, fmt.Errorf("--notify-uin %q: %w", uin, err)
		}
	}
	return channel{noticeID: notice, wecom: wecom, uin: uin}, nil
}

func noticeIDRE(s string) bool {
	if len(s) < 8 || len(s) > 64 || s[:7] != "notice-" {
		return false
	}
	for _, r := range s[7:] {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// noticeParams is the notice group for c (cls CreateAlarmNotice: Name, Type
// All, NoticeReceivers for a UIN, WebCallbacks for a WeCom robot;
// tencentcloud-sdk-go cls/v20201016 models.go NoticeReceiver, whose
// StartTime and EndTime are "格式：`15:04:05`。必填": the whole day).
func (c channel) noticeParams() map[string]any {
	p := map[string]any{"Name": noticeName, "Type": "All", "Tags": tagParams()}
	if c.wecom != "" {
		p["WebCallbacks"] = []map[string]any{{"Url": c.wecom, "CallbackType": "WeCom"}}
	}
	if c.uin != "" {
		id, _ := strconv.ParseInt(c.uin, 10, 64)
		p["NoticeReceivers"] = []map[string]any{{"ReceiverType": "Uin", "ReceiverIds": []int64{id}, "ReceiverChannels": []string{"Email", "Sms"},
			"StartTime": "00:00:00", "EndTime": "23:59:59"}}
	}
	return p
}

// alarmParams is CreateAlarm's parameters for d on the topic.
func alarmParams(d alarmDef, logsetID, topicID, noticeID string) map[string]any {
	return map[string]any{"Name": d.name, "Status": true, "Tags": tagParams(), "Condition": d.condition, "TriggerCount": d.times, "AlarmPeriod": d.repeat,
		"MonitorTime":    map[string]any{"Type": "Period", "Time": d.every},
		"AlarmNoticeIds": []string{noticeID},
		"AlarmTargets": []map[string]any{{"TopicId": topicID, "LogsetId": logsetID, "Query": d.query, "Number": 1,
			"StartTimeOffset": d.from, "EndTimeOffset": 0}}}
}

// alarmsState is what readAlarms found: the alarms by name, and wire's
// notice group.
type alarmsState struct {
	alarms map[string]tcapi.Alarm
	notice *tcapi.AlarmNotice
}

func readAlarms(ctx context.Context, api *tcapi.Client) (alarmsState, error) {
	st := alarmsState{alarms: map[string]tcapi.Alarm{}}
	for _, d := range alarmDefs {
		as, err := api.FindAlarms(ctx, d.name)
		if err != nil {
			return st, err
		}
		for _, a := range as {
			if a.Name == d.name {
				st.alarms[d.name] = a
			}
		}
	}
	ns, err := api.FindAlarmNotices(ctx, noticeName)
	if err != nil {
		return st, err
	}
	for i := range ns {
		if ns[i].Name == noticeName {
			st.notice = &ns[i]
		}
	}
	return st, nil
}

// sameAlarm reports whether an existing alarm is d on the topic.
func sameAlarm(a tcapi.Alarm, d alarmDef, topicID string) bool {
	if len(a.AlarmTargets) != 1 {
		return false
	}
	t := a.AlarmTargets[0]
	return t.TopicId == topicID && t.Query == d.query && t.StartTimeOffset == d.from && t.EndTimeOffset == 0 &&
		a.Condition == d.condition && a.TriggerCount == d.times && a.AlarmPeriod == d.repeat &&
		a.MonitorTime.Type == "Period" && a.MonitorTime.Time == d.every && a.Status && len(a.AlarmNoticeIds) > 0
}

// diffAlarms plans the notice group and the alarms. Without a channel,
// missing alarms cannot be made (notes say so) and existing ones keep
// their notice groups.
func diffAlarms(st alarmsState, c channel, logsetID, topicID string) (steps []tcapi.Step, notes []string) {
	step := func(action string, p map[string]any) {
		steps = append(steps, tcapi.Step{Service: tcapi.CLSService, Version: tcapi.CLSVersion, Action: action, Params: p})
	}
	noticeID := c.noticeID
	if c.wecom != "" || c.uin != "" {
		switch {
		case st.notice != nil && !madeByWire(st.notice.Tags):
			notes = append(notes, fmt.Sprintf("notice group %s (%s) was not made by wire: left alone; name it with --notice %s, or rename it to let wire make its own",
				noticeName, st.notice.AlarmNoticeId, st.notice.AlarmNoticeId))
		case st.notice == nil:
			step("CreateAlarmNotice", c.noticeParams())
			noticeID = tcapi.AlarmNoticeIDPlaceholder
		default:
			noticeID = st.notice.AlarmNoticeId
			if !sameNotice(*st.notice, c) {
				p := c.noticeParams()
				p["AlarmNoticeId"] = noticeID
				step("ModifyAlarmNotice", p)
			}
		}
	}
	for _, d := range alarmDefs {
		a, exists := st.alarms[d.name]
		if exists && !madeByWire(a.Tags) {
			notes = append(notes, fmt.Sprintf("alarm %s (%s) was not made by wire: left alone; rename it to let wire make its own", d.name, a.AlarmId))
			continue
		}
		notice := noticeID
		if notice == "" && exists && len(a.AlarmNoticeIds) > 0 {
			notice = a.AlarmNoticeIds[0] // keep the group it notifies
		}
		switch {
		case notice == "":
			notes = append(notes, "alarm "+d.name+": not written: name where it notifies (--notice ID, --wecom URL or --notify-uin UIN)")
		case !exists:
			step("CreateAlarm", alarmParams(d, logsetID, topicID, notice))
		case !sameAlarm(a, d, topicID) || !slices.Contains(a.AlarmNoticeIds, notice):
			p := alarmParams(d, logsetID, topicID, notice)
			p["AlarmId"] = a.AlarmId
			step("ModifyAlarm", p)
			notes = append(notes, "alarm "+d.name+" differs: modified")
		}
	}
	return steps, notes
}

func sameNotice(n tcapi.AlarmNotice, c channel) bool {
	switch {
	case c.wecom != "":
		return len(n.WebCallbacks) == 1 && n.WebCallbacks[0].Url == c.wecom && len(n.NoticeReceivers) == 0
	case c.uin != "":
		return len(n.WebCallbacks) == 0 && len(n.NoticeReceivers) == 1 && len(n.NoticeReceivers[0].ReceiverIds) == 1 &&
			strconv.FormatInt(n.NoticeReceivers[0].ReceiverIds[0], 10) == c.uin
	}
	return true
}

// deleteAlarms removes the alarms and the notice group wire made (by name
// and wireTag).
func deleteAlarms(st alarmsState) []tcapi.Step {
	var steps []tcapi.Step
	for _, d := range alarmDefs {
		if a, ok := st.alarms[d.name]; ok && madeByWire(a.Tags) {
			steps = append(steps, tcapi.Step{Service: tcapi.CLSService, Version: tcapi.CLSVersion, Action: "DeleteAlarm",
				Params: map[string]any{"AlarmId": a.AlarmId}})
		}
	}
	if st.notice != nil && madeByWire(st.notice.Tags) {
		steps = append(steps, tcapi.Step{Service: tcapi.CLSService, Version: tcapi.CLSVersion, Action: "DeleteAlarmNotice",
			Params: map[string]any{"AlarmNoticeId": st.notice.AlarmNoticeId}})
	}
	return steps
}
