package sim

// The event queue: a binary heap ordered by virtual time, ties broken by
// the order events were scheduled, so that a run is the same every time.

type event struct {
	at  int64 // virtual time in ns
	seq uint64
	// A frame arriving on an interface, or a timer.
	to    *iface
	frame []byte
	fn    func()
	// tm, when set, cancels fn: a dead timer's event is dropped without
	// moving the clock.
	tm *timer
}

type eventQueue struct {
	items []*event
	seq   uint64
	// busy counts the queued events that are work in progress: frames
	// on a wire and actions due at once (not timers); the network is
	// quiet when there is none.
	busy int
	free []*event
}

func (q *eventQueue) less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

func (q *eventQueue) push(e *event) {
	q.seq++
	e.seq = q.seq
	if e.to != nil || e.tm == nil {
		q.busy++
	}
	q.items = append(q.items, e)
	i := len(q.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.items[i], q.items[p] = q.items[p], q.items[i]
		i = p
	}
}

func (q *eventQueue) newEvent() *event {
	if n := len(q.free); n > 0 {
		e := q.free[n-1]
		q.free = q.free[:n-1]
		return e
	}
	return &event{}
}

// release gives a handled event back for reuse (its frame buffer too).
func (q *eventQueue) release(e *event) {
	buf := e.frame[:0]
	*e = event{frame: buf}
	q.free = append(q.free, e)
}

func (q *eventQueue) peek() *event {
	if len(q.items) == 0 {
		return nil
	}
	return q.items[0]
}

func (q *eventQueue) pop() *event {
	n := len(q.items)
	if n == 0 {
		return nil
	}
	top := q.items[0]
	q.items[0] = q.items[n-1]
	q.items[n-1] = nil
	q.items = q.items[:n-1]
	n--
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q.less(r, l) {
			m = r
		}
		if !q.less(m, i) {
			break
		}
		q.items[i], q.items[m] = q.items[m], q.items[i]
		i = m
	}
	if top.to != nil || top.tm == nil {
		q.busy--
	}
	return top
}

func (q *eventQueue) len() int { return len(q.items) }
