-- On SQLite this migration moves P云's gateway calls into a file of their own (see the SQLite
-- migration of the same number); PostgreSQL keeps them where they are. Kept so that both engines
-- count the same versions.
SELECT 1;
