package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/picbucket/picbucket/signer"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/picbucket/picbucket/internal/deploy"
	"github.com/picbucket/picbucket/internal/rules"
	"github.com/picbucket/picbucket/internal/tcapi"
	"github.com/picbucket/picbucket/internal/usage"
)

var applyCommand = usage.Command{
	Name: "go run ./cmd/wire apply",
	What: "wire apply writes what the function needs around it, from serverless.yml: its role and policy, its CLS log topic, index and alarms, the EventBridge rule and target, and with --org the organization trail.",
	More: `It reads first and sends only what differs: a second run writes nothing. --dry-run reads the
account and prints the writes it would send, sending none. --delete removes what it made: its policy
(and the role if it made it and nothing else is attached), the alarms and the notice group, the
EventBridge rule and target; never what it did not make; the log topic and the trail are kept (they
hold logs). Each write is printed before it is sent.`,
}

// common are the flags apply and check share.
type common struct {
	file, uin, endpoint string
	org, intl           bool
	timeout             time.Duration
}

func (c *common) flags(fs *flag.FlagSet) {
	c.baseFlags(fs)
	fs.BoolVar(&c.org, "org", false, "organization mode: also the CloudAudit trail of every member (management account)")
	fs.DurationVar(&c.timeout, "timeout", 2*time.Minute, "time limit for the whole run")
}

// baseFlags are the flags every subcommand that reads serverless.yml takes.
func (c *common) baseFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.file, "f", deploy.ServerlessFile, "the deployment file: the function's name, region, role and settings")
	fs.StringVar(&c.uin, "uin", "", "the account's UIN (account ID); default $TENCENTCLOUD_UIN")
	fs.BoolVar(&c.intl, "intl", false, "the international site's endpoints (*.intl.tencentcloudapi.com)")
	fs.StringVar(&c.endpoint, "endpoint", "", "test setting: send every request to http://HOST:PORT (loopback or private; Host header and signature unchanged)")
}

// setup checks everything that needs no request: serverless.yml, the UIN,
// the endpoint and the key. A non-zero status means stop (2: usage, 1: no
// key); nothing was sent.
func (c *common) setup(cmd usage.Command, getenv func(string) string, stderr io.Writer) (*deploy.Serverless, *url.URL, tcapi.Options, signer.Credentials, int) {
	var opts tcapi.Options
	s, err := deploy.LoadServerless(c.file)
	if err != nil {
		return nil, nil, opts, signer.Credentials{}, cmd.Fail(stderr, err)
	}
	if c.uin == "" {
		c.uin = strings.TrimSpace(getenv("TENCENTCLOUD_UIN"))
	}
	if err := rules.UIN(c.uin); err != nil {
		return nil, nil, opts, signer.Credentials{}, cmd.Fail(stderr, fmt.Errorf("--uin %q: %w (your account ID, shown in the console's Account Center; or set TENCENTCLOUD_UIN)", c.uin, err))
	}
	var ep *url.URL
	if c.endpoint != "" {
		if ep, err = rules.ParseEndpoint(c.endpoint); err == nil {
			err = rules.Endpoint(ep)
		}
		if err != nil {
			return nil, nil, opts, signer.Credentials{}, cmd.Fail(stderr, fmt.Errorf("--endpoint %q: %w", c.endpoint, err))
		}
	}
	creds, err := tcapi.CredentialsFromEnv(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "wire:", err)
		return nil, nil, opts, signer.Credentials{}, 1
	}
	opts = tcapi.Options{Region: s.Region, Endpoint: ep}
	if c.intl {
		opts.RootDomain = tcapi.IntlRootDomain
	}
	return s, ep, opts, creds, 0
}

// passThrough are the flags of `wire eventbridge` and `wire trail` that
// carry c's settings.
func (c *common) passThrough() []string {
	var a []string
	if c.endpoint != "" {
		a = append(a, "--endpoint", c.endpoint)
	}
	return append(a, "--timeout", c.timeout.String())
}

