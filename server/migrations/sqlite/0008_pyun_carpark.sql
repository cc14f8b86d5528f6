-- P云 car-park access (pyun-carpark.md, PROTOCOLS.md §6): the car-park-side credential kind, the
-- per-car-park switch, P云's fee orders, P云 payments in the ledger, and the downlink call log.
-- Times are epoch ms, UTC; money is fen. The SQLite and PostgreSQL files differ in identity column
-- types and in how the credential kinds' CHECK is replaced.

-- SQLite cannot change a CHECK in place: the credentials table is rebuilt. Dropping a table that
-- car parks refer to would count as deleting their credentials, so the references are set aside
-- first and put back once the new table bears the name (car parks refer to it by name).
CREATE TABLE car_park_credential_refs AS
    SELECT id, pyun_credential_id, mallcoo_out_credential_id, mallcoo_in_credential_id
    FROM car_parks;
UPDATE car_parks
    SET pyun_credential_id = NULL, mallcoo_out_credential_id = NULL, mallcoo_in_credential_id = NULL;
CREATE TABLE credentials_new (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL
        CHECK (kind IN ('pyun', 'mallcoo_outbound', 'mallcoo_inbound', 'pyun_carpark')),
    public_json   TEXT NOT NULL,
    sealed_secret BLOB NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    CONSTRAINT credentials_name_key UNIQUE (name)
);
INSERT INTO credentials_new (id, name, kind, public_json, sealed_secret, created_at, updated_at)
    SELECT id, name, kind, public_json, sealed_secret, created_at, updated_at FROM credentials;
DROP TABLE credentials;
ALTER TABLE credentials_new RENAME TO credentials;
UPDATE car_parks SET
    pyun_credential_id = (SELECT r.pyun_credential_id FROM car_park_credential_refs r
                          WHERE r.id = car_parks.id),
    mallcoo_out_credential_id = (SELECT r.mallcoo_out_credential_id FROM car_park_credential_refs r
                                 WHERE r.id = car_parks.id),
    mallcoo_in_credential_id = (SELECT r.mallcoo_in_credential_id FROM car_park_credential_refs r
                                WHERE r.id = car_parks.id);
DROP TABLE car_park_credential_refs;

-- NULL: the car park is not on P云 car-park access (no uploads, the gateway answers 1401).
ALTER TABLE car_parks ADD COLUMN pyun_carpark_credential_id BIGINT REFERENCES credentials (id);

-- Payments from every channel: `mallcoo` (PayParkingFee, order_no = orderNo) and `pyun`
-- (payment.result, order_no = our parking_order, third_trade_no = P云's pay_serial).
ALTER TABLE parking_payments ADD COLUMN channel TEXT NOT NULL DEFAULT 'mallcoo'
    CHECK (channel IN ('mallcoo', 'pyun'));
-- P云's pay_origin (0 P云, 4 Alipay, 8 WeChat) and its words, for P云 payments.
ALTER TABLE parking_payments ADD COLUMN pay_origin BIGINT;
ALTER TABLE parking_payments ADD COLUMN pay_origin_desc TEXT;
DROP INDEX parking_payments_park_id_order_no_key;
CREATE UNIQUE INDEX parking_payments_park_channel_order_key
    ON parking_payments (park_id, channel, order_no);

-- P云's fee orders (payment.billing mints, payment.result pays). Only the newest open order of a
-- stay is payable: a new discount, payment or fee step revokes the open ones (D9).
CREATE TABLE pyun_parking_orders (
    id              INTEGER PRIMARY KEY,
    park_id         BIGINT NOT NULL REFERENCES car_parks (id) ON DELETE CASCADE,
    session_id      BIGINT NOT NULL REFERENCES parking_sessions (id) ON DELETE CASCADE,
    parking_order   TEXT NOT NULL,
    -- The amounts the order quoted: total, discounts' worth, paid before, due (fen).
    total_fen       BIGINT NOT NULL,
    free_fen        BIGINT NOT NULL,
    paid_fen        BIGINT NOT NULL,
    pay_fen         BIGINT NOT NULL CHECK (pay_fen >= 0),
    state           TEXT NOT NULL CHECK (state IN ('open', 'paid', 'revoked')),
    -- Set when paid: P云's serial tells a repeated notice from a second payment.
    pay_serial      TEXT,
    payment_id      BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CONSTRAINT pyun_parking_orders_park_order_key UNIQUE (park_id, parking_order)
);
CREATE INDEX pyun_parking_orders_session_idx ON pyun_parking_orders (session_id, id);

-- Every call P云 made to our gateway, kept for a person to inspect (never a key).
CREATE TABLE pyun_gateway_calls (
    id              INTEGER PRIMARY KEY,
    park_id         BIGINT REFERENCES car_parks (id) ON DELETE CASCADE,
    park_uuid       TEXT,
    service         TEXT,
    result_code     TEXT NOT NULL,
    message         TEXT NOT NULL,
    latency_us      BIGINT NOT NULL,
    request_body    TEXT NOT NULL,
    reply_body      TEXT NOT NULL,
    at              BIGINT NOT NULL
);
CREATE INDEX pyun_gateway_calls_park_idx ON pyun_gateway_calls (park_id, id);
CREATE INDEX pyun_gateway_calls_at_idx ON pyun_gateway_calls (at);

-- P云 names a car park on its gateway calls by park_uuid alone: one car park per uuid on access.
CREATE UNIQUE INDEX car_parks_pyun_carpark_uuid_key ON car_parks (pyun_park_uuid)
    WHERE pyun_carpark_credential_id IS NOT NULL;
