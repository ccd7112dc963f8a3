package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/apperr"
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

// ticketLen is the length of every ticket: the prefix and ticketBytes in unpadded
// base64url.
var ticketLen = len(ticketPrefix) + base64.RawURLEncoding.EncodedLen(ticketBytes)

// DefaultTicketsPerUser is how many unexpired tickets one user may hold when NewTickets
// is given no cap: a page opens a handful of streams, so more is a client minting in a
// loop.
const DefaultTicketsPerUser = 32

// TicketStore is the database a Tickets uses; db.Store implements it.
type TicketStore interface {
	SSETicketInsert(ctx context.Context, arg db.SSETicketInsertParams) (int64, error)
	SSETicketRedeem(ctx context.Context, ticketHash []byte) (db.SSETicketRedeemRow, error)
	SSETicketPrune(ctx context.Context, before time.Time) (int64, error)
}

// Tickets issues and redeems SSE tickets: opaque, single-use strings that stand for a
// verified user for one Server-Sent Events connect, so the bearer token itself never
// travels in a URL (EventSource cannot send headers, and URLs end up in proxy and access
// logs). A ticket is a random 256-bit value; the database keeps only its SHA-256, for the
// ticket's TTL, and redeeming deletes the row, so it works once on whichever instance the
// connect lands. A ticket carries the expiry of the token it was issued for, so the
// stream it opens ends when that token would. It is safe for concurrent use.
type Tickets struct {
	store   TicketStore
	ttl     time.Duration
	perUser int
	// now is the clock expiry is judged by; tests replace it.
	now func() time.Time

	mu        sync.Mutex
	lastPrune time.Time
}

// NewTickets returns Tickets kept in store, valid for ttl (DefaultTicketTTL when 0), of
// which one user may hold perUser unexpired ones (DefaultTicketsPerUser when 0).
func NewTickets(store TicketStore, ttl time.Duration, perUser int) *Tickets {
	if ttl <= 0 {
		ttl = DefaultTicketTTL
	}
	if perUser <= 0 {
		perUser = DefaultTicketsPerUser
	}
	return &Tickets{store: store, ttl: ttl, perUser: perUser, now: time.Now}
}

// ErrTooManyTickets refuses a ticket to a user who holds Tickets' cap of unexpired ones.
var ErrTooManyTickets = errors.New("too many SSE tickets outstanding")

// Issue returns a new ticket for u, whose token expires at tokenExpires (zero: never),
// and when the ticket expires. A user holding the cap of unexpired tickets is refused
// with an ERATELIMITED *apperr.Error (wrapping ErrTooManyTickets) that says when to come
// back. Unredeemed tickets that have expired are pruned at most once per TTL.
func (t *Tickets) Issue(ctx context.Context, u User, tokenExpires time.Time) (string, time.Time, error) {
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
	if t.prunePending(now) {
		if _, err := t.store.SSETicketPrune(ctx, now); err != nil {
			return "", time.Time{}, fmt.Errorf("prune tickets: %w", err)
		}
	}
	var tokExp *time.Time
	if !tokenExpires.IsZero() {
		tokExp = &tokenExpires
	}
	n, err := t.store.SSETicketInsert(ctx, db.SSETicketInsertParams{
		TicketHash: ticketHash(ticket), UserID: u.ID, Role: u.Role, ExpiresAt: expires,
		TokenExpiresAt: tokExp, Now: now, MaxOutstanding: int32(min(t.perUser, math.MaxInt32)),
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue ticket: %w", err)
	}
	if n == 0 {
		return "", time.Time{}, &apperr.Error{Code: apperr.ERATELIMITED, RetryAfter: t.ttl, Err: ErrTooManyTickets,
			Message: fmt.Sprintf("too many SSE tickets outstanding: %d are unredeemed (limit sse_tickets_per_user); each expires within %s", t.perUser, t.ttl)}
	}
	return ticket, expires, nil
}

// prunePending reports whether expired tickets are due to be pruned (once per TTL), and
// if so records that they are being.
func (t *Tickets) prunePending(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.lastPrune.IsZero() && now.Sub(t.lastPrune) < t.ttl && !now.Before(t.lastPrune) {
		return false
	}
	t.lastPrune = now
	return true
}

// IsTicket reports whether s is shaped like a ticket (not a JWT).
func IsTicket(s string) bool { return strings.HasPrefix(s, ticketPrefix) }

// wellFormed reports whether s has exactly a ticket's shape: the prefix and ticketBytes
// in unpadded base64url. Anything else is refused without asking the database.
func wellFormed(s string) bool {
	if len(s) != ticketLen || !IsTicket(s) {
		return false
	}
	for _, c := range s[len(ticketPrefix):] {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Redeem takes ticket and returns the user it was issued for and when that user's token
// expires (zero: never). A ticket works once: a second redeem, an expired or an unknown
// ticket, or one whose token has expired, is an EUNAUTHORIZED *apperr.Error ("ticket
// invalid, used or expired": they are not told apart). A string not shaped like a ticket
// is refused without a database round trip.
func (t *Tickets) Redeem(ctx context.Context, ticket string) (User, time.Time, error) {
	if !wellFormed(ticket) {
		return User{}, time.Time{}, unauthorized("ticket invalid, used or expired", nil)
	}
	row, err := t.store.SSETicketRedeem(ctx, ticketHash(ticket))
	now := t.now()
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return User{}, time.Time{}, unauthorized("ticket invalid, used or expired", nil)
	case err != nil:
		return User{}, time.Time{}, fmt.Errorf("redeem ticket: %w", err)
	case !now.Before(row.ExpiresAt):
		return User{}, time.Time{}, unauthorized("ticket invalid, used or expired", nil)
	case row.TokenExpiresAt != nil && !now.Before(row.TokenExpiresAt.Add(Leeway)):
		return User{}, time.Time{}, unauthorized("ticket invalid, used or expired", nil)
	}
	var tokExp time.Time
	if row.TokenExpiresAt != nil {
		tokExp = *row.TokenExpiresAt
	}
	return User{ID: row.UserID, Role: row.Role}, tokExp, nil
}

// ticketHash is what the database keeps of a ticket.
func ticketHash(ticket string) []byte {
	sum := sha256.Sum256([]byte(ticket))
	return sum[:]
}
