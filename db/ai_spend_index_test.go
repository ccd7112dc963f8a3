package db_test

import (
	"context"
	"strings"
	"testing"

	"github.com/packshot/packshot/internal/pgtest"
)

// The AI spend check runs under the user's spend advisory lock on every paid enqueue: its
// count of the user's unfinished jobs must read that user's, not every unfinished job of
// every user. With 20,000 unfinished jobs of other users, the plan uses the index.
func TestAISpendUserUsageReadsTheUsersUnfinishedJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t).Pool
	if _, err := pool.Exec(ctx, `
		INSERT INTO job_queue (kind, user_id, status, completed_at)
		SELECT 'image.custom', 'u' || (g % 500), 'completed', now() FROM generate_series(1, 5000) g;
		INSERT INTO job_queue (kind, user_id, status)
		SELECT 'image.custom', 'other' || (g % 500), 'pending' FROM generate_series(1, 20000) g;
		INSERT INTO job_queue (kind, user_id, status) SELECT 'image.custom', 'u1', 'pending' FROM generate_series(1, 3);
		ANALYZE job_queue`); err != nil {
		t.Fatal(err)
	}
	for name, query := range map[string]string{
		"user": `EXPLAIN SELECT count(*) FROM job_queue j WHERE j.user_id = 'u1'
			AND j.status IN ('pending', 'processing') AND j.kind = ANY('{image.custom,image.lifestyle}'::text[])`,
	} {
		rows, err := pool.Query(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if text := strings.Join(plan, "\n"); !strings.Contains(text, "job_queue_unfinished_user_kind_idx") {
			t.Errorf("%s usage plan does not use the index of a user's unfinished jobs:\n%s", name, text)
		}
	}
}
