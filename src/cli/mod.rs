//! The command-line report runner behind `ecomsql sql`: runs every statement
//! of one or more scripts in order, writes each result set in the chosen
//! format, and stops at the first failing statement.

mod output;

use std::fmt;
use std::path::PathBuf;

pub use output::{OutputFormat, ResultWriter, WriteError};

use crate::engine::{Engine, Notices, Output};
use crate::error::{SqlError, classify};
use crate::statements::split_statements;

/// Where a script came from, for error messages.
#[derive(Debug, Clone)]
pub enum ScriptSource {
    CommandLine,
    File(PathBuf),
}

impl fmt::Display for ScriptSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CommandLine => f.write_str("command line"),
            Self::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A script to run.
#[derive(Debug, Clone)]
pub struct Script {
    pub source: ScriptSource,
    pub sql: String,
}

/// A statement that failed, with where it was.
#[derive(Debug)]
pub struct StatementFailure {
    pub source: String,
    pub line: u64,
    pub statement: String,
    pub error: SqlError,
}

impl fmt::Display for StatementFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "statement at {} line {} failed:", self.source, self.line)?;
        for line in self.statement.lines() {
            writeln!(f, "    {line}")?;
        }
        write!(f, "ERROR {}: {}", self.error.state, self.error.message)?;
        if let Some(hint) = &self.error.hint {
            write!(f, "\nHINT: {hint}")?;
        }
        Ok(())
    }
}

/// Why a run stopped.
#[derive(Debug)]
pub enum RunError {
    /// A statement failed; nothing after it ran.
    Statement(StatementFailure),
    /// Results could not be written (a full disk, a closed pipe).
    Output(std::io::Error),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Statement(failure) => failure.fmt(f),
            Self::Output(e) => write!(f, "cannot write results: {e}"),
        }
    }
}

/// How to run scripts.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Print each statement's wall time (execution and writing its result)
    /// to standard error, like psql's `\timing`.
    pub timing: bool,
}

/// Run every statement of every script in order, writing results to
/// `writer`. Returns the first failure; nothing after it runs.
pub async fn run_scripts(
    engine: &Engine,
    scripts: &[Script],
    writer: &mut ResultWriter,
) -> Result<(), RunError> {
    run_scripts_with(engine, scripts, writer, RunOptions::default()).await
}

/// [`run_scripts`] with options.
pub async fn run_scripts_with(
    engine: &Engine,
    scripts: &[Script],
    writer: &mut ResultWriter,
    options: RunOptions,
) -> Result<(), RunError> {
    // Progress of long statements (training) goes to standard error, like
    // psql prints NOTICEs.
    let (notices, mut messages) = Notices::channel();
    let printer = tokio::spawn(async move {
        while let Some(message) = messages.recv().await {
            eprintln!("NOTICE:  {message}");
        }
    });
    let result = run_all(engine, scripts, writer, &notices, options).await;
    drop(notices);
    let _ = printer.await;
    result
}

async fn run_all(
    engine: &Engine,
    scripts: &[Script],
    writer: &mut ResultWriter,
    notices: &Notices,
    options: RunOptions,
) -> Result<(), RunError> {
    for script in scripts {
        let statements = split_statements(&script.sql).map_err(|error| {
            RunError::Statement(StatementFailure {
                source: script.source.to_string(),
                line: 1,
                statement: String::new(),
                error,
            })
        })?;
        for statement in statements {
            let fail = |error: SqlError| {
                RunError::Statement(StatementFailure {
                    source: script.source.to_string(),
                    line: statement.line,
                    statement: statement.text.to_string(),
                    error,
                })
            };
            let started = std::time::Instant::now();
            let output = engine
                .execute_with_notices(statement.text, notices)
                .await
                .map_err(|e| fail(classify(&e)))?;
            let written = match output {
                Output::Rows(stream) => writer.write_stream(stream).await,
                Output::Command(tag) => writer.write_command(&tag),
            };
            if options.timing {
                eprintln!("Time: {:.3} ms", started.elapsed().as_secs_f64() * 1000.0);
            }
            match written {
                Ok(()) => {}
                Err(WriteError::Query(error)) => return Err(fail(error)),
                Err(WriteError::Output(e)) => return Err(RunError::Output(e)),
            }
        }
    }
    writer.finish().map_err(RunError::Output)
}
