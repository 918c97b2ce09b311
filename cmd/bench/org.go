package main

// Organization mode (-members N): the management account and N members,
// each holding -member-buckets buckets (the same shape in every account),
// in the COS/CI emulator and the API 3.0 emulator (tcemu), both answering
// every request after -latency. The function runs a timer with
// PICBUCKET_ACCOUNTS=org.
//
// With fan-out (-fanout=true, the default) the benchmark plays SCF: each
// Invoke the timer sends is delivered, once its answer has left (-latency
// after the emulator accepted it), to a function instance of its own (one
// process per member, started before the timer, as warm SCF instances).
// It measures, in the same run:
//
//   - one member alone: a member event for one member, on emulators of its
//     own seeded alike, on an instance of its own (AssumeRole, GetUserAppId,
//     the reconciliation);
//   - the time from the timer's invocation to the last member's result,
//     and its ratio to one member alone;
//   - the time at which the timer had every member invocation answered
//     (sent), as a share of one member alone.
//
// Without fan-out the timer reconciles every account itself; the wall time
// is compared to every Create × latency / PICBUCKET_CONCURRENCY.
//
// Requests are compared to what they must be: per account the
// single-account minimum (GetService pages + Describe pages + Creates),
// plus one AssumeRole and one GetUserAppId per member, the member
// listing's pages (50 a page) and, with fan-out, one Invoke per member.
//
// With -api-limits (the default) the API 3.0 emulator enforces Tencent's
// documented request limits (tcemu.DocumentedLimits: scf Invoke 100/s,
// sts AssumeRole 600/s, cam GetUserAppId 20/s, organization
// DescribeOrganizationMembers 20/s, per action, region and caller), and
// the fan-out is compared to its floor: the member listing's chain of
// pages, then (members - 1) / 100 s of Invokes at the documented limit,
// then one member alone. Throttled requests are counted per action.
//
// Above 100 members the member invocations are not delivered unless
// -deliver is given: the run measures the timer's fan-out alone (its wall
// time and its process's peak RSS).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/ciservice"
	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/scfrpc"
	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
)

const (
	mgmtUin      int64 = 100000000001
	functionName       = "picbucket"
	fnRegion           = "ap-guangzhou"
	// deliverUpTo is the most members whose invocations are delivered
	// unless -deliver is given.
	deliverUpTo = 100
	// accountsParallel mirrors handler/org.go's: the members reconciled at
	// once without fan-out.
	accountsParallel = 4
	// invokeLimit is scf Invoke's documented limit per second
	// (https://cloud.tencent.com/document/api/583/17243).
	invokeLimit = 100
	// membersPage is DescribeOrganizationMembers' page (internal/tcapi).
	membersPage = 50
	// membersLimit is DescribeOrganizationMembers' documented limit per
	// second (https://www.tencentcloud.com/document/api/1031/52040).
	membersLimit = 20
)

// member i's UIN and APPID.
func memberUin(i int) int64        { return 200000000001 + int64(i) }
func memberAppID(i int) string     { return strconv.Itoa(1300000001 + i) }
func memberEvent(uin int64) []byte { return []byte(fmt.Sprintf(`{"account":{"uin":"%d"}}`, uin)) }

// orgReport is what one organization run measured.
type orgReport struct {
	Params                              string
	Members, BucketsPerAccount          int
	EnabledPerAccount, CreatesPerAcct   int
	Fanout, Delivered                   bool
	AllEnabled                          bool
	Requests, ExpectedRequests          int // COS and CI
	API, ExpectedAPI                    map[string]int
	Retries                             int64
	CPUBusy, CPUBusyOne                 float64 // machine share busy, 0..1
	Cores                               int
	FunctionCPU, EmulatorCPU            time.Duration // CPU time of the function processes, of this one (the emulators)
	TimerWall                           time.Duration // the timer invocation
	OneMember                           time.Duration // one member alone
	LastMember                          time.Duration // timer start to the last member's result
	AllSent                             time.Duration // timer start to the last Invoke answered
	Deliveries, DeliveriesReconciled    int
	MemberTimes                         []time.Duration // each delivered invocation's
	LastStart                           time.Duration   // timer start to the last delivery's start
	DeliveryErrors                      []string
	BoundCreates                        time.Duration // every Create × latency / concurrency
	ScheduleModel                       time.Duration // without fan-out: the accounts' schedule
	TimerPeakRSS, MemberPeakRSS         int64
	TimerAccounts                       map[handler.AccountOutcome]int
	APILimits                           bool
	Throttled                           map[string]int // RequestLimitExceeded answers per action
	ListingChain                        time.Duration  // the member listing's pages x latency
	Floor                               time.Duration  // ListingChain + (members-1)/invokeLimit + OneMember
	CheckFloor                          time.Duration  // (pages+members-1)/membersLimit + OneMember: one membership check per member
	InvokedOnce                         bool           // every member had exactly one accepted Invoke
	TimerSummary                        handler.Summary
	OneMemberRequests, OneMemberAPICall int
}

