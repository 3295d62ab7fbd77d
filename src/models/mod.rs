//! Trained models: the store they live in and, per model type, training and
//! scoring code (added by the model issues as `models/<model_type>.rs`).

mod store;

pub use store::{FeatureMeta, MODEL_FORMAT_VERSION, ModelMeta, ModelStore, version_dir};
