package realtime

import (
	"time"

	"github.com/google/uuid"
)

// progressLocked records a job's progress and schedules an overlay for its project's
// subscribers: at once if the last one is ProgressInterval old, else when it will be.
// Progress from every instance meets here, so the limit holds per project across
// instances.
func (h *Hub) progressLocked(p Progress) {
	if h.cfg.ApplyProgressFunc == nil {
		return
	}
	st := h.projects[p.ProjectID]
	if st == nil || len(st.subs) == 0 {
		return
	}
	if cur, ok := st.overlay[p.JobID]; ok && cur == p {
		return // the same report, seen twice (locally and through NOTIFY)
	}
	if st.overlay == nil {
		st.overlay = map[uuid.UUID]Progress{}
	}
	st.overlay[p.JobID] = p
	if st.overlayTimer {
		return
	}
	wait := h.cfg.ProgressInterval - time.Since(st.lastOverlay)
	if wait <= 0 {
		h.emitOverlayLocked(st)
		return
	}
	st.overlayTimer = true
	time.AfterFunc(wait, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		st.overlayTimer = false
		if h.projects[st.id] == st {
			h.emitOverlayLocked(st)
		}
	})
}

// emitOverlayLocked offers st's last loaded snapshot with the latest progress applied,
// under the same version.
func (h *Hub) emitOverlayLocked(st *projectState) {
	if st.base == nil {
		return // the first load will carry the overlay
	}
	st.lastOverlay = time.Now()
	st.last = h.overlaidLocked(st)
	for sub := range st.subs {
		sub.offer(st.last)
	}
}
