package api

import (
	"context"
	"strconv"

	"github.com/google/uuid"

	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/queue"
	"github.com/packshot/packshot/internal/realtime"
	"github.com/packshot/packshot/internal/trpc"
)

// onUpdateInput is the input of project.onUpdate.
type onUpdateInput struct {
	ID string `json:"id"`
}

// Validate refuses an id that is not a UUID.
func (in onUpdateInput) Validate() error {
	_, err := pack.ParseID(in.ID)
	return err
}

// registerSubscriptions registers the realtime subscriptions on r:
//
//   - project.onUpdate {id}: the project's snapshot now (or, resuming with lastEventId =
//     a version, only if it is newer), then every newer one and progress overlays in
//     between. Event ids are versions; an overlay repeats its version's id. Someone
//     else's project (or an unknown one) fails with NOT_FOUND.
//   - project.onListUpdate {}: the caller's first page of projects as list items, then
//     every change of any of their projects (untracked events: a resubscribing client
//     gets the first page again).
//   - admin.onJobsUpdate {}: the job monitor's view (jobs per status and the latest
//     failed jobs, as admin.jobStats and admin.failedJobs answer) now, then again after
//     jobs change, at most once per realtime.HubConfig.JobsInterval (untracked: every
//     event is the whole view). For the service role only: like the admin procedures,
//     other callers get FORBIDDEN, callers without a token UNAUTHORIZED.
//
// All need an authenticated caller (auth.UserFrom); the service role may watch any
// project.
func registerSubscriptions(r *trpc.Router, rt *realtime.Broker) {
	trpc.Subscription(r, "project.onUpdate", func(ctx context.Context, in onUpdateInput, lastEventID string, send func(trpc.Event[pack.Snapshot]) error) error {
		user, ok := auth.UserFrom(ctx)
		if !ok {
			return trpc.Errorf(trpc.CodeUnauthorized, "Unauthorized")
		}
		id, err := pack.ParseID(in.ID)
		if err != nil {
			return err
		}
		return watchProject(ctx, rt, id, user, lastEventID, send)
	})
	trpc.Subscription(r, "project.onListUpdate", func(ctx context.Context, _ trpc.Void, _ string, send func(trpc.Event[pack.Summary]) error) error {
		user, ok := auth.UserFrom(ctx)
		if !ok {
			return trpc.Errorf(trpc.CodeUnauthorized, "Unauthorized")
		}
		return watchList(ctx, rt, user.ID, send)
	}, trpc.Untracked())
	trpc.Subscription(r, "admin.onJobsUpdate", func(ctx context.Context, _ trpc.Void, _ string, send func(trpc.Event[JobsUpdate]) error) error {
		user, ok := auth.UserFrom(ctx)
		if !ok {
			return trpc.Errorf(trpc.CodeUnauthorized, "Unauthorized")
		}
		if !user.IsAdmin() {
			return apperr.Errorf(apperr.EFORBIDDEN, "this procedure needs the service_role")
		}
		return watchJobs(ctx, rt, send)
	}, trpc.Untracked())
}

// JobsUpdate is an event of admin.onJobsUpdate: what the job monitor shows.
type JobsUpdate struct {
	// Stats are the jobs per status, as admin.jobStats answers.
	Stats []queue.StatusStat `json:"stats"`
	// Failed are the latest failed jobs, newest first, as admin.failedJobs answers with
	// a limit of JobsUpdateFailed.
	Failed []pack.Job `json:"failed"`
}

// JobsUpdateFailed is how many failed jobs an admin.onJobsUpdate event lists.
const JobsUpdateFailed = 50

// watchJobs sends the job feed's states until ctx ends.
func watchJobs(ctx context.Context, rt *realtime.Broker, send func(trpc.Event[JobsUpdate]) error) error {
	sub := rt.SubscribeJobs()
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sub.C():
		}
		snap, ok, err := sub.Next()
		if err != nil || !ok {
			continue
		}
		data, ok := snap.Data.(JobsUpdate)
		if !ok {
			continue
		}
		if err := send(trpc.Event[JobsUpdate]{Data: data}); err != nil {
			return err
		}
	}
}

// NewSubscriptionRouter returns a tRPC router serving only the realtime subscriptions,
// for tools that measure them without the rest of the API (packshot bench realtime).
func NewSubscriptionRouter(cfg trpc.Config, rt *realtime.Broker) *trpc.Router {
	r := trpc.NewRouter(cfg)
	registerSubscriptions(r, rt)
	return r
}

