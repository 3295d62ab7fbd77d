//! The `ecomsql` command: serve a data folder over the Postgres protocol, run
//! SQL reports, or generate the demo data.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use ecomsql::cli::{
    OutputFormat, ResultWriter, RunError, RunOptions, Script, ScriptSource, run_scripts_with,
};
use ecomsql::demo::DemoConfig;
use ecomsql::{Engine, Server, ServerOptions};
use log::{error, info, warn};

#[derive(Parser)]
#[command(
    name = "ecomsql",
    version,
    about = "SQL analytics and machine learning for e-commerce data"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options every command that opens the engine shares.
#[derive(clap::Args)]
struct DataArgs {
    /// Folder of Parquet/CSV files; each file or folder becomes a table.
    #[arg(long, default_value = "data", env = "ECOMSQL_DATA")]
    data: PathBuf,
    /// Model folder [default: <data>/_models]
    #[arg(long, env = "ECOMSQL_MODELS")]
    models: Option<PathBuf>,
    /// Memory queries and training may use, e.g. 512M or 4G [default: no limit]
    #[arg(long, value_parser = parse_size)]
    memory_limit: Option<usize>,
}

/// `1234`, `64K`, `512M`, `4G` (powers of 1024).
fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&text[..i], text[i..].to_ascii_uppercase()),
        None => (text, String::new()),
    };
    let shift = match unit.trim_end_matches(['B', 'I']) {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("unknown size unit in {text:?}; use K, M, G or T")),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a size"))?;
    if !(value.is_finite() && value > 0.0) {
        return Err(format!("{text:?} must be positive"));
    }
    Ok((value * (1_u64 << shift) as f64) as usize)
}

#[derive(Subcommand)]
enum Command {
    /// Serve the data folder over the Postgres wire protocol.
    Serve {
        #[command(flatten)]
        data: DataArgs,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 5433)]
        port: u16,
    },
    /// Run SQL statements and print their results (for scheduled reports).
    Sql {
        #[command(flatten)]
        data: DataArgs,
        /// Script files to run, in order (may be repeated).
        #[arg(short = 'f', long = "file")]
        files: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
        /// Write results to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Print each statement's time to standard error.
        #[arg(long)]
        timing: bool,
        /// SQL to run (after the files).
        sql: Option<String>,
    },
    /// Generate the demo data set (deterministic for a seed).
    DemoData {
        /// Output folder.
        #[arg(long, default_value = "data")]
        out: PathBuf,
        #[arg(long, default_value_t = 5000)]
        users: u64,
        #[arg(long, default_value_t = 1000)]
        items: u64,
        #[arg(long, default_value_t = 365)]
        days: u32,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_log = match cli.command {
        Command::Serve { .. } => "info",
        _ => "warn",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_log))
        .format_timestamp_millis()
        .init();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve { data, host, port } => serve(data, host, port).await,
            Command::Sql {
                data,
                files,
                format,
                output,
                timing,
                sql,
            } => run_sql(data, files, format, output, sql, RunOptions { timing }).await,
            Command::DemoData {
                out,
                users,
                items,
                days,
                seed,
            } => {
                let config = DemoConfig {
                    users,
                    items,
                    days,
                    seed,
                    progress: std::io::stderr().is_terminal(),
                    ..DemoConfig::default()
                };
                ecomsql::demo::generate(&config, &out)
                    .map(|summary| eprintln!("{summary}"))
                    .map_err(|e| e.to_string())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn open_engine(data: DataArgs) -> Result<Engine, String> {
    let mut builder = Engine::builder(&data.data);
    if let Some(models) = data.models {
        builder = builder.models_dir(models);
    }
    if let Some(bytes) = data.memory_limit {
        builder = builder.memory_limit(bytes);
    }
    let engine = builder.build().await.map_err(|e| e.to_string())?;
    for problem in &engine.registration().problems {
        warn!("skipped {problem}");
    }
    Ok(engine)
}

async fn serve(data: DataArgs, host: String, port: u16) -> Result<(), String> {
    let engine = open_engine(data).await?;
    let tables: Vec<&str> = engine
        .registration()
        .tables
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    info!(
        "data folder {}: {} tables ({})",
        engine.data_dir().display(),
        tables.len(),
        tables.join(", ")
    );
    let options = ServerOptions { host, port };
    let server = Server::bind(Arc::new(engine), &options)
        .await
        .map_err(|e| format!("cannot listen on {}:{}: {e}", options.host, options.port))?;
    server
        .run_until(shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => info!("received Ctrl-C"),
        () = terminate => info!("received SIGTERM"),
    }
}

async fn run_sql(
    data: DataArgs,
    files: Vec<PathBuf>,
    format: OutputFormat,
    output: Option<PathBuf>,
    sql: Option<String>,
    options: RunOptions,
) -> Result<(), String> {
    let mut scripts = Vec::new();
    for path in files {
        let sql = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        scripts.push(Script {
            source: ScriptSource::File(path),
            sql,
        });
    }
    if let Some(sql) = sql {
        scripts.push(Script {
            source: ScriptSource::CommandLine,
            sql,
        });
    }
    if scripts.is_empty() {
        return Err("nothing to run: give SQL as an argument or a script with -f FILE".into());
    }
    let engine = open_engine(data).await?;
    let sink: Box<dyn std::io::Write + Send> = match &output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let mut writer = ResultWriter::new(format, sink);
    match run_scripts_with(&engine, &scripts, &mut writer, options).await {
        Ok(()) => Ok(()),
        // A reader that went away (`| head`) is not an error of the report.
        Err(RunError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}
