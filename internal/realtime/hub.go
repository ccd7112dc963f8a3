package realtime

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/internal/apperr"
)

// ErrNotFound is what a project subscription reports once its project does not exist
// (never did, or was deleted). A LoadFunc signals it by returning ErrNotFound or an
// apperr ENOTFOUND.
var ErrNotFound = errors.New("realtime: project not found")

// Snapshot is one state of a project as subscribers see it, made by a LoadFunc.
type Snapshot struct {
	// ProjectID, UserID and Version identify the state; Version only increases.
	ProjectID uuid.UUID
	UserID    string
	Version   int64
	// Data is what project subscribers receive (the pack's ProjectSnapshot).
	Data any
	// Summary is what the owner's list subscribers receive (the pack's ProjectSummary);
	// nil sends them nothing.
	Summary any

	// seq orders the states offered for one version: loads and progress overlays.
	seq uint64
}

// HubConfig configures a Hub.
type HubConfig struct {
	// LoadFunc reads a project's current snapshot. Required. It is called once per
	// burst of doorbells, however many subscribers the project has.
	LoadFunc func(ctx context.Context, projectID uuid.UUID) (Snapshot, error)
	// SummaryFunc reads a project's list state (the pack's ProjectSummary) for the
	// owner's list subscribers, when the snapshot LoadFunc made has no Summary. It is
	// called only when the owner has list subscribers on this instance. Optional.
	SummaryFunc func(ctx context.Context, projectID uuid.UUID) (any, error)
	// LoadUserFunc reads the current states of a user's recent projects, with Summary
	// set, for list subscribers: when one subscribes and after a notifier reconnect.
	// Loads are de-duplicated per user (one runs, at most one more waits, however many
	// subscribe), and a queued load whose subscribers all left is dropped, as is a
	// project's. Optional.
	LoadUserFunc func(ctx context.Context, userID string) ([]Snapshot, error)
	// ApplyProgressFunc returns a copy of a snapshot's Data with the jobs' in-memory
	// progress applied (to the slots still running those jobs). It must not modify
	// data. Nil ignores progress messages.
	ApplyProgressFunc func(data any, progress []Progress) any
	// LoadJobsFunc reads the state of the job queue for job subscribers (the
	// operators' job monitor; see SubscribeJobs). Optional: without it job
	// subscribers receive nothing.
	LoadJobsFunc func(ctx context.Context) (any, error)
	// JobsInterval is the least time between the starts of two loads of the job feed.
	// Defaults to 1 s.
	JobsInterval time.Duration
	// ProgressInterval is the least time between two progress overlays of one project.
	// Defaults to 100 ms (10 per second).
	ProgressInterval time.Duration
	// LoadConcurrency is how many snapshots load at once, each on a pool connection for
	// the length of a short read-only transaction. Defaults to 8.
	LoadConcurrency int
	// LoadTimeout bounds one load. Defaults to 10 s.
	LoadTimeout time.Duration
	// Logger receives load failures. Defaults to discarding.
	Logger *slog.Logger
	// Metrics receives Subscribers, SnapshotLoads and FanoutLag.
	Metrics *Metrics
}

// Hub keeps the subscriptions of one instance and fans each project's newest snapshot
// out to them. It never waits for a subscriber.
type Hub struct {
	cfg    HubConfig
	signal chan struct{}

	mu       sync.Mutex
	projects map[uuid.UUID]*projectState
	users    map[string]map[*Subscription]struct{}
	userLoad map[string]*loadState // users with a load queued or running
	jobFeed  jobFeed
	nsubs    int
	queue    []loadItem
	epoch    uint64 // counts notifier (re)connects; a cached snapshot of an older epoch may be stale
	synced   bool   // the notifier is connected: cached snapshots of this epoch are current
	seq      uint64
}

// loadState de-duplicates the loads of one user's recent projects: however many list
// subscribers arrive, at most one load runs and one more waits.
type loadState struct {
	queued  bool
	loading bool
	dirty   bool // a subscriber arrived while the load ran: it may have read too early
}

// projectState is what the hub knows of one project with subscribers (or one being
// loaded for list subscribers).
type projectState struct {
	id      uuid.UUID
	owner   string // the project's user, once a doorbell or a load told it
	subs    map[*Subscription]struct{}
	base    *Snapshot // last loaded
	last    *Snapshot // last offered: base with progress applied
	epoch   uint64    // epoch base was loaded in
	want    int64     // highest version a doorbell announced
	ringAt  time.Time // when the oldest unserved doorbell was published
	queued  bool
	loading bool
	dirty   bool // something asked for a load while one ran
	blind   bool // a doorbell without a version rang while a load ran
	retries int

	overlay      map[uuid.UUID]Progress // by job
	lastOverlay  time.Time
	overlayTimer bool
}

