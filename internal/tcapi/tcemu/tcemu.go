// Package tcemu emulates the Tencent Cloud API 3.0 actions internal/tcapi
// sends for an organization-wide run:
//
//   - organization 2021-03-31 DescribeOrganizationMembers: the members you add
//   - sts 2018-08-13 AssumeRole: a fresh temporary key per call, for the member
//   - cam 2019-01-16 GetUserAppId: the account of the calling key
//   - scf 2018-04-16 Invoke: recorded, and handed to OnInvoke
//
// and those go run ./cmd/wire sends to wire the organization's CloudAudit trail
// to the function (audit.go): cls 2020-10-16 DescribeLogsets, CreateLogset,
// DescribeTopics, CreateTopic, CreateDeliverCloudFunction; cloudaudit
// 2019-03-19 DescribeAuditTracks, DescribeAuditTrack, CreateAuditTrack,
// ModifyAuditTrack; scf ListTriggers. Their state (logsets, topics, tracking
// sets, triggers) is kept per account, so a second run sees the first's.
// EventBridge's rule and target actions (eb 2021-04-16) are eventbridge.go's;
// cam's roles and policies, cls's index, logs and alarms, and scf's
// functions have files of their own too.
//
// It is one http.Handler for every service: the service is the first
// label of the Host header (sts.tencentcloudapi.com, or
// sts.intl.tencentcloudapi.com), as in production, where the client's
// Endpoint override sends every request to one address and keeps the Host.
// Every request must be POST / with a JSON body and carry a TC3-HMAC-SHA256
// signature for a key the emulator knows, with that key's X-TC-Token: it is
// checked by Verify (sign.go), the emulator's own implementation of the
// documented algorithm (tested against the document's worked example), with
// the credential scope naming the Host's service. Keys
// AssumeRole issued expire at their ExpiredTime. Answers are HTTP 200 with
// {"Response":{…,"RequestId":…}} or
// {"Response":{"Error":{"Code":…,"Message":…},"RequestId":…}}; parameters
// the real API does not know are refused (UnknownParameter), so a misspelt
// field fails here as it would in production.
//
// Faults: a member whose role refuses AssumeRole (Member.Refuse), a member
// without the role asked for (Member.Roles), throttling (Throttle: the next
// n answers; Options.QPS: a rate over all requests; Options.Limits: the
// documented per-action limits, DocumentedLimits), and latency
// (Options.Latency).
//
// For the handler's tests, every key AssumeRole issues is handed to OnIssue
// (before the answer leaves) and listed by IssuedKeys, with the member's
// APPID, so the COS/CI emulator (internal/emulator) can be told about it:
//
//	tc.OnIssue = func(k tcemu.Key) {
//		cos.AddCredential(emulator.Credential{SecretID: k.SecretID, SecretKey: k.SecretKey, Token: k.Token, AppID: k.AppID})
//	}
//
// Each product is a file: eventbridge.go, audit.go (cloudaudit and the
// trail's cls and scf actions), cls_*.go, cam_roles.go, function.go.
package tcemu

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The services and the one version each serves.
var versions = map[string]string{
	"organization": "2021-03-31",
	"sts":          "2018-08-13",
	"cam":          "2019-01-16",
	"scf":          "2018-04-16",
}

// regional lists the services whose actions require X-TC-Region.
var regional = map[string]bool{"sts": true, "scf": true}

// DefaultRole is the role each member has unless Member.Roles says otherwise.
const DefaultRole = "OrganizationAccessControlRole"

// MaxEventSize is the largest ClientContext of an asynchronous invocation.
const MaxEventSize = 128 << 10

// maxSyncEventSize is the largest ClientContext of a synchronous one.
const maxSyncEventSize = 6 << 20

// DocumentedLimits are the request limits Tencent documents for the actions
// the emulator serves, in requests per second ("默认接口请求频率限制"):
//
//   - scf Invoke 100: https://cloud.tencent.com/document/api/583/17243
//     (https://www.tencentcloud.com/document/api/583/17243: "A maximum of
//     100 requests can be initiated per second for this API")
//   - sts AssumeRole 600: https://cloud.tencent.com/document/api/598/33164,
//     and the STS limits table https://cloud.tencent.com/document/api/1312/48207
//   - cam GetUserAppId 20: https://cloud.tencent.com/document/api/598/70416
//   - organization DescribeOrganizationMembers 20: the API category page
//     https://www.tencentcloud.com/document/api/1031/52040
//
// The limits' dimension is "API + 接入地域 + 子账号" (the action, the region
// and the calling identity; note under the table of
// https://cloud.tencent.com/document/api/1312/48207). A request over the
// limit is answered with the error RequestLimitExceeded.
var DocumentedLimits = map[string]int{"Invoke": 100, "AssumeRole": 600, "GetUserAppId": 20, "DescribeOrganizationMembers": 20}

