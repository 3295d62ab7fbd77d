//! Limits and interrupts over a real connection: cancel requests and
//! statement_timeout stop a running statement (not just its planning),
//! `max_connections` refuses with 53300, shutdown ends running statements
//! with 57P01; the session (or server) keeps working after each.

use std::time::{Duration, Instant};

use ecomsql::ServerOptions;
use tokio_postgres::error::SqlState;

use crate::common::{TestServer, demo_data_dir, engine};

/// A query that runs for minutes: a 4·10^10-row cross join counted.
const SLOW: &str =
    "SELECT count(*) FROM generate_series(1, 200000) a CROSS JOIN generate_series(1, 200000) b";

/// Rows streamed for a long time: the client reads them as they come.
const SLOW_ROWS: &str = "SELECT a.value * b.value FROM generate_series(1, 200000) a CROSS JOIN generate_series(1, 200000) b";

async fn server_with(options: ServerOptions) -> (TestServer, tempfile::TempDir) {
    let models = tempfile::tempdir().expect("temp dir");
    let server =
        TestServer::start_with(engine(&demo_data_dir(), models.path()).await, options).await;
    (server, models)
}

fn code(e: &tokio_postgres::Error) -> Option<&SqlState> {
    e.as_db_error().map(|d| d.code())
}

/// Send a cancel request after `delay`, from another connection, as psql's
/// Ctrl-C does.
fn cancel_after(
    client: &tokio_postgres::Client,
    delay: Duration,
) -> tokio::task::JoinHandle<Instant> {
    let token = client.cancel_token();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        token
            .cancel_query(tokio_postgres::NoTls)
            .await
            .expect("cancel request sent");
        Instant::now()
    })
}

#[tokio::test]
async fn cancel_stops_a_running_query_within_a_second() {
    let (server, _models) = server_with(ServerOptions::default()).await;
    let client = server.connect().await;
    for (protocol, sql) in [
        ("simple", SLOW),
        ("extended", SLOW),
        ("streaming", SLOW_ROWS),
    ] {
        let cancelled_at = cancel_after(&client, Duration::from_millis(500));
        let result = if protocol == "simple" {
            client.simple_query(sql).await.map(|_| ())
        } else {
            client.query(sql, &[]).await.map(|_| ())
        };
        let ended = Instant::now();
        let sent = cancelled_at.await.expect("cancel task");
        let e = result.expect_err("the slow query must not finish");
        assert_eq!(
            code(&e),
            Some(&SqlState::QUERY_CANCELED),
            "{protocol}: {e:?}"
        );
        assert!(
            e.to_string().contains("user request") || format!("{e:?}").contains("user request"),
            "{protocol}: {e:?}"
        );
        let latency = ended.saturating_duration_since(sent);
        assert!(
            latency < Duration::from_secs(1),
            "{protocol}: stopped {latency:?} after the cancel"
        );
        // The session goes on.
        let row = client
            .query_one("SELECT 41 + 1", &[])
            .await
            .expect("next query");
        assert_eq!(row.get::<_, i64>(0), 42);
    }
}

#[tokio::test]
async fn statement_timeout_stops_execution() {
    let (server, _models) = server_with(ServerOptions::default()).await;
    let client = server.connect().await;
    client
        .batch_execute("SET statement_timeout = '300ms'")
        .await
        .expect("set");
    for streaming in [false, true] {
        let started = Instant::now();
        let e = client
            .query(if streaming { SLOW_ROWS } else { SLOW }, &[])
            .await
            .expect_err("times out");
        let took = started.elapsed();
        assert_eq!(code(&e), Some(&SqlState::QUERY_CANCELED), "{e:?}");
        assert!(format!("{e:?}").contains("statement timeout"), "{e:?}");
        assert!(took >= Duration::from_millis(300), "{took:?}");
        assert!(took < Duration::from_millis(1300), "{took:?}");
    }
    // Quick statements are unaffected, and 0 turns the limit off.
    let row = client
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .expect("fast query");
    assert_eq!(row.get::<_, i64>(0), 5000);
    client
        .batch_execute("SET statement_timeout = 0")
        .await
        .expect("reset");
    let row = client
        .query_one(
            "SELECT count(*) FROM generate_series(1, 3000) a CROSS JOIN generate_series(1, 3000) b",
            &[],
        )
        .await
        .expect("a longer query without a limit");
    assert_eq!(row.get::<_, i64>(0), 9_000_000);
}

