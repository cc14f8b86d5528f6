-- Coupons (PROTOCOLS.md §1.3, §1.4): per-car-park event settings, named coupon products, and the
-- durable outbox every outbound P云 request is committed to before any network call.
-- The SQLite and PostgreSQL files differ only in identity column types.

-- One row per car park that issues event coupons: P云's api_type and the metadata keys it takes.
CREATE TABLE coupon_event_settings (
    park_id         BIGINT PRIMARY KEY REFERENCES car_parks (id) ON DELETE CASCADE,
    api_type        TEXT,
    metadata_json   TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- The "coupon codes" of the mission: a product an admin configures and property managers pick by
-- name. Archived, never deleted: records keep naming them.
CREATE TABLE coupon_products (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    park_id      BIGINT NOT NULL REFERENCES car_parks (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    coupon_code  TEXT NOT NULL,
    store_code   TEXT NOT NULL,
    quantity     BIGINT NOT NULL,
    reason       TEXT,
    archived_at  BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    CONSTRAINT coupon_products_park_id_name_key UNIQUE (park_id, name)
);

-- The outbox: one row per outbound request, written before it is sent. `state` moves
-- pending → sending → delivered | rejected | misconfigured | unknown | failed. A row in `sending`
-- is leased to one instance until lease_until; request_json holds what to send, unsigned.
CREATE TABLE outbox (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    park_id           BIGINT NOT NULL REFERENCES car_parks (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL,
    dedupe_key        TEXT NOT NULL,
    plate             TEXT,
    summary           TEXT NOT NULL,
    request_json      TEXT NOT NULL,
    requested_by      TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'delivered', 'rejected', 'misconfigured', 'unknown', 'failed')),
    attempts          BIGINT NOT NULL,
    next_attempt_at   BIGINT,
    lease_owner       TEXT,
    lease_until       BIGINT,
    http_status       BIGINT,
    pyun_code         TEXT,
    pyun_message      TEXT,
    pyun_hint         TEXT,
    pyun_seqno        TEXT,
    grant_serial      TEXT,
    last_error        TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    finished_at       BIGINT,
    reconciled_by     TEXT,
    reconciled_at     BIGINT,
    reconciliation    TEXT,
    reconcile_note    TEXT,
    CONSTRAINT outbox_park_id_kind_dedupe_key_key UNIQUE (park_id, kind, dedupe_key)
);
-- The worker's two scans stay on small partial indexes however long the history grows.
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_lease_idx ON outbox (lease_until) WHERE state = 'sending';
CREATE INDEX outbox_park_idx ON outbox (park_id, id);
CREATE INDEX outbox_plate_idx ON outbox (plate, id);
