package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/picbucket/picbucket/signer"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/deploy"
	"github.com/picbucket/picbucket/internal/tcapi"
	"github.com/picbucket/picbucket/internal/usage"
)

var checkCommand = usage.Command{
	Name: "go run ./cmd/wire check",
	What: "wire check reads the account and prints a checklist of what the function needs: ✓ in place, ✗ with the fix, ? with the read permission it lacked.",
	More: `It only reads (Get, List and Describe actions). Exit status 0 only when every line is ✓;
1 otherwise. docs/operating.md says what each line reads and what it cannot see.`,
}

// mark is a checklist line's state.
type mark string

const (
	ok      mark = "✓"
	bad     mark = "✗"
	unknown mark = "?"
)

// checklist collects the lines.
type checklist struct {
	out   io.Writer
	allOK bool
}

func (l *checklist) line(m mark, what, fix string) {
	if m != ok {
		l.allOK = false
	}
	fmt.Fprintf(l.out, "%s %s\n", m, what)
	if fix != "" {
		fmt.Fprintf(l.out, "    %s\n", fix)
	}
}

// failed reports a read that failed: ? naming the permission when the key
// may not read, ✗ otherwise.
func (l *checklist) failed(what, permission string, err error) {
	code := tcapi.Code(err)
	if code == "UnauthorizedOperation" || code == "AuthFailure.UnauthorizedOperation" || strings.HasPrefix(code, "UnauthorizedOperation.") {
		l.line(unknown, what, "could not read: the key lacks "+permission)
		return
	}
	l.line(bad, what, "could not read: "+firstLine(err))
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// function is scf GetFunction's answer (tencentcloud-sdk-go scf/v20180416
// models.go GetFunctionResponseParams); only the fields checked.
type function struct {
	Runtime, Handler, Role  string
	MemorySize, Timeout     int64
	ClsLogsetId, ClsTopicId string
	Environment             struct{ Variables []struct{ Key, Value string } }
}

func runCheck(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var c common
	c.flags(fs)
	if err := checkCommand.Parse(fs, args, stdout); err != nil {
		return checkCommand.Fail(stderr, err)
	}
	if fs.NArg() > 0 {
		return checkCommand.Fail(stderr, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	s, _, opts, creds, rc := c.setup(checkCommand, getenv, stderr)
	if rc != 0 {
		return rc
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	l := &checklist{out: stdout, allOK: true}
	l.line(ok, fmt.Sprintf("%s: valid; its settings pass the function's own validation (internal/config)", c.file), "")
	api, err := tcapi.New(creds, opts)
	if err != nil {
		return checkCommand.Fail(stderr, err)
	}

	// The function and its settings.
	var fn function
	what := fmt.Sprintf("function %s in %s/%s", s.Function, s.Region, s.Namespace)
	fnErr := api.Call(ctx, "scf", "2018-04-16", "GetFunction", map[string]any{"FunctionName": s.Function, "Namespace": s.Namespace}, &fn)
	switch {
	case tcapi.Code(fnErr) == "ResourceNotFound.Function":
		l.line(bad, what+": not deployed", "deploy it: scf deploy (README, Deploy)")
	case fnErr != nil:
		l.failed(what, "scf:GetFunction", fnErr)
	default:
		checkFunction(l, what, s, fn)
	}

	// Its execution role and policies.
	checkRole(ctx, l, api, s)

	// The deployer's side: a cls trigger declared through the component
	// needs QcloudCLSFullAccess on SLS_QcsRole.
	if len(s.CLSTopics) > 0 {
		checkSLSRole(ctx, l, api)
	}

	// Its triggers.
	ac, err := tcapi.New(creds, tcapi.Options{Region: s.Region, RootDomain: opts.RootDomain, Endpoint: opts.Endpoint})
	if err != nil {
		return checkCommand.Fail(stderr, err)
	}
	if fnErr == nil {
		triggers, err := ac.ListTriggers(ctx, s.Namespace, s.Function)
		if err != nil {
			l.failed("triggers", "scf:ListTriggers", err)
		} else {
			checkTriggers(l, s, triggers)
		}
	}

	// The log topic.
	lt, err := readLogTopic(ctx, ac)
	switch {
	case err != nil:
		l.failed("log topic "+LogLogset+"/"+LogTopic, "cls:DescribeLogsets and cls:DescribeTopics", err)
	case lt.topicID == "":
		l.line(bad, "log topic "+LogLogset+"/"+LogTopic+": missing", "run: go run ./cmd/wire apply")
	case s.TopicID != lt.topicID:
		l.line(bad, "log topic "+lt.topicID+": serverless.yml's inputs.cls does not name it", "set inputs.cls logsetId "+lt.logsetID+", topicId "+lt.topicID+" and deploy again")
	default:
		l.line(ok, "log topic "+lt.topicID+": exists, named by serverless.yml", "")
	}
	if lt.topicID != "" {
		ix, err := api.DescribeIndex(ctx, lt.topicID)
		if err != nil {
			l.failed("log topic's index", "cls:DescribeIndex", err)
		} else if _, diffs := diffIndex(lt.topicID, ix); len(diffs) > 0 {
			l.line(bad, "log topic's index: "+strings.Join(diffs, ", "), "run: go run ./cmd/wire apply")
		} else {
			l.line(ok, fmt.Sprintf("log topic's index: the %d fields of docs/operating.md, statistics on", len(indexFields)), "")
		}
	}

	// The alarms.
	if lt.topicID != "" {
		st, err := readAlarms(ctx, api)
		switch {
		case err != nil:
			l.failed("alarms", "cls:DescribeAlarms and cls:DescribeAlarmNotices", err)
		default:
			var missing, foreign []string
			for _, d := range alarmDefs {
				if a, ok := st.alarms[d.name]; ok && !madeByWire(a.Tags) {
					foreign = append(foreign, d.name)
				} else if !ok || !sameAlarm(a, d, lt.topicID) {
					missing = append(missing, d.name)
				}
			}
			if len(foreign) > 0 {
				l.line(bad, "alarms of wire's names not made by wire: "+strings.Join(foreign, ", "), "rename them in CLS, then run: go run ./cmd/wire apply")
			}
			if len(missing) > 0 {
				l.line(bad, "alarms missing or different: "+strings.Join(missing, ", "), "run: go run ./cmd/wire apply --notice ID (or --wecom URL, or --notify-uin UIN)")
			} else if len(foreign) == 0 {
				l.line(ok, fmt.Sprintf("the %d alarms of docs/operating.md, on the log topic, each notifying a group", len(alarmDefs)), "")
			}
		}
	}

	// The function's own lines: the last timer summary, the failures.
	if lt.topicID != "" {
		checkRuns(ctx, l, api, lt.topicID, time.Now())
	}

	// The EventBridge rule and target.
	checkEventBridge(ctx, l, s, c, opts, creds)

	// The organization trail.
	if c.org || s.OrgMode() {
		w := trailWiring(s)
		st, err := ac.ReadTrail(ctx, w)
		switch {
		case err != nil:
			l.failed("organization trail", "cloudaudit:DescribeAuditTracks, cloudaudit:DescribeAuditTrack, cls:DescribeLogsets, cls:DescribeTopics and scf:ListTriggers", err)
		case st.Track == nil:
			l.line(bad, "organization trail "+w.TrackName+": missing", "run: go run ./cmd/wire apply --org")
		default:
			p := tcapi.DiffTrail(w, st)
			if p.Track != tcapi.Exists || p.Topic != tcapi.Exists {
				l.line(bad, fmt.Sprintf("organization trail %s (%d): differs (%s)", w.TrackName, st.Track.TrackId, strings.Join(p.Notes, "; ")), "run: go run ./cmd/wire apply --org")
			} else {
				l.line(ok, fmt.Sprintf("organization trail %s (%d): every member's COS writes -> topic %s", w.TrackName, st.Track.TrackId, st.Topic.TopicId), "")
			}
		}
	}
	if !l.allOK {
		return 1
	}
	return 0
}

// checkFunction compares the deployed function with serverless.yml, and its
// deployed settings with the function's own validation.
func checkFunction(l *checklist, what string, s *deploy.Serverless, fn function) {
	var diffs []string
	if fn.Runtime != s.Runtime {
		diffs = append(diffs, fmt.Sprintf("runtime %s (want %s)", fn.Runtime, s.Runtime))
	}
	if fn.Handler != s.Handler {
		diffs = append(diffs, fmt.Sprintf("handler %s (want %s)", fn.Handler, s.Handler))
	}
	if fn.MemorySize != int64(s.MemorySize) {
		diffs = append(diffs, fmt.Sprintf("memory %d MB (want %d)", fn.MemorySize, s.MemorySize))
	}
	if fn.Timeout != int64(s.Timeout) {
		diffs = append(diffs, fmt.Sprintf("timeout %d s (want %d)", fn.Timeout, s.Timeout))
	}
	if fn.Role != s.Role && !strings.HasSuffix(fn.Role, "/"+s.Role) {
		diffs = append(diffs, fmt.Sprintf("role %q (want %s)", fn.Role, s.Role))
	}
	env := map[string]string{}
	for _, v := range fn.Environment.Variables {
		env[v.Key] = v.Value
	}
	var envDiffs []string
	for k, v := range s.Env {
		if env[k] != v {
			envDiffs = append(envDiffs, k)
		}
	}
	for k := range env {
		if _, in := s.Env[k]; !in && strings.HasPrefix(k, "PICBUCKET_") {
			envDiffs = append(envDiffs, k)
		}
	}
	sort.Strings(envDiffs)
	if len(envDiffs) > 0 {
		diffs = append(diffs, "settings differ from serverless.yml: "+strings.Join(envDiffs, ", "))
	}
	if len(diffs) > 0 {
		l.line(bad, what+": "+strings.Join(diffs, "; "), "deploy again: scf deploy")
	} else {
		l.line(ok, what+": Go1, handler main, memory, timeout, role and settings as serverless.yml says", "")
	}
	if _, err := config.Load(func(k string) string { return env[k] }); err != nil {
		l.line(bad, "the deployed settings: the function refuses them: "+firstLine(err), "fix serverless.yml and deploy again")
	}
	if fn.ClsTopicId == "" || fn.ClsTopicId != s.TopicID && s.TopicID != "" {
		l.line(bad, fmt.Sprintf("the function logs to topic %q, not serverless.yml's %q", fn.ClsTopicId, s.TopicID),
			"a custom topic can be indexed, SCF's default cannot: run wire apply, set inputs.cls, deploy again")
	}
}

// checkTriggers checks the timer, and in organization mode that the trail's
// CLS trigger is declared in serverless.yml (else the next deploy deletes it).
func checkTriggers(l *checklist, s *deploy.Serverless, triggers []tcapi.TriggerInfo) {
	timer := false
	for _, t := range triggers {
		if t.Type == "timer" && t.Enable == 1 {
			timer = true
		}
	}
	if timer {
		l.line(ok, "timer trigger: enabled", "")
	} else {
		l.line(bad, "timer trigger: missing or disabled", "serverless.yml declares it with enable: true; deploy again")
	}
	for _, t := range triggers {
		if t.Type != "cls" {
			continue
		}
		topic := tcapi.TriggerTopic(t)
		if slices.Contains(s.CLSTopics, topic) {
			l.line(ok, "cls trigger on topic "+topic+": declared in serverless.yml (kept by every deploy)", "")
		} else {
			l.line(bad, "cls trigger on topic "+topic+": not declared in serverless.yml: the next deploy deletes it",
				"add it under inputs.events (- cls: parameters: topicId: "+topic+") and deploy again")
		}
	}
}

// checkEventBridge checks that the rule exists, is enabled and targets this
// function.
func checkEventBridge(ctx context.Context, l *checklist, s *deploy.Serverless, c common, opts tcapi.Options, creds signer.Credentials) {
	what := "EventBridge rule " + tcapi.DefaultRuleName
	// opts.RootDomain is the international site's with --intl.
	eb, err := tcapi.New(creds, tcapi.Options{Region: tcapi.ServiceBusRegion, RootDomain: opts.RootDomain, Endpoint: opts.Endpoint})
	if err != nil {
		l.line(bad, what, err.Error())
		return
	}
	bus, err := eb.ServiceBus(ctx)
	if err != nil {
		if tcapi.Code(err) == "" && !errors.As(err, new(*tcapi.APIError)) {
			l.line(bad, what+": "+firstLine(err), "")
			return
		}
		l.failed(what, "eb:ListEventBuses", err)
		return
	}
	rules, err := eb.ListRules(ctx, bus.EventBusId)
	if err != nil {
		l.failed(what, "eb:ListRules", err)
		return
	}
	var rule *tcapi.Rule
	for i := range rules {
		if rules[i].RuleName == tcapi.DefaultRuleName {
			rule = &rules[i]
		}
	}
	if rule == nil {
		l.line(bad, what+": missing", "run: go run ./cmd/wire apply")
		return
	}
	full, err := eb.GetRule(ctx, bus.EventBusId, rule.RuleId)
	if err != nil {
		l.failed(what, "eb:GetRule", err)
		return
	}
	targets, err := eb.ListTargets(ctx, bus.EventBusId, rule.RuleId)
	if err != nil {
		l.failed(what, "eb:ListTargets", err)
		return
	}
	fn := fmt.Sprintf(":namespace/%s/function/%s/", s.Namespace, s.Function)
	targeted := false
	for _, t := range targets {
		targeted = targeted || t.Type == "scf" && strings.Contains(t.TargetDescription.ResourceDescription, fn) &&
			strings.HasPrefix(t.TargetDescription.ResourceDescription, "qcs::scf:"+s.Region+":uin/"+c.uin+":")
	}
	switch {
	case !full.Enable:
		l.line(bad, what+" ("+rule.RuleId+"): disabled", "run: go run ./cmd/wire apply (it enables it)")
	case !tcapi.PatternEqual(full.EventPattern, tcapi.DefaultPattern):
		l.line(bad, what+" ("+rule.RuleId+"): its pattern differs", "run: go run ./cmd/wire apply")
	case !targeted:
		l.line(bad, what+" ("+rule.RuleId+"): does not target function "+s.Function+" in "+s.Region, "run: go run ./cmd/wire apply")
	default:
		l.line(ok, what+" ("+rule.RuleId+"): enabled, matches PutBucket, targets "+s.Function, "")
	}
}

// checkRole checks that the role exists, trusts SCF, and that its
// policies grant every action the settings need, naming any missing.
func checkRole(ctx context.Context, l *checklist, api *tcapi.Client, s *deploy.Serverless) {
	what := "execution role " + s.Role
	st, err := readRole(ctx, api, s.Role)
	if err != nil {
		l.failed(what, "cam:GetRole, cam:ListAttachedRolePolicies, cam:ListPolicies and cam:GetPolicy", err)
		return
	}
	if st.role == nil {
		l.line(bad, what+": missing", "run: go run ./cmd/wire apply")
		return
	}
	if trustsSCF(st.role.PolicyDocument) {
		l.line(ok, what+": exists, trusts "+scfService, "")
	} else {
		l.line(bad, what+": does not trust "+scfService+": SCF cannot use it", "add the service principal "+scfService+" to its trust policy in CAM")
	}
	var docs []string
	for _, a := range st.attached {
		p, err := api.GetPolicy(ctx, a.PolicyId)
		if err != nil {
			l.failed(what+"'s policy "+a.PolicyName, "cam:GetPolicy", err)
			return
		}
		docs = append(docs, p.PolicyDocument)
	}
	var missing []string
	for _, a := range neededActions(s) {
		if !slices.ContainsFunc(docs, func(d string) bool { return grants(d, a) }) {
			missing = append(missing, a)
		}
	}
	if len(missing) > 0 {
		l.line(bad, what+"'s policies lack "+strings.Join(missing, ", "), "run: go run ./cmd/wire apply (it writes and attaches "+policyName(s.Role)+")")
	} else {
		l.line(ok, fmt.Sprintf("%s's policies grant the %d actions the settings need (resources not compared)", what, len(neededActions(s))), "")
	}
}

// checkRuns reads the function's lines in its log topic: the last timer
// summary within two hours (with its counts), and the buckets that failed
// in the last day.
func checkRuns(ctx context.Context, l *checklist, api *tcapi.Client, topicID string, now time.Time) {
	sums, err := api.SearchLog(ctx, topicID, now.Add(-2*time.Hour), now, `message:"summary" AND trigger:"timer"`, 100)
	if err != nil {
		l.failed("the last timer run", "cls:SearchLog", err)
		return
	}
	var last *tcapi.LogLine
	for i := range sums {
		if last == nil || sums[i].Time.After(last.Time) {
			last = &sums[i]
		}
	}
	if last == nil {
		l.line(bad, "the last timer run: no summary line in the last 2 hours", "check the timer trigger and the function's log topic; invoke it once by hand")
	} else {
		var c struct {
			Buckets, Enabled, Already_enabled, Would_enable, Skipped, Failed, Deferred int
			DryRun                                                                     bool
		}
		json.Unmarshal([]byte(last.JSON), &c)
		m := ok
		if c.Failed > 0 {
			m = bad
		}
		l.line(m, fmt.Sprintf("the last timer run, %s ago: %d buckets, %d enabled, %d already, %d would enable (dry run %v), %d skipped, %d failed, %d deferred",
			now.Sub(last.Time).Round(time.Minute), c.Buckets, c.Enabled, c.Already_enabled, c.Would_enable, c.DryRun, c.Skipped, c.Failed, c.Deferred), "")
	}
	fails, err := api.SearchLog(ctx, topicID, now.Add(-24*time.Hour), now, `message:"bucket" AND outcome:"failed"`, 100)
	if err != nil {
		l.failed("failed buckets", "cls:SearchLog", err)
		return
	}
	seen := map[string]bool{}
	var names []string
	for _, f := range fails {
		var b struct{ Bucket, Code string }
		if json.Unmarshal([]byte(f.JSON), &b) == nil && b.Bucket != "" && !seen[b.Bucket] {
			seen[b.Bucket] = true
			names = append(names, b.Bucket+" ("+b.Code+")")
		}
	}
	if len(names) == 0 {
		l.line(ok, "no bucket failed in the last day", "")
		return
	}
	sort.Strings(names)
	l.line(bad, fmt.Sprintf("%d buckets failed in the last day: %s", len(names), strings.Join(names, ", ")), "README, \"Troubleshooting\", by code")
}

// checkSLSRole checks that the Serverless service role SLS_QcsRole has
// QcloudCLSFullAccess, which the scf component needs to make a declared cls
// trigger.
func checkSLSRole(ctx context.Context, l *checklist, api *tcapi.Client) {
	const role, policy = "SLS_QcsRole", "QcloudCLSFullAccess"
	what := "role " + role + " (serverless.yml declares a cls trigger)"
	_, found, err := api.GetRole(ctx, role)
	if err != nil {
		l.failed(what, "cam:GetRole", err)
		return
	}
	if !found {
		l.line(bad, what+": missing", "deploy once (the component makes it), then grant it "+policy)
		return
	}
	ps, err := api.ListAttachedRolePolicies(ctx, role)
	if err != nil {
		l.failed(what, "cam:ListAttachedRolePolicies", err)
		return
	}
	if slices.ContainsFunc(ps, func(p tcapi.AttachedPolicy) bool { return p.PolicyName == policy }) {
		l.line(ok, what+": has "+policy, "")
	} else {
		l.line(bad, what+": lacks "+policy+": the deploy cannot make the trigger", "attach "+policy+" to "+role+" in CAM")
	}
}
