//! Recognising constraint violations, so a duplicate is answered by the database, not a racy pre-check.

/// The constraint name of a unique violation, if `err` is one.
///
/// PostgreSQL reports the constraint name; SQLite reports only `table.column`, so callers match
/// on either the constraint or the column (our constraints are named `<table>_<column>_key`).
pub fn unique_violation(err: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(db) = err else {
        return None;
    };
    if !db.is_unique_violation() {
        return None;
    }
    Some(db.constraint().map(str::to_owned).unwrap_or_else(|| {
        // SQLite: "UNIQUE constraint failed: users.username" → "users_username_key".
        let msg = db.message();
        msg.rsplit(": ")
            .next()
            .map(|cols| format!("{}_key", cols.replace(['.', ','], "_").replace(' ', "")))
            .unwrap_or_default()
    }))
}
