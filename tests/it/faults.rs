//! The real `ecomsql serve` process under faults: SIGKILL in the middle of
//! CREATE OR REPLACE MODEL leaves the previous version loadable; SIGTERM
//! ends running statements with 57P01 and exits 0.

use std::process::Command;
use std::time::{Duration, Instant};

use tokio_postgres::error::SqlState;

use crate::common::ServerProcess as Process;

const V1: &str = "CREATE MODEL m OPTIONS (model_type = 'logistic_regression', label = 'purchased_next_7d') \
     AS SELECT views_30d, purchased_next_7d FROM user_features";

/// A replacement that reads 400,000 rows: a while of work to kill.
fn replace(name: &str) -> String {
    format!(
        "CREATE OR REPLACE MODEL {name} OPTIONS (model_type = 'logistic_regression', label = 'purchased_next_7d') \
         AS SELECT u.views_30d + g.value % 3 AS views_30d, u.purchased_next_7d \
         FROM user_features u CROSS JOIN generate_series(1, 80) g"
    )
}

#[tokio::test]
async fn sigkill_during_create_or_replace_keeps_the_previous_version() {
    let models = tempfile::tempdir().expect("temp dir");
    let server = Process::start(models.path());
    let client = server.connect().await;
    client.simple_query(V1).await.expect("version 1");
    let p1: f64 = client
        .query_one("SELECT predict_purchase('m', 12.0)", &[])
        .await
        .expect("predict")
        .get(0);
    // How long a replacement takes here, on another model.
    let started = Instant::now();
    client
        .simple_query(&replace("timing"))
        .await
        .expect("timing run");
    let full = started.elapsed().as_millis() as f64;
    drop(client);
    drop(server);
    let mut finished = 0;
    // Kill at points through the replacement: reading, training, and near
    // its end, around the write of the new version.
    for fraction in [0.05, 0.3, 0.6, 0.85, 0.93, 0.97, 1.0, 1.03, 1.1] {
        let delay_ms = (full * fraction) as u64;
        let server = Process::start(models.path());
        let client = server.connect().await;
        let replace =
            tokio::spawn(async move { client.simple_query(&replace("m")).await.map(|_| ()) });
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        drop(server); // SIGKILL
        if let Ok(Ok(())) = replace.await {
            finished += 1;
        }
        eprintln!("killed after {delay_ms} ms; replacements finished so far: {finished}");
        // The restarted server loads a whole model: version 1, or a
        // complete later version.
        let server = Process::start(models.path());
        let client = server.connect().await;
        let p: f64 = client
            .query_one("SELECT predict_purchase('m', 12.0)", &[])
            .await
            .unwrap_or_else(|e| panic!("killed after {delay_ms} ms: model unusable: {e:?}"))
            .get(0);
        assert!(p.is_finite() && p > 0.0 && p < 1.0, "{p}");
        let rows = crate::common::simple_rows(
            &client
                .simple_query("SELECT version, error FROM ecomsql.models WHERE name = 'm'")
                .await
                .expect("models view"),
        );
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0][1], None, "killed after {delay_ms} ms: {rows:?}");
        if finished == 0 {
            assert_eq!(rows[0][0].as_deref(), Some("1"));
            assert!((p - p1).abs() < 1e-12, "version 1 changed: {p} vs {p1}");
        }
        drop(client);
        drop(server);
    }
}

#[tokio::test]
async fn sigterm_ends_running_statements_and_exits_zero() {
    let models = tempfile::tempdir().expect("temp dir");
    let mut server = Process::start(models.path());
    let client = server.connect().await;
    let idle = server.connect().await;
    let running = tokio::spawn(async move {
        client
            .simple_query(
                "SELECT count(*) FROM generate_series(1, 200000) a CROSS JOIN generate_series(1, 200000) b",
            )
            .await
            .map(|_| ())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let e = running.await.expect("task").expect_err("interrupted");
    assert_eq!(
        e.as_db_error().map(|d| d.code()),
        Some(&SqlState::ADMIN_SHUTDOWN),
        "{e:?}"
    );
    let started = Instant::now();
    let exit = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "server did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
    assert!(
        idle.simple_query("SELECT 1").await.is_err(),
        "the idle session was closed"
    );
}
