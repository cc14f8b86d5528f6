-- Each channel's last sends (issue 18, the channels page): what the vendor answered a message,
-- its code and words apart (`answer` keeps the one-line summary it always held), and the test
-- messages, which are about no problem and so have no `alert_messages` row.
-- Times are epoch ms, UTC. The SQLite and PostgreSQL files differ only in identity types.
ALTER TABLE alert_messages ADD COLUMN outcome TEXT;
ALTER TABLE alert_messages ADD COLUMN vendor_code TEXT;
ALTER TABLE alert_messages ADD COLUMN vendor_message TEXT;
CREATE INDEX alert_messages_channel_idx ON alert_messages (channel_id, id);

CREATE TABLE alert_test_sends (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id     BIGINT NOT NULL REFERENCES alert_channels (id) ON DELETE CASCADE,
    sent_at        BIGINT NOT NULL,
    -- `delivered`, `rate_limited`, `misconfigured`, `refused` or `transient`.
    outcome        TEXT NOT NULL,
    vendor_code    TEXT,
    vendor_message TEXT NOT NULL
);
CREATE INDEX alert_test_sends_channel_idx ON alert_test_sends (channel_id, id);
