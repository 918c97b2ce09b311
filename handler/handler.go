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
	log := newLogger(h.out(), cfg.LogLevel, fc.RequestID, creds)

	if cfgErr != nil {
		err := fmt.Errorf("picbucket: configuration: %w", cfgErr)
		log.Error().Err(err).Msg("invalid configuration")
		return nil, redactError(err, creds)
	}
	ev, err := trigger.Parse(payload)
	if err != nil {
		err = fmt.Errorf("picbucket: %w", err)
		log.Error().Err(err).Int("payloadBytes", len(payload)).Msg("invalid event")
		return nil, redactError(err, creds)
	}
	if log.GetLevel() <= zerolog.DebugLevel {
		log.Debug().Str("trigger", string(ev.Kind)).Int("targets", len(ev.Targets)).Int("skipped", len(ev.Skipped)).
			Bool("reconcile", ev.Reconcile != nil).Int("payloadBytes", len(payload)).Str("event", maskEvent(payload)).Msg("event")
	}

	r := &run{
		h:      h,
		cfg:    cfg,
		log:    log,
		ev:     ev,
		appID:  cmp.Or(cfg.AppID, fc.TencentcloudAppID),
		dryRun: cfg.DryRun || (ev.DryRun != nil && *ev.DryRun),
		res:    &Result{Trigger: string(ev.Kind), Notes: ev.Notes},
		policy: h.Retry,
		pace:   pace.NewLimited(h.Now, cfg.MaxQPS),
	}
	if r.policy.Attempts == 0 {
		r.policy = retry.Default
	}
	r.res.DryRun = r.dryRun
	for _, n := range ev.Notes {
		log.Info().Str("trigger", string(ev.Kind)).Msg(n)
	}

	var runErr error
	if credErr != nil && r.needsRequests() {
		runErr = fmt.Errorf("picbucket: %w", credErr)
		log.Error().Err(runErr).Msg("no credentials")
	} else {
		rt := &signer.Transport{Source: signer.Env{Getenv: getenv}, Next: &cosapi.Route{Endpoint: cfg.Endpoint, Next: h.transport()}}
		r.api = cosapi.New(rt)
		r.api.Timeout = RequestTimeout
		runErr = r.do(ctx)
	}

	res := r.res
	res.finish()
	if r.api != nil {
		res.Requests = r.api.Requests()
	}
	res.Retries = r.retries.Load()
	res.DurationMs = h.now().Sub(start).Milliseconds()
	for _, b := range res.Results {
		logResult(log, b)
	}
	if runErr == nil && res.Summary.Failed > 0 {
		runErr = fmt.Errorf("picbucket: %d of %d buckets failed; first: %s", res.Summary.Failed, len(res.Results), firstFailure(res))
	}
	logSummary(log, res, runErr)
	if runErr != nil {
		return res, redactError(runErr, creds)
	}
	return res, nil
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
