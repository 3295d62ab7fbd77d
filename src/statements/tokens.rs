//! sqlparser's tokenizer with byte offsets: the one place statement text is
//! tokenized, for the splitter, the recogniser and the statement parser.

use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::tokenizer::{Location, Token, Tokenizer};

use crate::error::{SqlError, SqlState};

/// A token that is not whitespace or a comment, with where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SpannedToken {
    pub token: Token,
    /// Byte offset of the token's first character.
    pub start: usize,
    /// 1-based line of the token.
    pub line: u64,
}

/// Tokenize `sql`, dropping whitespace and comments. An unterminated quote or
/// comment is a syntax error (42601).
pub(crate) fn tokenize(sql: &str) -> Result<Vec<SpannedToken>, SqlError> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize_with_location()
        .map_err(|e| SqlError::new(SqlState::SYNTAX_ERROR, e.to_string()))?;
    let offsets = LineOffsets::new(sql);
    Ok(tokens
        .into_iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .map(|t| SpannedToken {
            start: offsets.byte_offset(t.span.start),
            line: t.span.start.line,
            token: t.token,
        })
        .collect())
}

/// Maps the tokenizer's (line, character column) locations to byte offsets.
struct LineOffsets<'a> {
    sql: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineOffsets<'a> {
    fn new(sql: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(sql.match_indices('\n').map(|(i, _)| i + 1));
        Self { sql, line_starts }
    }

    fn byte_offset(&self, loc: Location) -> usize {
        let line = (loc.line.max(1) - 1) as usize;
        let Some(&line_start) = self.line_starts.get(line) else {
            return self.sql.len();
        };
        let column = loc.column.max(1) as usize - 1;
        self.sql[line_start..]
            .char_indices()
            .nth(column)
            .map_or(self.sql.len(), |(i, _)| line_start + i)
    }
}
