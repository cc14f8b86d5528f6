-- Alert channels (issue 18): group-chat robots and webhooks that problems are told to. The URL
-- of a WeCom/DingTalk/Feishu robot holds its key or token, so it is sealed like a secret and only
-- its masked form is readable. `parks`/`kinds` are JSON arrays, NULL meaning all. Times are epoch
-- ms, UTC. The SQLite and PostgreSQL files differ only in identity and blob column types.
CREATE TABLE alert_channels (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('wecom', 'dingtalk', 'feishu', 'webhook')),
    sealed_url     BLOB NOT NULL,
    masked_url     TEXT NOT NULL,
    sealed_secret  BLOB,
    keyword        TEXT,
    parks_json     TEXT,
    kinds_json     TEXT,
    language       TEXT NOT NULL DEFAULT 'zh-CN' CHECK (language IN ('zh-CN', 'en')),
    -- Set while an admin has paused the channel.
    disabled_at    BIGINT,
    -- `untested` until a message is sent; then what the vendor's last answer meant.
    state          TEXT NOT NULL DEFAULT 'untested'
                   CHECK (state IN ('untested', 'ok', 'misconfigured', 'failing')),
    last_answer    TEXT,
    last_sent_at   BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    CONSTRAINT alert_channels_name_key UNIQUE (name)
);
