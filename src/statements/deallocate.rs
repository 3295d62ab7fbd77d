//! `DEALLOCATE [PREPARE] { name | ALL }`: a session statement, answered by
//! the server from the connection's prepared statements (psycopg sends
//! `DEALLOCATE ALL` after any `DROP ...` command, including `DROP MODEL`).

use super::Cursor;
use crate::error::SqlError;

/// `DEALLOCATE`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deallocate {
    /// The statement to drop; `None` for `ALL`.
    pub name: Option<String>,
}

impl Deallocate {
    /// `Ok(None)` when `sql` is not a DEALLOCATE statement.
    pub fn recognise(sql: &str) -> Result<Option<Self>, SqlError> {
        let mut c = Cursor::new(sql, "DEALLOCATE")?;
        if !c.eat_word("DEALLOCATE") {
            return Ok(None);
        }
        c.eat_word("PREPARE");
        let name = if c.eat_word("ALL") {
            None
        } else {
            Some(c.identifier()?)
        };
        c.expect_end()?;
        Ok(Some(Self { name }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let name = |sql: &str| Deallocate::recognise(sql).unwrap().map(|d| d.name);
        assert_eq!(name("DEALLOCATE ALL"), Some(None));
        assert_eq!(name("deallocate prepare all;"), Some(None));
        assert_eq!(name("DEALLOCATE \"_pg3_0\""), Some(Some("_pg3_0".into())));
        assert_eq!(name("DEALLOCATE s1"), Some(Some("s1".into())));
        assert_eq!(name("SELECT 1"), None);
        assert!(Deallocate::recognise("DEALLOCATE").is_err());
        assert!(Deallocate::recognise("DEALLOCATE a b").is_err());
    }
}
