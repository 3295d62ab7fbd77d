//! ecomsql's SQL functions, one module per function (named like it).
//! Model functions look their model up by name in the shared
//! [`ModelRegistry`], so any process that can read the model store can
//! evaluate them.

mod brier_score;
mod current_setting;
mod detect_language;
mod explain_purchase;
mod forecast_ar;
mod like_escape;
mod log_loss;
mod mean_loss;
mod model_info;
mod model_versions;
mod model_weights;
mod obj_description;
mod pg_get_definition;
mod pg_get_function;
mod pg_is_visible;
mod pg_size_pretty;
mod pg_table_is_visible;
mod pg_table_size;
mod predict_purchase;
mod recommend;
mod recommend_fold_in;
mod roc_auc;
mod sentiment;
mod sentiment_aspects;
mod sentiment_label;
mod set_config;
mod similar_items;
mod single_value;
mod to_regtype;
mod version;

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::ScalarValue;
use datafusion::datasource::MemTable;
use datafusion::error::Result;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::simplify::ExprSimplifyResult;
use datafusion::logical_expr::{AggregateUDF, Expr, ScalarUDF};
use datafusion::prelude::SessionContext;

pub use brier_score::BrierScoreImpl;
pub use current_setting::CurrentSettingImpl;
pub(crate) use current_setting::setting as server_setting;
pub use detect_language::DetectLanguageImpl;
pub use explain_purchase::ExplainPurchaseImpl;
pub use forecast_ar::{ForecastArAggregateImpl, ForecastArFunc};
pub use like_escape::{LikeEscapeImpl, like_escape_call};
pub use log_loss::LogLossImpl;
pub use model_info::ModelInfoFunc;
pub use model_versions::ModelVersionsFunc;
pub use model_weights::ModelWeightsFunc;
pub use obj_description::{Descriptions, ObjDescriptionImpl};
pub use pg_get_definition::PgGetDefinitionImpl;
pub use pg_get_function::PgGetFunctionImpl;
pub use pg_is_visible::PgIsVisibleImpl;
pub use pg_size_pretty::PgSizePrettyImpl;
pub use pg_table_is_visible::PgTableIsVisibleImpl;
pub use pg_table_size::PgTableSizeImpl;
pub use predict_purchase::PredictPurchaseImpl;
pub use recommend::RecommendFunc;
pub use recommend_fold_in::RecommendFoldInFunc;
pub use roc_auc::RocAucImpl;
pub use sentiment::SentimentImpl;
pub use sentiment_aspects::SentimentAspectsImpl;
pub use sentiment_label::SentimentLabelImpl;
pub use set_config::SetConfigImpl;
pub use similar_items::SimilarItemsFunc;
pub use single_value::{SingleValueImpl, single_value_call};
pub use to_regtype::ToRegtypeImpl;
pub use version::{VersionImpl, server_version, server_version_num, version_string};

use crate::error::{SqlState, sql_err};
use crate::models::{LoadedModel, ModelRegistry};

/// Register the catalog functions that read the catalog: table sizes and
/// visibility over `files` (replacing datafusion-pg-catalog's
/// `pg_relation_size`, which answers 0, and `pg_table_is_visible`, which
/// answers true) and comments from `pg_description`.
pub async fn register_catalog_functions(
    ctx: &SessionContext,
    files: &crate::catalog::RelationFiles,
) -> Result<()> {
    for function in PgTableSizeImpl::all(files) {
        ctx.register_udf(ScalarUDF::from(function));
    }
    ctx.register_udf(ScalarUDF::from(PgTableIsVisibleImpl::new(files)));
    let descriptions = Arc::new(Descriptions::load(ctx).await?);
    for function in ObjDescriptionImpl::all(&descriptions) {
        ctx.register_udf(ScalarUDF::from(function));
    }
    Ok(())
}

