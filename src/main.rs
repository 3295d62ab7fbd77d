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

/// glibc's malloc hands large buffers back to the kernel on free, so every
/// Parquet page and Arrow batch faulted in fresh zeroed pages: a third of a
/// 10M-row scan went to page faults (`perf record`). mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Authentication and TLS options of `serve`.
#[derive(clap::Args)]
struct SecurityArgs {
    /// trust, password (cleartext; use with TLS), scram (SCRAM-SHA-256) or
    /// md5 (old clients; users added with --md5)
    /// [default: scram when --users is given, else trust]
    #[arg(long, value_parser = parse_auth)]
    auth: Option<ecomsql::server::AuthMethod>,
    /// Users file (written by `ecomsql user add`).
    #[arg(long, env = "ECOMSQL_USERS")]
    users: Option<PathBuf>,
    /// Serve trust authentication on a non-loopback address anyway.
    #[arg(long)]
    insecure_no_auth: bool,
    /// TLS certificate chain (PEM); needs --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM); needs --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Refuse connections that do not use TLS.
    #[arg(long, requires = "tls_cert")]
    require_tls: bool,
}

fn parse_auth(text: &str) -> Result<ecomsql::server::AuthMethod, String> {
    ecomsql::server::AuthMethod::parse(text)
        .ok_or_else(|| format!("unknown auth method {text:?}; use trust, password, scram or md5"))
}

#[derive(Subcommand)]
enum UserAction {
    /// Add a user, or change its password or role. The password is read
    /// from standard input (prompted for, without echo, on a terminal).
    Add {
        name: String,
        #[arg(long, env = "ECOMSQL_USERS")]
        users: PathBuf,
        /// admin (may create, drop and alter models, run DDL/DML) or
        /// read_only (queries and model use only).
        #[arg(long, default_value = "read_only")]
        role: String,
        /// Also store the MD5 form, for `serve --auth md5` (weaker: it is
        /// enough to log in with MD5 if the file leaks).
        #[arg(long)]
        md5: bool,
    },
    /// Remove a user.
    Remove {
        name: String,
        #[arg(long, env = "ECOMSQL_USERS")]
        users: PathBuf,
    },
    /// List users and roles.
    List {
        #[arg(long, env = "ECOMSQL_USERS")]
        users: PathBuf,
    },
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
        /// Every session's starting statement_timeout, e.g. 30s, 500ms, 5min
        /// (a bare number is milliseconds, 0 is none); sessions may SET
        /// their own.
        #[arg(long, value_parser = ecomsql::server::parse_duration)]
        statement_timeout: Option<std::time::Duration>,
        /// Connections served at once; the next client gets SQLSTATE 53300.
        #[arg(long, default_value_t = 100)]
        max_connections: usize,
        #[command(flatten)]
        security: SecurityArgs,
    },
    /// Manage the users file that `serve --auth scram|password` reads.
    User {
        #[command(subcommand)]
        action: UserAction,
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

/// Stack for every thread that parses or plans SQL. DataFusion recurses once
/// per expression level; statements nesting up to
/// `ecomsql::statements::MAX_DEPTH` levels must fit even in a debug build.
/// Only the pages a thread touches are committed.
const THREAD_STACK: usize = 64 << 20;

fn main() -> ExitCode {
    // The main thread's stack is fixed by the OS; run on one of our own.
    match std::thread::Builder::new()
        .name("ecomsql".into())
        .stack_size(THREAD_STACK)
        .spawn(run)
    {
        Ok(thread) => thread.join().unwrap_or(ExitCode::FAILURE),
        Err(e) => {
            eprintln!("error: cannot start the main thread: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> ExitCode {
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
        .thread_stack_size(THREAD_STACK)
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
            Command::Serve {
                data,
                host,
                port,
                statement_timeout,
                max_connections,
                security,
            } => match security_options(&host, security) {
                Ok((auth, tls)) => {
                    let options = ServerOptions {
                        host,
                        port,
                        statement_timeout: statement_timeout.filter(|t| !t.is_zero()),
                        max_connections,
                        auth,
                        tls,
                        ..ServerOptions::default()
                    };
                    serve(data, options).await
                }
                Err(e) => Err(e),
            },
            Command::User { action } => user_command(action),
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

/// Authentication and TLS from the flags, failing closed: a users file
/// that does not load, or a certificate or key that does not work, stops
/// start-up; so does trust on a non-loopback address unless asked for.
fn security_options(
    host: &str,
    args: SecurityArgs,
) -> Result<
    (
        ecomsql::server::AuthConfig,
        Option<pgwire::tokio::TlsAcceptor>,
    ),
    String,
> {
    use ecomsql::server::auth::UsersSource;
    use ecomsql::server::{AuthConfig, AuthMethod};
    let method = args.auth.unwrap_or(if args.users.is_some() {
        AuthMethod::Scram
    } else {
        AuthMethod::Trust
    });
    let users = match (method, args.users) {
        (AuthMethod::Trust, _) => None,
        (_, Some(path)) => Some(Arc::new(UsersSource::open(path)?)),
        (_, None) => return Err("--auth password, scram and md5 need --users FILE".into()),
    };
    if method == AuthMethod::Trust && !is_loopback(host) && !args.insecure_no_auth {
        return Err(format!(
            "refusing to serve {host} without authentication: use --auth scram --users FILE, or --insecure-no-auth"
        ));
    }
    if method == AuthMethod::Password && args.tls_cert.is_none() {
        warn!("--auth password without TLS sends passwords in clear; prefer --auth scram");
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(ecomsql::server::tls::acceptor(cert, key)?),
        _ => None,
    };
    Ok((
        AuthConfig {
            method,
            users,
            require_tls: args.require_tls,
            ..AuthConfig::default()
        },
        tls,
    ))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn user_command(action: UserAction) -> Result<(), String> {
    use ecomsql::server::auth::{Role, Users};
    match action {
        UserAction::Add {
            name,
            users,
            role,
            md5,
        } => {
            let role = Role::parse(&role)
                .ok_or_else(|| format!("unknown role {role:?}; use admin or read_only"))?;
            let mut file = Users::load(&users)?;
            let password = read_password(&format!("password for {name}: "))?;
            file.set_with(&name, &password, role, md5)?;
            file.save(&users)?;
            eprintln!("user {name} ({}) saved in {}", role.name(), users.display());
            Ok(())
        }
        UserAction::Remove { name, users } => {
            let mut file = Users::load(&users)?;
            if !file.remove(&name) {
                return Err(format!("no user {name} in {}", users.display()));
            }
            file.save(&users)
        }
        UserAction::List { users } => {
            for (name, role) in Users::load(&users)?.names() {
                println!("{name}\t{}", role.name());
            }
            Ok(())
        }
    }
}

/// One line from standard input; on a terminal, prompted for without echo.
fn read_password(prompt: &str) -> Result<String, String> {
    let terminal = std::io::stdin().is_terminal();
    let stty = |arg: &str| {
        std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status()
    };
    if terminal {
        eprint!("{prompt}");
        let _ = stty("-echo");
    }
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    if terminal {
        let _ = stty("echo");
        eprintln!();
    }
    read.map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
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

async fn serve(data: DataArgs, options: ServerOptions) -> Result<(), String> {
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