// Account is an account: its UIN and APPID.
type Account struct {
	Uin   int64
	AppID string
}

// Key is an API key the emulator accepts, and the account it belongs to.
type Key struct {
	SecretID, SecretKey, Token string
	Uin                        int64  // the account's UIN
	AppID                      string // the account's APPID
	// Expires, when set, is when the key stops working (AssumeRole's keys).
	Expires time.Time
	// RoleArn and SessionName are set on keys AssumeRole issued.
	RoleArn, SessionName string
}

// String never prints the secret key or the token.
func (k Key) String() string {
	return fmt.Sprintf("Key{SecretID:%s SecretKey:<redacted> Token:<redacted> Uin:%d AppID:%s Expires:%s RoleArn:%s SessionName:%s}",
		k.SecretID, k.Uin, k.AppID, k.Expires.UTC().Format(time.RFC3339), k.RoleArn, k.SessionName)
}

// GoString is String.
func (k Key) GoString() string { return k.String() }

// Format makes every verb print String.
func (k Key) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.String()) }

// Member is an account of the organization.
type Member struct {
	Uin   int64
	AppID string
	Name  string // "member-<uin>" when ""
	// MemberType is Invite (the default) or Create.
	MemberType string
	// PermissionStatus is Confirmed (the default) or UnConfirmed.
	PermissionStatus string
	// Roles are the roles the management account may assume in the member
	// account; [DefaultRole] when nil.
	Roles []string
	// Refuse, when set, is the error code every AssumeRole into this member
	// answers: ResourceNotFound.RoleNotFound, UnauthorizedOperation,
	// InvalidParameter.AccountNotAvaliable …
	Refuse string
}

// Invocation is one Invoke the emulator accepted.
type Invocation struct {
	Region, Namespace, FunctionName, Qualifier string
	InvocationType                             string // Event or RequestResponse
	ClientContext                              string // the event
	CallerUin                                  int64  // the account of the calling key
	RequestID, FunctionRequestID               string
}

// Call is one request the emulator answered, signed correctly or not.
type Call struct {
	Service, Action, Version, Region string
	Host                             string // the Host header it was sent with
	SecretID                         string // the key it was signed with, when it verified
	Body                             string // the request's parameters (no secrets)
	ErrorCode                        string // "" when it succeeded
}

// Options configure the emulator.
type Options struct {
	// Management is the organization's management account: the only one
	// that may list the members and assume their roles.
	Management Account
	// ListManagement makes DescribeOrganizationMembers list the management
	// account too (first), which the documents neither promise nor exclude.
	ListManagement bool
	// Latency delays every answer.
	Latency time.Duration
	// QPS, when positive, answers RequestLimitExceeded to the requests
	// beyond QPS in any one-second window (all services together).
	QPS int
	// Limits, when set, maps an action to its limit in requests per
	// second (DocumentedLimits holds the documented ones): a request is
	// answered RequestLimitExceeded when its action, region and caller (the
	// key's account and role) already had that many requests accepted in
	// the last second (a sliding window; a throttled request does not
	// count). Tencent does not document whether its limiter is a sliding
	// window or a token bucket; internal/pace handles both. Off (nil) by
	// default.
	Limits map[string]int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Server is the emulator; it is an http.Handler. Call New.
type Server struct {
	// OnIssue, when set, receives each key AssumeRole issues, before the
	// answer is written. Set it before serving; it must not block long.
	OnIssue func(Key)
	// OnInvoke, when set, receives each accepted Invoke before the answer
	// is written. Set it before serving.
	OnInvoke func(Invocation)
	// OnCall, when set, receives each answered request (a request log).
	OnCall func(Call)
	// Fault, when set, may replace an answer after the action took effect:
	// a non-zero status is sent with body instead of the API's answer (a
	// proxy's error page, a 5xx after a create that was made). Set it
	// before serving.
	Fault func(c Call, r *http.Request) (status int, body string)

	mu          sync.Mutex
	opts        Options
	keys        map[string]Key
	members     []Member
	functions   map[string]bool // region/namespace/name; none: any name is accepted
	throttle    map[string]int  // action ("" any) → answers left to throttle
	window      time.Time
	windowCount int
	accepted    map[string][]time.Time // Limits: accepted requests of the last second, by action/region/caller
	issued      []Key
	invocations []Invocation
	calls       []Call
	seq         int
	audit       auditState // audit.go
	products    products   // eventbridge.go, function.go
}

// New returns an emulator with no keys and no members.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{opts: o, keys: map[string]Key{}, functions: map[string]bool{}, throttle: map[string]int{}, audit: newAuditState()}
	s.products = newProducts(&s.mu)
	return s
}

