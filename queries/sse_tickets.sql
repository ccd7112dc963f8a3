-- SSETicketInsert stores a new ticket's hash, for the user it authenticates, until
-- expires_at.
-- name: SSETicketInsert :exec
INSERT INTO sse_tickets (ticket_hash, user_id, role, expires_at)
VALUES (@ticket_hash, @user_id, @role, @expires_at);

-- SSETicketRedeem takes a ticket: the row is deleted as it is read, so of two connects
-- racing with one ticket (on any instances) exactly one gets the row. The caller checks
-- expires_at against its own clock; an expired ticket is gone all the same.
-- name: SSETicketRedeem :one
DELETE FROM sse_tickets WHERE ticket_hash = @ticket_hash
RETURNING user_id, role, expires_at;

-- SSETicketPrune deletes up to 1,000 unredeemed tickets that expired before @before, so
-- the table stays as small as the tickets in flight.
-- name: SSETicketPrune :execrows
DELETE FROM sse_tickets
WHERE ticket_hash IN (
    SELECT t.ticket_hash FROM sse_tickets t WHERE t.expires_at < @before::timestamptz
    ORDER BY t.expires_at LIMIT 1000
);
