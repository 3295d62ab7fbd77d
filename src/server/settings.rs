//! `RESET` of a session's Postgres settings.
//!
//! datafusion-postgres keeps the settings a session may `SET`
//! (`statement_timeout`, `TimeZone`, `DateStyle`, `application_name`, ...)
//! in the connection's metadata, beside the client's startup parameters.
//! Postgres resets a setting to the value the session started with: the
//! client's startup parameter if it sent one, else the server's. So the
//! values are remembered before the session's first statement runs, and
//! `RESET` / `DISCARD ALL` put them back, telling the client (ParameterStatus)
//! about the ones Postgres reports.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;

use crate::error::{SqlError, SqlState};
use crate::statements::Reset;

/// A setting a session may change: its name, the metadata key
/// datafusion-postgres keeps it under, and the name a ParameterStatus
/// reports it by (for those Postgres reports).
struct SessionSetting {
    name: &'static str,
    key: &'static str,
    reported: Option<&'static str>,
}

const SESSION_SETTINGS: [SessionSetting; 8] = [
    SessionSetting {
        name: "statement_timeout",
        key: super::interrupt::STATEMENT_TIMEOUT_KEY,
        reported: None,
    },
    SessionSetting {
        name: "timezone",
        key: "timezone",
        reported: Some("TimeZone"),
    },
    SessionSetting {
        name: "datestyle",
        key: "datestyle",
        reported: Some("DateStyle"),
    },
    SessionSetting {
        name: "intervalstyle",
        key: "intervalstyle",
        reported: Some("IntervalStyle"),
    },
    SessionSetting {
        name: "application_name",
        key: "application_name",
        reported: Some("application_name"),
    },
    SessionSetting {
        name: "bytea_output",
        key: "bytea_output",
        reported: None,
    },
    SessionSetting {
        name: "extra_float_digits",
        key: "extra_float_digits",
        reported: None,
    },
    SessionSetting {
        name: "search_path",
        key: "search_path",
        reported: None,
    },
];

/// The session's settings as it started, one per [`SESSION_SETTINGS`].
#[derive(Debug, Clone)]
pub struct StartupSettings(Vec<Option<String>>);

impl StartupSettings {
    fn of(metadata: &std::collections::HashMap<String, String>) -> Self {
        Self(
            SESSION_SETTINGS
                .iter()
                .map(|s| metadata.get(s.key).cloned())
                .collect(),
        )
    }
}

/// Remember the session's starting settings, once (before its first
/// statement, after the startup `statement_timeout` is read).
pub fn remember<C: pgwire::api::ClientInfo>(client: &C) {
    let metadata = client.metadata();
    client
        .session_extensions()
        .get_or_insert_with(|| StartupSettings::of(metadata));
}

/// What a `RESET` changed that the client must be told: (name, value) pairs
/// for ParameterStatus messages.
pub type Reported = Vec<(String, String)>;

/// Put the settings `which` names back, in the connection's metadata and
/// in the session's DataFusion options (`server` holds the server's).
pub fn reset<C: pgwire::api::ClientInfo>(
    client: &mut C,
    which: &Reset,
    session: &mut ConfigOptions,
    server: &Arc<ConfigOptions>,
) -> Result<Reported, SqlError> {
    let startup = client
        .session_extensions()
        .get::<StartupSettings>()
        .map(|s| (*s).clone())
        .unwrap_or_else(|| StartupSettings::of(client.metadata()));
    let mut reported = Vec::new();
    let mut put_back = |client: &mut C, index: usize| {
        let setting = &SESSION_SETTINGS[index];
        let start = startup.0.get(index).cloned().flatten();
        let metadata = client.metadata_mut();
        let before = metadata.get(setting.key).cloned();
        match &start {
            Some(value) => metadata.insert(setting.key.to_string(), value.clone()),
            None => metadata.remove(setting.key),
        };
        if let Some(name) = setting.reported
            && before != start
        {
            let value = start
                .or_else(|| crate::functions::server_setting(setting.name))
                .unwrap_or_default();
            reported.push((name.to_string(), value));
        }
    };
    match which {
        Reset::None => {}
        Reset::All => {
            for index in 0..SESSION_SETTINGS.len() {
                put_back(client, index);
            }
            *session = (**server).clone();
        }
        Reset::One(name) => {
            if let Some(index) = SESSION_SETTINGS.iter().position(|s| s.name == name) {
                put_back(client, index);
            } else if name.starts_with("datafusion.") {
                reset_option(session, server, name)?;
            } else if name == "role" || name == "session_authorization" {
                // There is one role per login: nothing was switched.
            } else if crate::functions::server_setting(name).is_some() {
                return Err(SqlError::new(
                    SqlState::CANT_CHANGE_RUNTIME_PARAM,
                    format!("parameter \"{name}\" cannot be changed"),
                ));
            } else {
                return Err(unrecognized(name));
            }
        }
    }
    Ok(reported)
}

/// One `datafusion.*` option back to the server's value.
fn reset_option(
    session: &mut ConfigOptions,
    server: &ConfigOptions,
    name: &str,
) -> Result<(), SqlError> {
    let Some(entry) = server
        .entries()
        .into_iter()
        .find(|e| e.key.eq_ignore_ascii_case(name))
    else {
        return Err(unrecognized(name));
    };
    match entry.value {
        Some(value) => session.set(&entry.key, &value).map_err(|e| {
            SqlError::new(
                SqlState::INVALID_PARAMETER_VALUE,
                format!("cannot reset \"{name}\": {e}"),
            )
        }),
        // An unset option (`execution.time_zone` by default) has no text
        // to set it back with: start from the server's options and carry
        // the session's other values over.
        None => {
            let keep: Vec<(String, String)> = session
                .entries()
                .into_iter()
                .filter(|e| !e.key.eq_ignore_ascii_case(name))
                .filter_map(|e| e.value.map(|v| (e.key, v)))
                .collect();
            let mut rebuilt = server.clone();
            for (key, value) in keep {
                // Values read back from entries() always set again.
                let _ = rebuilt.set(&key, &value);
            }
            *session = rebuilt;
            Ok(())
        }
    }
}

fn unrecognized(name: &str) -> SqlError {
    SqlError::new(
        SqlState::UNDEFINED_OBJECT,
        format!("unrecognized configuration parameter \"{name}\""),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_datafusion_option_goes_back_to_the_servers() {
        let server = Arc::new(ConfigOptions::new());
        let mut session = (*server).clone();
        session
            .set("datafusion.execution.batch_size", "100")
            .unwrap();
        session
            .set("datafusion.execution.target_partitions", "3")
            .unwrap();
        reset_option(&mut session, &server, "datafusion.execution.batch_size").unwrap();
        assert_eq!(session.execution.batch_size, server.execution.batch_size);
        assert_eq!(session.execution.target_partitions, 3);
        // An option whose value is unset (None) goes back too.
        session
            .set("datafusion.execution.time_zone", "Asia/Shanghai")
            .unwrap();
        reset_option(&mut session, &server, "datafusion.execution.time_zone").unwrap();
        assert_eq!(session.execution.time_zone, server.execution.time_zone);
        assert_eq!(session.execution.target_partitions, 3);
        let e = reset_option(&mut session, &server, "datafusion.no.such").unwrap_err();
        assert_eq!(e.state, SqlState::UNDEFINED_OBJECT);
    }
}