// AddKey makes the emulator accept k (the function's own key, for example:
// its account is the management account's).
func (s *Server) AddKey(k Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[k.SecretID] = k
}

// NewKey mints a temporary key for acct, adds it and returns it.
func (s *Server) NewKey(acct Account) Key {
	k := mint(acct)
	s.AddKey(k)
	return k
}

// ExpireKey makes a key fail from now on (AuthFailure.TokenFailure).
func (s *Server) ExpireKey(secretID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[secretID]; ok {
		k.Expires = s.opts.Now().Add(-time.Second)
		s.keys[secretID] = k
	}
}

// AddMember adds a member account. It panics on a UIN or APPID that is not
// a positive number.
func (s *Server) AddMember(m Member) {
	if m.Uin <= 0 {
		panic(fmt.Sprintf("tcemu.AddMember: uin %d", m.Uin))
	}
	if n, err := strconv.ParseUint(m.AppID, 10, 64); err != nil || n == 0 {
		panic(fmt.Sprintf("tcemu.AddMember: APPID %q is not a number", m.AppID))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members = append(s.members, m)
}

// AddFunction declares a function Invoke may start. Until one is added,
// Invoke accepts any function name.
func (s *Server) AddFunction(region, namespace, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.functions[region+"/"+namespace+"/"+name] = true
}

// Throttle makes the next n requests for action (any action when "")
// answer RequestLimitExceeded.
func (s *Server) Throttle(action string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle[action] += n
}

// SetLatency changes Options.Latency.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Latency = d
}

// SetQPS changes Options.QPS.
func (s *Server) SetQPS(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.QPS = n
}

// SetLimits changes Options.Limits (nil: none).
func (s *Server) SetLimits(limits map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Limits = limits
}

// IssuedKeys returns the keys AssumeRole issued, in order.
func (s *Server) IssuedKeys() []Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Key(nil), s.issued...)
}

// Invocations returns the accepted Invokes, in order.
func (s *Server) Invocations() []Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Invocation(nil), s.invocations...)
}

// TakeInvocations returns the accepted Invokes and forgets them: a test or
// tool that runs them hands each off once.
func (s *Server) TakeInvocations() []Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.invocations
	s.invocations = nil
	return out
}

// Calls returns the requests answered so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallCount counts the answered requests for action ("" for all).
func (s *Server) CallCount(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if action == "" || c.Action == action {
			n++
		}
	}
	return n
}

// apiError is an error answer.
type apiError struct{ Code, Message string }

