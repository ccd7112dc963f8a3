package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestProjectRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.New(t).Store

	created, err := store.ProjectCreate(ctx, db.ProjectCreateParams{UserID: "user-1", Name: "Mug", Marketplace: "etsy"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.Status != "draft" || created.Version != 1 || created.ID == uuid.Nil {
		t.Fatalf("new project = %+v; want draft, version 1, an id", created)
	}
	got, err := store.ProjectGetForUser(ctx, db.ProjectGetForUserParams{ID: created.ID, UserID: "user-1"})
	if err != nil || got.Name != "Mug" || got.Marketplace != "etsy" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	// Another user's id is answered like an unknown one.
	if _, err := store.ProjectGetForUser(ctx, db.ProjectGetForUserParams{ID: created.ID, UserID: "user-2"}); !db.IsNotFound(err) {
		t.Fatalf("foreign get err = %v; want not found", err)
	}
	list, err := store.ProjectListForUser(ctx, db.ProjectListForUserParams{UserID: "user-1", CursorCreatedAt: time.Unix(0, 0), RowLimit: 10})
	if err != nil || len(list) != 1 {
		t.Fatalf("list = %v, %v", list, err)
	}
}

func TestInTxCommitsAndRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.New(t).Store
	p, err := store.ProjectCreate(ctx, db.ProjectCreateParams{UserID: "u", Name: "Lamp", Marketplace: "amazon"})
	if err != nil {
		t.Fatal(err)
	}

	err = store.InTx(ctx, func(q db.Querier) error {
		_, err := q.ProjectSetStatus(ctx, db.ProjectSetStatusParams{ID: p.ID, Status: "ready"})
		return err
	})
	if err != nil {
		t.Fatalf("commit tx: %v", err)
	}
	boom := errors.New("boom")
	err = store.InTx(ctx, func(q db.Querier) error {
		if _, err := q.ProjectRename(ctx, db.ProjectRenameParams{ID: p.ID, Name: "never"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("rollback tx err = %v; want boom", err)
	}
	got, err := store.ProjectGet(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "ready" || got.Name != "Lamp" || got.Version != 2 {
		t.Fatalf("after commit+rollback = status %q name %q version %d; want ready, Lamp, 2", got.Status, got.Name, got.Version)
	}
}

func TestInTxOptionsAndSavepoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.New(t).Store
	p, err := store.ProjectCreate(ctx, db.ProjectCreateParams{UserID: "u", Name: "Vase", Marketplace: "etsy"})
	if err != nil {
		t.Fatal(err)
	}
	// A read-only transaction refuses a write.
	err = store.InTx(ctx, func(q db.Querier) error {
		_, err := q.ProjectRename(ctx, db.ProjectRenameParams{ID: p.ID, Name: "never"})
		return err
	}, db.RepeatableRead, db.ReadOnly)
	if err == nil {
		t.Fatal("write in a read-only transaction succeeded")
	}
	// A failing savepoint is undone; the transaction's other writes commit.
	boom := errors.New("boom")
	err = store.InTx(ctx, func(q db.Querier) error {
		if _, err := q.ProjectRename(ctx, db.ProjectRenameParams{ID: p.ID, Name: "Jug"}); err != nil {
			return err
		}
		spErr := db.Savepoint(ctx, q, func(sp db.Querier) error {
			if _, err := sp.ProjectSetStatus(ctx, db.ProjectSetStatusParams{ID: p.ID, Status: "ready"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(spErr, boom) {
			t.Errorf("savepoint err = %v; want boom", spErr)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.ProjectGet(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Jug" || got.Status != "draft" {
		t.Fatalf("after savepoint rollback: name %q status %q; want Jug, draft", got.Name, got.Status)
	}
	// Outside a transaction there is no savepoint.
	if err := db.Savepoint(ctx, store, func(db.Querier) error { return nil }); err == nil {
		t.Fatal("savepoint outside a transaction succeeded")
	}
}
