package tcapi

import (
	"context"
	"fmt"
)

// A plan is the writes that make what exists (one read) what is desired
// (one desired state): each resource go run ./cmd/wire manages is diffed
// into one, printed, then sent by Execute.

// Placeholders stand for the ids a write returns, in a plan.
const (
	LogsetIDPlaceholder      = "${LogsetId}"
	TopicIDPlaceholder       = "${TopicId}"
	AlarmNoticeIDPlaceholder = "${AlarmNoticeId}"
)

// Step is one write of a plan: an action and its parameters, where an id not
// known yet is a placeholder (LogsetIDPlaceholder, TopicIDPlaceholder).
type Step struct {
	Service, Version, Action string
	Params                   map[string]any
}

// Outcomes of a plan's parts (the trail's four: logset, topic, track,
// trigger), and of a RuleReport's.
const (
	Exists  = "exists"
	Create  = "create"
	Update  = "update"
	Created = "created"
	Updated = "updated"
)

// Plan is what a diff (DiffTrail, or one of go run ./cmd/wire) found to do.
type Plan struct {
	Steps []Step
	// Logset, Topic, Track and Trigger are each Exists, Create or Update.
	Logset, Topic, Track, Trigger string
	// LogsetID, TopicID and TrackID are the existing ids ("" or a placeholder when to be made).
	LogsetID, TopicID string
	TrackID           uint64
	// Notes are facts for the operator (what differed, what was left alone).
	Notes []string
}

// Empty reports whether the plan sends nothing.
func (p Plan) Empty() bool { return len(p.Steps) == 0 }

// Report says what Execute did.
type Report struct {
	Plan
	// Writes lists the write actions sent, in order.
	Writes []string
}

// Execute sends the plan's steps in order, each once, putting the ids each
// returns in place of the placeholders of the next. It stops at the first
// error: what was made stays. After a transient failure (Transient:
// throttled, 5xx, transport) the write may have taken effect, so the
// caller reads again and diffs before sending anything again (Converge):
// a create that took effect is found, not made twice.
func (c *Client) Execute(ctx context.Context, p Plan) (Report, error) {
	rep := Report{Plan: p}
	write := c.once()
	ids := map[string]string{}
	var err error
	for _, s := range p.Steps {
		params := substitute(s.Params, ids).(map[string]any)
		var out struct {
			LogsetId, TopicId, AlarmNoticeId string
			TrackId                          uint64
		}
		if err = withHint(write.call(ctx, api{s.Service, s.Version, s.Action}, write.opts.Region, params, &out)); err != nil {
			return rep, err
		}
		rep.Writes = append(rep.Writes, s.Action)
		switch s.Action {
		case "CreateLogset":
			if out.LogsetId == "" {
				return rep, fmt.Errorf("cls CreateLogset: the answer has no LogsetId")
			}
			ids[LogsetIDPlaceholder], rep.LogsetID, rep.Logset = out.LogsetId, out.LogsetId, Created
		case "CreateTopic":
			if out.TopicId == "" {
				return rep, fmt.Errorf("cls CreateTopic: the answer has no TopicId")
			}
			ids[TopicIDPlaceholder], rep.TopicID, rep.Topic = out.TopicId, out.TopicId, Created
		case "CreateAuditTrack":
			rep.TrackID, rep.Track = out.TrackId, Created
			if rep.TrackID == 0 { // the answer lacks it: read it back by name
				if rep.TrackID, err = c.trackID(ctx, fmt.Sprint(params["Name"])); err != nil {
					return rep, err
				}
			}
		case "ModifyAuditTrack":
			rep.Track = Updated
		case "CreateAlarmNotice":
			if out.AlarmNoticeId == "" {
				return rep, fmt.Errorf("cls CreateAlarmNotice: the answer has no AlarmNoticeId")
			}
			ids[AlarmNoticeIDPlaceholder] = out.AlarmNoticeId
		case "CreateDeliverCloudFunction":
			rep.Trigger = Created
		}
	}
	return rep, nil
}

// substitute returns v with every string equal to a key of ids replaced.
func substitute(v any, ids map[string]string) any {
	switch x := v.(type) {
	case string:
		if id, ok := ids[x]; ok {
			return id
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = substitute(e, ids)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = substitute(e, ids)
		}
		return out
	case []string:
		out := make([]string, len(x))
		for i, e := range x {
			out[i], _ = substitute(e, ids).(string)
		}
		return out
	case []map[string]any:
		out := make([]map[string]any, len(x))
		for i, e := range x {
			out[i], _ = substitute(e, ids).(map[string]any)
		}
		return out
	}
	return v
}

// Converge runs round (a read, a diff and its writes) until it succeeds, at
// most attempts times, again only after a transient failure
// (Transient): each round starts with a read, so a write that took
// effect although it failed is found and not sent twice. note reports each
// retry.
func Converge(attempts int, note func(error), round func() error) error {
	var err error
	for i := 0; i < attempts; i++ {
		if err = round(); err == nil || !Transient(err) {
			return err
		}
		if i+1 < attempts {
			note(err)
		}
	}
	return err
}