func runApply(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	var c common
	c.flags(fs)
	dryRun := fs.Bool("dry-run", false, "read the account and print the writes apply would send; send none")
	del := fs.Bool("delete", false, "remove what apply made: the role and policy it made, the alarms and notice group, the EventBridge rule and target (the log topic and the trail are kept)")
	notice := fs.String("notice", "", "the alarms notify this existing CLS notice group (notice-…)")
	wecom := fs.String("wecom", "", "the alarms notify this WeCom robot webhook (https://…; its key is never printed)")
	notifyUIN := fs.String("notify-uin", "", "the alarms notify this CAM user (UIN), by email and SMS")
	if err := applyCommand.Parse(fs, args, stdout); err != nil {
		return applyCommand.Fail(stderr, err)
	}
	if fs.NArg() > 0 {
		return applyCommand.Fail(stderr, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	ch, err := parseChannel(*notice, *wecom, *notifyUIN)
	if err != nil {
		return applyCommand.Fail(stderr, err)
	}
	s, _, opts, creds, rc := c.setup(applyCommand, getenv, stderr)
	if rc != 0 {
		return rc
	}
	if s.OrgMode() && !c.org {
		fmt.Fprintf(stdout, "note: serverless.yml sets PICBUCKET_ACCOUNTS: pass --org for the trail that shows members' new buckets within minutes\n")
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	status := 0

	ac, err := tcapi.New(creds, tcapi.Options{Region: s.Region, RootDomain: opts.RootDomain, Endpoint: opts.Endpoint})
	if err != nil {
		return applyCommand.Fail(stderr, err)
	}
	api, err := tcapi.New(creds, opts)
	if err != nil {
		return applyCommand.Fail(stderr, err)
	}

	// 1. The execution role and its policy.
	fmt.Fprintf(stdout, "== execution role %s (trusts SCF) and its policy %s (least privilege for serverless.yml's settings)\n", s.Role, policyName(s.Role))
	if rc := applyRole(ctx, api, ac, s, c.uin, *dryRun, *del, stdout, stderr); rc != 0 {
		return rc
	}

	// 2. The function's log topic.
	fmt.Fprintf(stdout, "== log topic: CLS %s/%s in %s (the function's logs, indexed), its three alarms\n", LogLogset, LogTopic, s.Region)
	if rc := applyLogTopic(ctx, api, ac, s, ch, *dryRun, *del, stdout, stderr); rc != 0 {
		return rc
	}

	// 3. The EventBridge rule and target.
	fmt.Fprintf(stdout, "== EventBridge: bucket creation (CloudAudit PutBucket) -> function %s in %s\n", s.Function, s.Region)
	eb := append([]string{"--function", s.Function, "--namespace", s.Namespace, "--function-region", s.Region, "--uin", c.uin}, c.passThrough()...)
	if c.intl {
		eb = append(eb, "--api-host", "eb."+tcapi.IntlRootDomain)
	}
	if *dryRun {
		eb = append(eb, "--dry-run")
	}
	if *del {
		eb = append(eb, "--delete")
	}
	if rc := runEventBridge(eb, getenv, stdout, stderr); rc != 0 {
		status = rc
	}

	// 4. The organization trail.
	if c.org {
		fmt.Fprintf(stdout, "== organization trail: every member's PutBucket -> CloudAudit -> CLS -> function %s\n", s.Function)
		if *del {
			fmt.Fprintf(stdout, "kept: --delete does not remove the trail; delete the tracking set %s in the CloudAudit console\n", tcapi.DefaultTrack)
			return status
		}
		tr := append([]string{"--region", s.Region, "--function", s.Function, "--namespace", s.Namespace}, c.passThrough()...)
		if c.intl {
			tr = append(tr, "--intl")
		}
		if *dryRun {
			tr = append(tr, "--dry-run")
		}
		if rc := runTrail(tr, getenv, stdout, stderr); rc != 0 {
			status = rc
		}
		if st, err := ac.ReadTrail(ctx, trailWiring(s)); err == nil && st.Topic != nil && !slices.Contains(s.CLSTopics, st.Topic.TopicId) {
			fmt.Fprintf(stdout, "next: declare the trail's trigger in serverless.yml, or the next deploy deletes it "+
				"(the component removes undeclared triggers):\n    - cls:\n        parameters:\n          qualifier: $DEFAULT\n"+
				"          topicId: %q\n          maxWait: %d\n          enable: true\nthen deploy again\n", st.Topic.TopicId, tcapi.DefaultMaxWait)
		}
	}
	return status
}

// trailWiring is what `wire trail` makes for serverless.yml's function with
// its defaults.
func trailWiring(s *deploy.Serverless) tcapi.TrailWiring {
	return tcapi.TrailWiring{Function: s.Function, Namespace: s.Namespace, Qualifier: tcapi.DefaultTriggerQualifier,
		LogsetName: tcapi.DefaultLogset, TopicName: tcapi.DefaultTopic, TrackName: tcapi.DefaultTrack,
		MaxWait: tcapi.DefaultMaxWait, MaxMsgNum: tcapi.DefaultMaxMsgNum}
}

// applyRole reads the role and its policy, prints the plan, and sends it
// unless dryRun. It returns a non-zero status on failure.
func applyRole(ctx context.Context, api *tcapi.Client, ac *tcapi.Client, s *deploy.Serverless, uin string, dryRun, del bool, stdout, stderr io.Writer) int {
	err := tcapi.Converge(3, func(err error) {
		fmt.Fprintf(stdout, "note: %s; reading again before sending anything again\n", firstLine(err))
	}, func() error {
		st, err := readRole(ctx, api, s.Role)
		if err != nil {
			return err
		}
		var plan tcapi.Plan
		if del {
			plan = st.deletePlan(s.Role)
		} else {
			acct, err := api.GetUserAppID(ctx)
			if err != nil {
				return fmt.Errorf("the account's APPID (for the policy's resources): %w", err)
			}
			plan = st.diff(s.Role, desiredPolicy(s, acct.AppID, uin))
		}
		printPlan(stdout, "", plan) // CAM takes no region
		switch {
		case plan.Empty():
			fmt.Fprintf(stdout, "in place: nothing to write\n")
		case dryRun:
			fmt.Fprintf(stdout, "dry run: not sent\n")
		default:
			rep, err := ac.Execute(ctx, plan)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "done: %s\n", strings.Join(rep.Writes, ", "))
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(stderr, "wire apply: execution role:", err)
		return 1
	}
	return 0
}

// newTrailClient is the CLS/CloudAudit/SCF client of serverless.yml's region.
func newTrailClient(s *deploy.Serverless, opts tcapi.Options, creds signer.Credentials) (*tcapi.Client, error) {
	return tcapi.New(creds, tcapi.Options{Region: s.Region, RootDomain: opts.RootDomain, Endpoint: opts.Endpoint})
}

// applyLogTopic makes the log topic, its index and its alarms as desired
// (or, with del, removes the alarms): read, diff, plan printed, writes;
// after a transient failure it reads again before sending anything again.
func applyLogTopic(ctx context.Context, api *tcapi.Client, ac *tcapi.Client, s *deploy.Serverless, ch channel, dryRun, del bool, stdout, stderr io.Writer) int {
	var lt logTopic
	err := tcapi.Converge(3, func(err error) {
		fmt.Fprintf(stdout, "note: %s; reading again before sending anything again\n", firstLine(err))
	}, func() error {
		var err error
		if lt, err = readLogTopic(ctx, ac); err != nil {
			return err
		}
		plan := lt.diff()
		ix := tcapi.Index{}
		if lt.topicID != "" {
			if ix, err = api.DescribeIndex(ctx, lt.topicID); err != nil {
				return err
			}
		}
		if step, diffs := diffIndex(plan.TopicID, ix); step != nil && !del {
			plan.Steps = append(plan.Steps, *step)
			plan.Notes = append(plan.Notes, "index: "+strings.Join(diffs, ", "))
		}
		var alarms alarmsState
		if lt.topicID != "" {
			if alarms, err = readAlarms(ctx, api); err != nil {
				return err
			}
		}
		if del {
			plan.Steps = deleteAlarms(alarms)
		} else {
			steps, notes := diffAlarms(alarms, ch, plan.LogsetID, plan.TopicID)
			plan.Steps, plan.Notes = append(plan.Steps, steps...), append(plan.Notes, notes...)
		}
		printPlan(stdout, s.Region, plan)
		switch {
		case del && len(plan.Steps) > 0 && !dryRun:
			// The notice group goes last: CLS refuses to delete one that
			// another alarm notifies (OperationDenied.NoticeHasAlarm), and
			// then it is kept.
			if _, err := ac.Execute(ctx, plan); tcapi.Code(err) == "OperationDenied.NoticeHasAlarm" {
				fmt.Fprintf(stdout, "deleted: the alarms wire made; kept: notice group %s, which other alarms notify, and the log topic (it holds the function's logs)\n", noticeName)
			} else if err != nil {
				return err
			} else {
				fmt.Fprintf(stdout, "deleted: the alarms and the notice group wire made; kept: the log topic (it holds the function's logs)\n")
			}
		case del:
			fmt.Fprintf(stdout, "kept: the log topic holds the function's logs; delete it in the CLS console if you want it gone\n")
		case plan.Empty():
			fmt.Fprintf(stdout, "in place: logset %s, topic %s, its index\n", lt.logsetID, lt.topicID)
		case dryRun:
			fmt.Fprintf(stdout, "dry run: not sent\n")
		default:
			rep, err := ac.Execute(ctx, plan)
			if err != nil {
				return err
			}
			lt.logsetID, lt.topicID = rep.LogsetID, rep.TopicID
			fmt.Fprintf(stdout, "done: logset %s, topic %s, its index (%s)\n", lt.logsetID, lt.topicID, strings.Join(rep.Writes, ", "))
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(stderr, "wire apply: log topic:", err)
		return 1
	}
	if !del && lt.topicID != "" && (s.TopicID != lt.topicID || s.LogsetID != lt.logsetID) {
		fmt.Fprintf(stdout, "next: serverless.yml must name this topic; set inputs.cls to\n  cls:\n    logsetId: %q\n    topicId: %q\nthen deploy again\n",
			lt.logsetID, lt.topicID)
	}
	return 0
}
