//! `ARRAY(subquery)`, Postgres's array constructor over a subquery.
//!
//! The Postgres parser reads `ARRAY(SELECT ...)` as a call of a function
//! named `array`, which DataFusion does not have. psql's `\d+` uses it
//! (`array(select 'toast.' || x from unnest(tc.reloptions) x)`), and so
//! do `\du` and BI tools' role queries. A hook over datafusion-postgres's
//! parsed statement (so the rewrite can use lambdas, which the Postgres
//! dialect cannot parse) rewrites each one before DataFusion plans it:
//!
//! - `ARRAY(SELECT e FROM unnest(a) [AS] x)` with nothing else is a map over
//!   the array: `array_transform(a, x -> e)`. It works where `a` comes from
//!   the outer query (DataFusion cannot plan an outer reference inside an
//!   `unnest` in FROM).
//! - Any other `ARRAY(SELECT e FROM ... [WHERE ...] [ORDER BY ...])`
//!   aggregates: `(SELECT array_agg(e ORDER BY ...) FROM ... WHERE ...)`,
//!   correlated or not (DataFusion decorrelates aggregated scalar
//!   subqueries). A subquery with `GROUP BY`, `DISTINCT`, `LIMIT`, a set
//!   operation or a `WITH` is aggregated as a derived table.
//!
//! Postgres gives an empty array where the subquery has no rows (also for a
//! NULL array in the first form), so each result is
//! `coalesce(..., make_array())`. A subquery of more than one column is
//! 42601, as in Postgres.

use std::ops::ControlFlow;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments,
    GroupByExpr, Ident, LambdaFunction, LambdaFunctionParameter, LambdaSyntax, ObjectName,
    OneOrManyWithParens, OrderByKind, Query, Select, SelectItem, SetExpr, Statement, TableAlias,
    TableFactor, TableFunctionArgs, Value, visit_expressions, visit_expressions_mut,
};
use datafusion_postgres::QueryHook;
use datafusion_postgres::arrow_pg::datatypes::df::encode_dataframe;
use datafusion_postgres::hooks::HookClient;
use pgwire::api::ClientInfo;
use pgwire::api::portal::Format;
use pgwire::api::results::Response;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::types::format::FormatOptions;

use crate::error::{SqlError, SqlState};

/// Plans statements that contain `ARRAY(subquery)`; others go on to the
/// next hook.
#[derive(Debug)]
pub struct ArraySubqueryHook;

#[async_trait]
impl QueryHook for ArraySubqueryHook {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        let rewritten = rewrite(statement, session_context)?;
        Some(
            async {
                let plan = plan(rewritten?, session_context).await?;
                let frame = session_context
                    .execute_logical_plan(plan)
                    .await
                    .map_err(api_error)?;
                let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
                let response = encode_dataframe(frame, &Format::UnifiedText, Some(options)).await?;
                Ok(Response::Query(response))
            }
            .await,
        )
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        session_context: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        Some(match rewrite(statement, session_context)? {
            Ok(rewritten) => plan(rewritten, session_context).await,
            Err(e) => Err(e),
        })
    }

    async fn handle_extended_query(
        &self,
        _statement: &Statement,
        _logical_plan: &LogicalPlan,
        _params: &ParamValues,
        _session_context: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        // The plan made at Parse runs as any other.
        None
    }
}

async fn plan(statement: Statement, ctx: &SessionContext) -> PgWireResult<LogicalPlan> {
    ctx.state()
        .statement_to_plan(DfStatement::Statement(Box::new(statement)))
        .await
        .map_err(api_error)
}

fn api_error(e: datafusion::error::DataFusionError) -> PgWireError {
    PgWireError::ApiError(Box::new(e))
}

