//! Postgres SQL that DataFusion cannot plan, rewritten before
//! datafusion-postgres parses it.
//!
//! `SHOW datafusion.<option>` becomes `SELECT current_setting(...)`, which
//! answers from the session's own configuration (datafusion-postgres
//! answers an empty `unsupported_show_statement` for those names).
//!
//! A select-list item without an alias gets the name Postgres gives it:
//! a function call its function's name (`count`, `avg`), anything else
//! that is not a column `?column?` (`case`, `exists`, `array` for those).
//! DataFusion names them after the expression (`count(*)`, `Int64(1)`),
//! which psql, BI tools and drivers show as column headers. Only the
//! outermost select is named, a name two items would share stays
//! DataFusion's (its projections need distinct names), and queries of the
//! catalogs (`pg_*`, `information_schema`) are left as written.
//!
//! `recommend(..., $1)` in FROM becomes a filter on its result
//! (`src/server/function_parameters.rs`).
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
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, Query, SelectItem, SetExpr,
    Statement, Value, visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// Words a statement must contain for a rewrite to apply (every select
/// may need its columns named).
const NEEDLES: [&[u8]; 4] = [b"generate_subscripts", b"user", b"show", b"select"];

/// `sql` rewritten, or as it is when there is nothing to rewrite (or it
/// does not parse: the parser that follows reports that).
pub fn rewrite(sql: &str) -> Cow<'_, str> {
    // Statements that can need none of the rewrites skip the parse.
    let mentions = |needle: &[u8]| {
        sql.as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    };
    if !NEEDLES.iter().any(|n| mentions(n)) {
        return Cow::Borrowed(sql);
    }
    // Catalog queries keep their columns' names: datafusion-postgres
    // recognises some clients' catalog queries by their exact tokens.
    let catalog_query = mentions(b"pg_") || mentions(b"information_schema");
    let dialect = PostgreSqlDialect {};
    let Ok(mut statements) = Parser::parse_sql(&dialect, sql) else {
        return Cow::Borrowed(sql);
    };
    let mut changed = false;
    for statement in &mut statements {
        if let Some(query) = show_as_query(statement) {
            *statement = query;
            changed = true;
        }
        if !catalog_query {
            changed |= name_columns(statement);
        }
        changed |= super::function_parameters::rewrite(statement);
    }
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

/// Settings datafusion-postgres answers itself in `SHOW` (some from the
/// connection: `SET application_name`, `SET TIME ZONE`, ...).
const SHOWN_UPSTREAM: [&str; 9] = [
    "server_version",
    "search_path",
    "datestyle",
    "intervalstyle",
    "bytea_output",
    "extra_float_digits",
    "transaction_isolation",
    "application_name",
    "statement_timeout",
];

/// `SHOW name` that datafusion-postgres would answer with an empty
/// `unsupported_show_statement`: `datafusion.*` options (the session's),
/// Postgres settings ecomsql knows (`standard_conforming_strings`, which
/// SQLAlchemy reads to decide how to escape backslashes, ...) through
/// `current_setting`, `timezone` as the `SHOW TIME ZONE` it answers from
/// the connection, and names nobody knows (42704 from `current_setting`).
fn show_as_query(statement: &Statement) -> Option<Statement> {
    let Statement::ShowVariable { variable } = statement else {
        return None;
    };
    let name = variable
        .iter()
        .map(|i| i.value.as_str())
        .collect::<Vec<_>>()
        .join(".");
    let lower = name.to_ascii_lowercase();
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        return None;
    }
    let text = if lower == "timezone" {
        "SHOW TIME ZONE".to_string()
    } else if lower.starts_with("datafusion.")
        // Every other one-word name but those upstream answers: the
        // settings ecomsql knows, and 42704 for a name nobody has (as
        // Postgres answers; datafusion-postgres would answer an empty row).
        || (!lower.contains('.') && !SHOWN_UPSTREAM.contains(&lower.as_str()) && lower != "all")
    {
        format!("SELECT current_setting('{name}') AS \"{lower}\"")
    } else {
        return None;
    };
    Parser::parse_sql(&PostgreSqlDialect {}, &text).ok()?.pop()
}

/// The name Postgres gives an unaliased select item, where DataFusion's
/// differs (None: a column reference, named alike by both).
fn postgres_name(expr: &Expr) -> Option<String> {
    Some(match expr {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => return None,
        Expr::Cast { expr, .. } => return postgres_name(expr),
        Expr::Nested(inner) => return postgres_name(inner),
        Expr::Function(f) => {
            let ident = f.name.0.last()?.as_ident()?;
            match ident.quote_style {
                Some(_) => ident.value.clone(),
                None => ident.value.to_lowercase(),
            }
        }
        Expr::Case { .. } => "case".to_string(),
        Expr::Exists { .. } => "exists".to_string(),
        Expr::Array(_) => "array".to_string(),
        // Placeholders keep DataFusion's names ($1): drivers describe them.
        Expr::Value(v) if matches!(v.value, Value::Placeholder(_)) => return None,
        _ => "?column?".to_string(),
    })
}

