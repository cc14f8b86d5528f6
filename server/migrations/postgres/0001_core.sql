-- Core schema: instance facts, accounts, sessions, API keys, car parks, credentials, audit.
-- Times are BIGINT milliseconds since the Unix epoch (UTC); money is BIGINT fen.
-- The SQLite and PostgreSQL files differ only in identity and blob column types.

-- One row. key_check lets every instance sharing this database prove it holds the same master key.
CREATE TABLE instance (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    created_at  BIGINT NOT NULL,
    key_check   BYTEA
);

CREATE TABLE users (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username       TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'property_manager', 'mall_staff')),
    disabled_at    BIGINT,
    created_at     BIGINT NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username)
);

-- Browser sessions; only the SHA-256 of the cookie's token is stored.
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Failed sign-ins, for rate limiting shared by every instance (scope 'user' or 'ip').
CREATE TABLE login_failures (
    scope  TEXT NOT NULL,
    key    TEXT NOT NULL,
    at     BIGINT NOT NULL
);
CREATE INDEX login_failures_idx ON login_failures (scope, key, at);

-- Secrets sealed with the master key (AEAD); public_json holds the parts that are not secret.
CREATE TABLE credentials (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('pyun', 'mallcoo_outbound', 'mallcoo_inbound')),
    public_json   TEXT NOT NULL,
    sealed_secret BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    CONSTRAINT credentials_name_key UNIQUE (name)
);

CREATE TABLE car_parks (
    id                     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code                   TEXT NOT NULL,
    name                   TEXT NOT NULL,
    pyun_park_uuid         TEXT,
    pyun_api_store_code    TEXT,
    pyun_merchant          TEXT,
    mallcoo_park_id        TEXT,
    mallcoo_park_code      TEXT,
    tariff_json            TEXT NOT NULL,
    pyun_credential_id     BIGINT REFERENCES credentials (id),
    mallcoo_out_credential_id BIGINT REFERENCES credentials (id),
    mallcoo_in_credential_id  BIGINT REFERENCES credentials (id),
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    CONSTRAINT car_parks_code_key UNIQUE (code),
    CONSTRAINT car_parks_mallcoo_park_id_key UNIQUE (mallcoo_park_id)
);

-- Which car parks a property manager or mall staff member may act on (admins: all).
CREATE TABLE user_parks (
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    park_id  BIGINT NOT NULL REFERENCES car_parks (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, park_id)
);

-- Machine clients. The key is shown once; only its SHA-256 is kept, found by its public prefix.
CREATE TABLE api_keys (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    key_hash      TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    park_id       BIGINT REFERENCES car_parks (id) ON DELETE CASCADE,
    created_by    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    last_used_at  BIGINT,
    CONSTRAINT api_keys_prefix_key UNIQUE (prefix)
);

-- Who changed what, when. Never holds a secret's value.
CREATE TABLE audit_log (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    detail    TEXT NOT NULL
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
