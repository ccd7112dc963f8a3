-- SSETicketInsert stores a new ticket's hash, for the user it authenticates, until
-- expires_at, unless the user already holds @max_outstanding tickets that have not
-- expired: then no row is inserted (0 rows affected). Concurrent issues for one user may
-- overshoot the cap by the number racing, which stays bounded by the request limits.
-- name: SSETicketInsert :execrows
INSERT INTO sse_tickets (ticket_hash, user_id, role, expires_at, token_expires_at)
SELECT @ticket_hash, @user_id, @role, @expires_at, sqlc.narg(token_expires_at)::timestamptz
WHERE (
    SELECT count(*) FROM sse_tickets t
    WHERE t.user_id = @user_id AND t.expires_at > @now::timestamptz
) < @max_outstanding::int;

-- SSETicketRedeem takes a ticket: the row is deleted as it is read, so of two connects
-- racing with one ticket (on any instances) exactly one gets the row. The caller checks
-- expires_at against its own clock; an expired ticket is gone all the same.
-- name: SSETicketRedeem :one
DELETE FROM sse_tickets WHERE ticket_hash = @ticket_hash
RETURNING user_id, role, expires_at, token_expires_at;

-- SSETicketPrune deletes up to 1,000 unredeemed tickets that expired before @before, so
-- the table stays as small as the tickets in flight.
-- name: SSETicketPrune :execrows
DELETE FROM sse_tickets
WHERE ticket_hash IN (
    SELECT t.ticket_hash FROM sse_tickets t WHERE t.expires_at < @before::timestamptz
    ORDER BY t.expires_at LIMIT 1000
);