func errf(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// request is what a handler gets: the verified caller and the parameters.
type request struct {
	region string
	caller Key
	body   []byte
}

// answer is a handler's result; hooks run after the lock is released and
// before the answer is written.
type answer struct {
	result map[string]any
	issue  *Key
	invoke *Invocation
}

var actions = map[string]map[string]func(*Server, request) (answer, *apiError){
	"organization": {"DescribeOrganizationMembers": (*Server).describeOrganizationMembers},
	"sts":          {"AssumeRole": (*Server).assumeRole},
	"cam":          {"GetUserAppId": (*Server).getUserAppID},
	"scf":          {"Invoke": (*Server).invoke},
}

// ServeHTTP answers one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	call := Call{Service: serviceOf(r.Host), Action: r.Header.Get("X-TC-Action"), Version: r.Header.Get("X-TC-Version"),
		Region: r.Header.Get("X-TC-Region"), Host: r.Host, Body: string(body)}

	s.mu.Lock()
	s.seq++
	requestID := fmt.Sprintf("tcemu-%08d-0000-4000-8000-%012d", s.seq, s.seq)
	latency := s.opts.Latency
	ans, aerr := s.handle(r, body, &call)
	if aerr != nil {
		call.ErrorCode = aerr.Code
	}
	if ans.invoke != nil {
		ans.invoke.RequestID = requestID
		s.invocations = append(s.invocations, *ans.invoke)
	}
	s.calls = append(s.calls, call)
	onIssue, onInvoke, onCall := s.OnIssue, s.OnInvoke, s.OnCall
	s.mu.Unlock()

	if ans.issue != nil && onIssue != nil {
		onIssue(*ans.issue)
	}
	if ans.invoke != nil && onInvoke != nil {
		onInvoke(*ans.invoke)
	}
	if onCall != nil {
		defer onCall(call)
	}
	if latency > 0 {
		if !sleep(r.Context(), latency) {
			return // the client gave up
		}
	}
	if s.Fault != nil {
		if status, body := s.Fault(call, r); status != 0 {
			w.WriteHeader(status)
			io.WriteString(w, body)
			return
		}
	}

	resp := map[string]any{}
	if aerr != nil {
		resp["Error"] = map[string]string{"Code": aerr.Code, "Message": aerr.Message}
	} else {
		for k, v := range ans.result {
			resp[k] = v
		}
	}
	resp["RequestId"] = requestID
	b, _ := json.Marshal(map[string]any{"Response": resp})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-TC-RequestId", requestID)
	w.WriteHeader(http.StatusOK) // API 3.0 answers 200 even to errors
	w.Write(b)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// serviceOf is the service a Host names: its first label, when the rest is
// tencentcloudapi.com, intl.tencentcloudapi.com or a region's
// <region>.tencentcloudapi.com (API 3.0's nearest-access endpoints).
func serviceOf(host string) string {
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	host = strings.ToLower(host)
	for _, root := range []string{".intl.tencentcloudapi.com", ".tencentcloudapi.com"} {
		if svc, ok := strings.CutSuffix(host, root); ok {
			if svc, region, ok := strings.Cut(svc, "."); !ok || root == ".tencentcloudapi.com" && regionRE.MatchString(region) {
				return svc
			}
		}
	}
	return ""
}

// regionRE is a region id such as ap-guangzhou.
var regionRE = regexp.MustCompile(`^[a-z]+(-[a-z]+)+(-\d+)?$`)

func (s *Server) handle(r *http.Request, body []byte, c *Call) (answer, *apiError) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return answer{}, errf("UnsupportedProtocol", "the emulator serves POST / only, got %s %s", r.Method, r.URL.Path)
	}
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	if ct != "application/json" && !strings.HasPrefix(ct, "application/json;") {
		return answer{}, errf("InvalidParameter", "Content-Type %q is not application/json", r.Header.Get("Content-Type"))
	}
	version, known := versions[c.Service]
	if !known {
		return answer{}, errf("InvalidAction", "the Host %q names no service the emulator serves (organization, sts, cam, scf, cls, cloudaudit under tencentcloudapi.com)", r.Host)
	}
	now := s.opts.Now()
	secretID, verr := Verify(r, body, now, c.Service, func(id string) (Key, bool) {
		k, ok := s.keys[id]
		return k, ok
	})
	if verr != nil {
		return answer{}, &apiError{Code: verr.Code, Message: verr.Message}
	}
	c.SecretID = secretID
	caller := s.keys[secretID]
	if !caller.Expires.IsZero() && !now.Before(caller.Expires) {
		return answer{}, errf("AuthFailure.TokenFailure", "the temporary key %s has expired", secretID)
	}
	if c.Action == "" {
		return answer{}, errf("MissingParameter", "the X-TC-Action header is missing")
	}
	h, ok := actions[c.Service][c.Action]
	if !ok {
		return answer{}, errf("InvalidAction", "the emulator does not implement action %q of %s", c.Action, c.Service)
	}
	if c.Version != version {
		return answer{}, errf("InvalidAction", "action %q is not available in version %q (want %s)", c.Action, c.Version, version)
	}
	if regional[c.Service] && c.Region == "" {
		return answer{}, errf("MissingParameter", "the X-TC-Region header is missing (%s requires a region)", c.Service)
	}
	if aerr := s.limit(c.Action, c.Region, caller, now); aerr != nil {
		return answer{}, aerr
	}
	return h(s, request{region: c.Region, caller: caller, body: body})
}

