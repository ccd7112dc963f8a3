package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/packshot/packshot/internal/notifier"
	"github.com/packshot/packshot/internal/notifier/notifiertest"
	"github.com/packshot/packshot/internal/pgtest"
	"github.com/packshot/packshot/internal/realtime"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// state is the test's stand-in for a project snapshot.
type state struct {
	Name     string
	Version  int64
	Progress int
}

// testBundle is one database with helpers to change projects in it.
type testBundle struct {
	ctx  context.Context
	url  string
	pool *pgxpool.Pool
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	d := pgtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return &testBundle{ctx: ctx, url: d.URL, pool: d.Pool}
}

// load reads a project the way the pack's loader does: the whole state, by id.
func (b *testBundle) load(ctx context.Context, id uuid.UUID) (realtime.Snapshot, error) {
	var s state
	var user string
	err := b.pool.QueryRow(ctx, `SELECT user_id, name, version FROM projects WHERE id = $1`, id).Scan(&user, &s.Name, &s.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return realtime.Snapshot{}, realtime.ErrNotFound
	}
	if err != nil {
		return realtime.Snapshot{}, err
	}
	return realtime.Snapshot{ProjectID: id, UserID: user, Version: s.Version, Data: s, Summary: s}, nil
}

// instance is one packshot instance's realtime: its notifier, publisher and broker.
type instance struct {
	*realtime.Broker
	notifier *notifier.Notifier
	// ups and downs receive a value each time the notifier's connection comes up (with
	// LISTEN on realtime.Channel in place and the hub resynced) and goes down.
	ups, downs chan struct{}
}

// broker starts an instance on the bundle's database, stopped when t ends, and waits
// until it hears changes.
func (b *testBundle) broker(t *testing.T, cfg realtime.Config) *instance {
	t.Helper()
	return b.instance(t, b.pool, notifier.Config{}, cfg)
}

// instance starts an instance whose notifier uses pool, stopped when t ends, and waits
// until it hears changes.
func (b *testBundle) instance(t *testing.T, pool *pgxpool.Pool, ncfg notifier.Config, cfg realtime.Config) *instance {
	t.Helper()
	cfg.Hub.LoadFunc = b.load
	if cfg.Hub.ApplyProgressFunc == nil {
		cfg.Hub.ApplyProgressFunc = func(data any, ps []realtime.Progress) any {
			s := data.(state)
			for _, p := range ps {
				s.Progress = max(s.Progress, p.Progress)
			}
			return s
		}
	}
	in := &instance{ups: make(chan struct{}, 16), downs: make(chan struct{}, 16)}
	in.notifier = notifiertest.New(t, pool, ncfg)
	pub := realtime.NewPublisher(in.notifier, realtime.PublisherConfig{})
	cfg.Notifier, cfg.Publisher = in.notifier, pub
	in.Broker = realtime.New(cfg)
	start(t, pub)
	start(t, in.Broker)
	// Listening after the broker, this handler is told of each connection after it.
	in.notifier.Listen(realtime.Channel, notifier.Handler{
		Notify:       func(string) {},
		Connected:    func() { in.ups <- struct{}{} },
		Disconnected: func() { in.downs <- struct{}{} },
	})
	select { // changes made from now on are heard
	case <-in.ups:
	case <-b.ctx.Done():
		t.Fatal("the notifier never connected")
	}
	return in
}

// start starts c and stops it when t ends.
func start(t *testing.T, c interface {
	Start(context.Context) error
	Stop(context.Context) error
}) {
	t.Helper()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
}

