-- Discounts on parking stays (PROTOCOLS.md §5.1), and a car park's number of spaces.
-- Times are epoch ms, UTC; money is fen. The SQLite and PostgreSQL files differ only in identity
-- column types.

-- One row per discount, whatever its source: our machine API (`api`, keyed by the caller's
-- `discount_id`), a property manager's waiver (`waiver`), P云's `discount.create` (`pyun`, keyed
-- by `grant_serial`), a shop's validation (`shop`). A `free_window` belongs to a plate
-- (`session_id` NULL); every other kind to one stay.
CREATE TABLE parking_discounts (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    park_id         BIGINT NOT NULL REFERENCES car_parks (id) ON DELETE CASCADE,
    session_id      BIGINT REFERENCES parking_sessions (id) ON DELETE CASCADE,
    plate           TEXT,
    source          TEXT NOT NULL CHECK (source IN ('api', 'waiver', 'pyun', 'shop')),
    source_key      TEXT NOT NULL,
    kind            TEXT NOT NULL
        CHECK (kind IN ('amount', 'minutes', 'free', 'percent', 'free_window')),
    value           BIGINT NOT NULL CHECK (value >= 0),
    -- Who gave it, as people and Mallcoo's offlineDeduction read it: 商户减免, 人工减免, a shop.
    label           TEXT NOT NULL,
    reason          TEXT,
    -- `key:<api key prefix>`, `user:<username>`, `pyun`.
    created_by      TEXT NOT NULL,
    -- active: counts and can be removed; used: a payment counted it or the car left (kept for
    -- good); revoked: removed while active, counts no more.
    state           TEXT NOT NULL CHECK (state IN ('active', 'used', 'revoked')),
    granted_at      BIGINT NOT NULL,
    used_at         BIGINT,
    revoked_at      BIGINT,
    -- What it was worth when it was used (the stay's figure then), for statements and dashboards.
    worth_fen       BIGINT,
    -- SHA-256 (hex) of the request that created it: a retry is told from another discount.
    request_digest  TEXT NOT NULL,
    -- The answer given the first time (machine API), given again to every retry.
    answer_json     TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CHECK (session_id IS NOT NULL OR (kind = 'free_window' AND plate IS NOT NULL))
);
-- Recorded once per (car park, source, source key): concurrent retries meet here.
CREATE UNIQUE INDEX parking_discounts_park_source_key
    ON parking_discounts (park_id, source, source_key);
-- A stay's discounts, read by every quote.
CREATE INDEX parking_discounts_session_idx ON parking_discounts (session_id);
-- A plate's free windows at a car park, read by every quote of that plate.
CREATE INDEX parking_discounts_plate_window_idx ON parking_discounts (park_id, plate)
    WHERE kind = 'free_window';
-- Discounts by source over a range (dashboard).
CREATE INDEX parking_discounts_park_granted_idx ON parking_discounts (park_id, granted_at);

-- Spaces of the car park (余位 signs, occupancy); NULL when not configured.
ALTER TABLE car_parks ADD COLUMN total_spaces BIGINT CHECK (total_spaces IS NULL OR total_spaces >= 0);