// limit applies Throttle, Options.QPS and Options.Limits.
func (s *Server) limit(action, region string, caller Key, now time.Time) *apiError {
	for _, a := range []string{action, ""} {
		if s.throttle[a] > 0 {
			s.throttle[a]--
			return errf("RequestLimitExceeded", "the request rate of this action is over its limit (throttled by the emulator)")
		}
	}
	if s.opts.QPS > 0 {
		if now.Sub(s.window) >= time.Second || now.Before(s.window) {
			s.window, s.windowCount = now, 0
		}
		s.windowCount++
		if s.windowCount > s.opts.QPS {
			return errf("RequestLimitExceeded", "more than %d requests in one second", s.opts.QPS)
		}
	}
	if n := s.opts.Limits[action]; n > 0 {
		key := fmt.Sprintf("%s/%s/%d/%s", action, region, caller.Uin, caller.RoleArn)
		if s.accepted == nil {
			s.accepted = map[string][]time.Time{}
		}
		times := s.accepted[key]
		from := now.Add(-time.Second)
		i := 0
		for i < len(times) && !times[i].After(from) {
			i++
		}
		times = times[i:]
		if len(times) >= n {
			s.accepted[key] = times
			return errf("RequestLimitExceeded", "%s: more than %d requests in one second from this caller in %s", action, n, cmp.Or(region, "this service"))
		}
		s.accepted[key] = append(times, now)
	}
	return nil
}

// decode reads a request body into v (a pointer to a struct), refusing
// the parameters the struct does not name (Decode).
func decode(body []byte, v any) *apiError {
	if code, msg := Decode(body, v); code != "" {
		return errf(code, "%s", msg)
	}
	return nil
}

// Decode reads an API 3.0 request body into v (a pointer to a struct whose
// field names are the parameters), as the API does: parameter names are
// case-sensitive (encoding/json is not, so they are checked first) and an
// unknown one is refused. It returns the error code and message to answer,
// or "" when the body is good.
func Decode(body []byte, v any) (code, message string) {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		return "InvalidParameter", fmt.Sprintf("the request body is not a JSON object: %v", err)
	}
	known := fieldNames(reflect.TypeOf(v).Elem())
	for k := range keys {
		if !known[k] {
			return "UnknownParameter", fmt.Sprintf("the parameter %q is not recognized", k)
		}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return "InvalidParameter", fmt.Sprintf("the request body is not the expected JSON: %v", err)
	}
	return "", ""
}

// fieldNames lists the JSON names of a struct's fields, embedded ones included.
func fieldNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			for k := range fieldNames(f.Type) {
				names[k] = true
			}
			continue
		}
		names[f.Name] = true
	}
	return names
}

func (s *Server) member(uin int64) (Member, bool) {
	for _, m := range s.members {
		if m.Uin == uin {
			return m, true
		}
	}
	return Member{}, false
}

// searchMatches is DescribeOrganizationMembers' SearchKey: "成员名或者成员ID
// 搜索", search by member name or member ID (tencentcloud-sdk-go
// tencentcloud/organization/v20210331/models.go,
// DescribeOrganizationMembersRequestParams.SearchKey). Tencent does not
// document whether it matches whole or in part; the emulator takes the
// wider reading, a part of the name or of the UIN's digits, so that a
// client must compare Items[].MemberUin itself. An empty key matches all.
func searchMatches(key, name string, uin int64) bool {
	return key == "" || strings.Contains(name, key) || strings.Contains(strconv.FormatInt(uin, 10), key)
}

