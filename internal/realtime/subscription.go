package realtime

import (
	"sync"

	"github.com/google/uuid"
)

// Subscription is one subscriber's mailbox. The hub offers it states without ever
// waiting; the mailbox keeps only the newest state per project, so a subscriber that
// reads slowly skips intermediate states and never makes the hub wait or memory grow.
//
// Wait on C, then take what is waiting with Next (project and job feed subscriptions) or
// NextAll (user subscriptions). Close it when done.
type Subscription struct {
	hub     *Hub
	project uuid.UUID // set for a project subscription
	user    string    // set for a user subscription
	jobs    bool      // set for a job feed subscription (a project subscription's mailbox)
	ready   chan struct{}

	mu     sync.Mutex
	latest *Snapshot // project subscription: newest state not yet taken
	gone   bool      // project subscription: the project no longer exists
	seeded bool      // project subscription: has been offered a state
	taken  struct {  // project subscription: what Next returned last
		version int64
		seq     uint64
	}
	pending map[uuid.UUID]*Snapshot // user subscription: newest state per project
	seen    map[uuid.UUID]int64     // user subscription: version taken per project
	closed  bool
}

// C receives a value when a new state may be waiting.
func (s *Subscription) C() <-chan struct{} { return s.ready }

// Next takes the newest state of a project subscription if it is newer than the last
// one taken: a new version, or new progress on the same version. ok is false when
// nothing new waits. err is ErrNotFound once the project no longer exists.
func (s *Subscription) Next() (snap Snapshot, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone {
		return Snapshot{}, false, ErrNotFound
	}
	l := s.latest
	s.latest = nil
	if l == nil || l.Version < s.taken.version || (l.Version == s.taken.version && l.seq <= s.taken.seq) {
		return Snapshot{}, false, nil
	}
	s.taken.version, s.taken.seq = l.Version, l.seq
	return *l, true, nil
}

// NextAll takes the waiting states of a user subscription whose versions were not taken
// yet, at most one per project.
func (s *Subscription) NextAll() []Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Snapshot
	for id, snap := range s.pending {
		if snap.Version > s.seen[id] {
			s.seen[id] = snap.Version
			out = append(out, *snap)
		}
		delete(s.pending, id)
	}
	return out
}

// Close ends the subscription; the hub forgets it. It is safe to call more than once.
func (s *Subscription) Close() {
	s.mu.Lock()
	closed := s.closed
	s.closed = true
	s.mu.Unlock()
	if !closed {
		s.hub.unsubscribe(s)
	}
}

// offer puts snap in the mailbox if it is newer than what waits there. It never blocks.
func (s *Subscription) offer(snap *Snapshot) {
	s.mu.Lock()
	s.seeded = true
	if s.user != "" {
		if cur := s.pending[snap.ProjectID]; cur == nil || snap.Version > cur.Version {
			s.pending[snap.ProjectID] = snap
		}
	} else if l := s.latest; l == nil || snap.Version > l.Version || (snap.Version == l.Version && snap.seq > l.seq) {
		s.latest = snap
	}
	s.mu.Unlock()
	s.signal()
}

// offerGone tells a project subscription that the project no longer exists.
func (s *Subscription) offerGone() {
	s.mu.Lock()
	s.gone, s.seeded = true, true
	s.mu.Unlock()
	s.signal()
}

// isSeeded reports whether the subscription has been offered anything yet.
func (s *Subscription) isSeeded() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seeded
}

func (s *Subscription) signal() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}
