//! `model_info('model')`: the (property, value) rows of `DESCRIBE MODEL`:
//! type, version, creation time, training rows and seconds, label and
//! classes, every feature with its kind and type, every option and metric.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::{Models, memory_table, table_function_model_name};
use crate::statements::DescribeModel;

/// `model_info`
#[derive(Debug)]
pub struct ModelInfoFunc {
    models: Models,
}

impl ModelInfoFunc {
    pub fn new(models: Models) -> Self {
        Self { models }
    }
}

impl TableFunctionImpl for ModelInfoFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let name = table_function_model_name("model_info", args.exprs())?;
        let meta = self.models.0.store().current_meta(&name)?;
        let (properties, values): (Vec<String>, Vec<Option<String>>) =
            crate::statements::model_properties(&meta)
                .into_iter()
                .unzip();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(properties)),
            Arc::new(StringArray::from(values)),
        ];
        memory_table(DescribeModel::schema(), columns)
    }
}