#[tokio::test]
async fn server_statement_timeout_is_each_sessions_default() {
    let (server, _models) = server_with(ServerOptions {
        statement_timeout: Some(Duration::from_millis(200)),
        ..ServerOptions::default()
    })
    .await;
    let client = server.connect().await;
    let e = client.simple_query(SLOW).await.expect_err("times out");
    assert_eq!(code(&e), Some(&SqlState::QUERY_CANCELED), "{e:?}");
    // A session may lift it for itself only.
    client
        .batch_execute("SET statement_timeout = 0")
        .await
        .expect("set");
    let other = server.connect().await;
    let e = other.simple_query(SLOW).await.expect_err("still limited");
    assert_eq!(code(&e), Some(&SqlState::QUERY_CANCELED), "{e:?}");
    let cancel = cancel_after(&client, Duration::from_millis(700));
    let e = client
        .simple_query(SLOW)
        .await
        .expect_err("cancelled, not timed out");
    cancel.await.expect("cancel");
    assert!(format!("{e:?}").contains("user request"), "{e:?}");
}

#[tokio::test]
async fn cancelled_create_model_stores_nothing() {
    let (server, _models) = server_with(ServerOptions::default()).await;
    let client = server.connect().await;
    client
        .batch_execute("SET statement_timeout = '400ms'")
        .await
        .expect("set");
    // Two million generated rows: reading and training take seconds.
    let e = client
        .simple_query(
            "CREATE MODEL slow OPTIONS (model_type = 'logistic_regression', label = 'y') AS \
             SELECT a.value % 7 AS x1, (a.value * 13) % 11 AS x2, a.value % 3 = 0 AS y \
             FROM generate_series(1, 20000000) a",
        )
        .await
        .expect_err("times out");
    assert_eq!(code(&e), Some(&SqlState::QUERY_CANCELED), "{e:?}");
    client
        .batch_execute("SET statement_timeout = 0")
        .await
        .expect("set");
    // Give a training task that ignored the cancel time to (wrongly) store.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rows = client
        .query("SELECT name FROM ecomsql.models", &[])
        .await
        .expect("models");
    assert!(rows.is_empty(), "a cancelled CREATE MODEL stored a model");
}

