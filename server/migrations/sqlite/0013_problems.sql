-- Problems and the alert messages about them (issue 18). A problem is a kind of trouble at a car
-- park (or none) about one subject; it is open while its condition holds and resolves by itself.
-- `open_key` (kind|park|subject) is set only while open, so at most one open problem exists per
-- key while resolved ones keep their history (NULLs never collide in a unique index).
-- Times are epoch ms, UTC. The SQLite and PostgreSQL files differ only in identity types.
CREATE TABLE problems (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL,
    park_id       BIGINT REFERENCES car_parks (id) ON DELETE CASCADE,
    subject       TEXT NOT NULL,
    label         TEXT,
    state         TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
    open_key      TEXT,
    first_seen    BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL,
    resolved_at   BIGINT,
    count         BIGINT NOT NULL,
    examples_json TEXT NOT NULL,
    link_path     TEXT
);
CREATE UNIQUE INDEX problems_open_key ON problems (open_key);
CREATE INDEX problems_state_idx ON problems (state, last_seen);

-- One message about one problem to one channel: a durable queue, leased by whichever instance
-- sends it (`sending` with `leased_until`), so a restart loses nothing and instances send once.
CREATE TABLE alert_messages (
    id            INTEGER PRIMARY KEY,
    problem_id    BIGINT NOT NULL REFERENCES problems (id) ON DELETE CASCADE,
    channel_id    BIGINT NOT NULL REFERENCES alert_channels (id) ON DELETE CASCADE,
    phase         TEXT NOT NULL CHECK (phase IN ('opened', 'updated', 'reminder', 'resolved')),
    count_at      BIGINT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'delivered', 'misconfigured', 'refused', 'failed')),
    attempts      BIGINT NOT NULL,
    next_at       BIGINT NOT NULL,
    leased_until  BIGINT,
    answer        TEXT,
    created_at    BIGINT NOT NULL,
    sent_at       BIGINT
);
CREATE INDEX alert_messages_due_idx ON alert_messages (next_at) WHERE state IN ('pending', 'sending');
CREATE INDEX alert_messages_problem_idx ON alert_messages (problem_id, channel_id, id);

-- Detection reads the outbox rows that need a person through a small partial index.
CREATE INDEX outbox_attention_idx ON outbox (park_id, kind, id)
    WHERE state IN ('misconfigured', 'failed', 'unknown') AND reconciled_at IS NULL;

-- Work one instance at a time (problem detection): the holder renews `until_ms`; another takes
-- the lease once it lapses.
CREATE TABLE leases (
    name      TEXT PRIMARY KEY,
    holder    TEXT NOT NULL,
    until_ms  BIGINT NOT NULL
);
