package stdiobridge

import (
	"context"
	"sync"
)

// mailbox carries messages from the stdout reader to one HTTP response.
// put never blocks, so one slow client cannot stall its session's other
// streams; past max queued messages the mailbox overflows and the
// response ends.
type mailbox struct {
	mu       sync.Mutex
	queue    [][]byte
	max      int
	closed   bool
	overflow bool
	signal   chan struct{} // capacity 1: something changed
}

func newMailbox(max int) *mailbox {
	return &mailbox{max: max, signal: make(chan struct{}, 1)}
}

func (m *mailbox) notify() {
	select {
	case m.signal <- struct{}{}:
	default:
	}
}

// put queues msg; false if the mailbox is closed or just overflowed.
func (m *mailbox) put(msg []byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	if len(m.queue) >= m.max {
		m.closed, m.overflow = true, true
		m.notify()
		return false
	}
	m.queue = append(m.queue, msg)
	m.notify()
	return true
}

// close ends the mailbox once what is queued has been taken.
func (m *mailbox) close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.notify()
}

// next waits for the next message; ok is false once closed and empty, or
// when ctx ends.
func (m *mailbox) next(ctx context.Context) (msg []byte, ok bool) {
	for {
		m.mu.Lock()
		if len(m.queue) > 0 {
			msg, m.queue = m.queue[0], m.queue[1:]
			m.mu.Unlock()
			return msg, true
		}
		closed := m.closed
		m.mu.Unlock()
		if closed {
			return nil, false
		}
		select {
		case <-m.signal:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// pending says whether a message is queued now.
func (m *mailbox) pending() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.queue) > 0
}

// drain closes the mailbox and returns what was never taken.
func (m *mailbox) drain() [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	q := m.queue
	m.queue = nil
	return q
}