/// `statement` with every `ARRAY(subquery)` rewritten; `None` when it has
/// none.
fn rewrite(statement: &Statement, ctx: &SessionContext) -> Option<PgWireResult<Statement>> {
    if !has_array_subquery(statement) {
        return None;
    }
    let state = ctx.state();
    let is_aggregate = |name: &str| {
        let lower = name.to_ascii_lowercase();
        state.aggregate_functions().contains_key(&lower)
    };
    let mut statement = statement.clone();
    let mut failure = None;
    let _ = visit_expressions_mut(&mut statement, |expr| {
        let Some(query) = array_subquery(expr) else {
            return ControlFlow::Continue(());
        };
        match constructor(query, &is_aggregate) {
            Ok(replacement) => {
                *expr = replacement;
                ControlFlow::Continue(())
            }
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
        }
    });
    Some(match failure {
        Some(e) => Err(PgWireError::ApiError(Box::new(e))),
        None => Ok(statement),
    })
}

fn has_array_subquery(statement: &Statement) -> bool {
    // Other statements (a cursor's DECLARE, ...) belong to the hooks after
    // this one.
    matches!(statement, Statement::Query(_))
        && visit_expressions(statement, |expr| {
            if array_subquery(expr).is_some() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .is_break()
}

/// The subquery of `ARRAY(subquery)`.
fn array_subquery(expr: &Expr) -> Option<&Query> {
    let Expr::Function(Function {
        name,
        args: FunctionArguments::Subquery(query),
        ..
    }) = expr
    else {
        return None;
    };
    let [part] = name.0.as_slice() else {
        return None;
    };
    let ident = part.as_ident()?;
    (ident.quote_style.is_none() && ident.value.eq_ignore_ascii_case("array"))
        .then_some(query.as_ref())
}

/// The expression that builds the array `query` would give.
fn constructor(query: &Query, is_aggregate: &dyn Fn(&str) -> bool) -> Result<Expr, SqlError> {
    let element = single_column(query)?;
    let array = match unnest_map(query, element, is_aggregate) {
        Some(map) => map,
        None => Expr::Subquery(Box::new(aggregated(query, element, is_aggregate)?)),
    };
    Ok(call("coalesce", vec![array, call("make_array", vec![])]))
}

/// The one select item of a plain `SELECT`, or `None` for other bodies
/// (set operations, `VALUES`), whose first column is taken.
fn single_column(query: &Query) -> Result<Option<&Expr>, SqlError> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Ok(None);
    };
    match select.projection.as_slice() {
        [SelectItem::UnnamedExpr(e)] | [SelectItem::ExprWithAlias { expr: e, .. }] => Ok(Some(e)),
        _ => Err(not_one_column()),
    }
}

fn not_one_column() -> SqlError {
    SqlError::new(
        SqlState::SYNTAX_ERROR,
        "subquery must return only one column (ARRAY(subquery) takes one expression, not * or a list)",
    )
}

/// `array_transform(a, x -> e)` for `SELECT e FROM unnest(a) [AS] x[(c)]`
/// with nothing else in the query.
fn unnest_map(
    query: &Query,
    element: Option<&Expr>,
    is_aggregate: &dyn Fn(&str) -> bool,
) -> Option<Expr> {
    let element = element?;
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    if query.with.is_some()
        || query.order_by.is_some()
        || query.limit_clause.is_some()
        || query.fetch.is_some()
        || !only_from_and_projection(select)
    {
        return None;
    }
    let [from] = select.from.as_slice() else {
        return None;
    };
    if !from.joins.is_empty() {
        return None;
    }
    let (array, alias) = unnest_argument(&from.relation)?;
    // An aggregate over the unnested rows is one value, not a map.
    if mentions_aggregate(element, is_aggregate) {
        return None;
    }
    // Postgres names the column after the alias's column list, else after
    // the alias (a one-column function's alias is also its column), else
    // `unnest`.
    let table = alias.map(|a| a.name.value.clone());
    let column = alias
        .and_then(|a| a.columns.first())
        .map(|c| c.name.value.clone())
        .or_else(|| table.clone())
        .unwrap_or_else(|| "unnest".to_string());
    let mut body = element.clone();
    let _ = visit_expressions_mut(&mut body, |e| {
        let refers = match e {
            Expr::Identifier(i) => i.value == column || table.as_deref() == Some(&i.value),
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [t, c] => table.as_deref() == Some(&t.value) && c.value == column,
                _ => false,
            },
            _ => false,
        };
        if refers {
            *e = Expr::Identifier(Ident::new(column.clone()));
        }
        ControlFlow::<()>::Continue(())
    });
    let lambda = Expr::Lambda(LambdaFunction {
        params: OneOrManyWithParens::One(LambdaFunctionParameter {
            name: Ident::new(column),
            data_type: None,
        }),
        body: Box::new(body),
        syntax: LambdaSyntax::Arrow,
    });
    Some(call("array_transform", vec![array.clone(), lambda]))
}