// create inserts a project of user and returns its id.
func (b *testBundle) create(t *testing.T, user string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := b.pool.QueryRow(b.ctx, `INSERT INTO projects (user_id, name) VALUES ($1, 'p') RETURNING id`, user).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// bump commits a change of the project and returns its new version, without publishing.
func (b *testBundle) bump(t testing.TB, id uuid.UUID) int64 {
	var v int64
	if err := b.pool.QueryRow(b.ctx, `UPDATE projects SET version = version + 1, name = 'v' || (version + 1) WHERE id = $1 RETURNING version`, id).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// change commits a change and publishes it through br, as the product does.
func (b *testBundle) change(t testing.TB, br *instance, id uuid.UUID, user string) int64 {
	v := b.bump(t, id)
	br.Publish(realtime.Change{ProjectID: id, UserID: user, Version: v})
	return v
}

// next waits for the subscription's next state.
func next(t *testing.T, ctx context.Context, sub *realtime.Subscription) state {
	t.Helper()
	for {
		select {
		case <-ctx.Done():
			t.Fatal("no state arrived")
		case <-sub.C():
		}
		snap, ok, err := sub.Next()
		if err != nil {
			t.Fatalf("next: %v", err)
		}
		if ok {
			return snap.Data.(state)
		}
	}
}

// waitVersion waits until the subscription has been offered version v (or newer).
func waitVersion(t *testing.T, ctx context.Context, sub *realtime.Subscription, v int64) {
	t.Helper()
	for {
		if s := next(t, ctx, sub); s.Version >= v {
			return
		}
	}
}

func TestSubscriberGetsCurrentStateThenEachChange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.broker(t, realtime.Config{})
	id := b.create(t, "alice")

	sub := br.SubscribeProject(id)
	defer sub.Close()
	if s := next(t, b.ctx, sub); s.Version != 1 {
		t.Fatalf("first state: version %d, want 1", s.Version)
	}
	for want := int64(2); want <= 5; want++ {
		b.change(t, br, id, "alice")
		if s := next(t, b.ctx, sub); s.Version != want || s.Name != fmt.Sprintf("v%d", want) {
			t.Fatalf("got %+v, want version %d", s, want)
		}
	}
}

func TestDeletedProjectEndsSubscription(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.broker(t, realtime.Config{})
	sub := br.SubscribeProject(uuid.New())
	defer sub.Close()
	select {
	case <-b.ctx.Done():
		t.Fatal("no answer")
	case <-sub.C():
	}
	if _, _, err := sub.Next(); !errors.Is(err, realtime.ErrNotFound) {
		t.Fatalf("unknown project: err %v, want ErrNotFound", err)
	}
}

func TestOtherInstanceSeesChange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.broker(t, realtime.Config{})
	other := b.broker(t, realtime.Config{})
	id := b.create(t, "alice")

	sub := a.SubscribeProject(id)
	defer sub.Close()
	list := a.SubscribeUser("alice")
	defer list.Close()
	next(t, b.ctx, sub)
	v := b.change(t, other, id, "alice")
	if s := next(t, b.ctx, sub); s.Version != v {
		t.Fatalf("instance A got version %d, want %d", s.Version, v)
	}
	for {
		select {
		case <-b.ctx.Done():
			t.Fatal("list subscriber heard nothing")
		case <-list.C():
		}
		for _, s := range list.NextAll() {
			if s.ProjectID == id && s.Version == v {
				return
			}
		}
	}
}

func TestListenerKilledMidRunLeavesNobodyBehind(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.instance(t, b.pool, notifier.Config{ReconnectMin: 50 * time.Millisecond}, realtime.Config{})
	ups, downs := a.ups, a.downs
	other := b.broker(t, realtime.Config{})
	ids := []uuid.UUID{b.create(t, "alice"), b.create(t, "bob"), b.create(t, "carol")}
	var subs []*realtime.Subscription
	for i := range 30 {
		s := a.SubscribeProject(ids[i%len(ids)])
		defer s.Close()
		subs = append(subs, s)
	}

	// Changes keep coming from the other instance while A's LISTEN backend is killed
	// twice; A hears them only through NOTIFY, so what it misses, its resync must read.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := ids[i%len(ids)]
			var user string
			var v int64
			err := b.pool.QueryRow(b.ctx, `UPDATE projects SET version = version + 1 WHERE id = $1 RETURNING user_id, version`, id).Scan(&user, &v)
			if err != nil {
				t.Error(err)
				return
			}
			other.Publish(realtime.Change{ProjectID: id, UserID: user, Version: v})
		}
	})
	for i := range 2 {
		if i > 0 {
			select { // the listener is back
			case <-ups:
			case <-b.ctx.Done():
				t.Fatal("listener did not come back")
			}
		}
		if _, err := b.pool.Exec(b.ctx, `SELECT pg_terminate_backend($1)`, int64(a.notifier.PID())); err != nil {
			t.Fatal(err)
		}
		<-downs
	}
	close(stop)
	wg.Wait()
	select { // the listener is back after the second kill, too
	case <-ups:
	case <-b.ctx.Done():
		t.Fatal("listener did not come back")
	}

	for i, s := range subs {
		var final int64
		if err := b.pool.QueryRow(b.ctx, `SELECT version FROM projects WHERE id = $1`, ids[i%len(ids)]).Scan(&final); err != nil {
			t.Fatal(err)
		}
		waitVersion(t, b.ctx, s, final)
	}
	if err := a.Healthy(); err != nil {
		t.Fatalf("listener not healthy after reconnect: %v", err)
	}
}

