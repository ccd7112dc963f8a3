package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/pgtest"
)

// ticketsAt returns Tickets on store whose clock reads *now.
func ticketsAt(store TicketStore, now *time.Time) *Tickets {
	t := NewTickets(store, 30*time.Second)
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

	ticket, expires, err := issuer.Issue(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if !expires.Equal(clock.Add(30*time.Second)) || !IsTicket(ticket) || strings.Contains(ticket, "alice") {
		t.Fatalf("ticket %q expires %v; want an opaque ticket expiring 30 s from now", ticket, expires)
	}
	// The connect lands on another instance, 29 s later: it works, once.
	now = clock.Add(29 * time.Second)
	u, err := other.Redeem(ctx, ticket)
	if err != nil || u != alice {
		t.Fatalf("redeem on another instance: %+v, %v; want alice", u, err)
	}
	u, err = issuer.Redeem(ctx, ticket)
	wantTicketRefused(t, u, err, "replayed ticket")

	// Redeemed after its TTL: refused, and gone.
	now = clock
	late, _, err := issuer.Issue(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	now = clock.Add(30 * time.Second)
	u, err = other.Redeem(ctx, late)
	wantTicketRefused(t, u, err, "expired ticket")

	for _, bad := range []string{"", "pst_", "pst_AAAA", "eyJhbGciOiJIUzI1NiJ9.e30.x", strings.Repeat("pst_x", 100)} {
		u, err = issuer.Redeem(ctx, bad)
		wantTicketRefused(t, u, err, "made-up ticket "+bad)
	}

	// Unredeemed expired tickets are pruned when new ones are issued; the database never
	// holds the ticket itself.
	now = clock
	if _, _, err := issuer.Issue(ctx, alice); err != nil {
		t.Fatal(err)
	}
	now = clock.Add(time.Hour)
	if _, _, err := issuer.Issue(ctx, User{ID: "admin", Role: RoleService}); err != nil {
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
