//! Postgres SQL that DataFusion cannot plan, rewritten before
//! datafusion-postgres parses it.
//!
//! The bare keyword `user` (Postgres's `current_user`, which Grafana's
//! table picker uses to expand `"$user"` in the search path) becomes
//! `current_user`; a quoted `"user"` is a column and stays.
//!
//! `generate_subscripts(a, d)` (a set-returning function in a select list)
//! becomes `unnest(generate_series(1, array_length(a, d)))`: the same rows,
//! in the same lockstep with other set-returning calls of the select list.
//! SQLAlchemy's primary-key, unique-constraint and index reflection uses it
//! beside `unnest(pg_index.indkey)`. Subscripts count from 1, as for any
//! Postgres array (an `int2vector` counts from 0 there; clients use them
//! only to order the keys).

use std::borrow::Cow;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// Words a statement must contain for a rewrite to apply.
const NEEDLES: [&[u8]; 2] = [b"generate_subscripts", b"user"];

/// `sql` rewritten, or as it is when there is nothing to rewrite (or it
/// does not parse: the parser that follows reports that).
pub fn rewrite(sql: &str) -> Cow<'_, str> {
    // Most statements mention neither: skip the parse.
    let bytes = sql.as_bytes();
    let mentions = NEEDLES.iter().any(|needle| {
        bytes
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    });
    if !mentions {
        return Cow::Borrowed(sql);
    }
    let dialect = PostgreSqlDialect {};
    let Ok(mut statements) = Parser::parse_sql(&dialect, sql) else {
        return Cow::Borrowed(sql);
    };
    let mut changed = false;
    let _ = visit_expressions_mut(&mut statements, |expr| {
        if let Some(replacement) = subscripts_as_series(expr).or_else(|| user_as_current_user(expr))
        {
            *expr = replacement;
            changed = true;
        }
        ControlFlow::<()>::Continue(())
    });
    if !changed {
        return Cow::Borrowed(sql);
    }
    let text: Vec<String> = statements.iter().map(ToString::to_string).collect();
    Cow::Owned(text.join("; "))
}

/// sqlparser reads the keyword as a call without parentheses.
fn user_as_current_user(expr: &Expr) -> Option<Expr> {
    let Expr::Function(function) = expr else {
        return None;
    };
    let [part] = function.name.0.as_slice() else {
        return None;
    };
    let ident = part.as_ident()?;
    let bare = ident.quote_style.is_none() && ident.value.eq_ignore_ascii_case("user");
    if !bare || !matches!(function.args, FunctionArguments::None) {
        return None;
    }
    parse_expr("current_user")
}

fn parse_expr(text: &str) -> Option<Expr> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(text)
        .ok()?
        .parse_expr()
        .ok()
}

fn subscripts_as_series(expr: &Expr) -> Option<Expr> {
    let Expr::Function(function) = expr else {
        return None;
    };
    let name = function.name.0.last()?.as_ident()?;
    if !name.value.eq_ignore_ascii_case("generate_subscripts") {
        return None;
    }
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    let [array, dimension] = list.args.as_slice() else {
        return None;
    };
    let (
        FunctionArg::Unnamed(FunctionArgExpr::Expr(array)),
        FunctionArg::Unnamed(FunctionArgExpr::Expr(dimension)),
    ) = (array, dimension)
    else {
        return None;
    };
    parse_expr(&format!(
        "unnest(generate_series(1, array_length({array}, {dimension})))"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_subscripts_becomes_an_unnested_series() {
        let sql = "SELECT unnest(i.indkey) AS k, GENERATE_SUBSCRIPTS(i.indkey, $1::INTEGER) AS ord FROM pg_catalog.pg_index AS i";
        assert_eq!(
            rewrite(sql),
            "SELECT unnest(i.indkey) AS k, unnest(generate_series(1, array_length(i.indkey, $1::INTEGER))) AS ord FROM pg_catalog.pg_index AS i"
        );
        // Nothing to do: the same text, not re-printed.
        let plain = "select  1 -- generate_series";
        assert!(matches!(rewrite(plain), Cow::Borrowed(s) if s == plain));
        // Mentioned only in a string: parsed, nothing changed, text kept.
        let quoted = "SELECT 'generate_subscripts'";
        assert!(matches!(rewrite(quoted), Cow::Borrowed(s) if s == quoted));
    }

    #[test]
    fn bare_user_is_current_user_and_a_quoted_one_a_column() {
        assert_eq!(
            rewrite("SELECT CASE WHEN x = '$user' THEN user ELSE x END FROM t"),
            "SELECT CASE WHEN x = '$user' THEN current_user ELSE x END FROM t"
        );
        let column = "SELECT \"user\", user_id FROM users";
        assert!(matches!(rewrite(column), Cow::Borrowed(s) if s == column));
    }
}
