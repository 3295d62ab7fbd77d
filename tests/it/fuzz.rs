//! Seeded fuzzing over real TCP: thousands of random and mutated protocol
//! messages, and thousands of malformed or hostile SQL statements. The
//! server must never die, every statement must get an answer with a
//! SQLSTATE, and a healthy client must keep being served throughout.
//!
//! Seeds are fixed so a failure reproduces; `ECOMSQL_FUZZ_CASES` raises
//! the counts for a longer run.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{ServerProcess, TestServer, demo_data_dir, engine};

fn cases(default: usize) -> usize {
    std::env::var("ECOMSQL_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn server() -> (TestServer, tempfile::TempDir) {
    let models = tempfile::tempdir().expect("temp dir");
    let server = TestServer::start(engine(&demo_data_dir(), models.path()).await).await;
    (server, models)
}

fn message(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn startup() -> Vec<u8> {
    let mut body = 196_608_u32.to_be_bytes().to_vec();
    for part in ["user", "fuzz", "database", "shop"] {
        body.extend_from_slice(part.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut out = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

/// A well-formed extended-protocol exchange to mutate.
fn extended_exchange() -> Vec<Vec<u8>> {
    let mut parse = cstr("s1");
    parse.extend(cstr("SELECT $1::bigint + 1, predict_purchase('nope', $1)"));
    parse.extend_from_slice(&1_u16.to_be_bytes());
    parse.extend_from_slice(&20_u32.to_be_bytes());
    let mut bind = cstr("p1");
    bind.extend(cstr("s1"));
    bind.extend_from_slice(&0_u16.to_be_bytes());
    bind.extend_from_slice(&1_u16.to_be_bytes());
    bind.extend_from_slice(&2_u32.to_be_bytes());
    bind.extend_from_slice(b"41");
    bind.extend_from_slice(&0_u16.to_be_bytes());
    let mut describe = vec![b'P'];
    describe.extend(cstr("p1"));
    let mut execute = cstr("p1");
    execute.extend_from_slice(&0_u32.to_be_bytes());
    vec![
        message(b'P', &parse),
        message(b'B', &bind),
        message(b'D', &describe),
        message(b'E', &execute),
        message(b'S', &[]),
        message(b'Q', &cstr("SELECT count(*) FROM users")),
    ]
}

/// One fuzz case: bytes to send on a fresh connection.
fn case(rng: &mut ChaCha8Rng) -> Vec<u8> {
    match rng.random_range(0..6) {
        // Garbage instead of a startup packet.
        0 => (0..rng.random_range(0..64)).map(|_| rng.random()).collect(),
        // A startup packet with a lying length.
        1 => {
            let mut bytes = startup();
            let length: u32 = match rng.random_range(0..4) {
                0 => 0,
                1 => u32::MAX,
                2 => 0x7fff_ffff,
                _ => rng.random_range(0..200),
            };
            bytes[..4].copy_from_slice(&length.to_be_bytes());
            bytes
        }
        // Startup, then random messages with random tags and lengths.
        2 => {
            let mut bytes = startup();
            for _ in 0..rng.random_range(1..6) {
                let tag = *b"PBDESQCHXFfdcp"
                    .get(rng.random_range(0..14))
                    .unwrap_or(&b'Q');
                let body: Vec<u8> = (0..rng.random_range(0..40)).map(|_| rng.random()).collect();
                bytes.extend(message(tag, &body));
            }
            bytes
        }
        // Startup, then a valid exchange with bytes flipped.
        3 | 4 => {
            let mut bytes = startup();
            let exchange: Vec<u8> = extended_exchange().concat();
            let start = bytes.len();
            bytes.extend(exchange);
            for _ in 0..rng.random_range(1..4) {
                let at = rng.random_range(start..bytes.len());
                bytes[at] = rng.random();
            }
            bytes
        }
        // Startup, then a message claiming a huge body that never comes.
        _ => {
            let mut bytes = startup();
            bytes.push(b'Q');
            bytes.extend_from_slice(&rng.random_range(0x0100_0000_u32..u32::MAX).to_be_bytes());
            bytes.extend_from_slice(b"SELECT 1");
            bytes
        }
    }
}

/// Send one case and read whatever comes back for a moment.
async fn run_case(port: u16, bytes: Vec<u8>) {
    let Ok(mut socket) = TcpStream::connect(("127.0.0.1", port)).await else {
        panic!("the server stopped accepting connections");
    };
    let _ = socket.write_all(&bytes).await;
    let mut buffer = vec![0_u8; 4096];
    let read = async {
        while let Ok(n) = socket.read(&mut buffer).await {
            if n == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(100), read).await;
}

#[tokio::test]
async fn protocol_fuzzing_never_takes_the_server_down() {
    let (server, _models) = server().await;
    let healthy = server.connect().await;
    let mut rng = ChaCha8Rng::seed_from_u64(20261204);
    let total = cases(2000);
    let mut done = 0;
    while done < total {
        let batch: Vec<Vec<u8>> = (0..50.min(total - done)).map(|_| case(&mut rng)).collect();
        done += batch.len();
        let port = server.port;
        let tasks: Vec<_> = batch
            .into_iter()
            .map(|bytes| tokio::spawn(run_case(port, bytes)))
            .collect();
        for task in tasks {
            task.await.expect("fuzz case");
        }
        let row = healthy
            .query_one("SELECT count(*) FROM users", &[])
            .await
            .unwrap_or_else(|e| panic!("healthy client failed after {done} cases: {e:?}"));
        assert_eq!(row.get::<_, i64>(0), 5000);
    }
    // New connections still work too.
    let fresh = server.connect().await;
    fresh.simple_query("SELECT 1").await.expect("fresh client");
}

/// Statements from a small hostile grammar.
fn statement(rng: &mut ChaCha8Rng) -> String {
    const FUNCTIONS: &[&str] = &[
        "predict_purchase",
        "explain_purchase",
        "sentiment",
        "sentiment_label",
        "sentiment_aspects",
        "detect_language",
        "current_setting",
        "set_config",
        "to_regtype",
        "pg_size_pretty",
        "roc_auc",
        "log_loss",
        "brier_score",
        "version",
        "abs",
        "nope_fn",
    ];
    const TABLE_FUNCTIONS: &[&str] = &[
        "recommend",
        "forecast_ar",
        "similar_items",
        "recommend_fold_in",
        "model_weights",
        "model_info",
        "model_versions",
    ];
    const VALUES: &[&str] = &[
        "1",
        "0",
        "-1",
        "NULL",
        "'x'",
        "''",
        "'NaN'::double",
        "'inf'::double",
        "1e308 * 10",
        "9223372036854775807",
        "9223372036854775807 + 1",
        "1 / 0",
        "1.0 / 0",
        "'nope_model'",
        "ARRAY[1, 2]",
        "true",
        "DATE '2024-02-30'",
        "'中文评论很好'",
        "views_30d",
        "review_text",
    ];
    let value = |rng: &mut ChaCha8Rng| VALUES[rng.random_range(0..VALUES.len())].to_string();
    let args = |rng: &mut ChaCha8Rng| {
        (0..rng.random_range(0..5))
            .map(|_| value(rng))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match rng.random_range(0..10) {
        0 => format!(
            "SELECT {}({}) FROM user_features LIMIT 3",
            FUNCTIONS[rng.random_range(0..FUNCTIONS.len())],
            args(rng)
        ),
        1 => format!(
            "SELECT * FROM {}({}) LIMIT 3",
            TABLE_FUNCTIONS[rng.random_range(0..TABLE_FUNCTIONS.len())],
            args(rng)
        ),
        2 => {
            let depth = rng.random_range(10..3000);
            format!("SELECT {}1{}", "(".repeat(depth), ")".repeat(depth))
        }
        3 => {
            let depth = rng.random_range(10..1200);
            format!("SELECT 1 {}", "+ 1 ".repeat(depth))
        }
        4 => format!("SELECT '{}'", "x".repeat(rng.random_range(1000..300_000))),
        5 => format!("SELECT {} FROM users WHERE {}", value(rng), value(rng)),
        6 => {
            // Random tokens.
            const TOKENS: &[&str] = &[
                "SELECT", "FROM", "WHERE", "(", ")", ",", "*", "users", "GROUP", "BY", "ORDER",
                "MODEL", "CREATE", "DROP", "OPTIONS", "AS", "'", "\"", ";", "$1", "::", "JOIN",
                "ON", "1", "EVALUATE", "SHOW", "MODELS", "COPY", "TO", "STDOUT",
            ];
            (0..rng.random_range(1..20))
                .map(|_| TOKENS[rng.random_range(0..TOKENS.len())])
                .collect::<Vec<_>>()
                .join(" ")
        }
        7 => format!(
            "CREATE MODEL fuzz{} OPTIONS (model_type = '{}', label = '{}', l2 = {}) AS SELECT {}, purchased_next_7d FROM user_features",
            rng.random_range(0..3),
            [
                "logistic_regression",
                "matrix_factorization",
                "ar",
                "text_classifier",
                "zzz"
            ][rng.random_range(0..5)],
            ["purchased_next_7d", "nope", ""][rng.random_range(0..3)],
            ["1", "-1", "'x'", "1e400", "NaN"][rng.random_range(0..5)],
            value(rng)
        ),
        8 => format!(
            "{} MODEL {}",
            ["DROP", "DESCRIBE", "EVALUATE", "ALTER"][rng.random_range(0..4)],
            ["fuzz0", "\"\"", "../../etc", "a/b", "nope"][rng.random_range(0..5)]
        ),
        _ => format!(
            "SELECT CAST({} AS {})",
            value(rng),
            [
                "int",
                "smallint",
                "date",
                "timestamp",
                "decimal(3,2)",
                "nonsense"
            ][rng.random_range(0..6)]
        ),
    }
}

/// Against the real binary: its threads have the stack that deep (but
/// accepted) statements need, which a test thread does not.
#[tokio::test]
async fn sql_fuzzing_gets_an_answer_for_every_statement() {
    let models = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(models.path());
    let client = server.connect().await;
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut errors = std::collections::BTreeMap::<String, usize>::new();
    let mut slow = Vec::new();
    let total = cases(2000);
    for i in 0..total {
        let sql = statement(&mut rng);
        let started = std::time::Instant::now();
        let result = if i % 2 == 0 {
            client.simple_query(&sql).await.map(|_| ())
        } else {
            client.query(&sql, &[]).await.map(|_| ())
        };
        let took = started.elapsed();
        if took > Duration::from_millis(200) {
            slow.push((took, sql.chars().take(100).collect::<String>()));
        }
        if let Err(e) = result {
            let Some(db) = e.as_db_error() else {
                panic!("no ErrorResponse for {:.200}: {e:?}", sql);
            };
            let code = db.code().code().to_string();
            assert_ne!(
                code,
                "XX000",
                "internal error for {:.300}: {}",
                sql,
                db.message()
            );
            *errors.entry(code).or_default() += 1;
        }
        if i % 100 == 99 {
            client
                .simple_query("SELECT 1")
                .await
                .unwrap_or_else(|e| panic!("session died after {:.200}: {e:?}", sql));
        }
    }
    eprintln!("SQLSTATEs of the {total} fuzzed statements: {errors:?}");
    slow.sort();
    eprintln!(
        "slowest: {:?}",
        slow.iter().rev().take(8).collect::<Vec<_>>()
    );
    assert!(errors.len() >= 5, "too few kinds of errors: {errors:?}");
}
