package handler

import "github.com/rs/zerolog"

// Report: each bucket's result is logged the moment it is known, so that an
// instance killed mid-run still leaves the lines of the work it did; the
// summary line closes the run. The summary and every failed line are
// written whatever LOG_LEVEL says (the level only quiets the other lines).

// add records one bucket's result and writes its log line.
func (r *run) add(b BucketResult) {
	r.mu.Lock()
	r.res.Results = append(r.res.Results, b)
	r.mu.Unlock()
	logResult(r.log, b)
}

// always returns an event written at any level of log, tagged with level
// (zerolog writes NoLevel events unless logging is disabled, which the
// settings refuse).
func always(log zerolog.Logger, level zerolog.Level) *zerolog.Event {
	return log.WithLevel(zerolog.NoLevel).Str(zerolog.LevelFieldName, level.String())
}