func TestSlowSubscriberSkipsToLatest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.broker(t, realtime.Config{})
	id := b.create(t, "alice")
	slow := br.SubscribeProject(id) // never read until the end
	defer slow.Close()
	fast := br.SubscribeProject(id)
	defer fast.Close()

	var v int64
	for range 50 {
		v = b.change(t, br, id, "alice")
		waitVersion(t, b.ctx, fast, v)
	}
	// The slow one gets the latest state in one step, not 50 queued ones.
	if s := next(t, b.ctx, slow); s.Version != v {
		t.Fatalf("slow subscriber got version %d, want the latest %d", s.Version, v)
	}
	select {
	case <-slow.C():
		if _, ok, _ := slow.Next(); ok {
			t.Fatal("slow subscriber had more than the latest state waiting")
		}
	default:
	}
}

func TestProgressOverlayKeepsVersion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.broker(t, realtime.Config{})
	other := b.broker(t, realtime.Config{})
	id := b.create(t, "alice")
	sub := a.SubscribeProject(id)
	defer sub.Close()
	next(t, b.ctx, sub)

	job := uuid.New()
	other.PublishProgress(realtime.Progress{ProjectID: id, UserID: "alice", JobID: job, Progress: 40, Stage: "rendering"})
	for {
		s := next(t, b.ctx, sub)
		if s.Version != 1 {
			t.Fatalf("overlay changed the version to %d", s.Version)
		}
		if s.Progress == 40 {
			break
		}
	}
	// The next real change still arrives, with the overlay still applied.
	v := b.change(t, other, id, "alice")
	waitVersion(t, b.ctx, sub, v)
}

func TestHealthyReportsListener(t *testing.T) {
	t.Parallel()
	b := setup(t)
	pool, err := pgxpool.New(b.ctx, "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	n := notifiertest.New(t, pool, notifier.Config{})
	br := realtime.New(realtime.Config{
		Notifier:  n,
		Publisher: realtime.NewPublisher(n, realtime.PublisherConfig{}),
		Hub:       realtime.HubConfig{LoadFunc: b.load},
	})
	start(t, br)
	if br.Healthy() == nil {
		t.Fatal("a broker whose notifier never connected reports healthy")
	}
}

// TestPublishServesLocalSubscribersWithoutNotify: what an instance publishes reaches its
// own subscribers at once, not by the NOTIFY coming back (here it never could: the
// notifier is not started, so nothing LISTENs).
func TestPublishServesLocalSubscribersWithoutNotify(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := notifier.New(b.pool, notifier.Config{})
	pub := realtime.NewPublisher(n, realtime.PublisherConfig{})
	br := realtime.New(realtime.Config{Notifier: n, Publisher: pub, Hub: realtime.HubConfig{LoadFunc: b.load}})
	start(t, pub)
	start(t, br)
	id := b.create(t, "alice")
	sub := br.SubscribeProject(id)
	defer sub.Close()
	next(t, b.ctx, sub)
	v := b.bump(t, id)
	pub.Publish(realtime.Change{ProjectID: id, UserID: "alice", Version: v})
	waitVersion(t, b.ctx, sub, v)
}
