package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/packshot/packshot/db"
)

// maintenanceLockKey is the advisory lock whose holder does this round's maintenance.
const maintenanceLockKey = 0x7061636b5f6d6e74 // "pack_mnt"

// maintenanceLoop rescues expired leases every RescueInterval and prunes finished jobs
// every PruneInterval, on whichever instance takes the advisory lock for the round.
func (d *dispatcher) maintenanceLoop(ctx context.Context) {
	var lastPrune time.Time
	t := time.NewTimer(jitter(d.c.cfg.RescueInterval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		prune := time.Since(lastPrune) >= d.c.cfg.PruneInterval
		rescued, pruned, leader, err := d.c.maintain(ctx, prune)
		if err != nil && ctx.Err() == nil {
			d.c.cfg.Logger.Warn("queue maintenance failed", "err", err)
		}
		if leader && prune && err == nil {
			lastPrune = time.Now()
			if pruned > 0 {
				d.c.cfg.Logger.Info("queue pruned finished jobs", "count", pruned)
			}
		}
		if rescued > 0 {
			d.wake()
			d.c.notifier().ring("w:" + d.c.cfg.WorkerID + ":" + d.c.cfg.Queue)
		}
		t.Reset(jitter(d.c.cfg.RescueInterval))
	}
}

// maintain runs one maintenance round if this instance wins the advisory lock: it returns
// expired leases to pending (or failed, when their attempts are spent) and, with prune,
// deletes finished jobs older than the retention period.
func (c *Client) maintain(ctx context.Context, prune bool) (rescued int, pruned int64, leader bool, err error) {
	var changed []*Job
	err = c.store.InTx(ctx, func(q db.Querier) error {
		ok, err := q.JobTryMaintenanceLock(ctx, maintenanceLockKey)
		if err != nil || !ok {
			return err
		}
		leader = true
		changed, err = rescue(ctx, q, 1000)
		if err != nil {
			return err
		}
		if err := c.runTxHook(ctx, q, withProject(changed)); err != nil {
			return err
		}
		if prune {
			pruned, err = q.JobPrune(ctx, db.JobPruneParams{Before: time.Now().Add(-c.cfg.Retention), RowLimit: 10000})
			if err != nil {
				return fmt.Errorf("prune: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, leader, fmt.Errorf("queue maintenance: %w", err)
	}
	c.afterCommit(changed)
	if len(changed) > 0 && c.cfg.Metrics.RescuedFunc != nil {
		c.cfg.Metrics.RescuedFunc(len(changed))
	}
	return len(changed), pruned, leader, nil
}

// rescue returns up to limit expired runs to pending, compare-and-set on (id, attempts).
func rescue(ctx context.Context, q db.Querier, limit int32) ([]*Job, error) {
	expired, err := q.JobListExpired(ctx, limit)
	if err != nil || len(expired) == 0 {
		return nil, err
	}
	arg := db.JobRescueManyParams{}
	for _, e := range expired {
		arg.Ids = append(arg.Ids, e.ID)
		arg.Attempts = append(arg.Attempts, e.Attempts)
	}
	rows, err := q.JobRescueMany(ctx, arg)
	if err != nil {
		return nil, fmt.Errorf("rescue: %w", err)
	}
	return jobsFromRows(rows), nil
}