/// The array and alias of `unnest(a) [AS] x`, in either of the forms the
/// parser gives (`pg_catalog.unnest(...)` is a table function).
fn unnest_argument(relation: &TableFactor) -> Option<(&Expr, Option<&TableAlias>)> {
    match relation {
        TableFactor::UNNEST {
            alias,
            array_exprs,
            with_offset: false,
            with_ordinality: false,
            ..
        } => match array_exprs.as_slice() {
            [array] => Some((array, alias.as_ref())),
            _ => None,
        },
        TableFactor::Table {
            name,
            alias,
            args:
                Some(TableFunctionArgs {
                    args,
                    settings: None,
                }),
            with_ordinality: false,
            ..
        } => {
            let last = name.0.last()?.as_ident()?;
            if !last.value.eq_ignore_ascii_case("unnest") {
                return None;
            }
            match args.as_slice() {
                [FunctionArg::Unnamed(FunctionArgExpr::Expr(array))] => {
                    Some((array, alias.as_ref()))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether a select has nothing but its projection and FROM.
fn only_from_and_projection(select: &Select) -> bool {
    select.distinct.is_none()
        && select.top.is_none()
        && select.selection.is_none()
        && select.prewhere.is_none()
        && no_group_by(&select.group_by)
        && select.having.is_none()
        && select.qualify.is_none()
        && select.named_window.is_empty()
        && select.lateral_views.is_empty()
}

fn no_group_by(group_by: &GroupByExpr) -> bool {
    matches!(group_by, GroupByExpr::Expressions(exprs, modifiers) if exprs.is_empty() && modifiers.is_empty())
}

fn mentions_aggregate(expr: &Expr, is_aggregate: &dyn Fn(&str) -> bool) -> bool {
    visit_expressions(expr, |e| {
        if let Expr::Function(f) = e
            && let Some(name) = f.name.0.last().and_then(|p| p.as_ident())
            && (is_aggregate(&name.value) || f.over.is_some())
        {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })
    .is_break()
}

/// `SELECT array_agg(e ORDER BY ...) FROM ... WHERE ...` for a plain
/// select, else `SELECT array_agg(v) FROM (query) AS _array(v)` (also for
/// an element that aggregates itself: aggregates do not nest).
fn aggregated(
    query: &Query,
    element: Option<&Expr>,
    is_aggregate: &dyn Fn(&str) -> bool,
) -> Result<Query, SqlError> {
    if let (Some(element), SetExpr::Select(select)) = (element, query.body.as_ref())
        && !mentions_aggregate(element, is_aggregate)
        && query.with.is_none()
        && query.limit_clause.is_none()
        && query.fetch.is_none()
        && select.distinct.is_none()
        && select.top.is_none()
        && no_group_by(&select.group_by)
        && select.having.is_none()
        && select.named_window.is_empty()
    {
        let order = match &query.order_by {
            None => Vec::new(),
            Some(order_by) => match &order_by.kind {
                OrderByKind::Expressions(items) => items
                    .iter()
                    .map(|item| {
                        let mut item = item.clone();
                        // `ORDER BY 1` or the item's alias name the element.
                        if positional_or_alias(&item.expr, select) {
                            item.expr = element.clone();
                        }
                        item.to_string()
                    })
                    .collect(),
                OrderByKind::All(_) => Vec::new(),
            },
        };
        let aggregate = if order.is_empty() {
            format!("array_agg({element})")
        } else {
            format!("array_agg({element} ORDER BY {})", order.join(", "))
        };
        let mut plain = query.clone();
        plain.order_by = None;
        if let SetExpr::Select(select) = plain.body.as_mut() {
            select.projection = vec![SelectItem::UnnamedExpr(parse(
                &aggregate,
                super::rewrite::parse_expr,
            )?)];
        }
        return Ok(plain);
    }
    let mut outer = parse(
        "SELECT array_agg(_array.v) FROM (SELECT 1) AS _array (v)",
        super::rewrite::parse_query,
    )?;
    if let SetExpr::Select(select) = outer.body.as_mut()
        && let Some(from) = select.from.first_mut()
        && let TableFactor::Derived { subquery, .. } = &mut from.relation
    {
        **subquery = query.clone();
    }
    Ok(outer)
}

/// Whether an `ORDER BY` item names the (only) select item by position or
/// alias.
fn positional_or_alias(expr: &Expr, select: &Select) -> bool {
    match expr {
        Expr::Value(v) => matches!(&v.value, Value::Number(n, _) if n == "1"),
        Expr::Identifier(name) => select.projection.iter().any(
            |item| matches!(item, SelectItem::ExprWithAlias { alias, .. } if alias.value == name.value),
        ),
        _ => false,
    }
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a)))
                .collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// A piece of the rewrite, parsed; built from the statement's own
/// expressions, so a failure is reported rather than assumed away.
fn parse<T>(text: &str, parse: fn(&str) -> Option<T>) -> Result<T, SqlError> {
    parse(text).ok_or_else(|| {
        SqlError::new(
            SqlState::SYNTAX_ERROR,
            format!("ARRAY(subquery) could not be rewritten as {text}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    use super::*;

    fn rewritten(sql: &str) -> String {
        let ctx = SessionContext::new();
        let statement = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        match rewrite(&statement, &ctx) {
            None => "unchanged".to_string(),
            Some(Ok(s)) => s.to_string(),
            Some(Err(e)) => format!("error: {e}"),
        }
    }

    #[test]
    fn unnest_of_an_outer_array_is_a_map() {
        assert_eq!(
            rewritten(
                "SELECT array(select 'toast.' || x from pg_catalog.unnest(tc.reloptions) x) FROM t tc"
            ),
            "SELECT coalesce(array_transform(tc.reloptions, x -> 'toast.' || x), make_array()) FROM t tc"
        );
        assert_eq!(
            rewritten("SELECT ARRAY(SELECT u.v * 2 FROM unnest(a) AS u(v)) FROM t"),
            "SELECT coalesce(array_transform(a, v -> v * 2), make_array()) FROM t"
        );
    }

    #[test]
    fn other_subqueries_aggregate() {
        assert_eq!(
            rewritten(
                "SELECT ARRAY(SELECT rolname FROM pg_roles WHERE oid = r.oid ORDER BY 1) FROM pg_roles r"
            ),
            "SELECT coalesce((SELECT array_agg(rolname ORDER BY rolname) FROM pg_roles WHERE oid = r.oid), make_array()) FROM pg_roles r"
        );
        // An aggregate over the unnested rows is not a map.
        assert_eq!(
            rewritten("SELECT ARRAY(SELECT count(*) FROM unnest(a) x) FROM t"),
            "SELECT coalesce((SELECT array_agg(_array.v) FROM (SELECT count(*) FROM UNNEST(a) x) AS _array (v)), make_array()) FROM t"
        );
        assert_eq!(
            rewritten("SELECT ARRAY(SELECT DISTINCT a FROM t LIMIT 2)"),
            "SELECT coalesce((SELECT array_agg(_array.v) FROM (SELECT DISTINCT a FROM t LIMIT 2) AS _array (v)), make_array())"
        );
    }

    #[test]
    fn one_column_only() {
        assert!(
            rewritten("SELECT ARRAY(SELECT a, b FROM t)")
                .starts_with("error: subquery must return only one column")
        );
        assert_eq!(
            rewritten("SELECT array_length(make_array(1), 1)"),
            "unchanged"
        );
        assert_eq!(rewritten("SELECT \"array\"(1)"), "unchanged");
    }
}
