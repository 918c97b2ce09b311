package tcapi

// Transient reports whether a failed call may succeed when sent again, or
// may have taken effect although its answer was an error: throttling, an
// HTTP 5xx, a transport error, a server-side transient error. A caller that
// sends a create once (retry.Policy Attempts 1) reads again after such a
// failure before it sends the create again, so that a create that took
// effect leaves no duplicate.
func Transient(err error) bool { return retryable(err) }
