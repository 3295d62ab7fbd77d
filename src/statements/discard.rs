//! `DISCARD { ALL | PLANS | SEQUENCES | TEMP | TEMPORARY }` and
//! `RESET { ALL | name }`: what connection pools send before handing a
//! connection on (Npgsql sends `DISCARD ALL`). ecomsql has no temporary
//! tables, sequences or cached plans; `DISCARD ALL` closes the connection's
//! cursors and portals and puts its settings back, and, like Postgres, is
//! refused inside a transaction block (25001). `RESET ALL` puts every
//! setting back to the value the session started with (the server's, or the
//! client's startup parameter), `RESET name` one of them.

use datafusion::error::Result;

use super::Cursor;
use crate::engine::Output;
use crate::error::SqlError;

/// `DISCARD ...` / `RESET ...`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discard {
    /// The command tag: `DISCARD ALL`, `DISCARD PLANS`, ..., `RESET`.
    pub tag: &'static str,
    /// Whether portals and cursors are closed (`DISCARD ALL`).
    pub all: bool,
    /// The settings put back.
    pub reset: Reset,
}

/// Which settings a statement puts back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reset {
    None,
    All,
    /// One setting, by lower-cased name (`TIME ZONE` is `timezone`).
    One(String),
}

impl Discard {
    pub(super) fn parse(sql: &str) -> std::result::Result<Self, SqlError> {
        let mut c = Cursor::new(sql, "DISCARD")?;
        let discard = if c.eat_word("RESET") {
            let reset = if c.eat_word("ALL") {
                Reset::All
            } else if c.eat_word("TIME") {
                c.expect_word("ZONE")?;
                Reset::One("timezone".into())
            } else {
                // A dotted name (`datafusion.execution.batch_size`) is one
                // word to the tokenizer or several joined by dots.
                let mut name = c.identifier()?;
                while c.eat_token(&datafusion::sql::sqlparser::tokenizer::Token::Period) {
                    name.push('.');
                    name.push_str(&c.identifier()?);
                }
                Reset::One(name)
            };
            Self {
                tag: "RESET",
                all: false,
                reset,
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
            let reset = if all { Reset::All } else { Reset::None };
            Self { tag, all, reset }
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
        assert_eq!(Discard::parse("RESET ALL").unwrap().reset, Reset::All);
        assert_eq!(Discard::parse("DISCARD ALL").unwrap().reset, Reset::All);
        assert_eq!(Discard::parse("DISCARD PLANS").unwrap().reset, Reset::None);
        assert_eq!(
            Discard::parse("reset Statement_Timeout").unwrap().reset,
            Reset::One("statement_timeout".into())
        );
        assert_eq!(
            Discard::parse("RESET TIME ZONE;").unwrap().reset,
            Reset::One("timezone".into())
        );
        assert_eq!(
            Discard::parse("RESET datafusion.execution.batch_size")
                .unwrap()
                .reset,
            Reset::One("datafusion.execution.batch_size".into())
        );
        assert!(Discard::parse("RESET").is_err());
    }
}
