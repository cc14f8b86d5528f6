-- Fixed cars (VIP, PROTOCOLS.md §1.5): one record per car park and plate, its recharges, and the
-- full-sync jobs that upload a car park's whole history to P云.
-- The SQLite and PostgreSQL files differ only in identity column types.

-- A car with a fixed-car card at one car park; valid_from/valid_to (epoch ms, UTC) are the
-- period its recharges cover. plate_color and vip_type hold P云's codes.
CREATE TABLE vip_records (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    park_id      BIGINT NOT NULL REFERENCES car_parks (id) ON DELETE CASCADE,
    plate        TEXT NOT NULL,
    plate_color  BIGINT NOT NULL,
    card_no      TEXT,
    card_id      TEXT,
    charge_type  TEXT NOT NULL,
    vip_type     BIGINT NOT NULL,
    valid_from   BIGINT,
    valid_to     BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    CONSTRAINT vip_records_park_id_plate_key UNIQUE (park_id, plate)
);
CREATE INDEX vip_records_park_valid_idx ON vip_records (park_id, valid_to);

-- Full syncs (complete = 1 first batch); progress is read from their outbox rows.
CREATE TABLE vip_sync_jobs (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    park_id        BIGINT NOT NULL REFERENCES car_parks (id) ON DELETE CASCADE,
    started_by     TEXT NOT NULL,
    started_at     BIGINT NOT NULL,
    batches_total  BIGINT NOT NULL,
    rows_total     BIGINT NOT NULL
);
CREATE INDEX vip_sync_jobs_park_idx ON vip_sync_jobs (park_id, id);

-- One P云 recharge (a ParkingVIP row), keyed at P云 by (park_uuid, pay_partner). outbox_id is the
-- batch that carries it now (NULL: not batched yet); its state is the recharge's sync state.
CREATE TABLE vip_recharges (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    record_id      BIGINT NOT NULL REFERENCES vip_records (id) ON DELETE CASCADE,
    park_id        BIGINT NOT NULL REFERENCES car_parks (id) ON DELETE CASCADE,
    pay_partner    TEXT NOT NULL,
    quantity       BIGINT NOT NULL,
    pay_type       BIGINT NOT NULL,
    value          TEXT,
    pay_time       BIGINT NOT NULL,
    renewal_start  BIGINT,
    renewal_end    BIGINT,
    pay_value      BIGINT NOT NULL,
    operator       TEXT,
    source         TEXT NOT NULL CHECK (source IN ('ui', 'import', 'api')),
    outbox_id      BIGINT REFERENCES outbox (id) ON DELETE SET NULL,
    created_at     BIGINT NOT NULL,
    CONSTRAINT vip_recharges_park_id_pay_partner_key UNIQUE (park_id, pay_partner)
);
CREATE INDEX vip_recharges_record_idx ON vip_recharges (record_id, id);
CREATE INDEX vip_recharges_outbox_idx ON vip_recharges (outbox_id);
CREATE INDEX vip_recharges_unbatched_idx ON vip_recharges (park_id, id) WHERE outbox_id IS NULL;

-- VIP batches in the outbox: the full sync they belong to (NULL: incremental) and their size.
ALTER TABLE outbox ADD COLUMN sync_job_id BIGINT REFERENCES vip_sync_jobs (id);
ALTER TABLE outbox ADD COLUMN row_count BIGINT;
CREATE INDEX outbox_sync_job_idx ON outbox (sync_job_id, id) WHERE sync_job_id IS NOT NULL;
-- A car park's VIP batches go out one at a time in id order: finding the earliest unfinished one
-- stays an index probe.
CREATE INDEX outbox_unfinished_idx ON outbox (park_id, kind, id) WHERE state IN ('pending', 'sending');
