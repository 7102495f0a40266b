-- +goose Up
-- Heartbeat (push) checks: the job a check watches calls its secret ping URL. Only the SHA-256
-- of the URL's token is kept (looked up by hash, so the comparison is on a hash the caller
-- cannot steer), with the times of the last pings that the check's runs judge.
ALTER TABLE checks DROP CONSTRAINT checks_check_type_check;
ALTER TABLE checks ADD CONSTRAINT checks_check_type_check
    CHECK (check_type IN ('ping', 'snmp', 'http', 'tcp', 'dns', 'tls', 'grpc', 'smtp', 'postgres', 'heartbeat'));

CREATE TABLE heartbeats (
    workspace_id  uuid NOT NULL,
    check_id      uuid NOT NULL,
    token_hash    bytea NOT NULL,
    -- When the check started waiting for pings: its creation or the last token rotation.
    since         timestamptz NOT NULL DEFAULT now(),
    last_ping_at  timestamptz,
    last_start_at timestamptz,
    last_fail_at  timestamptz,
    PRIMARY KEY (workspace_id, check_id),
    FOREIGN KEY (workspace_id, check_id) REFERENCES checks (workspace_id, id) ON DELETE CASCADE
);
-- The ping URL names no workspace: its token is looked up among all of them.
CREATE UNIQUE INDEX heartbeats_token ON heartbeats (token_hash);

-- +goose Down
DROP TABLE heartbeats;
ALTER TABLE checks DROP CONSTRAINT checks_check_type_check;
ALTER TABLE checks ADD CONSTRAINT checks_check_type_check
    CHECK (check_type IN ('ping', 'snmp', 'http', 'tcp', 'dns', 'tls', 'grpc', 'smtp', 'postgres'));
