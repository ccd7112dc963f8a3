package db

import (
	"context"
	"fmt"
	"time"
)

// PauseStore keeps AI provider pauses in the provider_pauses table, so every packshot
// instance on the database honours a pause any one of them recorded. It satisfies
// ai.PauseStore (internal/ai's guard) without this package importing internal/ai.
type PauseStore struct {
	q Querier
}

// NewPauseStore returns a PauseStore that runs its queries on q (usually the Store).
func NewPauseStore(q Querier) *PauseStore { return &PauseStore{q: q} }

// PausedUntil returns the time until which provider is paused: the zero time when it was
// never paused. The time may lie in the past (the pause is over); callers compare it with
// their own clock.
func (s *PauseStore) PausedUntil(ctx context.Context, provider string) (time.Time, error) {
	p, err := s.q.ProviderPauseGet(ctx, provider)
	if IsNotFound(err) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("get %s pause: %w", provider, err)
	}
	return p.PausedUntil, nil
}

// Pause pauses provider until the given time, or leaves a later pause in force: a pause
// only ever extends. reason says why, for operators reading the table.
func (s *PauseStore) Pause(ctx context.Context, provider string, until time.Time, reason string) error {
	_, err := s.q.ProviderPauseExtend(ctx, ProviderPauseExtendParams{Provider: provider, PausedUntil: until, Reason: reason})
	if err != nil {
		return fmt.Errorf("pause %s: %w", provider, err)
	}
	return nil
}
