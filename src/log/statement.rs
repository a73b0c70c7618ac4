//! SQL text with numbered parameters that both backends read, built up in pieces; and several writes sent as one
//! statement (one round trip to the database instead of one each).
use sqlx::Any;

use crate::store::Backend;

/// A value bound to a numbered parameter.
enum Bind {
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

/// SQL with parameters in the order they are bound (`?` on SQLite, `$N` on PostgreSQL: sqlx's query builder writes
/// `?` for the Any driver, which PostgreSQL does not accept), possibly several statements (see [`Sql::then`]).
pub(super) struct Sql {
    backend: Backend,
    /// The statements ended with [`Sql::then`].
    ended: Vec<String>,
    /// The statement being written.
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    pub fn new(backend: Backend, start: &str) -> Sql {
        Sql {
            backend,
            ended: Vec::new(),
            text: start.to_owned(),
            binds: Vec::new(),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn push(&mut self, sql: &str) -> &mut Sql {
        self.text.push_str(sql);
        self
    }

    /// Ends the statement being written and starts the next. The statements run in order as one: on SQLite as one
    /// text of statements, on PostgreSQL as one statement whose earlier parts are data-modifying `WITH` queries
    /// (so none of them may read what another writes).
    pub fn then(&mut self) -> &mut Sql {
        self.ended.push(std::mem::take(&mut self.text));
        self
    }

    fn bind(&mut self, value: Bind) -> &mut Sql {
        self.binds.push(value);
        let n = self.binds.len();
        // SQLite reads `$N` as a *named* parameter and looks each name up in a list while preparing, which is
        // quadratic in the number of parameters. sqlx binds a text of several statements in order, one `?` after
        // another; numbered `?N` it binds wrongly after the first statement.
        match self.backend {
            Backend::Sqlite => self.text.push('?'),
            Backend::Postgres => self.text.push_str(&format!("${n}")),
        }
        self
    }

    pub fn int(&mut self, v: i64) -> &mut Sql {
        self.bind(Bind::Int(v))
    }

    pub fn text(&mut self, v: &str) -> &mut Sql {
        self.bind(Bind::Text(v.to_owned()))
    }

    pub fn blob(&mut self, v: Vec<u8>) -> &mut Sql {
        self.bind(Bind::Blob(v))
    }

    /// A comma between the items of a list, before every item but the first.
    pub fn comma(&mut self, i: usize) -> &mut Sql {
        self.push(if i == 0 { "" } else { ", " })
    }

    /// The text the database receives.
    pub fn sql(&self) -> String {
        let texts: Vec<&str> = self
            .ended
            .iter()
            .chain([&self.text])
            .map(String::as_str)
            .filter(|t| !t.is_empty())
            .collect();
        match (self.backend, texts.split_last()) {
            (_, None) => String::new(),
            (Backend::Sqlite, _) => texts.join(";\n"),
            (Backend::Postgres, Some((last, []))) => (*last).to_owned(),
            (Backend::Postgres, Some((last, earlier))) => {
                let parts: Vec<String> = earlier
                    .iter()
                    .enumerate()
                    .map(|(i, t)| format!("w{i} AS ({t})"))
                    .collect();
                format!("WITH {} {last}", parts.join(", "))
            }
        }
    }

    fn query<'q>(&'q self, sql: &'q str) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
        let mut q = sqlx::query(sql);
        for b in &self.binds {
            q = match b {
                Bind::Int(v) => q.bind(*v),
                Bind::Text(v) => q.bind(v.as_str()),
                Bind::Blob(v) => q.bind(v.as_slice()),
            };
        }
        q
    }

    /// Runs the statement(s) through `db`; returns the rows the last one read.
    pub async fn fetch_all<'e>(
        &self,
        db: impl sqlx::Executor<'e, Database = Any>,
    ) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
        let sql = self.sql();
        self.query(&sql).fetch_all(db).await
    }

    /// Runs the statement(s) through `db`.
    pub async fn execute<'e>(&self, db: impl sqlx::Executor<'e, Database = Any>) -> Result<(), sqlx::Error> {
        let sql = self.sql();
        self.query(&sql).execute(db).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_statements_are_one_text_on_sqlite_and_one_statement_on_postgres() {
        for (backend, expected) in [
            (Backend::Sqlite, "INSERT INTO a VALUES (?);\nUPDATE b SET x = ?"),
            (
                Backend::Postgres,
                "WITH w0 AS (INSERT INTO a VALUES ($1)) UPDATE b SET x = $2",
            ),
        ] {
            let mut q = Sql::new(backend, "INSERT INTO a VALUES (");
            q.int(1).push(")").then().push("UPDATE b SET x = ").text("y");
            assert_eq!(q.sql(), expected);
        }
        let mut one = Sql::new(Backend::Postgres, "SELECT ");
        one.int(1);
        assert_eq!(one.sql(), "SELECT $1");
    }
}
