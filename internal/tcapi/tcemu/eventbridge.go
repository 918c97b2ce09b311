package tcemu

import (
	"github.com/picbucket/picbucket/internal/ebapi/ebemu"
)

// EventBridge (service eb, version 2021-04-16) is served on the same address
// as every other product: the request's signature, token and rate are
// checked here, then ebemu answers the action (its rules and targets, its
// checks of each parameter against tencentcloud-sdk-go eb/v20210416
// models.go).
func init() {
	versions[ebemu.Service] = ebemu.Version
	regional[ebemu.Service] = true
	actions[ebemu.Service] = map[string]func(*Server, request) (answer, *apiError){}
	for _, a := range ebemu.Actions() {
		actions[ebemu.Service][a] = func(s *Server, r request) (answer, *apiError) {
			res, code, msg := s.products.eb.Answer(a, r.region, r.body)
			if code != "" {
				return answer{}, &apiError{Code: code, Message: msg}
			}
			return answer{result: res}, nil
		}
	}
}

// products holds the state of the products added in their own files.
type products struct {
	eb        *ebemu.Server
	functions map[string]*Function // function.go: region/namespace/name
	indexes   map[string]*Index    // cls_index.go: topic id
	cam       camState             // cam_roles.go
	logs      map[string][]LogLine // cls_search.go: topic id
	alarms    alarmState           // cls_alarm.go
}

func newProducts() products {
	return products{eb: ebemu.New(), functions: map[string]*Function{}, indexes: map[string]*Index{},
		cam: camState{roles: map[string]*Role{}, policies: map[uint64]*Policy{}}, logs: map[string][]LogLine{}}
}

// EventBridge returns the emulator's EventBridge state: add buses, rules
// and targets to it, and read them back. Calls made through this emulator
// are recorded in both.
func (s *Server) EventBridge() *ebemu.Server { return s.products.eb }
