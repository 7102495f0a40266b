-- +goose Up
-- New check types: grpc (health protocol), smtp and postgres. The CHECK constraint that
-- 00001 created is replaced by one naming every type of probes.Types(); the vocabulary test
-- reads the last one.
ALTER TABLE checks DROP CONSTRAINT checks_check_type_check;
ALTER TABLE checks ADD CONSTRAINT checks_check_type_check
    CHECK (check_type IN ('ping', 'snmp', 'http', 'tcp', 'dns', 'tls', 'grpc', 'smtp', 'postgres'));

-- +goose Down
DELETE FROM checks WHERE check_type IN ('grpc', 'smtp', 'postgres');
ALTER TABLE checks DROP CONSTRAINT checks_check_type_check;
ALTER TABLE checks ADD CONSTRAINT checks_check_type_check
    CHECK (check_type IN ('ping', 'snmp', 'http', 'tcp', 'dns', 'tls'));
