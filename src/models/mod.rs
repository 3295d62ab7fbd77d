//! Trained models: the store they live in, the registry that loads them,
//! and per model type the training and scoring code
//! (`models/<model_type>.rs`).

pub mod ar;
pub mod evaluate;
pub mod lbfgs;
pub mod logistic_regression;
pub mod matrix_factorization;
pub mod metrics;
pub mod options;
mod parallel;
mod registry;
mod store;
pub mod text_classifier;
pub mod training_data;

use std::time::Instant;

use chrono::Utc;
use datafusion::error::Result;

pub use registry::{LoadedModel, ModelKind, ModelRegistry};
pub use store::{
    FeatureMeta, MODEL_FORMAT_VERSION, ModelFile, ModelMeta, ModelStore, no_such_model, version_dir,
};

use crate::engine::{Engine, Notices};
use crate::error::{SqlError, SqlState, sql_err};
use crate::statements::OptionList;
use options::ModelOptions;

/// The model types `CREATE MODEL` knows.
pub const MODEL_TYPES: &[&str] = &[
    logistic_regression::MODEL_TYPE,
    matrix_factorization::MODEL_TYPE,
    ar::MODEL_TYPE,
    text_classifier::MODEL_TYPE,
];

/// What `CREATE MODEL` reports.
#[derive(Debug, Clone)]
pub struct CreatedModel {
    pub meta: ModelMeta,
    pub validation_rows: u64,
    /// The headline metric's base name (e.g. `roc_auc`) and its train and
    /// validation values.
    pub metric: Option<(String, Option<f64>, Option<f64>)>,
}

/// Train (or build) a model and store it as the model's new version.
pub async fn create_model(
    engine: &Engine,
    name: &str,
    or_replace: bool,
    options: &OptionList,
    query: Option<&str>,
    notices: &Notices,
) -> Result<CreatedModel> {
    let store = engine.model_store();
    if !or_replace && store.exists(name) {
        return Err(SqlError::new(
            SqlState::DUPLICATE_OBJECT,
            format!("model \"{name}\" already exists"),
        )
        .with_hint("use CREATE OR REPLACE MODEL to train a new version")
        .into());
    }
    let Some(model_type) = options.get("model_type").map(|v| v.as_text()) else {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            format!(
                "CREATE MODEL needs OPTIONS (model_type = '...'); available: {}",
                MODEL_TYPES.join(", ")
            ),
        ));
    };
    let started = Instant::now();
    let (mut meta, files, validation_rows) = match model_type.as_str() {
        logistic_regression::MODEL_TYPE => {
            train_logistic(engine, name, options, query, notices).await?
        }
        matrix_factorization::MODEL_TYPE => {
            matrix_factorization::create(engine, name, options, query, notices).await?
        }
        ar::MODEL_TYPE => ar::create(engine, name, options, query, notices).await?,
        text_classifier::MODEL_TYPE => {
            text_classifier::create(engine, name, options, query, notices).await?
        }
        other => {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                format!(
                    "unknown model_type '{other}'; available: {}",
                    MODEL_TYPES.join(", ")
                ),
            ));
        }
    };
    meta.training_seconds = started.elapsed().as_secs_f64();
    let meta = store.write_version(meta, &files)?;
    notices.send(format!("stored model \"{name}\" version {}", meta.version));

    let metric = meta.headline_metric.as_ref().map(|headline| {
        let base = headline
            .trim_start_matches("validation_")
            .trim_start_matches("train_")
            .to_string();
        let train = meta.metrics.get(&format!("train_{base}")).copied();
        let validation = meta.metrics.get(&format!("validation_{base}")).copied();
        (base, train, validation)
    });
    Ok(CreatedModel {
        meta,
        validation_rows,
        metric,
    })
}

async fn train_logistic(
    engine: &Engine,
    name: &str,
    options: &OptionList,
    query: Option<&str>,
    notices: &Notices,
) -> Result<(ModelMeta, Vec<ModelFile>, u64)> {
    use logistic_regression as lr;
    let opts = ModelOptions::new(options, lr::MODEL_TYPE, lr_options())?;
    let mut meta = ModelMeta {
        format_version: MODEL_FORMAT_VERSION,
        name: name.to_string(),
        model_type: lr::MODEL_TYPE.to_string(),
        version: 0,
        created_at: Utc::now(),
        training_rows: 0,
        features: Vec::new(),
        options: opts.as_map(),
        metrics: Default::default(),
        headline_metric: None,
        label: None,
        classes: Vec::new(),
        training_seconds: 0.0,
    };
    let Some(query) = query else {
        if opts.text("coefficients").is_none() {
            return Err(sql_err(
                SqlState::SYNTAX_ERROR,
                "CREATE MODEL needs AS <training query>, or OPTIONS (coefficients = '...') for a model from given weights",
            ));
        }
        let (model, _) = lr::from_coefficients(&opts)?;
        meta.features = model.features.clone();
        meta.classes = vec![model.positive_class.clone(), model.negative_class.clone()];
        let files = vec![model.weights_file()?];
        return Ok((meta, files, 0));
    };
    if opts.text("coefficients").is_some() {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            "coefficients builds a model from given weights; it cannot be combined with a training query",
        ));
    }
    let parsed = lr::LogisticOptions::parse(&opts)?;
    let collecting = Instant::now();
    let data = training_data::collect(
        engine,
        &format!("CREATE MODEL {name}"),
        query,
        &parsed.label,
        parsed.positive_class.as_deref(),
    )
    .await?;
    log::debug!(
        "training: collecting {} rows took {:.1} ms",
        data.rows(),
        collecting.elapsed().as_secs_f64() * 1e3
    );
    notices.send(format!(
        "training on {} rows with {} features{}",
        data.rows(),
        data.features.len(),
        if data.skipped_rows > 0 {
            format!(" ({} rows with NULLs skipped)", data.skipped_rows)
        } else {
            String::new()
        }
    ));
    let task_notices = notices.clone();
    let task_opts = parsed.clone();
    let trained = tokio::task::spawn_blocking(move || lr::train(&data, &task_opts, &task_notices))
        .await
        .map_err(|e| {
            sql_err(
                SqlState::INTERNAL_ERROR,
                format!("training task failed: {e}"),
            )
        })??;

    meta.training_rows = trained.training_rows;
    meta.features = trained.model.features.clone();
    meta.label = Some(parsed.label.clone());
    meta.classes = vec![
        trained.model.positive_class.clone(),
        trained.model.negative_class.clone(),
    ];
    meta.metrics = trained.metrics.iter().cloned().collect();
    meta.headline_metric = Some(
        if trained.validation_rows > 0 {
            "validation_roc_auc"
        } else {
            "train_roc_auc"
        }
        .to_string(),
    );
    let files = vec![trained.model.weights_file()?];
    Ok((meta, files, trained.validation_rows))
}

fn lr_options() -> &'static [&'static str] {
    logistic_regression::OPTIONS
}
