package handler

import (
	"github.com/rs/zerolog"

	"github.com/picbucket/picbucket/internal/ciservice"
)

// Report: each bucket's result is logged the moment it is known, so that an
// instance killed mid-run still leaves the lines of the work it did; the
// summary line closes the invocation. The summary and every failed line are
// written whatever LOG_LEVEL says (the level only quiets the other lines). A
// listed bucket that a filter leaves out is named at debug level only.

// always returns an event written at any level of log, tagged with level
// (zerolog writes NoLevel events unless logging is disabled, which the
// settings refuse).
func always(log zerolog.Logger, level zerolog.Level) *zerolog.Event {
	return log.WithLevel(zerolog.NoLevel).Str(zerolog.LevelFieldName, level.String())
}

// outcomeEvent is the one rule for the level of a bucket's or an account's
// line: failed at error, written at any LOG_LEVEL; deferred at warn; the
// rest at info.
func outcomeEvent(log zerolog.Logger, failed, deferred bool) *zerolog.Event {
	switch {
	case failed:
		return always(log, zerolog.ErrorLevel)
	case deferred:
		return log.Warn()
	}
	return log.Info()
}

// reportFiltered names, at debug level, a bucket a filter left out.
func reportFiltered(log zerolog.Logger, b BucketResult) {
	ev := log.Debug().Str("bucket", b.Bucket).Str("region", b.Region)
	if b.Service != "" {
		ev = ev.Str("service", b.Service)
	}
	ev.Str("outcome", string(filteredOut)).Str("reason", b.Reason).Msg("bucket")
}

// reportBucket writes one line per bucket.
func reportBucket(log zerolog.Logger, b BucketResult) {
	ev := outcomeEvent(log, b.Outcome == Failed, b.Outcome == Deferred)
	ev = ev.Str("bucket", b.Bucket).Str("region", b.Region)
	if b.Service != "" {
		ev = ev.Str("service", b.Service)
	}
	ev = ev.Str("outcome", string(b.Outcome))
	if b.Attempts > 0 {
		ev = ev.Int("attempts", b.Attempts)
	}
	if b.RequestID != "" {
		ev = ev.Str("requestId", b.RequestID)
	}
	if b.Code != "" {
		ev = ev.Str("code", b.Code).Int("httpStatus", b.Status)
	}
	if b.Error != "" {
		ev = ev.Str("error", b.Error)
	}
	if b.Reason != "" {
		ev = ev.Str("reason", b.Reason)
	}
	ev.Msg("bucket")
}

// logSummary writes the one line per invocation that dashboards and alarms
// read: flat fields only.
func logSummary(log zerolog.Logger, res *Result, err error) {
	ev := always(log, zerolog.InfoLevel)
	if err != nil {
		ev = always(log, zerolog.ErrorLevel).Err(err)
	}
	ev = ev.Str("trigger", res.Trigger).Bool("dryRun", res.DryRun).Int("buckets", len(res.Results))
	ev = summaryFields(ev, res.Summary).Int64("requests", res.Requests).Int64("retries", res.Retries).Int64("durationMs", res.DurationMs)
	if len(res.Accounts) > 0 {
		ev = ev.Int("accounts", len(res.Accounts)).Int64("apiRequests", res.APIRequests)
	}
	ev.Msg("summary")
}

// summaryFields adds the outcome counts, as flat fields for CLS.
func summaryFields(ev *zerolog.Event, s Summary) *zerolog.Event {
	ev = ev.Int("enabled", s.Enabled).Int("already_enabled", s.AlreadyEnabled).Int("would_enable", s.WouldEnable).
		Int("skipped", s.Skipped).Int("failed", s.Failed).Int("deferred", s.Deferred).Int("filtered", s.Filtered)
	if len(s.ByService) > 0 {
		// The counts of each service, in ciservice's order: byService.<id>.<outcome>.
		d := zerolog.Dict()
		for _, id := range ciservice.IDs() {
			if bs, ok := s.ByService[id]; ok {
				d = d.Dict(id, summaryFields(zerolog.Dict(), Summary{Enabled: bs.Enabled, AlreadyEnabled: bs.AlreadyEnabled,
					WouldEnable: bs.WouldEnable, Skipped: bs.Skipped, Failed: bs.Failed, Deferred: bs.Deferred, Filtered: bs.Filtered}))
			}
		}
		ev = ev.Dict("byService", d)
	}
	return ev
}

// reportAccount writes one line per account of an organization run.
func reportAccount(log zerolog.Logger, a AccountResult) {
	ev := outcomeEvent(log, a.Outcome == AccountFailed, a.Outcome == AccountDeferred)
	ev = ev.Str("account", a.Uin).Str("appId", a.AppID).Str("outcome", string(a.Outcome))
	if a.Error != "" {
		ev = ev.Str("error", a.Error)
	}
	if a.InvocationID != "" {
		ev = ev.Str("invocationId", a.InvocationID)
	}
	if a.Summary != nil {
		ev = summaryFields(ev, *a.Summary)
	}
	ev.Msg("account")
}
