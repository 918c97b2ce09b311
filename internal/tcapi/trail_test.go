package tcapi

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
	"github.com/picbucket/picbucket/signer"
)

func wiring() TrailWiring {
	return TrailWiring{Function: DefaultFunction, Namespace: DefaultNamespace, Qualifier: DefaultTriggerQualifier, LogsetName: DefaultLogset,
		TopicName: DefaultTopic, TrackName: DefaultTrack, MaxWait: DefaultMaxWait, MaxMsgNum: DefaultMaxMsgNum}
}

// wired is the state after a complete run.
func wired() TrailState {
	return TrailState{Region: "ap-guangzhou", Logset: &Logset{LogsetId: "ls"}, Topic: &Topic{TopicId: "tp", LogsetId: "ls"},
		Track: &TrackDetail{Track: Track{TrackId: 7, Name: DefaultTrack, ActionType: "Write", ResourceType: "cos", Status: 1,
			EventNames: []string{"PutBucket"}, Storage: Storage{StorageType: "cls", StorageRegion: "ap-guangzhou", StorageName: "tp", StoragePrefix: StoragePrefix}},
			TrackForAllMembers: 1},
		Triggers: []TriggerInfo{{Type: "cls", TriggerDesc: `{"topic_id":"tp"}`, Qualifier: DefaultTriggerQualifier, Enable: 1}}}
}

func actions(p Plan) []string {
	var a []string
	for _, s := range p.Steps {
		a = append(a, s.Action)
	}
	return a
}

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*TrailState)
		want   []string
		note   string
	}{
		{"wired", func(*TrailState) {}, nil, ""},
		{"empty", func(s *TrailState) { *s = TrailState{Region: "ap-guangzhou"} }, []string{"CreateLogset", "CreateTopic", "CreateAuditTrack", "CreateDeliverCloudFunction"}, ""},
		{"own account only", func(s *TrailState) { s.Track.TrackForAllMembers = 0 }, []string{"ModifyAuditTrack"}, "TrackForAllMembers 0"},
		{"disabled", func(s *TrailState) { s.Track.Status = 0 }, []string{"ModifyAuditTrack"}, "disabled"},
		{"other region", func(s *TrailState) { s.Track.Storage.StorageRegion = "ap-shanghai" }, []string{"ModifyAuditTrack"}, "storage cls ap-shanghai tp"},
		{"reads only", func(s *TrailState) { s.Track.ActionType = "Read" }, []string{"ModifyAuditTrack"}, "ActionType Read"},
		{"all actions and products cover it", func(s *TrailState) {
			s.Track.ActionType, s.Track.ResourceType, s.Track.EventNames = "*", "*", []string{"*"}
		}, nil, ""},
		{"all cos events cover it", func(s *TrailState) { s.Track.EventNames = []string{"*"} }, nil, ""},
		{"trigger by resource id", func(s *TrailState) {
			s.Triggers = []TriggerInfo{{Type: "cls", ResourceId: "qcs::cls:ap-guangzhou:uin/1:topic/tp"}}
		}, nil, ""},
		{"trigger by name", func(s *TrailState) { s.Triggers = []TriggerInfo{{Type: "cls", TriggerName: "tp", Enable: 1}} }, nil, ""},
		{"trigger on another topic", func(s *TrailState) { s.Triggers = []TriggerInfo{{Type: "cls", TriggerDesc: `{"topic_id":"zz"}`}} }, []string{"CreateDeliverCloudFunction"}, ""},
		{"trigger of another qualifier is kept", func(s *TrailState) { s.Triggers[0].Qualifier = "$LATEST" }, nil, "kept: the topic's trigger invokes qualifier $LATEST"},
		{"topic gone", func(s *TrailState) { s.Topic = nil }, []string{"CreateTopic", "ModifyAuditTrack", "CreateDeliverCloudFunction"}, "storage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := wired()
			tc.change(&st)
			p := DiffTrail(wiring(), st)
			if got := actions(p); !slices.Equal(got, tc.want) {
				t.Errorf("steps = %v, want %v", got, tc.want)
			}
			if tc.note != "" && !strings.Contains(strings.Join(p.Notes, "\n"), tc.note) {
				t.Errorf("notes %q lack %q", p.Notes, tc.note)
			}
			for _, s := range p.Steps {
				if s.Action == "ModifyAuditTrack" && (s.Params["TrackId"] != uint64(7) || s.Params["TrackForAllMembers"] != 1 || s.Params["Status"] != 1) {
					t.Errorf("ModifyAuditTrack params %v", s.Params)
				}
			}
		})
	}
}

func TestSubstitute(t *testing.T) {
	got := substitute(map[string]any{"TopicId": TopicIDPlaceholder, "Storage": map[string]any{"StorageName": TopicIDPlaceholder}, "N": 1},
		map[string]string{TopicIDPlaceholder: "tp-1"}).(map[string]any)
	if got["TopicId"] != "tp-1" || got["Storage"].(map[string]any)["StorageName"] != "tp-1" || got["N"] != 1 {
		t.Errorf("substitute = %v", got)
	}
}

// TestNewRefusesOutsideEndpoints: the client refuses a test endpoint that
// rules.Endpoint refuses, before any request.
func TestNewRefusesOutsideEndpoints(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:9000", true}, {"http://localhost:1", true}, {"http://10.1.2.3:80", true},
		{"http://api.example.com:80", false}, {"https://127.0.0.1:1", false}, {"http://127.0.0.1", false}, {"http://8.8.8.8:80", false},
	} {
		u, _ := parseURL(tc.url)
		_, err := New(signer.Credentials{SecretID: "AKIDx", SecretKey: "k"}, Options{Region: "ap-guangzhou", Endpoint: u})
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.url, err)
		}
	}
}

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }

// TestErrorsAreTcapis: an error answer is an *APIError (Code reads it) with Hint's advice on a line of its own.
func TestErrorsAreTcapis(t *testing.T) {
	emu := tcemu.New(tcemu.Options{Management: tcemu.Account{Uin: 100012345678, AppID: "1250000000"}})
	emu.AddFunction("ap-guangzhou", "default", "another")
	k := emu.NewKey(tcemu.Account{Uin: 100012345678, AppID: "1250000000"})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	c, err := New(signer.Credentials{SecretID: k.SecretID, SecretKey: k.SecretKey, SessionToken: k.Token}, Options{Region: "ap-guangzhou", Endpoint: u})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ReadTrail(context.Background(), wiring()) // the wiring's function is not deployed
	var ae *APIError
	if !errors.As(err, &ae) || Code(err) != "ResourceNotFound.Function" ||
		!strings.HasSuffix(err.Error(), "\n  hint: "+Hint(SCFService, "ListTriggers", "ResourceNotFound.Function")) {
		t.Errorf("Read: %v", err)
	}
	if _, err := New(signer.Credentials{}, Options{Region: "ap-guangzhou"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("New without a key: %v", err)
	}
}
