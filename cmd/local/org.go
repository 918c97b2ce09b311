package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/scfrpc"
	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
)

// The organization of the embedded API 3.0 emulator (internal/tcapi/tcemu):
// the demo account manages it, and its members' buckets are in the COS/CI
// emulator beside the demo account's.
const (
	mgmtUin      = "100000000001" // the demo account's UIN
	functionName = "picbucket"    // SCF_FUNCTIONNAME; the emulator accepts Invokes of it only
	region       = "ap-guangzhou" // the function's region
	// maxDeliveries bounds the asynchronous invocations delivered in one
	// run, those the delivered ones send included.
	maxDeliveries = 100
	// maxInstances bounds the function processes running at once.
	maxInstances = 16
)

// demoMember is a member account of the demo organization.
type demoMember struct {
	uin     int64
	appID   string
	refuse  string // the error code AssumeRole into it answers, when set
	buckets []emulator.BucketState
}

// demoMembers: two members with buckets in two regions, some enabled, and
// one whose role refuses AssumeRole (its role is missing, or its trust
// policy does not trust the demo account), which is in the organization
// only with -refusing-member.
var demoMembers = []demoMember{
	{uin: 100000000011, appID: "1250000011", buckets: []emulator.BucketState{
		{Name: "photos-1250000011", Region: "ap-guangzhou"},
		{Name: "docs-1250000011", Region: "ap-shanghai"},
		{Name: "logs-1250000011", Region: "ap-shanghai", Enabled: true},
	}},
	{uin: 100000000012, appID: "1250000012", buckets: []emulator.BucketState{
		{Name: "media-1250000012", Region: "ap-guangzhou", Enabled: true},
		{Name: "uploads-1250000012", Region: "ap-guangzhou"},
		{Name: "backup-1250000012", Region: "ap-shanghai"},
	}},
	{uin: 100000000013, appID: "1250000013", refuse: "ResourceNotFound.RoleNotFound", buckets: []emulator.BucketState{
		{Name: "photos-1250000013", Region: "ap-guangzhou"},
	}},
}

// newOrganization returns the API 3.0 emulator holding the demo
// organization, and seeds the members' buckets into cos. Each key
// AssumeRole issues is made known to cos, for the member's buckets.
func newOrganization(cos *emulator.Server, refusing bool) *tcemu.Server {
	tc := tcemu.New(tcemu.Options{Management: tcemu.Account{Uin: 100000000001, AppID: demoAppID}})
	tc.AddKey(tcemu.Key{SecretID: demoSecretID, SecretKey: demoSecretKey, Token: demoToken, Uin: 100000000001, AppID: demoAppID})
	tc.AddFunction(region, "default", functionName)
	tc.OnIssue = func(k tcemu.Key) {
		cos.AddCredential(emulator.Credential{SecretID: k.SecretID, SecretKey: k.SecretKey, Token: k.Token, AppID: k.AppID})
	}
	for _, m := range members(refusing) {
		tc.AddMember(tcemu.Member{Uin: m.uin, AppID: m.appID, Refuse: m.refuse})
		for _, b := range m.buckets {
			cos.AddBucket(b.Name, b.Region, b.Enabled)
		}
	}
	return tc
}

