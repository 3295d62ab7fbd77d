//! Load: 64 concurrent clients for a bounded time running a mix of scans,
//! ML functions and model training against the real server process, with a
//! memory limit. No statement may fail; latencies (p50/p99 per kind) and
//! the server's peak memory are printed. `ECOMSQL_LOAD_SECS` sets the
//! duration (5 s by default; the full run is 60).

use std::time::{Duration, Instant};

use crate::common::ServerProcess;

const CLIENTS: usize = 64;

/// (kind, SQL); client `i` runs kind `i % len` in turn with the others.
const MIX: &[(&str, &str)] = &[
    (
        "scan",
        "SELECT country, segment, count(*) FROM users GROUP BY 1, 2 ORDER BY 3 DESC",
    ),
    (
        "scan",
        "SELECT count(*), sum(revenue) FROM orders WHERE quantity > 1",
    ),
    (
        "predict",
        "SELECT avg(predict_purchase('load_m', views_30d, purchases_30d)) FROM user_features",
    ),
    (
        "sentiment",
        "SELECT avg(sentiment(review_text)) FROM (SELECT review_text FROM reviews LIMIT 300)",
    ),
    ("point", "SELECT * FROM users WHERE user_id = 77"),
    (
        "catalog",
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    ),
];

const TRAIN: &str = "CREATE OR REPLACE MODEL load_m OPTIONS (model_type = 'logistic_regression', \
    label = 'purchased_next_7d') AS SELECT views_30d, purchases_30d, purchased_next_7d FROM user_features";

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_mixed_load_without_errors() {
    let seconds: u64 = std::env::var("ECOMSQL_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let models = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start_with(
        models.path(),
        &["--memory-limit", "1G", "--max-connections", "100"],
    );
    let setup = server.connect().await;
    setup.simple_query(TRAIN).await.expect("model for the mix");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let client = server.connect().await;
        tasks.push(tokio::spawn(async move {
            let mut timings: Vec<(&'static str, Duration)> = Vec::new();
            let mut errors = Vec::new();
            let mut n = i;
            while Instant::now() < deadline {
                // One client in 16 also retrains the model now and then.
                let (kind, sql) = if i % 16 == 0 && n % 4 == 0 {
                    ("train", TRAIN)
                } else {
                    MIX[n % MIX.len()]
                };
                n += 1;
                let started = Instant::now();
                let result = if n % 2 == 0 {
                    client.simple_query(sql).await.map(|_| ())
                } else {
                    client.query(sql, &[]).await.map(|_| ())
                };
                match result {
                    Ok(()) => timings.push((kind, started.elapsed())),
                    Err(e) => errors.push(format!("{kind}: {e:?}")),
                }
            }
            (timings, errors)
        }));
    }
    let mut by_kind = std::collections::BTreeMap::<&str, Vec<Duration>>::new();
    let mut errors = Vec::new();
    for task in tasks {
        let (timings, task_errors) = task.await.expect("client task");
        for (kind, t) in timings {
            by_kind.entry(kind).or_default().push(t);
        }
        errors.extend(task_errors);
    }
    let total: usize = by_kind.values().map(Vec::len).sum();
    eprintln!("{CLIENTS} clients, {seconds} s: {total} statements");
    for (kind, times) in &mut by_kind {
        times.sort();
        eprintln!(
            "  {kind:10} n={:6} p50={:8.1} ms p99={:8.1} ms",
            times.len(),
            percentile(times, 0.5).as_secs_f64() * 1e3,
            percentile(times, 0.99).as_secs_f64() * 1e3
        );
    }
    let peak = server.peak_rss();
    eprintln!(
        "  server peak RSS {:.0} MiB",
        peak as f64 / (1 << 20) as f64
    );
    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}",
        errors.len(),
        errors.first()
    );
    assert!(
        by_kind.len()
            == MIX
                .iter()
                .map(|m| m.0)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
                + 1
    );
    // 1 GiB for queries and training, plus the process's own overhead.
    assert!(peak < 1536 << 20, "peak RSS {peak}");
}