// describeOrganizationMembers: Offset and Limit required, Limit 1–50,
// Offset a multiple of Limit; only the management account may list;
// SearchKey narrows the list (searchMatches).
func (s *Server) describeOrganizationMembers(r request) (answer, *apiError) {
	var req struct {
		Offset, Limit                      *int64
		Lang, SearchKey, AuthName, Product string
		Tags                               []json.RawMessage
		NodeId                             *int64
		NodeName                           string
	}
	if aerr := decode(r.body, &req); aerr != nil {
		return answer{}, aerr
	}
	if req.Offset == nil || req.Limit == nil {
		return answer{}, errf("MissingParameter", "Offset and Limit are required")
	}
	limit, offset := *req.Limit, *req.Offset
	if limit < 1 || limit > 50 {
		return answer{}, errf("InvalidParameter", "Limit %d: the range is 1-50", limit)
	}
	if offset < 0 || offset%limit != 0 {
		return answer{}, errf("InvalidParameter", "Offset %d must be a non-negative multiple of Limit %d", offset, limit)
	}
	if r.caller.Uin != s.opts.Management.Uin || s.opts.Management.Uin == 0 {
		if _, ok := s.member(r.caller.Uin); ok {
			return answer{}, errf("AuthFailure.UnauthorizedOperation", "account %d is a member, not the organization's management account", r.caller.Uin)
		}
		return answer{}, errf("ResourceNotFound.OrganizationNotExist", "account %d has no organization", r.caller.Uin)
	}
	var all []map[string]any
	if s.opts.ListManagement && searchMatches(req.SearchKey, "management", s.opts.Management.Uin) {
		all = append(all, map[string]any{"MemberUin": s.opts.Management.Uin, "Name": "management", "MemberType": "Create",
			"PermissionStatus": "Confirmed", "NodeId": 1, "NodeName": "root", "CreateTime": "2021-04-17 12:19:07"})
	}
	for _, m := range s.members {
		name, typ, status := m.Name, m.MemberType, m.PermissionStatus
		if name == "" {
			name = fmt.Sprintf("member-%d", m.Uin)
		}
		if !searchMatches(req.SearchKey, name, m.Uin) {
			continue
		}
		if typ == "" {
			typ = "Invite"
		}
		if status == "" {
			status = "Confirmed"
		}
		all = append(all, map[string]any{"MemberUin": m.Uin, "Name": name, "MemberType": typ,
			"PermissionStatus": status, "NodeId": 1, "NodeName": "root", "CreateTime": "2021-04-17 12:19:07"})
	}
	lo := min(int(offset), len(all))
	hi := min(lo+int(limit), len(all))
	items := all[lo:hi]
	if items == nil {
		items = []map[string]any{}
	}
	return answer{result: map[string]any{"Items": items, "Total": len(all)}}, nil
}

var (
	roleArnRE     = regexp.MustCompile(`^qcs::cam::uin/([0-9]+):roleName/([\w+=,.@-]{1,128})$`)
	sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,128}$`)
)

// assumeRole issues a fresh key of a member's role to the management account.
func (s *Server) assumeRole(r request) (answer, *apiError) {
	var req struct {
		RoleArn, RoleSessionName                string
		DurationSeconds                         *int64
		Policy, ExternalId                      string
		Tags                                    []json.RawMessage
		SourceIdentity, SerialNumber, TokenCode string
	}
	if aerr := decode(r.body, &req); aerr != nil {
		return answer{}, aerr
	}
	if req.RoleArn == "" || req.RoleSessionName == "" {
		return answer{}, errf("MissingParameter", "RoleArn and RoleSessionName are required")
	}
	if !sessionNameRE.MatchString(req.RoleSessionName) {
		return answer{}, errf("InvalidParameter.ParamError", "RoleSessionName must be 2-128 of [\\w+=,.@-]")
	}
	duration := int64(7200)
	if req.DurationSeconds != nil {
		duration = *req.DurationSeconds
	}
	if duration > 43200 {
		return answer{}, errf("InvalidParameter.OverTimeError", "DurationSeconds %d is over 43200", duration)
	}
	if duration < 1 {
		return answer{}, errf("InvalidParameter.ParamError", "DurationSeconds %d is not positive", duration)
	}
	m := roleArnRE.FindStringSubmatch(req.RoleArn)
	if m == nil {
		return answer{}, errf("InvalidParameter.ParamError", "RoleArn %q is not qcs::cam::uin/<uin>:roleName/<name>", req.RoleArn)
	}
	uin, _ := strconv.ParseInt(m[1], 10, 64)
	role := m[2]
	mem, ok := s.member(uin)
	if !ok {
		return answer{}, errf("InvalidParameter.AccountNotAvaliable", "account %d does not exist or is not available", uin)
	}
	if r.caller.Uin != s.opts.Management.Uin || s.opts.Management.Uin == 0 {
		return answer{}, errf("UnauthorizedOperation", "account %d is not trusted by role %s of account %d", r.caller.Uin, role, uin)
	}
	if mem.Refuse != "" {
		return answer{}, errf(mem.Refuse, "AssumeRole into account %d refused (emulated fault)", uin)
	}
	roles := mem.Roles
	if roles == nil {
		roles = []string{DefaultRole}
	}
	found := false
	for _, x := range roles {
		found = found || x == role
	}
	if !found {
		return answer{}, errf("ResourceNotFound.RoleNotFound", "account %d has no role named %s", uin, role)
	}
	k := mint(Account{Uin: uin, AppID: mem.AppID})
	k.Expires = s.opts.Now().Add(time.Duration(duration) * time.Second).Truncate(time.Second)
	k.RoleArn, k.SessionName = req.RoleArn, req.RoleSessionName
	s.keys[k.SecretID] = k
	s.issued = append(s.issued, k)
	return answer{issue: &k, result: map[string]any{
		"Credentials": map[string]string{"Token": k.Token, "TmpSecretId": k.SecretID, "TmpSecretKey": k.SecretKey},
		"ExpiredTime": k.Expires.Unix(),
		"Expiration":  k.Expires.UTC().Format("2006-01-02T15:04:05Z"),
	}}, nil
}

// getUserAppID describes the calling key's account.
func (s *Server) getUserAppID(r request) (answer, *apiError) {
	var req struct{}
	if aerr := decode(r.body, &req); aerr != nil {
		return answer{}, aerr
	}
	appID, err := strconv.ParseUint(r.caller.AppID, 10, 64)
	if err != nil {
		return answer{}, errf("InternalError.SystemError", "the key's account has no APPID configured in the emulator")
	}
	uin := strconv.FormatInt(r.caller.Uin, 10)
	return answer{result: map[string]any{"Uin": uin, "OwnerUin": uin, "AppId": appID}}, nil
}

var functionNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$`)

