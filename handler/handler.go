// Package handler is the SCF function: it turns one event into the buckets to
// act on, makes sure each has CI image processing (async) enabled (or each CI
// service PICBUCKET_SERVICES names, service.go), and reports one result per
// bucket (and service), as a return value and as JSON log lines.
//
// The flow reads straight down: Handle reads the settings and the event
// (trigger.ParseWith) and runs it in the function's own account (account.go:
// plan -> execute -> collect -> report) or, for organization runs and CLS
// events, in each account concerned (org.go, fanout.go, member.go, trail.go,
// which run each account through account.go).
package handler

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/picbucket/picbucket/internal/config"
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
	byService sync.Map // ciservice.ID -> *confirmed, for the services but pic (service.go)
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
// invocation failed. Both are what SCF shows as the invocation's return
// value (RetMsg), so both pass through the redaction the log lines do. The
// Result's JSON is kept within SCF's response limit (MaxReturnBytes,
// fitReturn).
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	res, secrets, err := h.handle(ctx, payload)
	if err != nil {
		return nil, err
	}
	return fitReturn(res, secrets, MaxReturnBytes)
}

// Handle runs one invocation. It returns an error when the event or the
// settings are invalid (then no request is sent), when the credentials are
// missing or refused, or when any bucket failed; the Result is returned as
// far as it got in every case but the first. The error and the Result's
// texts are redacted (redactResult); Invoke also redacts the Result's JSON,
// where a secret may appear escaped.
func (h *Handler) Handle(ctx context.Context, payload []byte) (*Result, error) {
	res, _, err := h.handle(ctx, payload)
	return res, err
}

// handle is Handle, also returning the secrets the invocation held.
func (h *Handler) handle(ctx context.Context, payload []byte) (*Result, *secretSet, error) {
	start := h.now()
	getenv := h.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	fc, _ := functioncontext.FromContext(ctx)
	if fc == nil {
		fc = &functioncontext.FunctionContext{}
	}
	limitMemory(fc.MemoryLimitInMb)
	cfg, cfgErr := config.Load(getenv)
	creds, credErr := signer.Env{Getenv: getenv}.Credentials()
	secrets := newSecretSet(creds)
	log := newLogger(h.out(), cfg.LogLevel, fc.RequestID, secrets)

	if cfgErr != nil {
		err := fmt.Errorf("picbucket: configuration: %w", cfgErr)
		log.Error().Err(err).Msg("invalid configuration")
		return nil, secrets, redactError(err, secrets)
	}
	id := newIdentity(cfg, fc, getenv)
	ev, err := trigger.ParseWith(payload, trigger.Options{AppID: id.appID})
	if err != nil {
		err = fmt.Errorf("picbucket: %w", err)
		log.Error().Err(err).Int("payloadBytes", len(payload)).Msg("invalid event")
		return nil, secrets, redactError(err, secrets)
	}
	if log.GetLevel() <= zerolog.DebugLevel {
		log.Debug().Str("trigger", string(ev.Kind)).Int("targets", len(ev.Targets)).Int("locate", len(ev.Locate)).Int("skipped", len(ev.Skipped)).
			Bool("reconcile", ev.Reconcile != nil).Int("payloadBytes", len(payload)).Str("event", maskEvent(payload)).Msg("event")
	}
	for _, n := range ev.Notes {
		log.Info().Str("trigger", string(ev.Kind)).Msg(n)
	}

	inv := &invocation{h: h, cfg: cfg, log: log, ev: ev, fc: fc, id: id, getenv: getenv, secrets: secrets, creds: creds, credErr: credErr}
	var res *Result
	var runErr error
	if ev.Kind == trigger.KindCLS {
		res, runErr = inv.cls(ctx)
	} else if cfg.Org || ev.Kind == trigger.KindMember {
		res, runErr = inv.organization(ctx)
	} else {
		key := inv.ownKey()
		key.uin = "" // a single-account run names no account
		res, runErr = inv.account(ctx, ev, key, log)
	}
	if res == nil {
		log.Error().Err(runErr).Msg("refused")
		return nil, secrets, redactError(runErr, secrets)
	}
	res.DurationMs = h.now().Sub(start).Milliseconds()
	redactResult(res, secrets)
	logSummary(log, res, runErr)
	if runErr != nil {
		return res, secrets, redactError(runErr, secrets)
	}
	return res, secrets, nil
}

// invocation is what every account of one invocation shares.
type invocation struct {
	h       *Handler
	cfg     config.Config
	log     zerolog.Logger
	ev      *trigger.Request
	fc      *functioncontext.FunctionContext
	id      identity // the function's own account, region and name
	getenv  func(string) string
	secrets *secretSet
	creds   signer.Credentials // the function's own key
	credErr error              // why there is none
	// creates counts the Creates started over every account of the
	// invocation: PICBUCKET_MAX_ENABLE caps the invocation, not an account.
	creates atomic.Int64
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
