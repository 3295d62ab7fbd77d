//! `COPY (query) TO STDOUT` and `COPY table [(columns)] TO STDOUT`, with
//! Postgres's options in either syntax: `WITH (FORMAT csv, HEADER, DELIMITER
//! ';', NULL '', QUOTE '"', ESCAPE '"')` or the older `[WITH] CSV HEADER
//! DELIMITER AS ';'` / `BINARY`. The server streams the rows in text, CSV or
//! binary COPY format (psql's `\copy ... TO STDOUT` sends exactly this).
//!
//! Every other COPY is refused: to or from a server file or program
//! (42501: SQL must not touch the server's files), and `COPY ... FROM`
//! (0A000: ecomsql is read-only).

use super::Cursor;
use crate::error::{SqlError, SqlState};
use datafusion::sql::sqlparser::tokenizer::Token;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyFormat {
    Text,
    Csv,
    Binary,
}

/// `COPY ... TO STDOUT`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyTo {
    /// The rows to send, as SQL.
    pub query: String,
    pub format: CopyFormat,
    pub header: bool,
    pub delimiter: Option<String>,
    pub null: Option<String>,
    pub quote: Option<String>,
    pub escape: Option<String>,
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn refused_file() -> SqlError {
    SqlError::new(
        SqlState::INSUFFICIENT_PRIVILEGE,
        "COPY to or from a file or program on the server is not allowed",
    )
    .with_hint("use COPY ... TO STDOUT (in psql: \\copy ... TO 'file')")
}

