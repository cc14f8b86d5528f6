-- Gate events (PROTOCOLS.md §3): one parking session per stay of a car at a car park, and the
-- anomalies staff must look at. Times are epoch ms, UTC.
-- The SQLite and PostgreSQL files differ only in identity column types.

-- A stay: opened by an entry, closed by an exit. A plate-less car has no plate and a barcode
-- (the ticket number we issue at entry). A second entry of a plate with an open session closes
-- the old one as 'no_exit_seen': kept for staff, never billed.
CREATE TABLE parking_sessions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    park_id      BIGINT NOT NULL REFERENCES car_parks (id) ON DELETE CASCADE,
    plate        TEXT,
    plate_color  BIGINT,
    barcode      TEXT,
    entry_at     BIGINT NOT NULL,
    entry_gate   TEXT,
    exit_at      BIGINT,
    exit_gate    TEXT,
    state        TEXT NOT NULL CHECK (state IN ('open', 'closed', 'no_exit_seen')),
    fee_due_fen  BIGINT,
    vip          BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    CHECK (plate IS NOT NULL OR barcode IS NOT NULL)
);
-- At most one open session per plate: the database, not a racy pre-check, decides concurrent
-- entries. Also the index of "the open session of (park, plate)".
CREATE UNIQUE INDEX parking_sessions_open_plate_key
    ON parking_sessions (park_id, plate) WHERE state = 'open' AND plate IS NOT NULL;
-- A barcode names one car for good within its car park.
CREATE UNIQUE INDEX parking_sessions_park_id_barcode_key
    ON parking_sessions (park_id, barcode) WHERE barcode IS NOT NULL;
-- Entries / exits per hour and occupancy over millions of rows: range scans by car park.
CREATE INDEX parking_sessions_park_entry_idx ON parking_sessions (park_id, entry_at);
CREATE INDEX parking_sessions_park_exit_idx ON parking_sessions (park_id, exit_at)
    WHERE exit_at IS NOT NULL;
-- A plate's history at a car park (staff search).
CREATE INDEX parking_sessions_park_plate_idx ON parking_sessions (park_id, plate, entry_at);

-- Gate events that do not fit a session, e.g. an exit without an open session.
CREATE TABLE gate_anomalies (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    park_id     BIGINT NOT NULL REFERENCES car_parks (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('exit_without_entry')),
    plate       TEXT,
    barcode     TEXT,
    at          BIGINT NOT NULL,
    gate        TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX gate_anomalies_park_at_idx ON gate_anomalies (park_id, at);
