//! A small recursive-descent cursor over tokens for ecomsql's statements.

use std::fmt;

use datafusion::sql::sqlparser::tokenizer::Token;

use super::tokens::{SpannedToken, tokenize};
use crate::error::{SqlError, SqlState};

/// Longest model name, as for Postgres identifiers.
const MAX_NAME_LEN: usize = 63;

/// One `key = value` of an `OPTIONS (...)` list.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    /// `'text'`
    Str(String),
    /// `42`, `-0.5`, `1e-6` (kept as written, parsed by whoever reads it)
    Number(String),
    /// `true` / `false`
    Bool(bool),
    /// a bare word such as `balanced` or `none`, lower-cased
    Word(String),
}

impl fmt::Display for OptionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Str(s) => write!(f, "'{}'", s.replace('\'', "''")),
            Self::Number(n) => f.write_str(n),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Word(w) => f.write_str(w),
        }
    }
}

impl OptionValue {
    /// The value as text, without quotes.
    pub fn as_text(&self) -> String {
        match self {
            Self::Str(s) | Self::Number(s) | Self::Word(s) => s.clone(),
            Self::Bool(b) => b.to_string(),
        }
    }
}

/// An `OPTIONS (...)` list in the order written; keys are lower-case and
/// unique.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptionList(pub Vec<(String, OptionValue)>);

impl OptionList {
    pub fn get(&self, key: &str) -> Option<&OptionValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// Walks the significant tokens of one statement.
pub(crate) struct Cursor<'a> {
    sql: &'a str,
    tokens: Vec<SpannedToken>,
    pos: usize,
    /// Where the statement's text ends (before a trailing semicolon).
    end: usize,
    /// The statement being parsed, for error messages.
    statement: &'static str,
}

