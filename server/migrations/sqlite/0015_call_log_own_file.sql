-- P云's gateway calls move to their own file, attached as `calls` (storage/calls_file.rs, which
-- created the table there before migrations ran): the log's frequent commits no longer change
-- the ledger's file under its readers. Calls already kept move with it.
INSERT INTO calls.pyun_gateway_calls (id, park_id, park_uuid, service, result_code, message,
    latency_us, request_body, reply_body, at)
SELECT id, park_id, park_uuid, service, result_code, message, latency_us, request_body,
    reply_body, at
FROM main.pyun_gateway_calls;
DROP TABLE main.pyun_gateway_calls;