impl CopyTo {
    pub(super) fn parse(sql: &str) -> Result<Self, SqlError> {
        let mut c = Cursor::new(sql, "COPY")?;
        c.expect_word("COPY")?;
        let query = if c.peek_token() == Some(&Token::LParen) {
            c.parenthesised_text()?.to_string()
        } else {
            let mut table = vec![c.identifier()?];
            while c.eat_token(&Token::Period) {
                table.push(c.identifier()?);
            }
            let columns = if c.peek_token() == Some(&Token::LParen) {
                c.expect_token(&Token::LParen)?;
                let mut columns = vec![c.identifier()?];
                while c.eat_token(&Token::Comma) {
                    columns.push(c.identifier()?);
                }
                c.expect_token(&Token::RParen)?;
                columns
                    .iter()
                    .map(|n| quote_ident(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                "*".to_string()
            };
            let table: Vec<String> = table.iter().map(|n| quote_ident(n)).collect();
            format!("SELECT {columns} FROM {}", table.join("."))
        };
        if c.eat_word("FROM") {
            return Err(SqlError::new(
                SqlState::FEATURE_NOT_SUPPORTED,
                "COPY ... FROM is not supported: ecomsql serves a folder of files read-only",
            ));
        }
        c.expect_word("TO")?;
        if !c.eat_word("STDOUT") {
            return Err(refused_file());
        }
        let mut copy = Self {
            query,
            format: CopyFormat::Text,
            header: false,
            delimiter: None,
            null: None,
            quote: None,
            escape: None,
        };
        c.eat_word("WITH");
        if c.peek_token() == Some(&Token::LParen) {
            copy.options(&mut c)?;
        } else {
            copy.legacy_options(&mut c)?;
        }
        c.expect_end()?;
        copy.check()?;
        Ok(copy)
    }

    /// `( FORMAT csv, HEADER [true], DELIMITER ',', ... )`
    fn options(&mut self, c: &mut Cursor<'_>) -> Result<(), SqlError> {
        c.expect_token(&Token::LParen)?;
        loop {
            let name = c.identifier()?;
            // An option's value is optional for booleans (HEADER alone).
            let value = match c.peek_token() {
                Some(Token::Comma | Token::RParen) | None => None,
                _ => Some(c.word_or_string()?),
            };
            match name.as_str() {
                "format" => {
                    self.format = match value.as_deref().map(str::to_lowercase).as_deref() {
                        Some("text") => CopyFormat::Text,
                        Some("csv") => CopyFormat::Csv,
                        Some("binary") => CopyFormat::Binary,
                        other => {
                            return Err(SqlError::new(
                                SqlState::INVALID_PARAMETER_VALUE,
                                format!(
                                    "COPY format \"{}\" not recognized (text, csv or binary)",
                                    other.unwrap_or("")
                                ),
                            ));
                        }
                    }
                }
                "header" => {
                    self.header = match value.as_deref().map(str::to_lowercase).as_deref() {
                        None | Some("true" | "on" | "1") => true,
                        Some("false" | "off" | "0") => false,
                        Some(other) => {
                            return Err(SqlError::new(
                                SqlState::INVALID_PARAMETER_VALUE,
                                format!("header requires a Boolean value, not \"{other}\""),
                            ));
                        }
                    }
                }
                "delimiter" => self.delimiter = Some(required(&name, value)?),
                "null" => self.null = Some(required(&name, value)?),
                "quote" => self.quote = Some(required(&name, value)?),
                "escape" => self.escape = Some(required(&name, value)?),
                other => {
                    return Err(SqlError::new(
                        SqlState::SYNTAX_ERROR,
                        format!(
                            "option \"{other}\" not recognized; COPY TO STDOUT takes format, header, delimiter, null, quote and escape"
                        ),
                    ));
                }
            }
            if c.eat_token(&Token::RParen) {
                return Ok(());
            }
            c.expect_token(&Token::Comma)?;
        }
    }

    /// `BINARY`, `CSV HEADER`, `DELIMITER [AS] ';'`, `NULL [AS] ''`, ...
    fn legacy_options(&mut self, c: &mut Cursor<'_>) -> Result<(), SqlError> {
        while !c.at_end() {
            if c.eat_word("BINARY") {
                self.format = CopyFormat::Binary;
            } else if c.eat_word("CSV") {
                self.format = CopyFormat::Csv;
            } else if c.eat_word("HEADER") {
                self.header = true;
            } else if c.eat_word("DELIMITER") {
                c.eat_word("AS");
                self.delimiter = Some(c.string()?);
            } else if c.eat_word("NULL") {
                c.eat_word("AS");
                self.null = Some(c.string()?);
            } else if c.eat_word("QUOTE") {
                c.eat_word("AS");
                self.quote = Some(c.string()?);
            } else if c.eat_word("ESCAPE") {
                c.eat_word("AS");
                self.escape = Some(c.string()?);
            } else {
                return Err(c.error(
                    "expected a COPY option (CSV, BINARY, HEADER, DELIMITER, NULL, QUOTE, ESCAPE)",
                ));
            }
        }
        Ok(())
    }

    /// Postgres's consistency rules for the options.
    fn check(&self) -> Result<(), SqlError> {
        let bad = |m: &str| {
            Err(SqlError::new(
                SqlState::INVALID_PARAMETER_VALUE,
                m.to_string(),
            ))
        };
        if self.format == CopyFormat::Binary
            && (self.delimiter.is_some() || self.null.is_some() || self.header)
        {
            return bad("cannot specify DELIMITER, NULL or HEADER in BINARY mode");
        }
        if self.format != CopyFormat::Csv && (self.quote.is_some() || self.escape.is_some()) {
            return bad("COPY QUOTE and ESCAPE are available only in CSV mode");
        }
        for (name, value) in [
            ("delimiter", &self.delimiter),
            ("quote", &self.quote),
            ("escape", &self.escape),
        ] {
            if let Some(v) = value
                && v.chars().count() != 1
            {
                return bad(&format!("COPY {name} must be a single one-byte character"));
            }
        }
        Ok(())
    }
}

fn required(name: &str, value: Option<String>) -> Result<String, SqlError> {
    value.ok_or_else(|| {
        SqlError::new(
            SqlState::SYNTAX_ERROR,
            format!("COPY option {name} needs a value"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_syntaxes_and_table_form() {
        let a = CopyTo::parse("COPY (SELECT 1 AS x) TO STDOUT WITH (FORMAT csv, HEADER)").unwrap();
        assert_eq!(a.query, "SELECT 1 AS x");
        assert_eq!((a.format, a.header), (CopyFormat::Csv, true));
        let b =
            CopyTo::parse("copy ( select a, (b) from t ) to stdout csv header delimiter as ';'")
                .unwrap();
        assert_eq!(b.query, "select a, (b) from t");
        assert_eq!(b.delimiter.as_deref(), Some(";"));
        assert!(b.header);
        let c = CopyTo::parse("COPY public.Users (user_id, \"Name\") TO STDOUT (FORMAT binary);")
            .unwrap();
        assert_eq!(
            c.query,
            "SELECT \"user_id\", \"Name\" FROM \"public\".\"users\""
        );
        assert_eq!(c.format, CopyFormat::Binary);
        let d = CopyTo::parse("COPY users TO STDOUT").unwrap();
        assert_eq!((d.format, d.header), (CopyFormat::Text, false));
        assert_eq!(d.query, "SELECT * FROM \"users\"");
    }

    #[test]
    fn files_programs_and_copy_from_are_refused() {
        for (sql, state) in [
            ("COPY users TO '/tmp/x'", "42501"),
            ("COPY (SELECT 1) TO PROGRAM 'rm -rf /'", "42501"),
            ("COPY users FROM STDIN", "0A000"),
            ("COPY users FROM '/etc/passwd'", "0A000"),
            ("COPY users TO STDOUT (FORMAT xml)", "22023"),
            ("COPY users TO STDOUT (FORMAT binary, HEADER)", "22023"),
            ("COPY users TO STDOUT (DELIMITER ';;')", "22023"),
            ("COPY users TO STDOUT (QUOTE '\"')", "22023"),
            ("COPY users TO STDOUT (COLOUR red)", "42601"),
            ("COPY users TO STDOUT CSV SIDEWAYS", "42601"),
            ("COPY (SELECT 1 TO STDOUT", "42601"),
        ] {
            let e = CopyTo::parse(sql).expect_err(sql);
            assert_eq!(e.state.code(), state, "{sql}: {}", e.message);
        }
    }
}
