-- +goose Up
-- sse_tickets holds the single-use tickets that authenticate one Server-Sent Events
-- connect (POST /api/sse-ticket), so a browser's EventSource, which cannot send headers,
-- does not put the long-lived bearer token in a URL. Only the SHA-256 of a ticket is
-- stored: a leaked row cannot be redeemed. A ticket is redeemed by deleting its row
-- (SSETicketRedeem), so it works once, on whichever instance the connect lands. Rows live
-- about 30 s; unredeemed ones are pruned when new tickets are issued. UNLOGGED: losing
-- every ticket in a crash costs only a retry (the client asks for a new one), and saves
-- the write-ahead log a row per connect.
CREATE UNLOGGED TABLE sse_tickets (
    ticket_hash bytea PRIMARY KEY CHECK (length(ticket_hash) = 32),
    user_id     text NOT NULL CHECK (user_id <> ''),
    role        text NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX sse_tickets_expires_at ON sse_tickets (expires_at);

-- +goose Down
DROP TABLE sse_tickets;