// invoke records an invocation.
func (s *Server) invoke(r request) (answer, *apiError) {
	var req struct {
		FunctionName, InvocationType, Qualifier, ClientContext, LogType, Namespace, RoutingKey string
	}
	if aerr := decode(r.body, &req); aerr != nil {
		return answer{}, aerr
	}
	if req.FunctionName == "" {
		return answer{}, errf("MissingParameter", "FunctionName is required")
	}
	if !functionNameRE.MatchString(req.FunctionName) {
		return answer{}, errf("InvalidParameter.FunctionName", "FunctionName %q is not a function name", req.FunctionName)
	}
	if req.InvocationType == "" {
		req.InvocationType = "RequestResponse"
	}
	if req.Qualifier == "" {
		req.Qualifier = "$LATEST"
	}
	if req.Namespace == "" {
		req.Namespace = "default"
	}
	limit := maxSyncEventSize
	switch req.InvocationType {
	case "Event":
		limit = MaxEventSize
	case "RequestResponse":
	default:
		return answer{}, errf("InvalidParameterValue", "InvocationType %q: want Event or RequestResponse", req.InvocationType)
	}
	if len(req.ClientContext) > limit {
		return answer{}, errf("InvalidParameterValue", "ClientContext is %d bytes, more than %d for InvocationType %s", len(req.ClientContext), limit, req.InvocationType)
	}
	if req.ClientContext != "" && !json.Valid([]byte(req.ClientContext)) {
		return answer{}, errf("InvalidParameterValue.Param", "ClientContext is not JSON")
	}
	if len(s.functions) > 0 && !s.functions[r.region+"/"+req.Namespace+"/"+req.FunctionName] {
		return answer{}, errf("ResourceNotFound.Function", "function %s not found in namespace %s of %s", req.FunctionName, req.Namespace, r.region)
	}
	inv := Invocation{Region: r.region, Namespace: req.Namespace, FunctionName: req.FunctionName, Qualifier: req.Qualifier,
		InvocationType: req.InvocationType, ClientContext: req.ClientContext, CallerUin: r.caller.Uin,
		FunctionRequestID: fmt.Sprintf("%08x-0000-4000-8000-%012x", s.seq, s.seq)}
	return answer{invoke: &inv, result: map[string]any{"Result": map[string]any{
		"FunctionRequestId": inv.FunctionRequestID, "Log": "", "RetMsg": "", "ErrMsg": "",
		"MemUsage": 0, "Duration": 0, "BillDuration": 0, "InvokeResult": 0,
	}}}, nil
}

// mint makes a random temporary key for acct.
func mint(acct Account) Key {
	return Key{SecretID: "AKIDtcemu" + randHex(16), SecretKey: randHex(16), Token: "tcemu-token-" + randHex(32), Uin: acct.Uin, AppID: acct.AppID}
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