// orgWorld is both emulators serving one organization.
type orgWorld struct {
	cos      *emulator.Server
	tc       *tcemu.Server
	cosURL   string
	apiURL   string
	stop     func()
	accounts [][]emulator.BucketState // the management account's, then each member's
}

// newOrgWorld seeds the management account and members 0…members-1.
func newOrgWorld(p params, members int) (*orgWorld, error) {
	w := &orgWorld{}
	w.cos = emulator.New(emulator.Options{Latency: p.latency, Seed: 1})
	w.cos.AddCredential(emulator.Credential{SecretID: secretID, SecretKey: secretKey, Token: token, AppID: appID})
	w.tc = tcemu.New(tcemu.Options{Management: tcemu.Account{Uin: mgmtUin, AppID: appID}, Latency: p.latency})
	if p.apiLimits {
		w.tc.SetLimits(tcemu.DocumentedLimits)
	}
	w.tc.AddKey(tcemu.Key{SecretID: secretID, SecretKey: secretKey, Token: token, Uin: mgmtUin, AppID: appID})
	w.tc.AddFunction(fnRegion, "default", functionName)
	w.tc.OnIssue = func(k tcemu.Key) {
		w.cos.AddCredential(emulator.Credential{SecretID: k.SecretID, SecretKey: k.SecretKey, Token: k.Token, AppID: k.AppID})
	}
	regions := allRegions[:p.regions]
	w.accounts = append(w.accounts, w.cos.SeedDemo(appID, p.memberBuckets, regions, p.enabled))
	for i := range members {
		w.tc.AddMember(tcemu.Member{Uin: memberUin(i), AppID: memberAppID(i)})
		w.accounts = append(w.accounts, w.cos.SeedDemo(memberAppID(i), p.memberBuckets, regions, p.enabled))
	}
	cosURL, stopCOS, err := listen(w.cos)
	if err != nil {
		return nil, err
	}
	apiURL, stopAPI, err := listen(w.tc)
	if err != nil {
		stopCOS()
		return nil, err
	}
	w.cosURL, w.apiURL = cosURL, apiURL
	w.stop = func() { stopCOS(); stopAPI() }
	return w, nil
}

// env is the function's environment against w.
func (w *orgWorld) env(p params, fanout bool) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "PICBUCKET_ENDPOINT=" + w.cosURL, "PICBUCKET_API_ENDPOINT=" + w.apiURL,
		"TENCENTCLOUD_APPID=" + appID, fmt.Sprintf("TENCENTCLOUD_UIN=%d", mgmtUin),
		"SCF_FUNCTIONNAME=" + functionName, "SCF_NAMESPACE=default", "SCF_FUNCTIONVERSION=$LATEST",
		"PICBUCKET_ACCOUNTS=org", fmt.Sprintf("PICBUCKET_FANOUT=%v", fanout),
		fmt.Sprintf("PICBUCKET_CONCURRENCY=%d", p.concurrency), "LOG_LEVEL=warn"}
}

func orgInvocation(payload []byte, requestID string) scfrpc.Invocation {
	return scfrpc.Invocation{Payload: payload, RequestID: requestID, Timeout: 900 * time.Second,
		AppID: appID, Uin: strconv.FormatInt(mgmtUin, 10), Region: fnRegion, Function: functionName,
		Environment: map[string]string{"TENCENTCLOUD_SECRETID": secretID, "TENCENTCLOUD_SECRETKEY": secretKey, "TENCENTCLOUD_SESSIONTOKEN": token}}
}

