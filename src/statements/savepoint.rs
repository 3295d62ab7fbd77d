//! `SAVEPOINT name`, `RELEASE [SAVEPOINT] name` and `ROLLBACK TO
//! [SAVEPOINT] name`: session statements. ecomsql is read-only, so a
//! savepoint has nothing to keep; what matters to clients (SQLAlchemy and
//! psycopg wrap work in savepoints) is Postgres's protocol behaviour: all
//! three need a transaction block (25P01 outside one), SAVEPOINT and
//! RELEASE are refused in a failed block (25P02), and ROLLBACK TO ends the
//! failure, leaving the block open. Savepoint names are not tracked.

use datafusion::error::Result;

use super::Cursor;
use crate::engine::Output;
use crate::error::SqlError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SavepointKind {
    Savepoint,
    Release,
    RollbackTo,
}

/// `SAVEPOINT` / `RELEASE` / `ROLLBACK TO`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Savepoint {
    pub kind: SavepointKind,
    pub name: String,
}

impl Savepoint {
    pub(super) fn parse(sql: &str) -> std::result::Result<Self, SqlError> {
        let mut c = Cursor::new(sql, "SAVEPOINT")?;
        let kind = if c.eat_word("SAVEPOINT") {
            SavepointKind::Savepoint
        } else if c.eat_word("RELEASE") {
            c.eat_word("SAVEPOINT");
            SavepointKind::Release
        } else {
            c.expect_word("ROLLBACK")?;
            c.eat_word("WORK");
            c.eat_word("TRANSACTION");
            c.expect_word("TO")?;
            c.eat_word("SAVEPOINT");
            SavepointKind::RollbackTo
        };
        let name = c.identifier()?;
        c.expect_end()?;
        Ok(Self { kind, name })
    }

    /// The command tag Postgres answers with.
    pub fn tag(&self) -> &'static str {
        match self.kind {
            SavepointKind::Savepoint => "SAVEPOINT",
            SavepointKind::Release => "RELEASE",
            SavepointKind::RollbackTo => "ROLLBACK",
        }
    }

    /// Without a connection (the CLI) there is no transaction block to
    /// check; the statement is acknowledged.
    pub(super) fn execute(&self) -> Result<Output> {
        Ok(Output::Command(self.tag().into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let s = Savepoint::parse("SAVEPOINT \"_pg3_1\"").unwrap();
        assert_eq!(
            (s.kind, s.name.as_str()),
            (SavepointKind::Savepoint, "_pg3_1")
        );
        let r = Savepoint::parse("release savepoint sa_1;").unwrap();
        assert_eq!((r.kind, r.name.as_str()), (SavepointKind::Release, "sa_1"));
        assert_eq!(
            Savepoint::parse("RELEASE sa_1").unwrap().kind,
            SavepointKind::Release
        );
        let b = Savepoint::parse("ROLLBACK TO SAVEPOINT sa_1").unwrap();
        assert_eq!((b.kind, b.tag()), (SavepointKind::RollbackTo, "ROLLBACK"));
        assert_eq!(
            Savepoint::parse("ROLLBACK WORK TO s").unwrap().kind,
            SavepointKind::RollbackTo
        );
        assert!(Savepoint::parse("SAVEPOINT").is_err());
        assert!(Savepoint::parse("SAVEPOINT a b").is_err());
    }
}
