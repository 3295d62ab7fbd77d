//! A bound on how deeply a statement's expressions nest.
//!
//! DataFusion plans and optimises expression trees recursively, so a long
//! `a + a + ...` or `x = 1 OR x = 2 OR ...` chain (one tree level per term)
//! can overflow a thread's stack and abort the whole process. Postgres
//! answers such statements with 54001; so does ecomsql, before planning.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, Query, Visit, Visitor};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};

use crate::error::{SqlError, SqlState};

/// Deepest expression nesting accepted (terms of a chain, nested
/// subqueries and function calls all count). Generated BI filters of a few
/// hundred OR terms fit; the server's threads have stack for several
/// times this.
pub const MAX_DEPTH: usize = 500;

struct Depth {
    current: usize,
}

impl Visitor for Depth {
    type Break = ();

    fn pre_visit_expr(&mut self, _: &Expr) -> ControlFlow<()> {
        self.enter()
    }

    fn post_visit_expr(&mut self, _: &Expr) -> ControlFlow<()> {
        self.current -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.enter()
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.current -= 1;
        ControlFlow::Continue(())
    }
}

impl Depth {
    fn enter(&mut self) -> ControlFlow<()> {
        self.current += 1;
        if self.current > MAX_DEPTH {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// 54001 if `sql` nests deeper than [`MAX_DEPTH`] (or deeper than the
/// parser's own recursion limit). Text that does not parse here is left to
/// the real parser, which reports the syntax error.
pub fn check_depth(sql: &str) -> Result<(), SqlError> {
    let too_complex = || {
        SqlError::new(
            SqlState::STATEMENT_TOO_COMPLEX,
            format!("statement is too complex: expressions nest more than {MAX_DEPTH} levels deep"),
        )
        .with_hint("use IN (...) instead of long OR chains, or split the expression")
    };
    let statements = match Parser::parse_sql(&PostgreSqlDialect {}, sql) {
        Ok(statements) => statements,
        Err(ParserError::RecursionLimitExceeded) => return Err(too_complex()),
        Err(_) => return Ok(()),
    };
    for statement in &statements {
        let mut depth = Depth { current: 0 };
        if statement.visit(&mut depth).is_break() {
            return Err(too_complex());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> String {
        format!("SELECT 1{}", " + 1".repeat(n))
    }

    #[test]
    fn deep_chains_are_refused_shallow_ones_pass() {
        assert_eq!(check_depth(&chain(MAX_DEPTH - 10)), Ok(()));
        let e = check_depth(&chain(MAX_DEPTH + 10)).expect_err("too deep");
        assert_eq!(e.state, SqlState::STATEMENT_TOO_COMPLEX);
        let nested = format!("SELECT {}1{}", "(".repeat(200), ")".repeat(200));
        assert_eq!(
            check_depth(&nested).map_err(|e| e.state),
            Err(SqlState::STATEMENT_TOO_COMPLEX)
        );
        // Not SQL at all: the real parser will say so.
        assert_eq!(check_depth("SELEC 1"), Ok(()));
        let wide = format!("SELECT * FROM t WHERE x IN ({})", vec!["1"; 5000].join(","));
        assert_eq!(check_depth(&wide), Ok(()));
    }
}
