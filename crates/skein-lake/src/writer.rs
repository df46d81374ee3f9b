//! Writing the lake as any other writer would: statements in one DuckLake commit under an
//! author and a message of the caller's. Skein's own writes (refreshes, restores, bookmarks)
//! go through their own functions; this is for tools around it — the sandbox's history, tests
//! — whose commits the console then shows as another writer's.

use crate::error::{Error, Result};
use crate::lake::{ident, Lake};

impl Lake {
    /// Runs `statements` in order in one DuckLake transaction whose commit carries `author` and
    /// `message`, and returns the snapshot id it made. `{lake}` in a statement stands for the
    /// lake's quoted catalog name (`INSERT INTO {lake}.main.events VALUES (1)`).
    ///
    /// Errors: `DuckDb` naming the statement that failed; nothing is committed then. A
    /// transaction that changed nothing makes no snapshot: `InvalidInput`.
    pub async fn commit_statements(
        &self,
        author: &str,
        message: &str,
        statements: Vec<String>,
    ) -> Result<i64> {
        let (author, message) = (author.to_owned(), message.to_owned());
        self.run(move |conn, lake| {
            let q = ident(lake);
            let current = |conn: &duckdb::Connection| -> Result<i64> {
                conn.query_row(&format!("SELECT * FROM {q}.current_snapshot()"), [], |r| {
                    r.get(0)
                })
                .map_err(Error::duck("reading the current snapshot"))
            };
            let before = current(conn)?;
            crate::cache::commit_by(conn, lake, &author, &message, "", |conn| {
                for sql in &statements {
                    let sql = sql.replace("{lake}", &q);
                    conn.execute_batch(&sql)
                        .map_err(Error::duck(format!("running {sql}")))?;
                }
                Ok(())
            })?;
            let after = current(conn)?;
            if after == before {
                return Err(Error::InvalidInput(format!(
                    "the statements of “{message}” changed nothing: no snapshot was made"
                )));
            }
            Ok(after)
        })
        .await
    }
}