#[tokio::test]
async fn max_connections_refuses_the_next_client_with_53300() {
    let (server, _models) = server_with(ServerOptions {
        max_connections: 2,
        ..ServerOptions::default()
    })
    .await;
    let first = server.connect().await;
    let second = server.connect().await;
    let config = format!(
        "host=127.0.0.1 port={} user=analyst dbname=shop connect_timeout=10",
        server.port
    );
    let Err(e) = tokio_postgres::connect(&config, tokio_postgres::NoTls).await else {
        panic!("a third connection was admitted");
    };
    assert_eq!(code(&e), Some(&SqlState::TOO_MANY_CONNECTIONS), "{e:?}");
    assert!(format!("{e:?}").contains("too many clients"), "{e:?}");
    // The two admitted sessions are unaffected; a closed one frees its slot.
    assert_eq!(
        first
            .query_one("SELECT 1::bigint", &[])
            .await
            .expect("first")
            .get::<_, i64>(0),
        1
    );
    drop(second);
    let deadline = Instant::now() + Duration::from_secs(5);
    let third = loop {
        match tokio_postgres::connect(&config, tokio_postgres::NoTls).await {
            Ok((client, connection)) => {
                tokio::spawn(connection);
                break client;
            }
            Err(e) if Instant::now() < deadline => {
                assert_eq!(code(&e), Some(&SqlState::TOO_MANY_CONNECTIONS), "{e:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the freed slot was not reused: {e:?}"),
        }
    };
    assert_eq!(
        third
            .query_one("SELECT 2::bigint", &[])
            .await
            .expect("third")
            .get::<_, i64>(0),
        2
    );
}

#[tokio::test]
async fn shutdown_ends_running_statements_with_57p01() {
    let (server, _models) = server_with(ServerOptions::default()).await;
    let client = server.connect().await;
    let port = server.port;
    let running = tokio::spawn(async move { client.simple_query(SLOW).await.map(|_| ()) });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let started = Instant::now();
    server.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let e = running.await.expect("query task").expect_err("interrupted");
    assert_eq!(code(&e), Some(&SqlState::ADMIN_SHUTDOWN), "{e:?}");
    // No new connections.
    let config = format!("host=127.0.0.1 port={port} user=analyst connect_timeout=2");
    assert!(
        tokio_postgres::connect(&config, tokio_postgres::NoTls)
            .await
            .is_err()
    );
}

/// A client that sends a query with a huge result and never reads it holds
/// only its own connection: the others keep their latency.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_does_not_stall_others() {
    use tokio::io::AsyncWriteExt;
    let (server, _models) = server_with(ServerOptions::default()).await;
    let mut stuck = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    let mut startup = 196_608_u32.to_be_bytes().to_vec();
    startup.extend_from_slice(b"user\0stuck\0\0");
    let mut packet = ((startup.len() + 4) as u32).to_be_bytes().to_vec();
    packet.extend_from_slice(&startup);
    let query = b"SELECT a.value, b.value FROM generate_series(1, 1000000) a CROSS JOIN generate_series(1, 1000) b\0";
    packet.push(b'Q');
    packet.extend_from_slice(&((query.len() + 4) as u32).to_be_bytes());
    packet.extend_from_slice(query);
    stuck.write_all(&packet).await.expect("send");
    // Let the socket buffers fill up.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let client = server.connect().await;
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        let row = client
            .query_one("SELECT count(*) FROM orders WHERE quantity > 1", &[])
            .await
            .expect("query");
        assert!(row.get::<_, i64>(0) > 0);
        slowest = slowest.max(started.elapsed());
    }
    assert!(slowest < Duration::from_secs(1), "slowest {slowest:?}");
    drop(stuck);
}

/// `--memory-limit` under an aggregation far larger than it: the answer is
/// right (DataFusion spills) or 53200, and the process stays within the
/// limit plus the overhead the README states (DataFusion's pool sees about
/// half of what a hash aggregation holds, and buffers outside the pool add
/// about 150 MB).
#[tokio::test]
async fn memory_stays_near_the_limit() {
    let models = tempfile::tempdir().expect("temp dir");
    let server =
        crate::common::ServerProcess::start_with(models.path(), &["--memory-limit", "64M"]);
    let client = server.connect().await;
    client.simple_query("SELECT 1").await.expect("warm up");
    let baseline = server.peak_rss();
    let result = client
        .query_one(
            "SELECT count(*) FROM (SELECT value % 20000000 AS k, count(*) FROM generate_series(1, 20000000) GROUP BY 1)",
            &[],
        )
        .await;
    match result {
        Ok(row) => assert_eq!(row.get::<_, i64>(0), 20_000_000),
        Err(e) => assert_eq!(code(&e), Some(&SqlState::OUT_OF_MEMORY), "{e:?}"),
    }
    let peak = server.peak_rss();
    let mib = |b: u64| b as f64 / f64::from(1 << 20);
    eprintln!(
        "baseline {:.0} MiB, peak {:.0} MiB with --memory-limit 64M",
        mib(baseline),
        mib(peak)
    );
    assert!(
        peak < baseline + 3 * (64 << 20) + (150 << 20),
        "peak {:.0} MiB over baseline {:.0} MiB",
        mib(peak),
        mib(baseline)
    );
    client
        .simple_query("SELECT 1")
        .await
        .expect("server goes on");
}
