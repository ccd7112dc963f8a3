package auth

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/pgtest"
)

// ticketsAt returns Tickets on store whose clock reads *now.
func ticketsAt(store TicketStore, now *time.Time) *Tickets {
	t := NewTickets(store, 30*time.Second, 0)
	t.now = func() time.Time { return *now }
	return t
}

func wantTicketRefused(t *testing.T, u User, err error, what string) {
	t.Helper()
	ae := apperr.As(err)
	if ae == nil || ae.Code != apperr.EUNAUTHORIZED {
		t.Fatalf("%s: got %+v, %v; want EUNAUTHORIZED", what, u, err)
	}
}

// TestTicketSingleUseAndExpiry: a ticket stands for its user once, within its TTL, also
// when redeemed by another instance (another Tickets on the same database); a replayed,
// expired or made-up ticket is refused.
func TestTicketSingleUseAndExpiry(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	ctx := context.Background()
	now := clock
	issuer, other := ticketsAt(d.Store, &now), ticketsAt(d.Store, &now)
	alice := User{ID: "alice", Role: RoleAuthenticated}

	ticket, expires, err := issuer.Issue(ctx, alice, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !expires.Equal(clock.Add(30*time.Second)) || !IsTicket(ticket) || strings.Contains(ticket, "alice") {
		t.Fatalf("ticket %q expires %v; want an opaque ticket expiring 30 s from now", ticket, expires)
	}
	// The connect lands on another instance, 29 s later: it works, once.
	now = clock.Add(29 * time.Second)
	u, _, err := other.Redeem(ctx, ticket)
	if err != nil || u != alice {
		t.Fatalf("redeem on another instance: %+v, %v; want alice", u, err)
	}
	u, _, err = issuer.Redeem(ctx, ticket)
	wantTicketRefused(t, u, err, "replayed ticket")

	// Redeemed after its TTL: refused, and gone.
	now = clock
	late, _, err := issuer.Issue(ctx, alice, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	now = clock.Add(30 * time.Second)
	u, _, err = other.Redeem(ctx, late)
	wantTicketRefused(t, u, err, "expired ticket")

	for _, bad := range []string{"", "pst_", "pst_AAAA", "eyJhbGciOiJIUzI1NiJ9.e30.x", strings.Repeat("pst_x", 100)} {
		u, _, err = issuer.Redeem(ctx, bad)
		wantTicketRefused(t, u, err, "made-up ticket "+bad)
	}

	// Unredeemed expired tickets are pruned when new ones are issued; the database never
	// holds the ticket itself.
	now = clock
	if _, _, err := issuer.Issue(ctx, alice, time.Time{}); err != nil {
		t.Fatal(err)
	}
	now = clock.Add(time.Hour)
	if _, _, err := issuer.Issue(ctx, User{ID: "admin", Role: RoleService}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM sse_tickets`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d tickets stored after pruning; want only the fresh one", n)
	}
}

// TestTicketCarriesTokenExpiry: a ticket redeems to the expiry of the token it was issued
// for (so the stream it opens ends then), and once that token has expired the ticket is
// refused even within its own TTL.
func TestTicketCarriesTokenExpiry(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	ctx := context.Background()
	now := clock
	tickets := ticketsAt(d.Store, &now)
	alice := User{ID: "alice", Role: RoleAuthenticated}
	tokExp := clock.Add(10 * time.Second)

	ticket, _, err := tickets.Issue(ctx, alice, tokExp)
	if err != nil {
		t.Fatal(err)
	}
	u, exp, err := tickets.Redeem(ctx, ticket)
	if err != nil || u != alice || !exp.Equal(tokExp) {
		t.Fatalf("redeem: %+v, %v, %v; want alice with the token's expiry %v", u, exp, err, tokExp)
	}
	ticket, _, err = tickets.Issue(ctx, alice, tokExp)
	if err != nil {
		t.Fatal(err)
	}
	now = tokExp.Add(Leeway)
	u, _, err = tickets.Redeem(ctx, ticket)
	wantTicketRefused(t, u, err, "ticket of an expired token")
}

// countingTicketStore counts the database calls a Tickets makes.
type countingTicketStore struct {
	TicketStore
	redeems, prunes int
}

func (s *countingTicketStore) SSETicketRedeem(ctx context.Context, h []byte) (db.SSETicketRedeemRow, error) {
	s.redeems++
	return s.TicketStore.SSETicketRedeem(ctx, h)
}

func (s *countingTicketStore) SSETicketPrune(ctx context.Context, before time.Time) (int64, error) {
	s.prunes++
	return s.TicketStore.SSETicketPrune(ctx, before)
}

// TestTicketFloodCostsNoDatabase sends what an unauthenticated flood sends as tickets
// (prefixed junk of every length) and mints tickets in a loop: junk never reaches the
// database, a user is capped at their outstanding tickets (a refusal that names the limit
// and says when to come back), and expired tickets are pruned once per TTL, not per issue.
func TestTicketFloodCostsNoDatabase(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	ctx := context.Background()
	store := &countingTicketStore{TicketStore: d.Store}
	now := clock
	tickets := NewTickets(store, 30*time.Second, 3)
	tickets.now = func() time.Time { return now }

	good, _, err := tickets.Issue(ctx, User{ID: "mallory", Role: RoleAuthenticated}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, junk := range []string{"pst_x", "pst_" + strings.Repeat("A", 42), "pst_" + strings.Repeat("A", 44),
		"pst_" + strings.Repeat("A", 42) + "=", "pst_" + strings.Repeat("A", 42) + "+", good[:len(good)-1] + "é"} {
		u, _, err := tickets.Redeem(ctx, junk)
		wantTicketRefused(t, u, err, "junk ticket "+junk)
	}
	if store.redeems != 0 {
		t.Errorf("junk tickets cost %d database round trips; want none", store.redeems)
	}
	for i := range 2 {
		if _, _, err := tickets.Issue(ctx, User{ID: "mallory", Role: RoleAuthenticated}, time.Time{}); err != nil {
			t.Fatalf("ticket %d: %v", i+2, err)
		}
	}
	_, _, err = tickets.Issue(ctx, User{ID: "mallory", Role: RoleAuthenticated}, time.Time{})
	ae := apperr.As(err)
	if ae == nil || ae.Code != apperr.ERATELIMITED || ae.RetryAfter <= 0 || !strings.Contains(ae.Message, "sse_tickets_per_user") {
		t.Fatalf("fourth outstanding ticket: %v; want ERATELIMITED naming sse_tickets_per_user with a retry time", err)
	}
	// Another user is not affected; once mallory's tickets expire they get new ones.
	if _, _, err := tickets.Issue(ctx, User{ID: "alice", Role: RoleAuthenticated}, time.Time{}); err != nil {
		t.Fatalf("another user: %v", err)
	}
	if store.prunes != 1 {
		t.Errorf("%d prunes for 4 issues within one TTL; want 1", store.prunes)
	}
	now = clock.Add(31 * time.Second)
	if _, _, err := tickets.Issue(ctx, User{ID: "mallory", Role: RoleAuthenticated}, time.Time{}); err != nil {
		t.Fatalf("after the TTL: %v", err)
	}
	if store.prunes != 2 {
		t.Errorf("%d prunes after the TTL passed; want 2", store.prunes)
	}
}

// TestTicketConcurrentRedeem redeems one ticket from many goroutines at once (instances
// racing for one connect): exactly one gets the user.
func TestTicketConcurrentRedeem(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	ctx := context.Background()
	now := clock
	tickets := ticketsAt(d.Store, &now)
	ticket, _, err := tickets.Issue(ctx, User{ID: "alice", Role: RoleAuthenticated}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, refused := 0, 0
	for range 16 {
		wg.Go(func() {
			_, _, err := ticketsAt(d.Store, &now).Redeem(ctx, ticket)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				won++
			} else if ae := apperr.As(err); ae != nil && ae.Code == apperr.EUNAUTHORIZED {
				refused++
			}
		})
	}
	wg.Wait()
	if won != 1 || refused != 15 {
		t.Errorf("16 concurrent redeems: %d succeeded, %d refused; want 1 and 15", won, refused)
	}
}
