-- Payments of parking sessions (PROTOCOLS.md §2.3): one row per Mallcoo order. Times are epoch
-- ms, UTC; money is fen. The SQLite and PostgreSQL files differ only in identity column types.
CREATE TABLE parking_payments (
    id              INTEGER PRIMARY KEY,
    park_id         BIGINT NOT NULL REFERENCES car_parks (id) ON DELETE CASCADE,
    session_id      BIGINT NOT NULL REFERENCES parking_sessions (id) ON DELETE CASCADE,
    -- Mallcoo's order number: the idempotency key of PayParkingFee.
    order_no        TEXT NOT NULL,
    third_trade_no  TEXT,
    fee_id          TEXT NOT NULL,
    -- payTime as Mallcoo sent it.
    pay_time        BIGINT NOT NULL,
    -- When the payment settles the fee for the quote (grace starts here): payTime clamped to
    -- [entry, received].
    settled_at      BIGINT NOT NULL,
    amount_fen      BIGINT NOT NULL CHECK (amount_fen >= 0),
    deduction_fen   BIGINT NOT NULL CHECK (deduction_fen >= 0),
    -- 0 online, 1 offline (PayChannel).
    pay_channel     BIGINT NOT NULL,
    -- 0 zero-amount, 1 Alipay, 2 UnionPay, 3 WeChat (PayType).
    pay_type        BIGINT NOT NULL,
    -- SHA-256 (hex) of the request's fields, so a retry is told from another payment.
    request_digest  TEXT NOT NULL,
    -- The answer given the first time, given again to every retry.
    answer_json     TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
-- Three concurrent retries of one order record one payment: the database decides.
CREATE UNIQUE INDEX parking_payments_park_id_order_no_key ON parking_payments (park_id, order_no);
-- A session's payments, read by every quote.
CREATE INDEX parking_payments_session_idx ON parking_payments (session_id);
-- Payments by channel over a range (dashboard).
CREATE INDEX parking_payments_park_created_idx ON parking_payments (park_id, created_at);
