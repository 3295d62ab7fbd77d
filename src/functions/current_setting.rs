//! `current_setting(name [, missing_ok])` → the value of a server setting,
//! as drivers and BI tools ask on connect (asyncpg: `jit`; others:
//! `server_version_num`, `TimeZone`, `search_path`, ...). Names are
//! matched without regard to case. A setting ecomsql does not have is
//! 42704 "unrecognized configuration parameter", or NULL with
//! `missing_ok = true`: exactly what Postgres answers, which is how asyncpg
//! learns there is no JIT to switch off.
//!
//! `datafusion.*` settings are the calling session's (its `SET`s
//! included: DataFusion hands each call the session's configuration);
//! `SHOW datafusion.*` is answered through this function
//! (`src/server/rewrite.rs`). The Postgres-named settings are the server's
//! own values.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

use super::sentiment::{columnar, for_each_text};
use super::version::{server_version, server_version_num};
use crate::error::{SqlState, sql_err};

/// A setting's value, by lower-cased name.
pub(crate) fn setting(name: &str) -> Option<String> {
    Some(match name {
        "server_version" => server_version(),
        "server_version_num" => server_version_num(),
        "server_encoding" | "client_encoding" => "UTF8".into(),
        "datestyle" => "ISO, YMD".into(),
        "intervalstyle" => "postgres".into(),
        "timezone" | "log_timezone" => "UTC".into(),
        "standard_conforming_strings" | "integer_datetimes" => "on".into(),
        "search_path" => "\"$user\", public".into(),
        "max_identifier_length" => "63".into(),
        "max_index_keys" => "32".into(),
        "transaction_isolation" | "default_transaction_isolation" => "read committed".into(),
        "transaction_read_only" | "default_transaction_read_only" => "off".into(),
        "is_superuser" => "on".into(),
        "lc_collate" | "lc_ctype" => "C.UTF-8".into(),
        "lc_messages" | "lc_monetary" | "lc_numeric" | "lc_time" => "C".into(),
        "block_size" => "8192".into(),
        "application_name" => String::new(),
        _ => return None,
    })
}

/// A `datafusion.*` option of the session, by lower-cased name ("" when
/// the option has no value).
fn session_setting(config: &ConfigOptions, name: &str) -> Option<String> {
    if !name.starts_with("datafusion.") {
        return None;
    }
    config
        .entries()
        .into_iter()
        .find(|e| e.key.eq_ignore_ascii_case(name))
        .map(|e| e.value.unwrap_or_default())
}

/// `current_setting`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CurrentSettingImpl {
    signature: Signature,
}

impl CurrentSettingImpl {
    pub fn new() -> Self {
        Self {
            signature: Signature::one_of(
                vec![
                    TypeSignature::String(1),
                    TypeSignature::Exact(vec![DataType::Utf8, DataType::Boolean]),
                ],
                Volatility::Stable,
            ),
        }
    }
}

impl Default for CurrentSettingImpl {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for CurrentSettingImpl {
    fn name(&self) -> &str {
        "current_setting"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        // Constant arguments are answered once, as a constant.
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if scalar { 1 } else { args.number_rows };
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<Vec<_>>>()?;
        let missing_ok = arrays.get(1).map(|a| a.as_boolean().clone());
        let mut out = StringBuilder::with_capacity(rows, rows * 8);
        let mut error = None;
        let mut row = 0;
        for_each_text(self.name(), &arrays[0], |name| {
            match name {
                None => out.append_null(),
                Some(name) => match setting(&name.to_lowercase())
                    .or_else(|| session_setting(&args.config_options, &name.to_lowercase()))
                {
                    Some(value) => out.append_value(value),
                    None if missing_ok
                        .as_ref()
                        .is_some_and(|m| m.is_valid(row) && m.value(row)) =>
                    {
                        out.append_null()
                    }
                    None => {
                        out.append_null();
                        error.get_or_insert_with(|| name.to_string());
                    }
                },
            }
            row += 1;
        })?;
        if let Some(name) = error {
            return Err(sql_err(
                SqlState::UNDEFINED_OBJECT,
                format!("unrecognized configuration parameter \"{name}\""),
            ));
        }
        columnar(Arc::new(out.finish()), scalar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datafusion_settings_come_from_the_session() {
        let mut config = ConfigOptions::new();
        config
            .set("datafusion.execution.batch_size", "1234")
            .unwrap();
        assert_eq!(
            session_setting(&config, "datafusion.execution.batch_size").as_deref(),
            Some("1234")
        );
        assert_eq!(session_setting(&config, "datafusion.no_such_option"), None);
        assert_eq!(session_setting(&config, "work_mem"), None);
    }

    #[test]
    fn settings_drivers_ask_for() {
        assert_eq!(setting("server_version_num").as_deref(), Some("160006"));
        assert!(setting("server_version").is_some_and(|v| v.starts_with("16.6 (ecomsql")));
        assert_eq!(setting("timezone").as_deref(), Some("UTC"));
        assert_eq!(setting("jit"), None);
    }
}
