-- +goose Up
-- token_expires_at is when the bearer token a ticket was issued for stops being accepted
-- (its `exp`; NULL for a token without one). The SSE stream a ticket opens ends then, as
-- a WebSocket's does, so a ticket cannot stretch a token's life; the client reconnects
-- with a fresh ticket.
ALTER TABLE sse_tickets ADD COLUMN token_expires_at timestamptz;

-- Issuing a ticket counts the user's outstanding ones (SSETicketInsert caps them).
CREATE INDEX sse_tickets_user_id_expires_at ON sse_tickets (user_id, expires_at);

-- +goose Down
DROP INDEX sse_tickets_user_id_expires_at;
ALTER TABLE sse_tickets DROP COLUMN token_expires_at;
