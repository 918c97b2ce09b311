package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"

	"github.com/picbucket/picbucket/internal/tcapi"
)

// The function's log topic. SCF's default log topic (SCF_LogTopic_*) does
// not let its index be changed (https://cloud.tencent.com/document/product/583/18032),
// so the CLS index, the queries and the alarms of docs/operating.md need a
// custom topic, which the scf component's `cls` input (logsetId, topicId;
// serverless-components/tencent-scf docs/configure.md) gives the function.
const (
	LogLogset = tcapi.DefaultLogset // the trail's logset too
	LogTopic  = "picbucket-log"
)

// logTopic is the log topic's one desired state, one read, one diff and one
// plan (the pattern of every resource wire manages).
type logTopic struct {
	logsetID, topicID string // what exists ("" when missing)
}

// readLogTopic finds the logset and the topic by name; it only reads.
func readLogTopic(ctx context.Context, c *tcapi.Client) (logTopic, error) {
	var lt logTopic
	sets, err := c.DescribeLogsets(ctx, LogLogset)
	if err != nil {
		return lt, err
	}
	if lt.logsetID, err = uniqueID("logsets", LogLogset, sets, func(s tcapi.Logset) (string, string) { return s.LogsetName, s.LogsetId }); err != nil || lt.logsetID == "" {
		return lt, err
	}
	topics, err := c.DescribeTopics(ctx, lt.logsetID, LogTopic)
	if err != nil {
		return lt, err
	}
	lt.topicID, err = uniqueID("topics", LogTopic, topics, func(t tcapi.Topic) (string, string) { return t.TopicName, t.TopicId })
	return lt, err
}

// uniqueID is the id of the one item named name ("" when none is); two of
// that name are an error naming both, for the user to delete one.
func uniqueID[T any](kind, name string, items []T, nameID func(T) (string, string)) (string, error) {
	var found string
	for _, it := range items {
		n, id := nameID(it)
		if n != name {
			continue
		}
		if found != "" {
			return "", fmt.Errorf("two CLS %s are named %q (%s, %s): delete one", kind, name, found, id)
		}
		found = id
	}
	return found, nil
}

// diff plans the writes that make the topic exist (cls 2020-10-16
// CreateLogset: LogsetName; CreateTopic: LogsetId, TopicName, Describes;
// tencentcloud-sdk-go cls/v20201016 models.go).
func (lt logTopic) diff() tcapi.Plan {
	p := tcapi.Plan{Logset: tcapi.Exists, Topic: tcapi.Exists, LogsetID: lt.logsetID, TopicID: lt.topicID}
	if lt.logsetID == "" {
		p.Logset, p.LogsetID = tcapi.Create, tcapi.LogsetIDPlaceholder
		p.Steps = append(p.Steps, tcapi.Step{Service: tcapi.CLSService, Version: tcapi.CLSVersion, Action: "CreateLogset",
			Params: map[string]any{"LogsetName": LogLogset}})
	}
	if lt.topicID == "" {
		p.Topic, p.TopicID = tcapi.Create, tcapi.TopicIDPlaceholder
		p.Steps = append(p.Steps, tcapi.Step{Service: tcapi.CLSService, Version: tcapi.CLSVersion, Action: "CreateTopic",
			Params: map[string]any{"LogsetId": p.LogsetID, "TopicName": LogTopic, "Describes": "picbucket function logs (one JSON line per bucket, a summary per run)"}})
	}
	return p
}

// printPlan prints the writes a plan would send, before any is sent.
func printPlan(out io.Writer, region string, p tcapi.Plan) {
	for _, n := range p.Notes {
		fmt.Fprintf(out, "note: %s\n", n)
	}
	where := ""
	if region != "" {
		where = ", region " + region
	}
	for i, s := range p.Steps {
		body, _ := json.Marshal(redactURLs(s.Params))
		fmt.Fprintf(out, "plan %d: %s (service %s, version %s%s)\n%s\n", i+1, s.Action, s.Service, s.Version, where, body)
	}
}

// indexFields is the log topic's key-value index: every field of the
// function's lines, statistics on (docs/operating.md, "CLS"; a test holds
// the two together).
var indexFields = func() []tcapi.IndexField {
	var f []tcapi.IndexField
	for _, k := range []string{"message", "level", "trigger", "outcome", "bucket", "region", "code", "reason", "account", "appId", "invocationId", "scfRequestId", "service"} {
		f = append(f, tcapi.IndexField{Key: k, Type: "text", SQL: true})
	}
	for _, k := range []string{"enabled", "already_enabled", "would_enable", "skipped", "failed", "deferred", "filtered", "requests", "retries", "durationMs"} {
		f = append(f, tcapi.IndexField{Key: k, Type: "long", SQL: true})
	}
	return f
}()

// diffIndex plans the index write: CreateIndex when the topic has none,
// ModifyIndex when a field is missing or differs (everything else of the
// topic's index is sent back as it is: tcapi.ModifyIndexParams), nothing when every field is in place. It returns what
// differed.
func diffIndex(topicID string, ix tcapi.Index) (*tcapi.Step, []string) {
	if !ix.Exists {
		return &tcapi.Step{Service: tcapi.CLSService, Version: tcapi.CLSVersion, Action: "CreateIndex",
			Params: tcapi.IndexParams(topicID, indexFields)}, []string{"no index"}
	}
	have := map[string]tcapi.IndexField{}
	for _, f := range ix.Fields {
		have[f.Key] = f
	}
	var diffs []string
	for _, f := range indexFields {
		if h, ok := have[f.Key]; !ok {
			diffs = append(diffs, f.Key+" missing")
		} else if h != f {
			diffs = append(diffs, fmt.Sprintf("%s is %s (statistics %v)", f.Key, h.Type, h.SQL))
		}
	}
	if !ix.Status {
		diffs = append(diffs, "index off")
	}
	if len(diffs) == 0 {
		return nil, nil
	}
	return &tcapi.Step{Service: tcapi.CLSService, Version: tcapi.CLSVersion, Action: "ModifyIndex",
		Params: tcapi.ModifyIndexParams(topicID, ix, indexFields)}, diffs
}

// redactURLs returns v with the query and user of every "Url" value
// replaced: a WeCom webhook's key is a secret.
func redactURLs(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if str, ok := e.(string); ok && k == "Url" {
				if u, err := url.Parse(str); err == nil {
					u.User, u.RawQuery, u.Fragment = nil, "", ""
					e = u.String() + "?(redacted)"
				} else {
					e = "(redacted)"
				}
			}
			out[k] = redactURLs(e)
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactURLs(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactURLs(e)
		}
		return out
	}
	return v
}
