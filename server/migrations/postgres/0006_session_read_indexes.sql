-- The mall's read views of parking sessions (traffic dashboard, sessions list). Identical on
-- SQLite and PostgreSQL.

-- Cars inside a car park: its open sessions by entry time, so "inside now" and "inside at the
-- start of a range" read only the open rows, never the car park's history.
CREATE INDEX parking_sessions_park_open_entry_idx ON parking_sessions (park_id, entry_at)
    WHERE state = 'open';
-- The sessions list, newest first by id with keyset paging (`id < before`): a page reads its
-- rows off the index instead of sorting a car park's whole history.
CREATE INDEX parking_sessions_park_id_idx ON parking_sessions (park_id, id);
-- The same for one plate's sessions (exact plate search).
CREATE INDEX parking_sessions_park_plate_id_idx ON parking_sessions (park_id, plate, id);
