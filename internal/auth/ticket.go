package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/packshot/packshot/db"
)

// DefaultTicketTTL is how long an SSE ticket stays redeemable when TicketConfig sets no
// TTL: long enough for the EventSource to connect, short enough that a ticket copied from
// a proxy log is useless.
const DefaultTicketTTL = 30 * time.Second

// ticketPrefix marks packshot's tickets, so a ticket sent where a token is expected (or
// the reverse) is told apart at once.
const ticketPrefix = "pst_"

// ticketBytes is a ticket's entropy: 256 bits.
const ticketBytes = 32

// TicketStore is the database a Tickets uses; db.Store implements it.
type TicketStore interface {
	SSETicketInsert(ctx context.Context, arg db.SSETicketInsertParams) error
	SSETicketRedeem(ctx context.Context, ticketHash []byte) (db.SSETicketRedeemRow, error)
	SSETicketPrune(ctx context.Context, before time.Time) (int64, error)
}

// Tickets issues and redeems SSE tickets: opaque, single-use strings that stand for a
// verified user for one Server-Sent Events connect, so the bearer token itself never
// travels in a URL (EventSource cannot send headers, and URLs end up in proxy and access
// logs). A ticket is a random 256-bit value; the database keeps only its SHA-256, for the
// ticket's TTL, and redeeming deletes the row, so it works once on whichever instance the
// connect lands. It is safe for concurrent use.
type Tickets struct {
	store TicketStore
	ttl   time.Duration
	// now is the clock expiry is judged by; tests replace it.
	now func() time.Time
}

// NewTickets returns Tickets kept in store, valid for ttl (DefaultTicketTTL when 0).
func NewTickets(store TicketStore, ttl time.Duration) *Tickets {
	if ttl <= 0 {
		ttl = DefaultTicketTTL
	}
	return &Tickets{store: store, ttl: ttl, now: time.Now}
}

// Issue returns a new ticket for u and when it expires. Unredeemed tickets that have
// expired are pruned on the way.
func (t *Tickets) Issue(ctx context.Context, u User) (string, time.Time, error) {
	if u.ID == "" || !validRole(u.Role) {
		return "", time.Time{}, fmt.Errorf("issue ticket: invalid user %q role %q", u.ID, u.Role)
	}
	raw := make([]byte, ticketBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", time.Time{}, fmt.Errorf("issue ticket: %w", err)
	}
	ticket := ticketPrefix + base64.RawURLEncoding.EncodeToString(raw)
	now := t.now()
	expires := now.Add(t.ttl)
	if _, err := t.store.SSETicketPrune(ctx, now); err != nil {
		return "", time.Time{}, fmt.Errorf("prune tickets: %w", err)
	}
	err := t.store.SSETicketInsert(ctx, db.SSETicketInsertParams{
		TicketHash: ticketHash(ticket), UserID: u.ID, Role: u.Role, ExpiresAt: expires,
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue ticket: %w", err)
	}
	return ticket, expires, nil
}

// IsTicket reports whether s is shaped like a ticket (not a JWT).
func IsTicket(s string) bool { return strings.HasPrefix(s, ticketPrefix) }

// Redeem takes ticket and returns the user it was issued for. A ticket works once: a
// second redeem, an expired or an unknown ticket is an EUNAUTHORIZED *apperr.Error
// ("ticket invalid, used or expired": the three are not told apart).
func (t *Tickets) Redeem(ctx context.Context, ticket string) (User, error) {
	if !IsTicket(ticket) || len(ticket) > 128 {
		return User{}, unauthorized("ticket invalid, used or expired", nil)
	}
	row, err := t.store.SSETicketRedeem(ctx, ticketHash(ticket))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return User{}, unauthorized("ticket invalid, used or expired", nil)
	case err != nil:
		return User{}, fmt.Errorf("redeem ticket: %w", err)
	case !t.now().Before(row.ExpiresAt):
		return User{}, unauthorized("ticket invalid, used or expired", nil)
	}
	return User{ID: row.UserID, Role: row.Role}, nil
}

// ticketHash is what the database keeps of a ticket.
func ticketHash(ticket string) []byte {
	sum := sha256.Sum256([]byte(ticket))
	return sum[:]
}
