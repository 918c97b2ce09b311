// Package handler is the SCF function: it turns one event into the buckets to
// act on, makes sure each has CI image processing (async) enabled, and reports
// one result per bucket, as a return value and as JSON log lines.
//
// The flow reads straight down: event (trigger.Parse) -> targets (explicit
// buckets, or a reconciliation of listed buckets against enabled ones) -> CI
// calls (bounded worker pool, retries, deadline) -> results -> logs.
package handler

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/cosapi"
	"github.com/picbucket/picbucket/internal/pace"
	"github.com/picbucket/picbucket/internal/retry"
	"github.com/picbucket/picbucket/internal/trigger"
	"github.com/picbucket/picbucket/signer"
)

// RequestTimeout bounds one HTTP request to COS or CI.
const RequestTimeout = 10 * time.Second

// Handler serves invocations. One Handler lives as long as the process; it
// keeps only a connection pool and the buckets it recently confirmed, never
// credentials or settings, which it reads afresh at every invocation.
type Handler struct {
	// Getenv reads settings and credentials; os.Getenv when nil.
	Getenv func(string) string
	// Out receives the JSON log lines; os.Stdout when nil.
	Out io.Writer
	// Transport sends requests after signing; a shared http.Transport when nil.
	Transport http.RoundTripper
	// Retry bounds each call's attempts; retry.Default when zero.
	Retry retry.Policy
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	once      sync.Once
	confirmed *confirmed
}

// New returns a Handler that logs to out, with production defaults.
func New(out io.Writer) *Handler {
	return &Handler{Out: out, Transport: newTransport(), confirmed: newConfirmed()}
}

func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = config.MaxConcurrency
	t.ResponseHeaderTimeout = RequestTimeout
	return t
}

// Invoke implements scf-go-lib's cloudfunction.Handler: it takes the raw
// event and returns the Result as JSON, or the error that marks the
// invocation failed.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	res, err := h.Handle(ctx, payload)
	if err != nil {
		return nil, err
	}
	return json.Marshal(res)
}

// Handle runs one invocation. It returns an error when the event or the
// settings are invalid (then no request is sent), when the credentials are
// missing or refused, or when any bucket failed; the Result is returned as
// far as it got in every case but the first.
func (h *Handler) Handle(ctx context.Context, payload []byte) (*Result, error) {
	start := h.now()
	getenv := h.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	fc, _ := functioncontext.FromContext(ctx)
	if fc == nil {
		fc = &functioncontext.FunctionContext{}
	}
	cfg, cfgErr := config.Load(getenv)
	creds, credErr := signer.Env{Getenv: getenv}.Credentials()
	secrets := newSecretSet(creds)
	log := newLogger(h.out(), cfg.LogLevel, fc.RequestID, secrets)

	if cfgErr != nil {
		err := fmt.Errorf("picbucket: configuration: %w", cfgErr)
		log.Error().Err(err).Msg("invalid configuration")
		return nil, redactError(err, secrets)
	}
	appID := cmp.Or(cfg.AppID, fc.TencentcloudAppID)
	ev, err := trigger.ParseWith(payload, trigger.Options{AppID: appID})
	if err != nil {
		err = fmt.Errorf("picbucket: %w", err)
		log.Error().Err(err).Int("payloadBytes", len(payload)).Msg("invalid event")
		return nil, redactError(err, secrets)
	}
	if log.GetLevel() <= zerolog.DebugLevel {
		log.Debug().Str("trigger", string(ev.Kind)).Int("targets", len(ev.Targets)).Int("locate", len(ev.Locate)).Int("skipped", len(ev.Skipped)).
			Bool("reconcile", ev.Reconcile != nil).Int("payloadBytes", len(payload)).Str("event", maskEvent(payload)).Msg("event")
	}
	for _, n := range ev.Notes {
		log.Info().Str("trigger", string(ev.Kind)).Msg(n)
	}

	inv := &invocation{h: h, cfg: cfg, log: log, ev: ev, fc: fc, getenv: getenv, secrets: secrets, creds: creds, credErr: credErr}
	var res *Result
	var runErr error
	if ev.Kind == trigger.KindCLS {
		res, runErr = inv.cls(ctx)
	} else if cfg.Org || ev.Kind == trigger.KindMember {
		res, runErr = inv.organization(ctx)
	} else {
		res, runErr = inv.account(ctx, ev, accountKey{appID: appID, source: signer.Env{Getenv: getenv}, credErr: credErr}, log)
	}
	if res == nil {
		log.Error().Err(runErr).Msg("refused")
		return nil, redactError(runErr, secrets)
	}
	res.DurationMs = h.now().Sub(start).Milliseconds()
	logSummary(log, res, runErr)
	if runErr != nil {
		return res, redactError(runErr, secrets)
	}
	return res, nil
}