const timerEvent = `{"Type":"Timer","TriggerName":"bench","Time":"2026-01-01T00:00:00Z","Message":""}`

func runOrg(p params) (*orgReport, error) {
	dir, err := os.MkdirTemp("", "picbucket-bench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "main")
	if err := scfrpc.Build(".", bin, "-ldflags", "-s -w"); err != nil {
		return nil, err
	}
	rep := &orgReport{Members: p.members, BucketsPerAccount: p.memberBuckets, Fanout: p.fanout,
		Delivered: p.fanout && p.deliver, ExpectedAPI: map[string]int{}, API: map[string]int{}, APILimits: p.apiLimits, Throttled: map[string]int{}}
	rep.Params = fmt.Sprintf("organization: members=%d member-buckets=%d R=%d E=%.0f%% latency=%s concurrency=%d fanout=%v deliver=%v api-limits=%v",
		p.members, p.memberBuckets, p.regions, p.enabled*100, p.latency, p.concurrency, p.fanout, rep.Delivered, p.apiLimits)

	// The expected requests: every account has the same shape.
	w, err := newOrgWorld(p, p.members)
	if err != nil {
		return nil, err
	}
	defer w.stop()
	list, describe, creates, maxDescribe := accountMinimum(w.accounts[0])
	rep.EnabledPerAccount, rep.CreatesPerAcct = p.memberBuckets-creates, creates
	accounts := 1 + p.members
	reconciled := accounts // the accounts whose buckets this run reconciles
	if p.fanout && !rep.Delivered {
		reconciled = 1
	}
	rep.ExpectedRequests = reconciled * (list + describe + creates)
	pages := max(1, (p.members+membersPage-1)/membersPage)
	rep.ExpectedAPI["DescribeOrganizationMembers"] = pages
	if rep.Delivered {
		// With PICBUCKET_ACCOUNTS=org each member invocation first checks
		// that the Organization lists its account: one request each.
		rep.ExpectedAPI["DescribeOrganizationMembers"] += p.members
	}
	if p.fanout {
		rep.ExpectedAPI["Invoke"] = p.members
	}
	if !p.fanout || rep.Delivered {
		rep.ExpectedAPI["AssumeRole"] = p.members
		rep.ExpectedAPI["GetUserAppId"] = p.members
	}
	rep.BoundCreates = time.Duration(float64(accounts*creates) * float64(p.latency) / float64(p.concurrency))
	perAccount := time.Duration(list+maxDescribe)*p.latency + time.Duration(math.Ceil(float64(creates)/float64(p.concurrency)))*p.latency
	perMember := 2*p.latency + perAccount
	listing := time.Duration(pages) * p.latency
	rep.ListingChain = listing
	rep.ScheduleModel = listing + time.Duration((p.members+accountsParallel-1)/accountsParallel)*perMember

	if p.fanout && rep.Delivered {
		// One member alone, on emulators of its own, before the timer.
		one, err := newOrgWorld(p, 1)
		if err != nil {
			return nil, err
		}
		proc, err := scfrpc.Start(bin, one.env(p, true), io.Discard, os.Stderr)
		if err != nil {
			one.stop()
			return nil, err
		}
		c0 := readCPU()
		t0 := time.Now()
		resp, err := proc.Invoke(orgInvocation(memberEvent(memberUin(0)), "bench-one-member"))
		rep.OneMember = time.Since(t0)
		rep.CPUBusyOne, _ = readCPU().busySince(c0)
		proc.Stop()
		rep.OneMemberRequests = one.cos.Stats().Total
		rep.OneMemberAPICall = len(one.tc.Calls())
		oneDone := true
		for _, b := range one.cos.Buckets() {
			if strings.HasSuffix(b.Name, "-"+memberAppID(0)) && !b.Enabled {
				oneDone = false
			}
		}
		one.stop()
		if err != nil {
			return nil, err
		}
		if resp.Error != nil {
			return nil, fmt.Errorf("one member alone: %s", resp.Error.Message)
		}
		if !oneDone {
			return nil, fmt.Errorf("one member alone: not every bucket of the member enabled")
		}
	}

	// The instances for the member invocations, warm, and the timer's.
	var pool *scfrpc.Pool
	if rep.Delivered {
		pool = scfrpc.NewPool(bin, w.env(p, p.fanout), io.Discard, os.Stderr, 0)
		defer pool.Stop()
		warm := p.members
		if p.warm > 0 {
			warm = min(p.warm, p.members)
		}
		if err := pool.Prestart(warm); err != nil {
			return nil, err
		}
	}
	timer, err := scfrpc.Start(bin, w.env(p, p.fanout), io.Discard, os.Stderr)
	if err != nil {
		return nil, err
	}
	defer timer.Stop()

	var (
		mu        sync.Mutex
		wg        sync.WaitGroup
		t0        time.Time
		lastSent  time.Time
		lastDone  time.Time
		memberRes []*handler.Result
	)
	w.tc.OnCall = func(c tcemu.Call) {
		if c.Action == "Invoke" {
			mu.Lock()
			lastSent = time.Now()
			mu.Unlock()
		}
	}
	if rep.Delivered {
		// Called before the Invoke is answered, so before the timer
		// returns: wg.Add happens before wg.Wait.
		w.tc.OnInvoke = func(in tcemu.Invocation) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(p.latency) // the Invoke's answer leaves; SCF starts it
				start := time.Now()
				resp, _, err := pool.Invoke(orgInvocation([]byte(in.ClientContext), in.FunctionRequestID))
				mu.Lock()
				defer mu.Unlock()
				lastDone = time.Now()
				rep.MemberTimes = append(rep.MemberTimes, lastDone.Sub(start))
				rep.LastStart = max(rep.LastStart, start.Sub(t0))
				rep.Deliveries++
				var res handler.Result
				switch {
				case err != nil:
					rep.DeliveryErrors = append(rep.DeliveryErrors, err.Error())
				case resp.Error != nil:
					rep.DeliveryErrors = append(rep.DeliveryErrors, resp.Error.Message)
				case json.Unmarshal(resp.Payload, &res) != nil:
					rep.DeliveryErrors = append(rep.DeliveryErrors, "result is not JSON")
				default:
					memberRes = append(memberRes, &res)
				}
			}()
		}
	}

	procs := []*scfrpc.Process{timer}
	if pool != nil {
		procs = append(procs, pool.Processes()...)
	}
	fn0, self0 := processCPU(procs...), selfCPU()
	c0 := readCPU()
	mu.Lock() // the deliveries read t0
	t0 = time.Now()
	mu.Unlock()
	resp, err := timer.Invoke(orgInvocation([]byte(timerEvent), "bench-timer"))
	rep.TimerWall = time.Since(t0)
	if err != nil {
		return nil, err
	}
	rep.TimerPeakRSS, _ = timer.PeakRSS()
	wg.Wait()
	rep.CPUBusy, rep.Cores = readCPU().busySince(c0)
	rep.FunctionCPU, rep.EmulatorCPU = processCPU(procs...)-fn0, selfCPU()-self0
	if resp.Error != nil {
		return nil, fmt.Errorf("timer invocation failed: %s", resp.Error.Message)
	}
	var res handler.Result
	if err := json.Unmarshal(resp.Payload, &res); err != nil {
		return nil, err
	}
	rep.TimerSummary = res.Summary
	rep.Retries = res.Retries
	rep.TimerAccounts = map[handler.AccountOutcome]int{}
	for _, a := range res.Accounts {
		rep.TimerAccounts[a.Outcome]++
	}
	mu.Lock()
	if !lastSent.IsZero() {
		rep.AllSent = lastSent.Sub(t0)
	}
	if !lastDone.IsZero() {
		rep.LastMember = lastDone.Sub(t0)
	}
	for _, m := range memberRes {
		rep.Retries += m.Retries
		if len(m.Accounts) == 1 && m.Accounts[0].Outcome == handler.AccountReconciled {
			rep.DeliveriesReconciled++
		}
	}
	mu.Unlock()
	if pool != nil {
		for _, proc := range pool.Processes() {
			if rss, err := proc.PeakRSS(); err == nil {
				rep.MemberPeakRSS = max(rep.MemberPeakRSS, rss)
			}
		}
	}
	rep.Requests = w.cos.Stats().Total
	for _, c := range w.tc.Calls() {
		rep.API[c.Action]++
		if c.ErrorCode == "RequestLimitExceeded" {
			rep.Throttled[c.Action]++
		}
	}
	invokes := map[string]int{}
	for _, in := range w.tc.Invocations() {
		var ev struct{ Account struct{ Uin string } }
		json.Unmarshal([]byte(in.ClientContext), &ev)
		invokes[ev.Account.Uin]++
	}
	rep.InvokedOnce = len(invokes) == p.members
	for _, n := range invokes {
		rep.InvokedOnce = rep.InvokedOnce && n == 1
	}
	rep.Floor = rep.ListingChain + time.Duration(float64(max(p.members-1, 0))/invokeLimit*float64(time.Second)) + rep.OneMember
	// The floor a membership check per member forces: the listing's pages
	// and one check per member share DescribeOrganizationMembers' 20/s, the
	// last check starts no sooner than (pages + members - 1) / 20 s, and
	// the last member's run (one member alone, its check included) follows.
	rep.CheckFloor = time.Duration(float64(max(pages+p.members-1, 0))/membersLimit*float64(time.Second)) + rep.OneMember
	rep.AllEnabled = allEnabled(w.cos, []ciservice.ID{ciservice.Pic})
	return rep, nil
}

