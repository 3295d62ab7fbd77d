//! A prepared statement's parameter as `recommend`'s user:
//! `SELECT * FROM recommend('m', 10, $1)`.
//!
//! DataFusion calls a table function while planning, at Parse, when `$1`
//! has no value yet, and table functions take constants only. The same
//! rows come from `recommend('m', 10)` filtered on `user_id`, whose filter
//! is pushed into the function once Bind gives `$1` its value (only that
//! user is scored, and an unknown user gets the same fallback). So the
//! call becomes `(SELECT * FROM recommend('m', 10, NULL [, options]) WHERE
//! user_id = $1) AS recommend`, and `$1` is typed like the model's user
//! ids.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, Ident, SetExpr, Statement, TableAlias, TableFactor,
    TableFunctionArgs, Value, VisitMut, VisitorMut,
};

/// Rewrite every `recommend(..., $n, ...)` in `statement`'s FROM clauses;
/// whether any was.
pub fn rewrite(statement: &mut Statement) -> bool {
    let mut visitor = UserParameter { changed: false };
    let _ = statement.visit(&mut visitor);
    visitor.changed
}

struct UserParameter {
    changed: bool,
}

impl VisitorMut for UserParameter {
    type Break = ();

    fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        if let Some(derived) = as_filtered(factor) {
            *factor = derived;
            self.changed = true;
        }
        ControlFlow::Continue(())
    }
}

/// The filtered derived table for `recommend(model, k, $n [, options])`.
fn as_filtered(factor: &TableFactor) -> Option<TableFactor> {
    let TableFactor::Table {
        name,
        alias,
        args: Some(TableFunctionArgs {
            args,
            settings: None,
        }),
        ..
    } = factor
    else {
        return None;
    };
    let function = name.0.last()?.as_ident()?;
    if !function.value.eq_ignore_ascii_case("recommend") || !(3..=4).contains(&args.len()) {
        return None;
    }
    let FunctionArg::Unnamed(FunctionArgExpr::Expr(user)) = &args[2] else {
        return None;
    };
    if !is_parameter(user) {
        return None;
    }
    let mut all_users = factor.clone();
    if let TableFactor::Table {
        alias,
        args: Some(call),
        ..
    } = &mut all_users
    {
        *alias = None;
        call.args[2] = FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(
            Value::Null.with_empty_span(),
        )));
    }
    let mut query = super::rewrite::parse_query("SELECT * FROM t WHERE user_id = NULL")?;
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    select.from.first_mut()?.relation = all_users;
    if let Some(Expr::BinaryOp { right, .. }) = &mut select.selection {
        **right = user.clone();
    }
    Some(TableFactor::Derived {
        lateral: false,
        subquery: Box::new(query),
        alias: Some(alias.clone().unwrap_or_else(|| TableAlias {
            explicit: true,
            name: Ident::new(function.value.to_lowercase()),
            at: None,
            columns: vec![],
        })),
        sample: None,
    })
}

/// `$n`, also under a cast (`$1::bigint`) or in parentheses.
fn is_parameter(expr: &Expr) -> bool {
    match expr {
        Expr::Value(v) => matches!(v.value, Value::Placeholder(_)),
        Expr::Cast { expr, .. } | Expr::Nested(expr) => is_parameter(expr),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut statement = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        let changed = rewrite(&mut statement);
        format!("{changed}: {statement}")
    }

    #[test]
    fn a_parameter_user_becomes_a_filter() {
        assert_eq!(
            rewritten("SELECT * FROM recommend('m', 10, $1)"),
            "true: SELECT * FROM (SELECT * FROM recommend('m', 10, NULL) WHERE user_id = $1) AS recommend"
        );
        assert_eq!(
            rewritten("SELECT * FROM recommend('m', 10, $1::bigint)"),
            "true: SELECT * FROM (SELECT * FROM recommend('m', 10, NULL) WHERE user_id = $1::BIGINT) AS recommend"
        );
        assert_eq!(
            rewritten(
                "SELECT r.item_id FROM recommend('m', 5, $2, 'include_seen = true') r JOIN items i ON i.item_id = r.item_id"
            ),
            "true: SELECT r.item_id FROM (SELECT * FROM recommend('m', 5, NULL, 'include_seen = true') WHERE user_id = $2) r JOIN items i ON i.item_id = r.item_id"
        );
    }

    #[test]
    fn constants_and_other_functions_stay() {
        for sql in [
            "SELECT * FROM recommend('m', 10, 42)",
            "SELECT * FROM recommend('m', 10)",
            "SELECT * FROM similar_items('m', $1, 5)",
        ] {
            assert!(rewritten(sql).starts_with("false: "), "{sql}");
        }
    }
}
