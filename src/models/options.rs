//! Typed access to a `CREATE MODEL ... OPTIONS (...)` list, with the errors
//! an analyst should see for unknown or malformed options (22023).

use std::collections::BTreeMap;

use crate::error::{SqlError, SqlState};
use crate::statements::{OptionList, OptionValue};

/// The options of one model type, checked against the names it accepts.
pub struct ModelOptions<'a> {
    list: &'a OptionList,
    model_type: &'static str,
}

impl<'a> ModelOptions<'a> {
    /// Fails on any option the model type does not know.
    pub fn new(
        list: &'a OptionList,
        model_type: &'static str,
        allowed: &[&str],
    ) -> Result<Self, SqlError> {
        for (key, _) in &list.0 {
            if key != "model_type" && !allowed.contains(&key.as_str()) {
                let mut valid: Vec<&str> = allowed.to_vec();
                valid.sort_unstable();
                return Err(SqlError::new(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!(
                        "unknown option \"{key}\" for model_type '{model_type}'; valid options: {}",
                        valid.join(", ")
                    ),
                ));
            }
        }
        Ok(Self { list, model_type })
    }

    fn bad(&self, key: &str, value: &OptionValue, expected: &str) -> SqlError {
        SqlError::new(
            SqlState::INVALID_PARAMETER_VALUE,
            format!(
                "option {key} = {value} is invalid for model_type '{}': expected {expected}",
                self.model_type
            ),
        )
    }

    pub fn text(&self, key: &str) -> Option<String> {
        self.list.get(key).map(OptionValue::as_text)
    }

    pub fn required_text(&self, key: &str) -> Result<String, SqlError> {
        self.text(key).ok_or_else(|| {
            SqlError::new(
                SqlState::INVALID_PARAMETER_VALUE,
                format!("model_type '{}' needs the option {key}", self.model_type),
            )
        })
    }

    /// A number within `[min, max]`.
    pub fn number(&self, key: &str, default: f64, min: f64, max: f64) -> Result<f64, SqlError> {
        let Some(value) = self.list.get(key) else {
            return Ok(default);
        };
        let parsed = match value {
            OptionValue::Number(n) | OptionValue::Str(n) => n.trim().parse::<f64>().ok(),
            _ => None,
        };
        match parsed {
            Some(x) if x.is_finite() && x >= min && x <= max => Ok(x),
            _ => Err(self.bad(key, value, &format!("a number from {min} to {max}"))),
        }
    }

    /// A whole number within `[min, max]`.
    pub fn whole(&self, key: &str, default: u64, min: u64, max: u64) -> Result<u64, SqlError> {
        let Some(value) = self.list.get(key) else {
            return Ok(default);
        };
        let parsed = match value {
            OptionValue::Number(n) | OptionValue::Str(n) => n.trim().parse::<u64>().ok(),
            _ => None,
        };
        match parsed {
            Some(x) if x >= min && x <= max => Ok(x),
            _ => Err(self.bad(key, value, &format!("a whole number from {min} to {max}"))),
        }
    }

    pub fn boolean(&self, key: &str, default: bool) -> Result<bool, SqlError> {
        match self.list.get(key) {
            None => Ok(default),
            Some(OptionValue::Bool(b)) => Ok(*b),
            Some(v) => match v.as_text().to_lowercase().as_str() {
                "true" | "on" | "yes" | "1" => Ok(true),
                "false" | "off" | "no" | "0" => Ok(false),
                _ => Err(self.bad(key, v, "true or false")),
            },
        }
    }

    /// One of `choices` (case-insensitive).
    pub fn choice(
        &self,
        key: &str,
        default: &'static str,
        choices: &[&'static str],
    ) -> Result<&'static str, SqlError> {
        let Some(value) = self.list.get(key) else {
            return Ok(default);
        };
        let text = value.as_text().to_lowercase();
        choices
            .iter()
            .find(|c| **c == text)
            .copied()
            .ok_or_else(|| self.bad(key, value, &format!("one of {}", choices.join(", "))))
    }

    /// Every option as text, for the model's metadata.
    pub fn as_map(&self) -> BTreeMap<String, String> {
        self.list
            .0
            .iter()
            .map(|(k, v)| (k.clone(), v.as_text()))
            .collect()
    }
}
