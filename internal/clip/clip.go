// Package clip shortens untrusted strings for messages: every value an
// event or a setting carries into an error or a log line passes through it,
// so that none can make a message long or break its line.
package clip

import "fmt"

// MaxEcho is the most bytes of one value copied into a message.
const MaxEcho = 80

// Quote prints s Go-quoted (control characters escaped), at most MaxEcho
// bytes of it, with its full length when it was cut.
func Quote(s string) string {
	if len(s) > MaxEcho {
		return fmt.Sprintf("%q…(%d bytes)", s[:MaxEcho], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// String shortens text that is already safe to print (a JSON number, a
// library's error message) to max bytes, with its full length when cut.
func String(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return s[:max] + fmt.Sprintf("…(%d bytes)", len(s))
}
