//! Splitting a script (a simple-protocol query string or a report file) into
//! statements with sqlparser's tokenizer, so semicolons inside quotes,
//! comments and dollar-quoted bodies do not split anything.

use datafusion::sql::sqlparser::tokenizer::Token;

use super::tokens::tokenize;
use crate::error::SqlError;

/// One statement of a script: its text (without the terminating semicolon)
/// and the 1-based line it starts on, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlStatementText<'a> {
    pub text: &'a str,
    pub line: u64,
}

/// Split `sql` into statements. Empty statements (`;;`, a trailing comment)
/// are dropped. An unterminated quote or comment is a syntax error (42601).
pub fn split_statements(sql: &str) -> Result<Vec<SqlStatementText<'_>>, SqlError> {
    let mut statements = Vec::new();
    // Byte offset and line of the first token of the statement being
    // collected, if any.
    let mut start: Option<(usize, u64)> = None;
    for token in tokenize(sql)? {
        if token.token == Token::SemiColon {
            if let Some((from, line)) = start.take() {
                statements.push(SqlStatementText {
                    text: sql[from..token.start].trim_end(),
                    line,
                });
            }
        } else if start.is_none() {
            start = Some((token.start, token.line));
        }
    }
    if let Some((from, line)) = start {
        statements.push(SqlStatementText {
            text: sql[from..].trim_end(),
            line,
        });
    }
    Ok(statements)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split_statements(sql)
            .unwrap()
            .into_iter()
            .map(|s| s.text)
            .collect()
    }

    #[test]
    fn splits_on_top_level_semicolons_only() {
        let sql =
            "SELECT 'a;b' AS x; -- c;d\nSELECT $tag$ ; $tag$ ;\n/* ; */ SELECT \"we;ird\" FROM t";
        assert_eq!(
            texts(sql),
            vec![
                "SELECT 'a;b' AS x",
                "SELECT $tag$ ; $tag$",
                "SELECT \"we;ird\" FROM t"
            ]
        );
    }

    #[test]
    fn drops_empty_statements_and_keeps_line_numbers() {
        let sql = ";;\n\nSELECT 1;\n  -- only a comment\n;\nSELECT\n 2";
        let stmts = split_statements(sql).unwrap();
        assert_eq!(stmts.len(), 2);
        assert_eq!((stmts[0].text, stmts[0].line), ("SELECT 1", 3));
        assert_eq!((stmts[1].text, stmts[1].line), ("SELECT\n 2", 6));
    }

    #[test]
    fn multibyte_text_keeps_byte_offsets_right() {
        assert_eq!(
            texts("SELECT '质量好;物流快' AS 评价; SELECT 2"),
            vec!["SELECT '质量好;物流快' AS 评价", "SELECT 2"]
        );
    }

    #[test]
    fn unterminated_quote_is_a_syntax_error() {
        use crate::error::SqlState;
        let err = split_statements("SELECT 'oops").unwrap_err();
        assert_eq!(err.state, SqlState::SYNTAX_ERROR);
    }
}