// describeMembers lists the members for this command's stderr.
func describeMembers(refusing bool) string {
	var parts []string
	for _, m := range members(refusing) {
		on := 0
		for _, b := range m.buckets {
			if b.Enabled {
				on++
			}
		}
		s := fmt.Sprintf("%d (APPID %s, %d buckets, %d enabled)", m.uin, m.appID, len(m.buckets), on)
		if m.refuse != "" {
			s = fmt.Sprintf("%d (APPID %s: its role refuses AssumeRole, %s)", m.uin, m.appID, m.refuse)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// output is what stdout gets when the function sent asynchronous
// invocations: the first invocation's result and each delivery's.
type output struct {
	// Result is the first invocation's result; null when it failed.
	Result json.RawMessage `json:"result"`
	// Error is the first invocation's error, when it failed.
	Error      string     `json:"error,omitempty"`
	Deliveries []delivery `json:"deliveries"`
	// Undelivered counts the invocations past maxDeliveries.
	Undelivered int `json:"undelivered,omitempty"`
}

// delivery is one asynchronous invocation delivered to the function.
type delivery struct {
	// RequestID is the invocation's request id: the FunctionRequestId the
	// Invoke answered, which the sender's accounts[].invocationId shows.
	RequestID string `json:"requestId"`
	// Account is the UIN its event names ("account.uin"), if any.
	Account string `json:"account,omitempty"`
	// Result is the function's result; absent when it failed.
	Result json.RawMessage `json:"result,omitempty"`
	// Error is the function's error; absent when it succeeded.
	Error string `json:"error,omitempty"`
}

// dispatcher plays SCF's asynchronous invocation: each Invoke the API
// emulator accepts is delivered to the function as an invocation of its
// own, on an instance of its own, at once, up to limit deliveries.
type dispatcher struct {
	pool    *scfrpc.Pool
	tc      *tcemu.Server
	timeout time.Duration
	stderr  io.Writer
	limit   int

	mu          sync.Mutex
	idle        *sync.Cond // signalled when a delivery ends
	running     int
	deliveries  []delivery
	undelivered int
}

func newDispatcher(pool *scfrpc.Pool, tc *tcemu.Server, timeout time.Duration, stderr io.Writer) *dispatcher {
	d := &dispatcher{pool: pool, tc: tc, timeout: timeout, stderr: stderr, limit: maxDeliveries}
	d.idle = sync.NewCond(&d.mu)
	return d
}

// poll takes the Invokes recorded so far and starts delivering them. It is
// called from the emulator's OnInvoke, before the Invoke is answered, so
// every Invoke of an invocation is taken before that invocation returns.
func (d *dispatcher) poll() {
	invs := d.tc.TakeInvocations()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, in := range invs {
		if len(d.deliveries) >= d.limit {
			d.undelivered++
			continue
		}
		i := len(d.deliveries)
		d.deliveries = append(d.deliveries, delivery{RequestID: in.FunctionRequestID, Account: eventAccount(in.ClientContext)})
		d.running++
		go d.deliver(i, in)
	}
}

func (d *dispatcher) deliver(i int, in tcemu.Invocation) {
	resp, proc, err := d.pool.Invoke(scfrpc.Invocation{
		Payload:     []byte(in.ClientContext),
		RequestID:   in.FunctionRequestID,
		Timeout:     d.timeout,
		Environment: demoEnvironment(),
		AppID:       demoAppID,
		Uin:         mgmtUin,
		Region:      in.Region,
		Function:    in.FunctionName,
	})
	d.mu.Lock()
	dl := &d.deliveries[i]
	switch {
	case err != nil:
		dl.Error = err.Error()
	case resp.Error != nil:
		dl.Error = resp.Error.Message
	case !json.Valid(resp.Payload):
		dl.Error = fmt.Sprintf("the result is not JSON: %q", resp.Payload)
	default:
		dl.Result = resp.Payload
	}
	msg := fmt.Sprintf("local: delivered %s (account %s)", dl.RequestID, dl.Account)
	if proc != nil {
		msg += fmt.Sprintf(" to pid %d", proc.Pid())
	}
	if dl.Error != "" {
		msg += ": failed: " + dl.Error
	} else {
		msg += ": succeeded"
	}
	d.running--
	d.idle.Broadcast()
	d.mu.Unlock()
	fmt.Fprintln(d.stderr, msg)
}

// wait returns once no delivery runs and no Invoke is left undelivered:
// the deliveries in the order the Invokes were accepted, and the number
// left undelivered past the limit.
func (d *dispatcher) wait() ([]delivery, int) {
	for {
		d.mu.Lock()
		for d.running > 0 {
			d.idle.Wait()
		}
		d.mu.Unlock()
		// An Invoke whose sender gave up before its answer may still be
		// recorded: take it too.
		if len(d.tc.Invocations()) == 0 {
			break
		}
		d.poll()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]delivery(nil), d.deliveries...), d.undelivered
}

// eventAccount is the "account.uin" of a member event, or "".
func eventAccount(event string) string {
	var ev struct {
		Account struct {
			Uin json.RawMessage `json:"uin"`
		} `json:"account"`
	}
	if json.Unmarshal([]byte(event), &ev) != nil || ev.Account.Uin == nil {
		return ""
	}
	var s string
	if json.Unmarshal(ev.Account.Uin, &s) == nil {
		return s
	}
	return string(ev.Account.Uin)
}

// members returns the demo organization's members: with refusing, the one
// whose role refuses AssumeRole too.
func members(refusing bool) []demoMember {
	var out []demoMember
	for _, m := range demoMembers {
		if m.refuse == "" || refusing {
			out = append(out, m)
		}
	}
	return out
}
