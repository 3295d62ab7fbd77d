//! `CREATE [OR REPLACE] MODEL name OPTIONS (...) [AS <query>]`

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::Result;

use super::parser::OptionList;
use super::{Cursor, rows_output};
use crate::engine::{Engine, Notices, Output};
use crate::error::SqlError;
use crate::models::create_model;

/// `CREATE [OR REPLACE] MODEL`
#[derive(Debug, Clone, PartialEq)]
pub struct CreateModel {
    pub name: String,
    pub or_replace: bool,
    pub options: OptionList,
    /// The training query (absent for models built from given weights).
    pub query: Option<String>,
}

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("model_type", DataType::Utf8, false),
        Field::new("version", DataType::Int64, false),
        Field::new("training_rows", DataType::Int64, false),
        Field::new("validation_rows", DataType::Int64, false),
        Field::new("metric", DataType::Utf8, true),
        Field::new("train_value", DataType::Float64, true),
        Field::new("validation_value", DataType::Float64, true),
        Field::new("seconds", DataType::Float64, false),
    ]))
});

impl CreateModel {
    pub(super) fn parse(sql: &str) -> std::result::Result<Self, SqlError> {
        let mut c = Cursor::new(sql, "CREATE MODEL")?;
        c.expect_word("CREATE")?;
        let or_replace = c.eat_word("OR");
        if or_replace {
            c.expect_word("REPLACE")?;
        }
        c.expect_word("MODEL")?;
        let name = c.model_name()?;
        let options = if c.eat_word("OPTIONS") {
            c.option_list()?
        } else {
            OptionList::default()
        };
        let query = if c.eat_word("AS") {
            Some(
                c.rest()
                    .ok_or_else(|| c.error("expected a query after AS"))?
                    .to_string(),
            )
        } else {
            None
        };
        c.expect_end()?;
        Ok(Self {
            name,
            or_replace,
            options,
            query,
        })
    }

    pub fn schema() -> SchemaRef {
        Arc::clone(&SCHEMA)
    }

    pub(super) async fn execute(&self, engine: &Engine, notices: &Notices) -> Result<Output> {
        let created = create_model(
            engine,
            &self.name,
            self.or_replace,
            &self.options,
            self.query.as_deref(),
            notices,
        )
        .await?;
        let meta = &created.meta;
        let (metric, train, validation) = match &created.metric {
            Some((m, t, v)) => (Some(m.as_str()), *t, *v),
            None => (None, None, None),
        };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![meta.name.as_str()])),
            Arc::new(StringArray::from(vec![meta.model_type.as_str()])),
            Arc::new(Int64Array::from(vec![
                i64::try_from(meta.version).unwrap_or(i64::MAX),
            ])),
            Arc::new(Int64Array::from(vec![
                i64::try_from(meta.training_rows).unwrap_or(i64::MAX),
            ])),
            Arc::new(Int64Array::from(vec![
                i64::try_from(created.validation_rows).unwrap_or(i64::MAX),
            ])),
            Arc::new(StringArray::from(vec![metric])),
            Arc::new(Float64Array::from(vec![train])),
            Arc::new(Float64Array::from(vec![validation])),
            Arc::new(Float64Array::from(vec![meta.training_seconds])),
        ];
        rows_output(Self::schema(), columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statements::OptionValue;

    #[test]
    fn parses_every_part() {
        let sql = "CREATE OR REPLACE MODEL Propensity OPTIONS (model_type = 'logistic_regression', l2 = 0.5)\n AS SELECT a, b FROM t WHERE x = ';' ;";
        let m = CreateModel::parse(sql).unwrap();
        assert_eq!(m.name, "propensity");
        assert!(m.or_replace);
        assert_eq!(
            m.options.get("l2"),
            Some(&OptionValue::Number("0.5".into()))
        );
        assert_eq!(m.query.as_deref(), Some("SELECT a, b FROM t WHERE x = ';'"));
    }

    #[test]
    fn without_query_or_options() {
        let m = CreateModel::parse("create model m").unwrap();
        assert_eq!((m.or_replace, m.query, m.options.0.len()), (false, None, 0));
        assert!(CreateModel::parse("CREATE MODEL m AS").is_err());
        assert!(CreateModel::parse("CREATE MODEL m OPTIONS").is_err());
        assert!(CreateModel::parse("CREATE OR MODEL m").is_err());
        assert!(CreateModel::parse("CREATE MODEL m extra").is_err());
    }
}
