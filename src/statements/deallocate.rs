//! `DEALLOCATE [PREPARE] { name | ALL }`: a session statement. The server
//! answers it from the connection's prepared statements (psycopg sends
//! `DEALLOCATE ALL` after any `DROP ...` command, including `DROP MODEL`);
//! without a connection (the CLI) there are no prepared statements.

use datafusion::error::Result;

use super::Cursor;
use crate::engine::Output;
use crate::error::{SqlError, SqlState};

/// `DEALLOCATE`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deallocate {
    /// The statement to drop; `None` for `ALL`.
    pub name: Option<String>,
}

impl Deallocate {
    pub(super) fn parse(sql: &str) -> std::result::Result<Self, SqlError> {
        let mut c = Cursor::new(sql, "DEALLOCATE")?;
        c.expect_word("DEALLOCATE")?;
        c.eat_word("PREPARE");
        let name = if c.eat_word("ALL") {
            None
        } else {
            Some(c.identifier()?)
        };
        c.expect_end()?;
        Ok(Self { name })
    }

    /// Outside a server connection there is nothing to deallocate.
    pub(super) fn execute(&self) -> Result<Output> {
        match &self.name {
            None => Ok(Output::Command("DEALLOCATE ALL".into())),
            Some(name) => Err(no_such_statement(name).into()),
        }
    }
}

/// 26000, as Postgres reports an unknown prepared statement.
pub fn no_such_statement(name: &str) -> SqlError {
    SqlError::new(
        SqlState::INVALID_SQL_STATEMENT_NAME,
        format!("prepared statement \"{name}\" does not exist"),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn forms() {
        use crate::statements::EcomStatement;
        let name = |sql: &str| match EcomStatement::recognise(sql).unwrap() {
            Some(EcomStatement::Deallocate(d)) => Some(d.name),
            _ => None,
        };
        assert_eq!(name("DEALLOCATE ALL"), Some(None));
        assert_eq!(name("deallocate prepare all;"), Some(None));
        assert_eq!(name("DEALLOCATE \"_pg3_0\""), Some(Some("_pg3_0".into())));
        assert_eq!(name("DEALLOCATE s1"), Some(Some("s1".into())));
        assert_eq!(name("SELECT 1"), None);
        assert!(EcomStatement::recognise("DEALLOCATE").is_err());
        assert!(EcomStatement::recognise("DEALLOCATE a b").is_err());
    }
}
