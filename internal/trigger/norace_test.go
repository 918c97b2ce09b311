//go:build !race

package trigger

// raceEnabled is set when the tests run under the race detector.
const raceEnabled = false
