package tcemu

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"
)

// CLS SearchLog (cls 2020-10-16; tencentcloud-sdk-go cls/v20201016
// models.go SearchLogRequestParams {TopicId, From, To (Unix ms), Query,
// Limit, Sort, Context, SyntaxRule, …}; the answer's Results []LogInfo
// {Time (ms), TopicId, TopicName, Source, FileName, PkgId, PkgLogId,
// LogJson, HostName}, ListOver, Analysis, Context). The emulator searches
// the lines AddLog gave a topic, with the subset of CLS's syntax the
// project sends: key:value or key:"value" terms joined by AND.

// LogLine is one line of a topic: its time and its JSON content.
type LogLine struct {
	Time time.Time
	JSON string
}

func init() {
	actions["cls"]["SearchLog"] = (*Server).searchLog
}

// AddLog appends a line to a topic, as the function's logging would.
func (s *Server) AddLog(topicID string, l LogLine) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.products.logs[topicID] = append(s.products.logs[topicID], l)
}

var termRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_.]*):(?:"([^"]*)"|(\S+))$`)

func (s *Server) searchLog(r request) (answer, *apiError) {
	var p struct {
		TopicId, Query, Sort, Context string
		From, To, Limit, Offset       *int64
		SyntaxRule, SamplingRate      *float64
		UseNewAnalysis                *bool
		Topics                        json.RawMessage
	}
	if aerr := decode(r.body, &p); aerr != nil {
		return answer{}, aerr
	}
	if p.From == nil || p.To == nil {
		return answer{}, errf("MissingParameter", "From and To are required")
	}
	if s.topic(r.caller.Uin, r.region, p.TopicId) == nil {
		return answer{}, errf("ResourceNotFound.TopicNotExist", "topic %s does not exist in %s", p.TopicId, r.region)
	}
	var terms [][2]string
	if q := strings.TrimSpace(p.Query); q != "" && q != "*" {
		for _, t := range strings.Split(q, " AND ") {
			m := termRE.FindStringSubmatch(strings.TrimSpace(t))
			if m == nil {
				return answer{}, errf("InvalidParameter", "the emulator supports key:value AND key:\"value\" queries only, got %q", t)
			}
			terms = append(terms, [2]string{m[1], m[2] + m[3]})
		}
	}
	limit := int64(100)
	if p.Limit != nil {
		limit = *p.Limit
	}
	results := []map[string]any{}
	for _, l := range s.products.logs[p.TopicId] {
		ms := l.Time.UnixMilli()
		if ms < *p.From || ms > *p.To || int64(len(results)) >= limit {
			continue
		}
		var fields map[string]any
		if json.Unmarshal([]byte(l.JSON), &fields) != nil {
			continue
		}
		match := true
		for _, t := range terms {
			v, ok := fields[t[0]]
			if str, _ := v.(string); !ok || str != t[1] {
				match = false
			}
		}
		if match {
			results = append(results, map[string]any{"Time": ms, "TopicId": p.TopicId, "LogJson": l.JSON, "Source": "127.0.0.1"})
		}
	}
	return answer{result: map[string]any{"Results": results, "ListOver": true, "Analysis": false, "Context": ""}}, nil
}