// loadItem is one queued load: a project, a user's recent projects, or the job feed.
type loadItem struct {
	project uuid.UUID
	user    string
	jobs    bool
}

// NewHub returns a Hub. Call Run to start loading.
func NewHub(cfg HubConfig) *Hub {
	if cfg.ProgressInterval <= 0 {
		cfg.ProgressInterval = 100 * time.Millisecond
	}
	if cfg.LoadConcurrency <= 0 {
		cfg.LoadConcurrency = 8
	}
	if cfg.LoadTimeout <= 0 {
		cfg.LoadTimeout = 10 * time.Second
	}
	if cfg.JobsInterval <= 0 {
		cfg.JobsInterval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Hub{
		cfg:      cfg,
		signal:   make(chan struct{}, 1),
		projects: map[uuid.UUID]*projectState{},
		users:    map[string]map[*Subscription]struct{}{},
		userLoad: map[string]*loadState{},
		jobFeed:  jobFeed{subs: map[*Subscription]struct{}{}},
	}
}

// Run loads snapshots for subscribers until ctx is done. It returns nil.
func (h *Hub) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range h.cfg.LoadConcurrency {
		wg.Go(func() { h.work(ctx) })
	}
	wg.Wait()
	return nil
}

// SubscribeProject subscribes to a project's states. The subscription is soon offered the
// project's current state, then every newer one. It does not check who may see the
// project: the caller compares each state's UserID.
func (h *Hub) SubscribeProject(projectID uuid.UUID) *Subscription {
	sub := &Subscription{hub: h, project: projectID, ready: make(chan struct{}, 1)}
	h.mu.Lock()
	st := h.stateLocked(projectID)
	st.subs[sub] = struct{}{}
	h.nsubs++
	n := h.nsubs
	if st.last != nil && h.synced && st.epoch == h.epoch {
		// Any change after this cached state rings a doorbell that is still on its way.
		sub.offer(st.last)
	} else {
		h.requestLoadLocked(st)
	}
	h.mu.Unlock()
	h.cfg.Metrics.subscribers(n)
	return sub
}

// SubscribeUser subscribes to the list states (Snapshot.Summary) of a user's projects:
// with a LoadUserFunc, those of the recent ones at once, then every change.
func (h *Hub) SubscribeUser(userID string) *Subscription {
	sub := &Subscription{hub: h, user: userID, ready: make(chan struct{}, 1),
		pending: map[uuid.UUID]*Snapshot{}, seen: map[uuid.UUID]int64{}}
	h.mu.Lock()
	subs := h.users[userID]
	if subs == nil {
		subs = map[*Subscription]struct{}{}
		h.users[userID] = subs
	}
	subs[sub] = struct{}{}
	h.nsubs++
	n := h.nsubs
	h.requestUserLoadLocked(userID)
	h.mu.Unlock()
	h.cfg.Metrics.subscribers(n)
	return sub
}

// requestUserLoadLocked queues a load of user's recent projects unless one is already
// queued, or asks the running one to be repeated.
func (h *Hub) requestUserLoadLocked(user string) {
	if h.cfg.LoadUserFunc == nil {
		return
	}
	ls := h.userLoad[user]
	if ls == nil {
		ls = &loadState{}
		h.userLoad[user] = ls
	}
	switch {
	case ls.loading:
		ls.dirty = true
	case !ls.queued:
		ls.queued = true
		h.pushLocked(loadItem{user: user})
	}
}

func (h *Hub) unsubscribe(sub *Subscription) {
	h.mu.Lock()
	if sub.jobs {
		delete(h.jobFeed.subs, sub)
		h.forgetJobsLocked()
	} else if sub.user != "" {
		if subs := h.users[sub.user]; subs != nil {
			delete(subs, sub)
			if len(subs) == 0 {
				delete(h.users, sub.user)
			}
		}
	} else if st := h.projects[sub.project]; st != nil {
		delete(st.subs, sub)
		h.forgetIfIdleLocked(st)
	}
	h.nsubs--
	n := h.nsubs
	h.mu.Unlock()
	h.cfg.Metrics.subscribers(n)
}

// Subscribers returns the number of open subscriptions.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.nsubs
}

// Receive handles the messages of one notification.
func (h *Hub) Receive(msgs []message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range msgs {
		switch m.Kind {
		case kindDoorbell:
			h.ringLocked(m.change(), m.sentAt())
		case kindProgress:
			h.progressLocked(m.progress())
		}
	}
}

// Ring handles a doorbell published on this instance, without waiting for its
// notification to come back.
func (h *Hub) Ring(d Change) {
	h.mu.Lock()
	h.ringLocked(d, time.Now())
	h.mu.Unlock()
}

