-- Instance facts: lets an operator (and /healthz) see which installation a database belongs to.
CREATE TABLE instance (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO instance (id) VALUES (1);