// watchProject sends a project's states until ctx ends. A client resuming with
// lastEventID is sent only states newer than it: this instance's view may lag behind the
// one the client came from (its first reads can be older than what the client has
// seen), and no state older than one already received may reach the client.
func watchProject(ctx context.Context, rt *realtime.Broker, id uuid.UUID, user auth.User, lastEventID string, send func(trpc.Event[pack.Snapshot]) error) error {
	resume := resumeFrom(lastEventID)
	sub := rt.SubscribeProject(id)
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sub.C():
		}
		snap, ok, err := sub.Next()
		if err != nil {
			return trpc.Errorf(trpc.CodeNotFound, "project not found")
		}
		if !ok {
			continue
		}
		if snap.UserID != user.ID && !user.IsAdmin() {
			return trpc.Errorf(trpc.CodeNotFound, "project not found")
		}
		data, ok := snap.Data.(pack.Snapshot)
		if !ok || resume.skip(snap.Version) {
			continue
		}
		if err := send(trpc.Event[pack.Snapshot]{ID: strconv.FormatInt(snap.Version, 10), Data: data}); err != nil {
			return err
		}
	}
}

// resumePoint is the version a resuming client already has (tRPC lastEventId).
type resumePoint struct {
	seen    int64
	resumed bool // a state newer than seen has been sent
}

// resumeFrom parses lastEventID; no id, or one not of ours, resumes from nothing.
func resumeFrom(lastEventID string) *resumePoint {
	seen, err := strconv.ParseInt(lastEventID, 10, 64)
	if err != nil {
		seen = 0
	}
	return &resumePoint{seen: seen}
}

// skip reports whether a state of version v must not be sent: until one newer than the
// client's is sent, every state at or below its version is skipped. After that, states
// arrive in order (a subscription never goes back), overlays of the same version included.
func (r *resumePoint) skip(v int64) bool {
	if r.resumed {
		return false
	}
	if v <= r.seen {
		return true
	}
	r.resumed = true
	return false
}

// watchList sends the list items of a user's changed projects until ctx ends.
func watchList(ctx context.Context, rt *realtime.Broker, userID string, send func(trpc.Event[pack.Summary]) error) error {
	sub := rt.SubscribeUser(userID)
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sub.C():
		}
		for _, snap := range sub.NextAll() {
			item, ok := snap.Summary.(pack.Summary)
			if !ok {
				continue
			}
			if err := send(trpc.Event[pack.Summary]{Data: item}); err != nil {
				return err
			}
		}
	}
}

// RealtimeHubConfig returns the hub configuration that serves the pack's snapshots:
// loads through svc, summaries for list subscribers, and progress overlays on image
// slots. cmd/packshot passes it to realtime.New.
func RealtimeHubConfig(svc *pack.Service) realtime.HubConfig {
	return realtime.HubConfig{
		LoadFunc: func(ctx context.Context, id uuid.UUID) (realtime.Snapshot, error) {
			s, err := svc.Snapshot(ctx, id)
			if err != nil {
				return realtime.Snapshot{}, err
			}
			return realtime.Snapshot{ProjectID: s.ID, UserID: s.UserID, Version: s.Version, Data: s}, nil
		},
		SummaryFunc: func(ctx context.Context, id uuid.UUID) (any, error) {
			return svc.Summary(ctx, id)
		},
		// A list subscriber gets the first page of its projects when it subscribes and
		// after a listener reconnect, so changes it missed while away reach it.
		LoadUserFunc: func(ctx context.Context, userID string) ([]realtime.Snapshot, error) {
			page, err := svc.List(ctx, pack.Caller{UserID: userID}, "", pack.DefaultPageSize)
			if err != nil {
				return nil, err
			}
			out := make([]realtime.Snapshot, len(page.Items))
			for i, item := range page.Items {
				out[i] = realtime.Snapshot{ProjectID: item.ID, UserID: item.UserID, Version: item.Version, Summary: item}
			}
			return out, nil
		},
		ApplyProgressFunc: applyProgress,
		// The job feed reads what the admin procedures read, as the service role: only
		// admin.onJobsUpdate, which refuses everyone else, receives it.
		LoadJobsFunc: func(ctx context.Context) (any, error) {
			ops := pack.Caller{Admin: true}
			stats, err := svc.AdminJobStats(ctx, ops)
			if err != nil {
				return nil, err
			}
			failed, err := svc.AdminFailedJobs(ctx, ops, JobsUpdateFailed)
			if err != nil {
				return nil, err
			}
			return JobsUpdate{Stats: stats.Stats, Failed: failed}, nil
		},
	}
}

// applyProgress overlays the jobs' in-memory progress on a pack.Snapshot
// (pack.Snapshot.WithProgress); other data passes unchanged.
func applyProgress(data any, progress []realtime.Progress) any {
	s, ok := data.(pack.Snapshot)
	if !ok || len(progress) == 0 {
		return data
	}
	jp := make([]pack.JobProgress, len(progress))
	for i, p := range progress {
		jp[i] = pack.JobProgress{ProjectID: p.ProjectID, UserID: p.UserID, JobID: p.JobID, Percent: p.Progress, Stage: p.Stage}
	}
	return s.WithProgress(jp)
}