// listen serves h on a loopback port.
func listen(h http.Handler) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	return "http://" + l.Addr().String(), func() { srv.Close() }, nil
}

// accountMinimum is the single-account minimum of requests for buckets:
// GetService pages (2000 a page), Describe pages (100 a page, regions that
// have buckets only), and Creates; and the most Describe pages of a region.
func accountMinimum(buckets []emulator.BucketState) (list, describe, creates, maxDescribe int) {
	perRegion, enabledPerRegion := map[string]int{}, map[string]int{}
	for _, b := range buckets {
		perRegion[b.Region]++
		if b.Enabled {
			enabledPerRegion[b.Region]++
		} else {
			creates++
		}
	}
	for r := range perRegion {
		pages := max(1, (enabledPerRegion[r]+99)/100)
		describe += pages
		maxDescribe = max(maxDescribe, pages)
	}
	return max(1, (len(buckets)+1999)/2000), describe, creates, maxDescribe
}

// cpuSample is the first line of /proc/stat: every core's jiffies.
type cpuSample struct {
	busy, total uint64
	cores       int
}

// readCPU reads /proc/stat (Linux); zero elsewhere.
func readCPU() cpuSample {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return cpuSample{}
	}
	defer f.Close()
	var s cpuSample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		switch {
		case fields[0] == "cpu":
			// user nice system idle iowait irq softirq steal (guest time is
			// already in user and nice).
			for i, v := range fields[1:min(len(fields), 9)] {
				n, _ := strconv.ParseUint(v, 10, 64)
				s.total += n
				if i != 3 && i != 4 { // idle, iowait
					s.busy += n
				}
			}
		case strings.HasPrefix(fields[0], "cpu"):
			s.cores++
		}
	}
	return s
}