// ReportProgress handles progress reported on this instance.
func (h *Hub) ReportProgress(p Progress) {
	h.mu.Lock()
	h.progressLocked(p)
	h.mu.Unlock()
}

// Resync re-reads the state of every subscribed project and user: called after the
// notifier (re)connected, when notifications may have been lost.
func (h *Hub) Resync() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.epoch++
	h.synced = true
	for _, st := range h.projects {
		if len(st.subs) > 0 {
			h.requestLoadLocked(st)
		}
	}
	for user := range h.users {
		h.requestUserLoadLocked(user)
	}
	h.requestJobsLoadLocked()
}

// Disconnected notes that the notifier's connection is down: cached snapshots may go
// stale, so new subscribers get theirs read from the database.
func (h *Hub) Disconnected() {
	h.mu.Lock()
	h.synced = false
	h.mu.Unlock()
}

func (h *Hub) stateLocked(id uuid.UUID) *projectState {
	st := h.projects[id]
	if st == nil {
		st = &projectState{id: id, subs: map[*Subscription]struct{}{}}
		h.projects[id] = st
	}
	return st
}

// forgetIfIdleLocked drops a project nobody subscribes to and nothing loads.
func (h *Hub) forgetIfIdleLocked(st *projectState) {
	if len(st.subs) == 0 && !st.queued && !st.loading && h.projects[st.id] == st {
		delete(h.projects, st.id)
	}
}

func (h *Hub) ringLocked(d Change, sentAt time.Time) {
	h.requestJobsLoadLocked() // a job's change rings its project's doorbell
	st := h.projects[d.ProjectID]
	if st == nil {
		if len(h.users[d.UserID]) == 0 {
			return // nobody here cares
		}
		st = h.stateLocked(d.ProjectID)
	}
	if d.UserID != "" {
		st.owner = d.UserID
	}
	if d.Version > 0 && st.base != nil && st.base.Version >= d.Version && st.epoch == h.epoch {
		return // already served
	}
	st.want = max(st.want, d.Version)
	if d.Version <= 0 && st.loading {
		st.blind = true // the running load may have read too early
	}
	if st.ringAt.IsZero() {
		st.ringAt = sentAt
	}
	h.requestLoadLocked(st)
}

// requestLoadLocked queues a load of st, or asks the running one to be repeated.
func (h *Hub) requestLoadLocked(st *projectState) {
	switch {
	case st.loading:
		st.dirty = true
	case !st.queued:
		st.queued = true
		h.pushLocked(loadItem{project: st.id})
	}
}

func (h *Hub) pushLocked(it loadItem) {
	h.queue = append(h.queue, it)
	select {
	case h.signal <- struct{}{}:
	default:
	}
}

// work runs queued loads until ctx is done.
func (h *Hub) work(ctx context.Context) {
	for {
		h.mu.Lock()
		var it loadItem
		ok := len(h.queue) > 0
		if ok {
			it = h.queue[0]
			h.queue[0] = loadItem{}
			h.queue = h.queue[1:]
			if len(h.queue) > 0 {
				select {
				case h.signal <- struct{}{}:
				default:
				}
			} else {
				h.queue = nil
			}
		}
		h.mu.Unlock()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-h.signal:
				continue
			}
		}
		switch {
		case it.jobs:
			h.loadJobs(ctx)
		case it.user != "":
			h.loadUser(ctx, it.user)
		default:
			h.loadProject(ctx, it.project)
		}
	}
}

