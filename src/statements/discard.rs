//! `DISCARD { ALL | PLANS | SEQUENCES | TEMP | TEMPORARY }` and `RESET ALL`:
//! what connection pools send before handing a connection on (Npgsql sends
//! `DISCARD ALL`). ecomsql has no temporary tables, sequences or cached
//! plans; `DISCARD ALL` closes the connection's cursors and portals and
//! puts its settings back to the server's, and, like Postgres, is refused
//! inside a transaction block (25001). `RESET ALL` puts the settings back.

use datafusion::error::Result;

use super::Cursor;
use crate::engine::Output;
use crate::error::SqlError;

/// `DISCARD ...` / `RESET ALL`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discard {
    /// The command tag: `DISCARD ALL`, `DISCARD PLANS`, ..., `RESET`.
    pub tag: &'static str,
    /// Whether portals and cursors are closed (`DISCARD ALL`).
    pub all: bool,
}

impl Discard {
    pub(super) fn parse(sql: &str) -> std::result::Result<Self, SqlError> {
        let mut c = Cursor::new(sql, "DISCARD")?;
        let discard = if c.eat_word("RESET") {
            c.expect_word("ALL")?;
            Self {
                tag: "RESET",
                all: false,
            }
        } else {
            c.expect_word("DISCARD")?;
            let (tag, all) = if c.eat_word("ALL") {
                ("DISCARD ALL", true)
            } else if c.eat_word("PLANS") {
                ("DISCARD PLANS", false)
            } else if c.eat_word("SEQUENCES") {
                ("DISCARD SEQUENCES", false)
            } else if c.eat_word("TEMP") || c.eat_word("TEMPORARY") {
                ("DISCARD TEMP", false)
            } else {
                return Err(c.error("expected ALL, PLANS, SEQUENCES or TEMP"));
            };
            Self { tag, all }
        };
        c.expect_end()?;
        Ok(discard)
    }

    /// Without a connection (the CLI) there is nothing to discard.
    pub(super) fn execute(&self) -> Result<Output> {
        Ok(Output::Command(self.tag.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(Discard::parse("DISCARD ALL").unwrap().tag, "DISCARD ALL");
        assert!(Discard::parse("discard all;").unwrap().all);
        assert_eq!(
            Discard::parse("DISCARD TEMPORARY").unwrap().tag,
            "DISCARD TEMP"
        );
        assert_eq!(Discard::parse("RESET ALL").unwrap().tag, "RESET");
        assert!(Discard::parse("DISCARD EVERYTHING").is_err());
    }
}