impl<'a> Cursor<'a> {
    pub fn new(sql: &'a str, statement: &'static str) -> Result<Self, SqlError> {
        let mut tokens = tokenize(sql)?;
        // A trailing semicolon ends the statement; it is not part of it.
        let mut end = sql.len();
        while tokens.last().is_some_and(|t| t.token == Token::SemiColon) {
            end = tokens.pop().map_or(end, |t| t.start);
        }
        Ok(Self {
            sql,
            tokens,
            pos: 0,
            end,
            statement,
        })
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|t| &t.token)
    }

    /// The next token, not consumed.
    pub fn peek_token(&self) -> Option<&Token> {
        self.peek()
    }

    /// A single-quoted string literal.
    pub fn string(&mut self) -> Result<String, SqlError> {
        match self.peek().cloned() {
            Some(Token::SingleQuotedString(s)) => {
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.error("expected a quoted string")),
        }
    }

    /// An unquoted word (as written) or a quoted string: an option value.
    pub fn word_or_string(&mut self) -> Result<String, SqlError> {
        match self.peek().cloned() {
            Some(Token::Word(w)) => {
                self.pos += 1;
                Ok(w.value)
            }
            Some(Token::SingleQuotedString(s)) => {
                self.pos += 1;
                Ok(s)
            }
            Some(Token::Number(n, _)) => {
                self.pos += 1;
                Ok(n)
            }
            _ => Err(self.error("expected a value")),
        }
    }

    /// Is the next token the unquoted word `word` (any case)?
    pub fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
    }

    /// Consume `word` if it is next.
    pub fn eat_word(&mut self, word: &str) -> bool {
        let found = self.is_word(word);
        if found {
            self.pos += 1;
        }
        found
    }

    pub fn expect_word(&mut self, word: &str) -> Result<(), SqlError> {
        if self.eat_word(word) {
            Ok(())
        } else {
            Err(self.error(&format!("expected {word}")))
        }
    }

    pub fn eat_token(&mut self, token: &Token) -> bool {
        let found = self.peek() == Some(token);
        if found {
            self.pos += 1;
        }
        found
    }

    pub fn expect_token(&mut self, token: &Token) -> Result<(), SqlError> {
        if self.eat_token(token) {
            Ok(())
        } else {
            Err(self.error(&format!("expected \"{token}\"")))
        }
    }

    /// A model name: unquoted names are lower-cased like Postgres
    /// identifiers; either way the name must be a plain identifier so it can
    /// never name a path outside the model folder.
    pub fn model_name(&mut self) -> Result<String, SqlError> {
        let name = self.identifier()?;
        validate_model_name(&name)?;
        Ok(name)
    }

    /// An identifier as Postgres reads it: unquoted names lower-cased.
    pub fn identifier(&mut self) -> Result<String, SqlError> {
        match self.peek().cloned() {
            Some(Token::Word(word)) => {
                self.pos += 1;
                Ok(if word.quote_style.is_some() {
                    word.value
                } else {
                    word.value.to_lowercase()
                })
            }
            _ => Err(self.error("expected a name")),
        }
    }

    /// A non-negative integer literal.
    pub fn unsigned(&mut self) -> Result<u64, SqlError> {
        match self.peek() {
            Some(Token::Number(n, _)) => {
                let value = n
                    .parse()
                    .map_err(|_| self.error("expected a whole number"))?;
                self.pos += 1;
                Ok(value)
            }
            _ => Err(self.error("expected a whole number")),
        }
    }

    /// `( key = value [, ...] )`; the keyword OPTIONS has been consumed.
    pub fn option_list(&mut self) -> Result<OptionList, SqlError> {
        self.expect_token(&Token::LParen)?;
        let mut options = OptionList::default();
        if self.eat_token(&Token::RParen) {
            return Ok(options);
        }
        loop {
            let key = match self.peek() {
                Some(Token::Word(w)) => w.value.to_lowercase(),
                _ => return Err(self.error("expected an option name")),
            };
            self.pos += 1;
            self.expect_token(&Token::Eq)?;
            let value = self.option_value()?;
            if options.get(&key).is_some() {
                return Err(SqlError::new(
                    SqlState::SYNTAX_ERROR,
                    format!("option \"{key}\" is given twice in {}", self.statement),
                ));
            }
            options.0.push((key, value));
            if self.eat_token(&Token::RParen) {
                return Ok(options);
            }
            self.expect_token(&Token::Comma)?;
        }
    }

    fn option_value(&mut self) -> Result<OptionValue, SqlError> {
        let negative = self.eat_token(&Token::Minus);
        let value = match self.peek().cloned() {
            Some(Token::Number(n, _)) => {
                OptionValue::Number(if negative { format!("-{n}") } else { n })
            }
            Some(_) if negative => return Err(self.error("expected a number after \"-\"")),
            Some(Token::SingleQuotedString(s)) => OptionValue::Str(s),
            Some(Token::Word(w)) if w.quote_style.is_none() => {
                match w.value.to_lowercase().as_str() {
                    "true" => OptionValue::Bool(true),
                    "false" => OptionValue::Bool(false),
                    other => OptionValue::Word(other.to_string()),
                }
            }
            _ => return Err(self.error("expected an option value")),
        };
        self.pos += 1;
        Ok(value)
    }

    /// The rest of the statement's text from the current token on, and move
    /// to the end.
    pub fn rest(&mut self) -> Option<&'a str> {
        let start = self.tokens.get(self.pos)?.start;
        self.pos = self.tokens.len();
        Some(self.sql[start..self.end].trim_end())
    }

    /// The text between the parenthesis at the cursor and its match, and move
    /// past it: `ON (<query>)`.
    pub fn parenthesised_text(&mut self) -> Result<&'a str, SqlError> {
        if self.peek() != Some(&Token::LParen) {
            return Err(self.error("expected \"(\""));
        }
        let open = self.pos;
        let mut depth = 0_usize;
        for i in open..self.tokens.len() {
            match self.tokens[i].token {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        let text = &self.sql[self.tokens[open].start + 1..self.tokens[i].start];
                        self.pos = i + 1;
                        return Ok(text.trim());
                    }
                }
                _ => {}
            }
        }
        Err(self.error("unbalanced parentheses"))
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    pub fn expect_end(&self) -> Result<(), SqlError> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.error("expected the end of the statement"))
        }
    }

    /// A syntax error (42601) at the current token.
    pub fn error(&self, expected: &str) -> SqlError {
        let at = self
            .peek()
            .map_or("end of input".to_string(), |t| format!("\"{t}\""));
        SqlError::new(
            SqlState::SYNTAX_ERROR,
            format!(
                "syntax error at or near {at} in {}: {expected}",
                self.statement
            ),
        )
    }
}

