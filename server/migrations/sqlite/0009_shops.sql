-- Shops (商户) that validate their customers' parking (issue 17): shops per car park, what each
-- may give (offers, with quotas), every validation it gave, the quota counters, and merchant users
-- bound to one shop. Times are epoch ms, UTC; days and months are the car park's (Asia/Shanghai).
-- The SQLite and PostgreSQL files differ in identity column types and in how the users' CHECK is
-- replaced.

-- A shop of a car park; `store_code` is its P云 store code (sent with its coupon grants instead
-- of the product's). Never deleted (its validations are billed): `disabled_at` stops it.
CREATE TABLE shops (
    id           INTEGER PRIMARY KEY,
    park_id      BIGINT NOT NULL REFERENCES car_parks (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    store_code   TEXT,
    disabled_at  BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    CONSTRAINT shops_park_id_name_key UNIQUE (park_id, name)
);

-- What a shop may give: a P云 coupon product of its car park (a grant through the coupon outbox)
-- or a local discount of PROTOCOLS.md §5.1 recorded in the ledger — exactly one of the two.
CREATE TABLE shop_offers (
    id             INTEGER PRIMARY KEY,
    shop_id        BIGINT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    product_id     BIGINT REFERENCES coupon_products (id),
    discount_kind  TEXT CHECK (discount_kind IN ('amount', 'minutes', 'free', 'percent')),
    discount_value BIGINT CHECK (discount_value >= 0),
    daily_quota    BIGINT NOT NULL CHECK (daily_quota >= 1),
    monthly_quota  BIGINT CHECK (monthly_quota IS NULL OR monthly_quota >= 1),
    disabled_at    BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    CONSTRAINT shop_offers_shop_id_name_key UNIQUE (shop_id, name),
    CHECK ((product_id IS NULL) <> (discount_kind IS NULL)),
    CHECK ((discount_kind IS NULL) = (discount_value IS NULL))
);
CREATE INDEX shop_offers_shop_idx ON shop_offers (shop_id, id);

-- Every validation a shop gave, once per (shop, validation_id): the till's idempotency key.
-- `day_key` / `month_key` are the Shanghai day and month whose quota it used; a refusal by P云
-- gives the unit back once (`quota_returned_at`).
CREATE TABLE shop_validations (
    id                INTEGER PRIMARY KEY,
    shop_id           BIGINT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    offer_id          BIGINT NOT NULL REFERENCES shop_offers (id),
    validation_id     TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('plate', 'qr_token')),
    plate             TEXT,
    state             TEXT NOT NULL CHECK (state IN ('delivered', 'refused', 'pending', 'unknown')),
    reason            TEXT,
    outbox_id         BIGINT REFERENCES outbox (id),
    discount_id       BIGINT REFERENCES parking_discounts (id),
    request_digest    TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    day_key           TEXT NOT NULL,
    month_key         TEXT NOT NULL,
    quota_returned_at BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    CONSTRAINT shop_validations_shop_id_validation_id_key UNIQUE (shop_id, validation_id),
    CHECK (kind = 'qr_token' OR plate IS NOT NULL)
);
CREATE INDEX shop_validations_shop_day_idx ON shop_validations (shop_id, day_key, id);
-- The validations still waiting for P云's answer, looked at whenever the shop is read.
CREATE INDEX shop_validations_open_idx ON shop_validations (shop_id)
    WHERE state IN ('pending', 'unknown');

-- Quota used per offer and period (`day` 'YYYY-MM-DD', `month` 'YYYY-MM'): taken with a
-- conditional `UPDATE … SET used = used + 1 WHERE used < quota` in the validation's transaction,
-- which PostgreSQL's row lock and SQLite's single writer make atomic across instances.
CREATE TABLE shop_quota_usage (
    offer_id     BIGINT NOT NULL REFERENCES shop_offers (id) ON DELETE CASCADE,
    period_kind  TEXT NOT NULL CHECK (period_kind IN ('day', 'month')),
    period_key   TEXT NOT NULL,
    used         BIGINT NOT NULL CHECK (used >= 0),
    CONSTRAINT shop_quota_usage_pkey PRIMARY KEY (offer_id, period_kind, period_key)
);

-- SQLite cannot change a CHECK in place: users are rebuilt with the `merchant` role and the shop
-- a merchant is bound to. Dropping the table would count as deleting every user's sessions and
-- car parks (ON DELETE CASCADE) and API keys' creators (SET NULL): they are set aside first and
-- put back once the new table bears the name (the others refer to it by name).
CREATE TABLE user_refs_sessions AS SELECT * FROM sessions;
CREATE TABLE user_refs_parks AS SELECT * FROM user_parks;
CREATE TABLE user_refs_keys AS SELECT id, created_by FROM api_keys WHERE created_by IS NOT NULL;
CREATE TABLE users_new (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL
        CHECK (role IN ('admin', 'property_manager', 'mall_staff', 'merchant')),
    disabled_at    BIGINT,
    created_at     BIGINT NOT NULL,
    shop_id        BIGINT REFERENCES shops (id),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_merchant_shop_check CHECK ((role = 'merchant') = (shop_id IS NOT NULL))
);
INSERT INTO users_new (id, username, password_hash, role, disabled_at, created_at)
    SELECT id, username, password_hash, role, disabled_at, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
INSERT INTO sessions SELECT * FROM user_refs_sessions;
INSERT INTO user_parks SELECT * FROM user_refs_parks;
UPDATE api_keys SET created_by = (SELECT r.created_by FROM user_refs_keys r WHERE r.id = api_keys.id)
    WHERE id IN (SELECT id FROM user_refs_keys);
DROP TABLE user_refs_sessions;
DROP TABLE user_refs_parks;
DROP TABLE user_refs_keys;