/// Register every ecomsql function in `ctx`.
pub fn register_all(ctx: &SessionContext, models: &Arc<ModelRegistry>) {
    let models = Models(Arc::clone(models));
    ctx.register_udf(ScalarUDF::from(PredictPurchaseImpl::new(models.clone())));
    ctx.register_udf(ScalarUDF::from(ExplainPurchaseImpl::new(models.clone())));
    ctx.register_udf(ScalarUDF::from(SentimentImpl::new(models.clone())));
    ctx.register_udf(ScalarUDF::from(SentimentLabelImpl::new(models.clone())));
    ctx.register_udf(ScalarUDF::from(SentimentAspectsImpl::new()));
    ctx.register_udf(ScalarUDF::from(DetectLanguageImpl::new()));
    ctx.register_udf(ScalarUDF::from(VersionImpl::new()));
    ctx.register_udf(ScalarUDF::from(CurrentSettingImpl::new()));
    ctx.register_udf(ScalarUDF::from(SetConfigImpl::new()));
    ctx.register_udf(ScalarUDF::from(ToRegtypeImpl::new()));
    ctx.register_udf(ScalarUDF::from(PgSizePrettyImpl::new()));
    for function in PgIsVisibleImpl::all() {
        ctx.register_udf(ScalarUDF::from(function));
    }
    ctx.register_udf(ScalarUDF::from(LikeEscapeImpl::new()));
    ctx.register_udf(ScalarUDF::from(PgGetDefinitionImpl::indexdef()));
    ctx.register_udf(ScalarUDF::from(PgGetDefinitionImpl::viewdef()));
    ctx.register_udf(ScalarUDF::from(PgGetDefinitionImpl::function_sqlbody()));
    for function in PgGetFunctionImpl::all() {
        ctx.register_udf(ScalarUDF::from(function));
    }
    ctx.register_udaf(AggregateUDF::from(RocAucImpl::new()));
    ctx.register_udaf(AggregateUDF::from(LogLossImpl::new()));
    ctx.register_udaf(AggregateUDF::from(BrierScoreImpl::new()));
    ctx.register_udaf(AggregateUDF::from(ForecastArAggregateImpl::new()));
    ctx.register_udaf(AggregateUDF::from(SingleValueImpl::new()));
    ctx.register_udtf(
        "model_weights",
        Arc::new(ModelWeightsFunc::new(models.clone())),
    );
    ctx.register_udtf("model_info", Arc::new(ModelInfoFunc::new(models.clone())));
    ctx.register_udtf(
        "model_versions",
        Arc::new(ModelVersionsFunc::new(models.clone())),
    );
    ctx.register_udtf("recommend", Arc::new(RecommendFunc::new(models.clone())));
    ctx.register_udtf("forecast_ar", Arc::new(ForecastArFunc::new(models.clone())));
    ctx.register_udtf(
        "recommend_fold_in",
        Arc::new(RecommendFoldInFunc::new(models.clone())),
    );
    ctx.register_udtf("similar_items", Arc::new(SimilarItemsFunc::new(models)));
}

/// The model registry as a UDF field: UDFs must be comparable and
/// hashable, and two handles are equal when they share the registry.
#[derive(Clone)]
pub struct Models(pub Arc<ModelRegistry>);

impl PartialEq for Models {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Models {}

impl Hash for Models {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::ptr::hash(Arc::as_ptr(&self.0), state);
    }
}

impl fmt::Debug for Models {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Models({})", self.0.store().dir().display())
    }
}

impl Models {
    pub fn get(&self, name: &str) -> Result<Arc<LoadedModel>> {
        Ok(self.0.get(name)?)
    }
}

/// A model bound to one function call when its query is planned, so every
/// batch of the query uses the same version (and skips the registry).
#[derive(Clone, Debug)]
pub struct Pinned(pub Arc<LoadedModel>);

impl PartialEq for Pinned {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Pinned {}

impl Hash for Pinned {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::ptr::hash(Arc::as_ptr(&self.0), state);
    }
}

/// The model a call names, if its first argument is a string constant.
pub(crate) fn model_to_pin(
    function: &str,
    models: &Models,
    args: &[Expr],
) -> Result<Option<Pinned>> {
    match args.first() {
        Some(Expr::Literal(value, _)) => {
            let name = model_name_of(function, Some(value))?;
            Ok(Some(Pinned(models.get(&name)?)))
        }
        _ => Ok(None),
    }
}

/// `simplify` of a model function: once per query plan, rebind the call to
/// a copy of the function (made by `bind`) that holds the loaded model.
pub(crate) fn pin_call(
    function: &str,
    models: &Models,
    pinned: Option<&Pinned>,
    args: Vec<Expr>,
    bind: impl FnOnce(Pinned) -> ScalarUDF,
) -> Result<ExprSimplifyResult> {
    if pinned.is_some() {
        return Ok(ExprSimplifyResult::Original(args));
    }
    match model_to_pin(function, models, &args)? {
        Some(model) => Ok(ExprSimplifyResult::Simplified(Expr::ScalarFunction(
            ScalarFunction::new_udf(Arc::new(bind(model)), args),
        ))),
        None => Ok(ExprSimplifyResult::Original(args)),
    }
}

/// The model name a function was given: it must be a string constant.
pub(crate) fn model_name_of(function: &str, value: Option<&ScalarValue>) -> Result<String> {
    match value {
        Some(
            ScalarValue::Utf8(Some(name))
            | ScalarValue::LargeUtf8(Some(name))
            | ScalarValue::Utf8View(Some(name)),
        ) => Ok(name.clone()),
        _ => Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            format!(
                "the first argument of {function} must be a model name as a string constant, e.g. {function}('my_model', ...)"
            ),
        )),
    }
}

/// The single model-name argument of a table function such as
/// `model_weights('m')`.
pub(crate) fn table_function_model_name(function: &str, args: &[Expr]) -> Result<String> {
    match args {
        [Expr::Literal(value, _)] => model_name_of(function, Some(value)),
        _ => Err(sql_err(
            SqlState::UNDEFINED_FUNCTION,
            format!(
                "{function} takes one argument, a model name as a string constant: {function}('my_model')"
            ),
        )),
    }
}

/// A table function's rows as an in-memory table.
pub(crate) fn memory_table(
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
) -> Result<Arc<dyn TableProvider>> {
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}
