//! What a read-only session may run: queries and the model statements that
//! only read (EVALUATE, SHOW, DESCRIBE), plus session and transaction
//! statements. Everything else is refused with 42501 before it is planned.
//!
//! An allow-list over the parsed statement, so a statement kind added to the
//! parser later is refused until someone decides otherwise.

use datafusion::sql::sqlparser::ast::{SetExpr, Statement};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::error::{SqlError, SqlState};
use crate::statements::EcomStatement;

/// Refuse `sql` for a read-only user unless it only reads.
pub fn check_read_only(sql: &str, user: &str) -> Result<(), SqlError> {
    let denied = || {
        SqlError::new(
            SqlState::INSUFFICIENT_PRIVILEGE,
            format!("permission denied: user \"{user}\" is read-only"),
        )
        .with_hint("CREATE, DROP and ALTER MODEL, DDL and DML need a user with the admin role")
    };
    match EcomStatement::recognise(sql) {
        Ok(Some(statement)) => {
            return match statement {
                EcomStatement::CreateModel(_)
                | EcomStatement::DropModel(_)
                | EcomStatement::AlterModel(_) => Err(denied()),
                _ => Ok(()),
            };
        }
        Ok(None) => {}
        Err(e) => return Err(e),
    }
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql)
        .map_err(|e| SqlError::new(SqlState::SYNTAX_ERROR, e.to_string()))?;
    if statements.iter().all(reads_only) {
        Ok(())
    } else {
        Err(denied())
    }
}

fn reads_only(statement: &Statement) -> bool {
    match statement {
        Statement::Query(query) => query_reads_only(query),
        Statement::Explain { statement, .. } => reads_only(statement),
        Statement::Prepare { statement, .. } => reads_only(statement),
        Statement::Declare { stmts } => stmts
            .iter()
            .all(|d| d.for_query.as_deref().is_none_or(query_reads_only)),
        Statement::ExplainTable { .. }
        | Statement::Set(_)
        | Statement::ShowVariable { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowTables { .. }
        | Statement::ShowViews { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowFunctions { .. }
        | Statement::ShowSchemas { .. }
        | Statement::ShowDatabases { .. }
        | Statement::ShowCatalogs { .. }
        | Statement::ShowCreate { .. }
        | Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Savepoint { .. }
        | Statement::ReleaseSavepoint { .. }
        | Statement::Fetch { .. }
        | Statement::Close { .. }
        | Statement::Execute { .. }
        | Statement::Deallocate { .. }
        | Statement::Discard { .. } => true,
        _ => false,
    }
}

/// A query, unless its body writes (`WITH ... INSERT`) or it is `SELECT
/// ... INTO`, which creates a table.
fn query_reads_only(query: &datafusion::sql::sqlparser::ast::Query) -> bool {
    set_expr_reads_only(&query.body)
}

fn set_expr_reads_only(body: &SetExpr) -> bool {
    match body {
        SetExpr::Select(select) => select.into.is_none(),
        SetExpr::Query(query) => query_reads_only(query),
        SetExpr::SetOperation { left, right, .. } => {
            set_expr_reads_only(left) && set_expr_reads_only(right)
        }
        SetExpr::Values(_) | SetExpr::Table(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pass_writes_are_refused() {
        for ok in [
            "SELECT * FROM users",
            "WITH a AS (SELECT 1) SELECT * FROM a UNION SELECT 2",
            "EXPLAIN SELECT 1",
            "SET statement_timeout = 0",
            "SHOW TimeZone",
            "BEGIN",
            "COMMIT",
            "DECLARE c CURSOR FOR SELECT 1",
            "FETCH 10 FROM c",
            "SHOW MODELS",
            "EVALUATE MODEL m",
            "VALUES (1)",
        ] {
            assert_eq!(check_read_only(ok, "u"), Ok(()), "{ok}");
        }
        for denied in [
            "CREATE MODEL m OPTIONS (model_type = 'logistic_regression', label = 'y') AS SELECT 1 AS x, true AS y",
            "DROP MODEL m",
            "CREATE TABLE t AS SELECT 1",
            "CREATE VIEW v AS SELECT 1",
            "INSERT INTO t VALUES (1)",
            "DROP TABLE users",
            "SELECT 1 INTO t",
            "EXPLAIN ANALYZE INSERT INTO t VALUES (1)",
            "SELECT 1; DROP TABLE users",
            "CREATE SCHEMA s",
        ] {
            let e = check_read_only(denied, "u").expect_err(denied);
            assert_eq!(e.state, SqlState::INSUFFICIENT_PRIVILEGE, "{denied}");
        }
    }
}