fn name_columns(statement: &mut Statement) -> bool {
    let Statement::Query(query) = statement else {
        return false;
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return false;
    };
    let names: Vec<Option<String>> = select
        .projection
        .iter()
        .map(|item| match item {
            SelectItem::UnnamedExpr(expr) => postgres_name(expr),
            _ => None,
        })
        .collect();
    // Output names already taken: aliases and column references.
    let mut taken: Vec<String> = select
        .projection
        .iter()
        .filter_map(|item| match item {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
            SelectItem::UnnamedExpr(Expr::Identifier(i)) => Some(i.value.clone()),
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => {
                parts.last().map(|i| i.value.clone())
            }
            _ => None,
        })
        .collect();
    taken.extend(names.iter().flatten().cloned());
    let mut changed = false;
    for (item, name) in select.projection.iter_mut().zip(names) {
        let Some(name) = name else { continue };
        if taken
            .iter()
            .filter(|t| t.eq_ignore_ascii_case(&name))
            .count()
            > 1
        {
            continue;
        }
        if let SelectItem::UnnamedExpr(expr) = item {
            *item = SelectItem::ExprWithAlias {
                expr: expr.clone(),
                alias: Ident::with_quote('"', name),
            };
            changed = true;
        }
    }
    changed
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

/// An expression or query of the rewrites' own making, parsed as the
/// Postgres dialect reads it.
pub(super) fn parse_expr(text: &str) -> Option<Expr> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(text)
        .ok()?
        .parse_expr()
        .ok()
}

pub(super) fn parse_query(text: &str) -> Option<Query> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(text)
        .ok()?
        .parse_query()
        .ok()
        .map(|q| *q)
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
        let plain = "select  a from t -- generate_series";
        assert!(matches!(rewrite(plain), Cow::Borrowed(s) if s == plain));
        // Mentioned only in a string: parsed, nothing changed, text kept.
        let quoted = "SELECT 'generate_subscripts' AS s";
        assert!(matches!(rewrite(quoted), Cow::Borrowed(s) if s == quoted));
    }

    #[test]
    fn show_of_a_datafusion_option_reads_the_session_setting() {
        assert_eq!(
            rewrite("SHOW datafusion.execution.batch_size"),
            "SELECT current_setting('datafusion.execution.batch_size') AS \"datafusion.execution.batch_size\""
        );
        assert_eq!(
            rewrite("SHOW standard_conforming_strings"),
            "SELECT current_setting('standard_conforming_strings') AS \"standard_conforming_strings\""
        );
        assert_eq!(rewrite("SHOW TimeZone"), "SHOW TIME ZONE");
        // What datafusion-postgres answers (from the connection) stays its.
        let path = "SHOW search_path";
        assert!(matches!(rewrite(path), Cow::Borrowed(s) if s == path));
    }

    #[test]
    fn unaliased_items_get_postgres_names() {
        assert_eq!(
            rewrite(
                "SELECT count(*), avg(x)::int, 1, x, t.y, z AS w, CASE WHEN x THEN 1 END FROM t"
            ),
            "SELECT count(*) AS \"count\", avg(x)::INT AS \"avg\", 1 AS \"?column?\", x, t.y, z AS w, CASE WHEN x THEN 1 END AS \"case\" FROM t"
        );
        // Two items would share a name: both keep DataFusion's.
        assert_eq!(
            rewrite("SELECT count(*), count(x), 1 + 1 FROM t"),
            "SELECT count(*), count(x), 1 + 1 AS \"?column?\" FROM t"
        );
        // Catalog queries are left as clients wrote them.
        let catalog = "SELECT count(*) FROM pg_catalog.pg_class";
        assert!(matches!(rewrite(catalog), Cow::Borrowed(s) if s == catalog));
        // Columns only: nothing to name, the text is kept.
        let plain = "SELECT a, b FROM t";
        assert!(matches!(rewrite(plain), Cow::Borrowed(s) if s == plain));
    }

    #[test]
    fn bare_user_is_current_user_and_a_quoted_one_a_column() {
        assert_eq!(
            rewrite("SELECT CASE WHEN x = '$user' THEN user ELSE x END AS v FROM t"),
            "SELECT CASE WHEN x = '$user' THEN current_user ELSE x END AS v FROM t"
        );
        let column = "SELECT \"user\", user_id FROM users";
        assert!(matches!(rewrite(column), Cow::Borrowed(s) if s == column));
    }
}