// processCPU is the CPU time (user and system) the processes used so far
// (Linux; 0 elsewhere).
func processCPU(procs ...*scfrpc.Process) time.Duration {
	var files []string
	for _, p := range procs {
		files = append(files, fmt.Sprintf("/proc/%d/stat", p.Pid()))
	}
	return cpuTime(files)
}

// selfCPU is this process's CPU time so far: the emulators'.
func selfCPU() time.Duration { return cpuTime([]string{"/proc/self/stat"}) }

func cpuTime(files []string) time.Duration {
	var ticks uint64
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// The fields after the command name, which is in parentheses:
		// utime and stime are the 14th and 15th fields of the line.
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 {
			fields := strings.Fields(string(b[i+1:]))
			if len(fields) > 12 {
				u, _ := strconv.ParseUint(fields[11], 10, 64)
				s, _ := strconv.ParseUint(fields[12], 10, 64)
				ticks += u + s
			}
		}
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ
}

// busySince is the machine's busy share (0..1) since before, and its cores.
func (s cpuSample) busySince(before cpuSample) (float64, int) {
	if s.total <= before.total {
		return 0, s.cores
	}
	return float64(s.busy-before.busy) / float64(s.total-before.total), s.cores
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func check(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT MET"
}

func (r *orgReport) print(w io.Writer) {
	fmt.Fprintf(w, "params            %s\n", r.Params)
	done := fmt.Sprint(r.AllEnabled)
	if r.Fanout && !r.Delivered {
		done = "- (member invocations not delivered)"
	}
	fmt.Fprintf(w, "accounts          %d (the management account and %d members), %d buckets each (%d enabled before, %d to create); every bucket enabled after: %s\n",
		1+r.Members, r.Members, r.BucketsPerAccount, r.EnabledPerAccount, r.CreatesPerAcct, done)
	acc := make([]string, 0, len(r.TimerAccounts))
	for o, n := range r.TimerAccounts {
		acc = append(acc, fmt.Sprintf("%s %d", o, n))
	}
	slices.Sort(acc)
	fmt.Fprintf(w, "timer             %s; accounts: %s; buckets in its result %+v\n", r.TimerWall.Round(time.Millisecond), strings.Join(acc, ", "), r.TimerSummary)
	switch {
	case r.Fanout && r.Delivered:
		fmt.Fprintf(w, "one member alone  %s (member event: AssumeRole, GetUserAppId, reconciliation; %d COS/CI + %d API requests; machine CPU busy %.0f%%)\n",
			r.OneMember.Round(time.Millisecond), r.OneMemberRequests, r.OneMemberAPICall, 100*r.CPUBusyOne)
		ratio := float64(r.LastMember) / float64(r.OneMember)
		share := float64(r.AllSent) / float64(r.OneMember)
		fmt.Fprintf(w, "fan-out           timer start to the last member's result %s: %.2f x one member (target <= 1.35: %s)\n",
			r.LastMember.Round(time.Millisecond), ratio, check(ratio <= 1.35))
		fmt.Fprintf(w, "                  every member invocation sent (last Invoke answered) at %s: %.2f of one member (target <= 0.30: %s)\n",
			r.AllSent.Round(time.Millisecond), share, check(share <= 0.30))
		floorRatio := float64(r.LastMember) / float64(r.Floor)
		fmt.Fprintf(w, "floor             member listing chain %s + %d/%d s of Invokes + one member alone %s = %s; timer start to the last member's result / floor %.2f (target <= 1.20: %s)\n",
			r.ListingChain.Round(time.Millisecond), max(r.Members-1, 0), invokeLimit, r.OneMember.Round(time.Millisecond), r.Floor.Round(time.Millisecond), floorRatio, check(floorRatio <= 1.20))
		checkRatio := float64(r.LastMember) / float64(max(r.Floor, r.CheckFloor))
		fmt.Fprintf(w, "check floor       (%d listing pages + %d membership checks - 1) / %d s + one member alone = %s; timer start to the last member's result / the higher floor %.2f (target <= 1.20: %s)\n",
			r.ExpectedAPI["DescribeOrganizationMembers"]-r.Members, r.Members, membersLimit, r.CheckFloor.Round(time.Millisecond), checkRatio, check(checkRatio <= 1.20))
		invokeRatio := float64(r.API["Invoke"]) / float64(max(r.Members, 1))
		fmt.Fprintf(w, "Invoke requests   %d for %d members, %d throttled: %.3f per member (target <= 1.05: %s); every member invoked once: %v\n",
			r.API["Invoke"], r.Members, r.Throttled["Invoke"], invokeRatio, check(invokeRatio <= 1.05), r.InvokedOnce)
		fmt.Fprintf(w, "deliveries        %d, %d reconciled, %d failed; one warm instance (process) each\n",
			r.Deliveries, r.DeliveriesReconciled, len(r.DeliveryErrors))
		if n := len(r.MemberTimes); n > 0 {
			ts := slices.Clone(r.MemberTimes)
			slices.Sort(ts)
			fmt.Fprintf(w, "                  member invocations took min %s, median %s, max %s; the last started at %s\n",
				ts[0].Round(time.Millisecond), ts[n/2].Round(time.Millisecond), ts[n-1].Round(time.Millisecond), r.LastStart.Round(time.Millisecond))
		}
		for i, e := range r.DeliveryErrors {
			if i == 3 {
				fmt.Fprintf(w, "                  … %d more\n", len(r.DeliveryErrors)-3)
				break
			}
			fmt.Fprintf(w, "                  failed: %s\n", e)
		}
	case r.Fanout:
		fmt.Fprintf(w, "fan-out only      member invocations not delivered (over %d members; -deliver delivers them); every member invocation sent at %s\n",
			deliverUpTo, r.AllSent.Round(time.Millisecond))
		fmt.Fprintf(w, "                  timer wall %s (target <= 1m: %s), its peak RSS %s (target <= 64 MiB: %s)\n",
			r.TimerWall.Round(time.Millisecond), check(r.TimerWall <= time.Minute), mib(r.TimerPeakRSS), check(r.TimerPeakRSS <= 64<<20))
	default:
		ratio := float64(r.TimerWall) / float64(r.BoundCreates)
		fmt.Fprintf(w, "without fan-out   wall %s, every Create x latency / concurrency %s: ratio %.2f (target <= 1.25: %s)\n",
			r.TimerWall.Round(time.Millisecond), r.BoundCreates.Round(time.Millisecond), ratio, check(ratio <= 1.25))
		fmt.Fprintf(w, "                  schedule model (listing, then %d members at a time, each AssumeRole + GetUserAppId + listing chain + creates / concurrency x latency; the own account beside): %s, ratio %.2f\n",
			accountsParallel, r.ScheduleModel.Round(time.Millisecond), float64(r.TimerWall)/float64(r.ScheduleModel))
	}
	reconciled := 1 + r.Members
	if r.Fanout && !r.Delivered {
		reconciled = 1
	}
	accountsWord := "accounts"
	if reconciled == 1 {
		accountsWord = "account"
	}
	fmt.Fprintf(w, "COS/CI requests   measured %d, expected %d (%d %s x the single-account minimum); retries %d\n",
		r.Requests, r.ExpectedRequests, reconciled, accountsWord, r.Retries)
	var got, want []string
	for _, a := range []string{"DescribeOrganizationMembers", "AssumeRole", "GetUserAppId", "Invoke"} {
		got = append(got, fmt.Sprintf("%s %d", a, r.API[a]))
		want = append(want, fmt.Sprintf("%s %d", a, r.ExpectedAPI[a]))
	}
	fmt.Fprintf(w, "API 3.0 requests  measured %s\n                  expected %s\n", strings.Join(got, ", "), strings.Join(want, ", "))
	exact := r.Requests == r.ExpectedRequests
	for a, n := range r.API {
		exact = exact && r.ExpectedAPI[a] == n
	}
	for a, n := range r.ExpectedAPI {
		exact = exact && r.API[a] == n
	}
	fmt.Fprintf(w, "requests exact    %v\n", exact)
	if r.APILimits {
		var th []string
		for _, a := range []string{"DescribeOrganizationMembers", "AssumeRole", "GetUserAppId", "Invoke"} {
			th = append(th, fmt.Sprintf("%s %d", a, r.Throttled[a]))
		}
		fmt.Fprintf(w, "throttled         (RequestLimitExceeded, the emulator enforcing the documented limits) %s\n", strings.Join(th, ", "))
	}
	fmt.Fprintf(w, "machine CPU busy  %.0f%% of %d cores from the timer's start to the last result (/proc/stat: every process on the machine);\n"+
		"                  of which the function processes %s CPU, the emulators (this process) %s\n",
		100*r.CPUBusy, r.Cores, r.FunctionCPU.Round(10*time.Millisecond), r.EmulatorCPU.Round(10*time.Millisecond))
	fmt.Fprintf(w, "peak RSS          timer process %s", mib(r.TimerPeakRSS))
	if r.MemberPeakRSS > 0 {
		fmt.Fprintf(w, ", largest member instance %s", mib(r.MemberPeakRSS))
	}
	fmt.Fprintf(w, " (VmHWM; MiB = 2^20 bytes)\n")
}