// invocation is what every account of one invocation shares.
type invocation struct {
	h       *Handler
	cfg     config.Config
	log     zerolog.Logger
	ev      *trigger.Request
	fc      *functioncontext.FunctionContext
	getenv  func(string) string
	secrets *secretSet
	creds   signer.Credentials // the function's own key
	credErr error              // why there is none
}

// accountKey is one account to work in and the key that signs its requests.
type accountKey struct {
	uin     string // "" outside organization runs
	appID   string
	source  signer.Source
	credErr error // the source has no usable key
}

// account runs ev in one account and returns its finished Result: the
// buckets' results and summary, and the error that marks the invocation
// failed (a failed bucket, a refused key, a listing that failed).
func (inv *invocation) account(ctx context.Context, ev *trigger.Request, acct accountKey, log zerolog.Logger) (*Result, error) {
	h, cfg := inv.h, inv.cfg
	r := &run{
		h:      h,
		cfg:    cfg,
		log:    log,
		ev:     ev,
		appID:  acct.appID,
		dryRun: cfg.DryRun || (ev.DryRun != nil && *ev.DryRun),
		res:    &Result{Trigger: string(ev.Kind), Notes: ev.Notes},
		seen:   map[string]bool{},
		policy: h.Retry,
		pace:   pace.NewLimited(h.Now, cfg.MaxQPS),
	}
	if r.policy.Attempts == 0 {
		r.policy = retry.Default
	}
	r.res.DryRun = r.dryRun

	var runErr error
	if acct.credErr != nil && r.needsRequests() {
		runErr = fmt.Errorf("picbucket: %w", acct.credErr)
		log.Error().Err(runErr).Msg("no credentials")
	} else {
		rt := &signer.Transport{Source: acct.source, Next: &cosapi.Route{Endpoint: cfg.Endpoint, Next: h.transport()}}
		r.api = cosapi.New(rt)
		r.api.Timeout = RequestTimeout
		runErr = r.do(ctx)
	}

	res := r.res
	if acct.uin != "" {
		for i := range res.Results {
			res.Results[i].Account = acct.uin
		}
	}
	res.finish()
	if r.api != nil {
		res.Requests = r.api.Requests()
	}
	res.Retries = r.retries.Load()
	if runErr == nil && res.Summary.Failed > 0 {
		runErr = fmt.Errorf("picbucket: %d of %d buckets failed; first: %s", res.Summary.Failed, len(res.Results), firstFailure(res))
	}
	return res, runErr
}

func (h *Handler) out() io.Writer {
	if h.Out == nil {
		return os.Stdout
	}
	return h.Out
}

// sharedTransport is the connection pool of Handlers that bring none.
var sharedTransport = sync.OnceValue(func() http.RoundTripper { return newTransport() })

func (h *Handler) transport() http.RoundTripper {
	if h.Transport == nil {
		return sharedTransport()
	}
	return h.Transport
}

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

func (h *Handler) cache() *confirmed {
	h.once.Do(func() {
		if h.confirmed == nil {
			h.confirmed = newConfirmed()
		}
	})
	return h.confirmed
}

func firstFailure(res *Result) string {
	for _, b := range res.Results {
		if b.Outcome == Failed {
			return b.Bucket + "@" + b.Region + ": " + b.Error
		}
	}
	return ""
}
