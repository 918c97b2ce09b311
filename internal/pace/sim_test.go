package pace_test

import (
	"container/heap"
	"math/rand/v2"
	"time"

	"github.com/picbucket/picbucket/internal/pace"
)

// A simulated service limiter: it decides at a request's arrival.
type limiter interface {
	allow(t time.Time) bool
}

// tokenBucket is the emulator's token bucket: refilled at qps, holding at
// most max(1, floor(qps/10)) tokens, starting full; a throttled request
// takes nothing.
type tokenBucket struct {
	qps, burst, tokens float64
	last               time.Time
}

func newTokenBucket(qps float64, start time.Time) *tokenBucket {
	b := max(1, float64(int(qps/10)))
	return &tokenBucket{qps: qps, burst: b, tokens: b, last: start}
}

func (b *tokenBucket) allow(t time.Time) bool {
	if dt := t.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(b.burst, b.tokens+dt*b.qps)
		b.last = t
	}
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// slidingWindow throttles a request when the requests it accepted in the
// last second number qps or more.
type slidingWindow struct {
	qps      float64
	accepted []time.Time
}

func (w *slidingWindow) allow(t time.Time) bool {
	from := t.Add(-time.Second)
	i := 0
	for i < len(w.accepted) && !w.accepted[i].After(from) {
		i++
	}
	w.accepted = w.accepted[i:]
	if float64(len(w.accepted)) >= w.qps {
		return false
	}
	w.accepted = append(w.accepted, t)
	return true
}

// simulation is a run of workers that each, in a loop, Reserve a start
// from the pacer, send at that start, and report the answer (at the
// limiter half a latency after the send, back one latency after it).
type simulation struct {
	workers  int
	latency  time.Duration // the latency is latency + a uniform draw from [0, jitter)
	jitter   time.Duration
	duration time.Duration
	seed     uint64
}

type simResult struct {
	sent, accepted, throttled int
	elapsed                   time.Duration
	finalRate                 float64
	throttleEvents            int
}

func (r simResult) throttledShare() float64 {
	return float64(r.throttled) / float64(max(1, r.accepted+r.throttled))
}

func (r simResult) acceptedRate() float64 { return float64(r.accepted) / r.elapsed.Seconds() }

type simEvent struct {
	at     time.Time
	seq    int
	kind   int // ready, arrive, answer
	worker int
	ok     bool
}

const (
	evReady = iota
	evArrive
	evAnswer
)

type events []simEvent

func (e events) Len() int { return len(e) }
func (e events) Less(i, j int) bool {
	if !e[i].at.Equal(e[j].at) {
		return e[i].at.Before(e[j].at)
	}
	return e[i].seq < e[j].seq
}
func (e events) Swap(i, j int) { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)   { *e = append(*e, x.(simEvent)) }
func (e *events) Pop() any     { old := *e; x := old[len(old)-1]; *e = old[:len(old)-1]; return x }

var simStart = time.Unix(1_000_000, 0)

// run simulates s against lim with a pacer made by newPacer (given the
// simulated clock).
func (s simulation) run(lim limiter, newPacer func(now func() time.Time) *pace.Pacer) simResult {
	now := simStart
	p := newPacer(func() time.Time { return now })
	rng := rand.New(rand.NewPCG(s.seed, 7))
	end := simStart.Add(s.duration)
	var q events
	seq := 0
	push := func(e simEvent) { seq++; e.seq = seq; heap.Push(&q, e) }
	for w := range s.workers {
		push(simEvent{at: now, kind: evReady, worker: w})
	}
	var res simResult
	sentAt := make([]time.Time, s.workers)
	lat := make([]time.Duration, s.workers)
	for q.Len() > 0 {
		e := heap.Pop(&q).(simEvent)
		if e.at.After(end) {
			break
		}
		now = e.at
		switch e.kind {
		case evReady:
			d, ok := p.Reserve()
			if !ok {
				push(simEvent{at: now.Add(d), kind: evReady, worker: e.worker})
				continue
			}
			sentAt[e.worker] = now.Add(d)
			lat[e.worker] = s.latency
			if s.jitter > 0 {
				lat[e.worker] += time.Duration(rng.Int64N(int64(s.jitter)))
			}
			push(simEvent{at: sentAt[e.worker].Add(lat[e.worker] / 2), kind: evArrive, worker: e.worker})
		case evArrive:
			res.sent++
			push(simEvent{at: sentAt[e.worker].Add(lat[e.worker]), kind: evAnswer, worker: e.worker, ok: lim.allow(now)})
		case evAnswer:
			if e.ok {
				res.accepted++
				p.Accepted()
			} else {
				res.throttled++
				p.Throttled()
			}
			push(simEvent{at: now, kind: evReady, worker: e.worker})
		}
	}
	res.elapsed = s.duration
	res.finalRate = p.Rate()
	res.throttleEvents = p.Throttles()
	return res
}
