//! Helpers shared by the integration tests: the demo data, engines, a real
//! server on an ephemeral port, and clients.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use ecomsql::{Engine, Server, ServerOptions};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The committed demo data (`data/` at the repo root).
pub fn demo_data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// An engine over `data`, with its model folder in `models` so tests never
/// write into the repository.
pub async fn engine(data: &Path, models: &Path) -> Arc<Engine> {
    Arc::new(
        Engine::builder(data)
            .models_dir(models)
            .build()
            .await
            .expect("engine builds"),
    )
}

/// A server running on 127.0.0.1 with an ephemeral port; stopped on drop.
pub struct TestServer {
    pub port: u16,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start(engine: Arc<Engine>) -> Self {
        Self::start_with(engine, ServerOptions::default()).await
    }

    /// A server with these options, on 127.0.0.1 and an ephemeral port.
    pub async fn start_with(engine: Arc<Engine>, options: ServerOptions) -> Self {
        let options = ServerOptions {
            host: "127.0.0.1".into(),
            port: 0,
            ..options
        };
        let server = Server::bind(engine, &options).await.expect("server binds");
        let port = server.local_addr().expect("local addr").port();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run_until(async {
            let _ = stopped.await;
        }));
        Self {
            port,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub async fn connect(&self) -> tokio_postgres::Client {
        let config = format!(
            "host=127.0.0.1 port={} user=analyst dbname=shop connect_timeout=10",
            self.port
        );
        let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls)
            .await
            .expect("client connects");
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
    }

    /// Stop accepting and wait for the accept loop to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server ran");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Every batch of a Parquet file, read without DataFusion (an independent
/// way to compute expected values).
pub fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).expect("parquet file opens");
    ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet footer")
        .build()
        .expect("reader")
        .collect::<Result<Vec<_>, _>>()
        .expect("batches")
}

/// The values of a simple-protocol result, row by row.
pub fn simple_rows(messages: &[tokio_postgres::SimpleQueryMessage]) -> Vec<Vec<Option<String>>> {
    messages
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

/// A real `ecomsql serve` process on a free port (read from its log),
/// over the demo data; killed (SIGKILL) on drop.
pub struct ServerProcess {
    pub child: Child,
    pub port: u16,
}

impl ServerProcess {
    pub fn start(models: &Path) -> Self {
        Self::start_with(models, &[])
    }

    /// With extra `serve` flags.
    pub fn start_with(models: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ecomsql"))
            .args(["serve", "--port", "0", "--data"])
            .arg(demo_data_dir())
            .arg("--models")
            .arg(models)
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("server starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let port = loop {
            let line = lines
                .next()
                .expect("the server logs its address")
                .expect("log line");
            if let Some(address) = line.split("listening on ").nth(1) {
                break address
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.trim().parse().ok())
                    .expect("port");
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, port }
    }

    pub async fn connect(&self) -> tokio_postgres::Client {
        let config = format!(
            "host=127.0.0.1 port={} user=ops dbname=shop connect_timeout=10",
            self.port
        );
        let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls)
            .await
            .expect("connects");
        tokio::spawn(connection);
        client
    }
}

impl ServerProcess {
    /// Peak resident memory so far (VmHWM), in bytes.
    pub fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
