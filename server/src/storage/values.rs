//! Multi-row `INSERT … VALUES` text for bulk writes (a VIP import, the P云 gateway's call log).

use super::Backend;

/// `INSERT … VALUES ($1, …), (…) <tail>` for `rows` rows of `cols` parameters. Only numbers are
/// spliced into the text; every value is a bound parameter.
///
/// SQLite gets anonymous `?` placeholders: binding a named one (`$n`) makes sqlx look its name
/// up, which SQLite does by a linear scan of all names — quadratic in the parameters of a
/// statement, over a minute for 100k rows. PostgreSQL only understands `$n`.
pub fn values_sql(backend: Backend, head: &str, cols: usize, rows: usize, tail: &str) -> String {
    let mut sql = String::with_capacity(head.len() + rows * cols * 7 + tail.len());
    sql.push_str(head);
    sql.push_str(" VALUES ");
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(r * cols + c + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql.push_str(tail);
    sql
}

#[cfg(test)]
mod tests {
    use super::{Backend, values_sql};

    #[test]
    fn placeholders_number_every_parameter_once_in_order() {
        assert_eq!(
            values_sql(
                Backend::Postgres,
                "INSERT INTO t (a, b)",
                2,
                2,
                " RETURNING id"
            ),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) RETURNING id"
        );
        assert_eq!(
            values_sql(Backend::Sqlite, "INSERT INTO t (a, b)", 2, 2, ""),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
    }
}