// loadProject loads one project's snapshot and offers it to its subscribers and its
// owner's list subscribers.
func (h *Hub) loadProject(ctx context.Context, id uuid.UUID) {
	h.mu.Lock()
	st := h.projects[id]
	if st == nil || !st.queued {
		h.mu.Unlock()
		return
	}
	if len(st.subs) == 0 && len(h.users[st.owner]) == 0 {
		// Everyone who asked for it left while it waited: drop it.
		st.queued = false
		h.forgetIfIdleLocked(st)
		h.mu.Unlock()
		h.cfg.Metrics.loadDropped()
		return
	}
	st.queued, st.loading, st.dirty, st.blind = false, true, false, false
	epoch := h.epoch
	ringAt := st.ringAt
	st.ringAt = time.Time{}
	h.mu.Unlock()

	lctx, cancel := context.WithTimeout(ctx, h.cfg.LoadTimeout)
	snap, err := h.cfg.LoadFunc(lctx, id)
	if err == nil && snap.Summary == nil && h.cfg.SummaryFunc != nil && h.hasListSubscribers(snap.UserID) {
		snap.Summary, err = h.cfg.SummaryFunc(lctx, id)
	}
	cancel()
	h.cfg.Metrics.load()

	h.mu.Lock()
	defer h.mu.Unlock()
	st.loading = false
	switch {
	case errors.Is(err, ErrNotFound) || (err != nil && apperr.Code(err) == apperr.ENOTFOUND):
		st.base, st.last = nil, nil // a later subscriber must not get the old state
		for sub := range st.subs {
			sub.offerGone()
		}
	case err != nil:
		if ctx.Err() != nil {
			return
		}
		st.retries++
		h.cfg.Logger.Warn("realtime: load snapshot", "project", id, "err", err, "retries", st.retries)
		st.queued = true // keeps the state while the retry waits
		time.AfterFunc(min(time.Duration(st.retries)*200*time.Millisecond, 5*time.Second), func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.projects[id] == st {
				h.pushLocked(loadItem{project: id})
			}
		})
		return
	default:
		st.retries = 0
		h.loadedLocked(st, &snap, epoch, ringAt)
	}
	if st.dirty && (st.blind || st.want > st.baseVersion() || st.epoch != h.epoch) {
		h.requestLoadLocked(st)
	} else {
		st.ringAt = time.Time{} // doorbells rung during the load were served by it
	}
	h.forgetIfIdleLocked(st)
}

func (h *Hub) hasListSubscribers(user string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.users[user]) > 0
}

func (st *projectState) baseVersion() int64 {
	if st.base == nil {
		return 0
	}
	return st.base.Version
}

// loadedLocked records a loaded snapshot and offers it: to everyone when it is newer
// than the last, else only to subscribers still waiting for their first state.
func (h *Hub) loadedLocked(st *projectState, snap *Snapshot, epoch uint64, ringAt time.Time) {
	newer := st.base == nil || snap.Version > st.base.Version
	if !newer && snap.Version < st.base.Version {
		snap = st.base // a read older than one already served; keep the newer
	}
	st.base, st.epoch = snap, epoch
	if snap.UserID != "" {
		st.owner = snap.UserID
	}
	if newer {
		st.last = h.overlaidLocked(st)
		for sub := range st.subs {
			sub.offer(st.last)
		}
		if snap.Summary != nil {
			for sub := range h.users[snap.UserID] {
				sub.offer(snap)
			}
		}
		h.cfg.Metrics.fanoutLag(ringAt)
		return
	}
	if st.last == nil {
		st.last = h.overlaidLocked(st)
	}
	for sub := range st.subs {
		if !sub.isSeeded() {
			sub.offer(st.last)
		}
	}
}

// overlaidLocked returns st's base snapshot with the progress overlay applied, as a new
// state.
func (h *Hub) overlaidLocked(st *projectState) *Snapshot {
	h.seq++
	snap := *st.base
	snap.seq = h.seq
	if len(st.overlay) > 0 && h.cfg.ApplyProgressFunc != nil {
		progress := make([]Progress, 0, len(st.overlay))
		for _, p := range st.overlay {
			progress = append(progress, p)
		}
		snap.Data = h.cfg.ApplyProgressFunc(snap.Data, progress)
	}
	return &snap
}

// loadUser loads a user's recent projects and offers their summaries to the user's list
// subscribers. A load whose subscribers all left while it waited is dropped.
func (h *Hub) loadUser(ctx context.Context, user string) {
	h.mu.Lock()
	ls := h.userLoad[user]
	if ls == nil || !ls.queued {
		h.mu.Unlock()
		return
	}
	if len(h.users[user]) == 0 {
		delete(h.userLoad, user)
		h.mu.Unlock()
		h.cfg.Metrics.loadDropped()
		return
	}
	ls.queued, ls.loading, ls.dirty = false, true, false
	h.mu.Unlock()

	lctx, cancel := context.WithTimeout(ctx, h.cfg.LoadTimeout)
	snaps, err := h.cfg.LoadUserFunc(lctx, user)
	cancel()
	h.cfg.Metrics.userLoad()

	h.mu.Lock()
	defer h.mu.Unlock()
	ls.loading = false
	switch {
	case ls.dirty && len(h.users[user]) > 0:
		// A subscriber arrived while this load ran: it gets its own, later read.
		ls.dirty, ls.queued = false, true
		h.pushLocked(loadItem{user: user})
	case !ls.queued:
		delete(h.userLoad, user)
	}
	if err != nil {
		if ctx.Err() == nil {
			h.cfg.Logger.Warn("realtime: load user's projects", "user", user, "err", err)
		}
		return
	}
	for i := range snaps {
		if snaps[i].Summary == nil {
			continue
		}
		for sub := range h.users[user] {
			sub.offer(&snaps[i])
		}
	}
}
