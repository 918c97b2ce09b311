package pace

import "time"

// Test-only views of a Pacer: the tests drive its clock and read its rate.

// Reserve is reserve at the Pacer's clock with no limit: it books the next
// start if it is within the horizon (see reserve).
func (p *Pacer) Reserve() (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d, booked, _ := p.reserve(p.now(), 0)
	return d, booked
}

// Throttles returns how many throttle events lowered the rate.
func (p *Pacer) Throttles() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.throttles
}