/// Model names are identifiers: a letter or `_`, then letters, digits or `_`,
/// at most 63 characters. Anything else (`..`, `/`, spaces) is refused, so a
/// name can never escape the model folder.
pub fn validate_model_name(name: &str) -> Result<(), SqlError> {
    let mut chars = name.chars();
    let valid = name.len() <= MAX_NAME_LEN
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(SqlError::new(
            SqlState::INVALID_NAME,
            format!(
                "invalid model name \"{name}\": use letters, digits and _ (starting with a letter or _), at most {MAX_NAME_LEN} characters"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_of_every_kind() {
        let mut c = Cursor::new(
            "OPTIONS (model_type = 'logistic_regression', L2 = 0.5, shift = -3, standardize = TRUE, class_weight = balanced);",
            "CREATE MODEL",
        )
        .unwrap();
        c.expect_word("options").unwrap();
        let options = c.option_list().unwrap();
        assert_eq!(
            options.0,
            vec![
                (
                    "model_type".into(),
                    OptionValue::Str("logistic_regression".into())
                ),
                ("l2".into(), OptionValue::Number("0.5".into())),
                ("shift".into(), OptionValue::Number("-3".into())),
                ("standardize".into(), OptionValue::Bool(true)),
                ("class_weight".into(), OptionValue::Word("balanced".into())),
            ]
        );
        assert!(c.at_end());
    }

    #[test]
    fn duplicate_and_malformed_options_are_syntax_errors() {
        for text in [
            "OPTIONS (a = 1, a = 2)",
            "OPTIONS (a 1)",
            "OPTIONS (a = )",
            "OPTIONS (a = -x)",
        ] {
            let mut c = Cursor::new(text, "CREATE MODEL").unwrap();
            c.expect_word("options").unwrap();
            assert_eq!(
                c.option_list().unwrap_err().state,
                SqlState::SYNTAX_ERROR,
                "{text}"
            );
        }
    }

    #[test]
    fn model_names_cannot_escape_the_folder() {
        assert!(validate_model_name("churn_v2").is_ok());
        for bad in ["../etc", "a/b", "", "1abc", "has space", &"x".repeat(64)] {
            assert_eq!(
                validate_model_name(bad).unwrap_err().state,
                SqlState::INVALID_NAME,
                "{bad}"
            );
        }
        let mut c = Cursor::new("\"Mixed\" Plain", "DROP MODEL").unwrap();
        assert_eq!(c.model_name().unwrap(), "Mixed");
        assert_eq!(c.model_name().unwrap(), "plain");
        let mut c = Cursor::new("\"../x\"", "DROP MODEL").unwrap();
        assert!(c.model_name().is_err());
    }

    #[test]
    fn parenthesised_text_and_rest() {
        let mut c = Cursor::new(
            "ON (SELECT (1 + 2) AS x FROM t) AS SELECT 'a;b' ;",
            "EVALUATE MODEL",
        )
        .unwrap();
        c.expect_word("on").unwrap();
        assert_eq!(
            c.parenthesised_text().unwrap(),
            "SELECT (1 + 2) AS x FROM t"
        );
        c.expect_word("as").unwrap();
        assert_eq!(c.rest(), Some("SELECT 'a;b'"));
        assert!(c.at_end());
    }
}
