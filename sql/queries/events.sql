-- name: Notify :exec
-- Sends payload on a LISTEN/NOTIFY channel when the transaction commits (at once outside one),
-- for the live event stream. Go code sends through one function per channel
-- (incidents.PublishChange), never with SQL of its own.
SELECT pg_notify(@channel::text, @payload::text);
