package realtime

import (
	"context"
	"time"
)

// The job feed serves the operators' job monitor: a state of the whole queue (made by
// HubConfig.LoadJobsFunc) for every job subscriber, reloaded after the doorbells that
// job changes already ring. Every state change of a job with a project bumps its
// project's version and rings a doorbell, on whichever instance it happened, so any
// doorbell may mean the queue moved. Loads are shared by all job subscribers of the
// instance, at most one runs and one waits, and two start at least JobsInterval apart:
// a busy queue costs one load per interval however many operators watch.

// jobFeed is the hub's state of the job feed.
type jobFeed struct {
	subs     map[*Subscription]struct{}
	load     loadState
	last     *Snapshot // last loaded state, while there have been subscribers since
	epoch    uint64    // epoch last was loaded in
	loadedAt time.Time // when the last load started
	timer    bool      // a load waits for JobsInterval to pass
	version  int64     // counts loads; a state's Version
}

// SubscribeJobs subscribes to the state of the job queue (the Data of LoadJobsFunc's
// snapshots): the current one soon, then a new one after changes, at most one per
// JobsInterval. Take states with Next. It does not check who may see the queue: the
// caller must.
func (h *Hub) SubscribeJobs() *Subscription {
	sub := &Subscription{hub: h, jobs: true, ready: make(chan struct{}, 1)}
	h.mu.Lock()
	f := &h.jobFeed
	f.subs[sub] = struct{}{}
	h.nsubs++
	n := h.nsubs
	if f.last != nil && h.synced && f.epoch == h.epoch && !f.load.loading {
		// Every change after it rang a doorbell that requested a load.
		sub.offer(f.last)
	} else {
		h.requestJobsLoadLocked()
	}
	h.mu.Unlock()
	h.cfg.Metrics.subscribers(n)
	return sub
}

// requestJobsLoadLocked queues a load of the job feed, or asks the running one to be
// repeated, keeping loads JobsInterval apart.
func (h *Hub) requestJobsLoadLocked() {
	f := &h.jobFeed
	if h.cfg.LoadJobsFunc == nil || len(f.subs) == 0 {
		return
	}
	switch {
	case f.load.loading:
		f.load.dirty = true
	case f.load.queued || f.timer:
	default:
		wait := h.cfg.JobsInterval - time.Since(f.loadedAt)
		if wait <= 0 {
			f.load.queued = true
			h.pushLocked(loadItem{jobs: true})
			return
		}
		f.timer = true
		time.AfterFunc(wait, func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			f.timer = false
			h.requestJobsLoadLocked()
		})
	}
}

// forgetJobsLocked drops the cached state once no one subscribes: changes from now on
// request no loads, so it would go stale.
func (h *Hub) forgetJobsLocked() {
	if len(h.jobFeed.subs) == 0 {
		h.jobFeed.last = nil
	}
}

// loadJobs loads the job feed and offers it to every job subscriber.
func (h *Hub) loadJobs(ctx context.Context) {
	h.mu.Lock()
	f := &h.jobFeed
	if !f.load.queued {
		h.mu.Unlock()
		return
	}
	f.load.queued = false
	if len(f.subs) == 0 {
		h.mu.Unlock()
		h.cfg.Metrics.loadDropped()
		return
	}
	f.load.loading, f.load.dirty = true, false
	f.loadedAt = time.Now()
	epoch := h.epoch
	h.mu.Unlock()

	lctx, cancel := context.WithTimeout(ctx, h.cfg.LoadTimeout)
	data, err := h.cfg.LoadJobsFunc(lctx)
	cancel()
	h.cfg.Metrics.jobsLoad()

	h.mu.Lock()
	defer h.mu.Unlock()
	f.load.loading = false
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		h.cfg.Logger.Warn("realtime: load the job feed", "err", err)
		f.load.dirty = true // try again after the interval
	} else if len(f.subs) > 0 {
		f.version++
		h.seq++
		f.last = &Snapshot{Version: f.version, Data: data, seq: h.seq}
		f.epoch = epoch
		for sub := range f.subs {
			sub.offer(f.last)
		}
	}
	if f.load.dirty {
		f.load.dirty = false
		h.requestJobsLoadLocked()
	}
}
