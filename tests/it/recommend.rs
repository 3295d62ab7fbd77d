//! recommend: quality against the popularity baseline on the demo events
//! (whose users' choices come from latent tastes), EVALUATE on a query
//! agreeing with the stored validation metrics, and serving through the
//! server after a restart.

use std::collections::HashMap;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{Float64Type, Int32Type, Int64Type};

use crate::common::{TestServer, demo_data_dir, engine};
use crate::models::{metrics, run};

/// The demo training statement: weights view = 1, cart = 3, purchase = 5,
/// each user's two latest items held out.
const TRAIN: &str = "CREATE MODEL recs OPTIONS (model_type = 'matrix_factorization', \
    rating_col = 'weight', factors = 16, iterations = 10, regularization = 0.1, alpha = 1, \
    validation = 'last_n', validation_n = 2, time_col = 't', seed = 42) \
    AS SELECT user_id, item_id, \
       CASE event_type WHEN 'purchase' THEN 5 WHEN 'cart' THEN 3 ELSE 1 END AS weight, \
       event_time AS t FROM events";

/// The same held-out pairs in SQL: per user, the two items with the latest
/// interaction (ties by item id), leaving at least one item for training.
const HELD_OUT: &str = "SELECT user_id, item_id FROM ( \
      SELECT user_id, item_id, \
        row_number() OVER (PARTITION BY user_id ORDER BY max(event_time) DESC, item_id) AS rn, \
        count(*) OVER (PARTITION BY user_id) AS n \
      FROM events GROUP BY user_id, item_id) \
    WHERE rn <= 2 AND rn < n";

/// On the demo events the model's recall@10 on each user's two latest items
/// must beat the most-popular baseline by at least 25% (measured: 0.20 vs
/// 0.137 with these options, see the README), and so must NDCG@10.
#[tokio::test]
async fn beats_popularity_on_demo_events_and_evaluate_agrees() {
    let models = tempfile::tempdir().expect("dir");
    let engine = engine(&demo_data_dir(), models.path()).await;
    let created = run(&engine, TRAIN).await;
    let validation_rows = created[0].column(4).as_primitive::<Int64Type>().value(0);
    assert!(validation_rows > 9000, "held out {validation_rows}");

    let stored = metrics(&engine, "EVALUATE MODEL recs").await;
    let (recall, popular) = (stored["recall_at_10"], stored["popular_recall_at_10"]);
    assert!(
        recall >= 1.25 * popular,
        "recall@10 {recall} vs popular {popular}"
    );
    assert!(
        stored["ndcg_at_10"] >= 1.2 * stored["popular_ndcg_at_10"],
        "{stored:?}"
    );
    assert!(stored["coverage_at_10"] > 5.0 * stored["popular_coverage_at_10"]);

    // The held-out pairs computed in SQL give the same metrics.
    let on_query = metrics(&engine, &format!("EVALUATE MODEL recs ON ({HELD_OUT})")).await;
    for name in [
        "precision_at_10",
        "recall_at_10",
        "ndcg_at_10",
        "map_at_10",
        "users",
    ] {
        assert!(
            (on_query[name] - stored[name]).abs() < 1e-12,
            "{name}: {} on the query, {} stored",
            on_query[name],
            stored[name]
        );
    }
    assert_eq!(on_query["unknown_users"], 0.0);

    // Training is deterministic for a seed.
    let again = run(
        &engine,
        &TRAIN.replace("CREATE MODEL", "CREATE OR REPLACE MODEL"),
    )
    .await;
    assert_eq!(again[0].num_rows(), 1);
    let replay = metrics(&engine, "EVALUATE MODEL recs").await;
    assert_eq!(replay["recall_at_10"], recall);
}

/// Recommendations through the server, before and after a restart of the
/// engine on the same model folder, with Postgres types.
#[tokio::test]
async fn recommendations_survive_a_restart_and_reach_clients() {
    let models = tempfile::tempdir().expect("dir");
    let engine1 = engine(&demo_data_dir(), models.path()).await;
    run(
        &engine1,
        "CREATE MODEL small OPTIONS (model_type = 'matrix_factorization', factors = 8, iterations = 3, alpha = 1) \
         AS SELECT user_id, item_id FROM events WHERE user_id <= 300",
    )
    .await;
    let before = run(
        &engine1,
        "SELECT item_id, score FROM recommend('small', 5, 7) ORDER BY rank",
    )
    .await;
    drop(engine1);

    let server = TestServer::start(engine(&demo_data_dir(), models.path()).await).await;
    let client = server.connect().await;
    let rows = client
        .query(
            "SELECT user_id, item_id, score, rank, source FROM recommend('small', 5, 7) ORDER BY rank",
            &[],
        )
        .await
        .expect("recommend");
    assert_eq!(rows.len(), 5);
    let items = before[0].column(0).as_primitive::<Int64Type>();
    let scores = before[0].column(1).as_primitive::<Float64Type>();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.get::<_, i64>(0), 7);
        assert_eq!(row.get::<_, i64>(1), items.value(i));
        assert_eq!(row.get::<_, f64>(2), scores.value(i));
        assert_eq!(row.get::<_, i32>(3), i as i32 + 1);
        assert_eq!(row.get::<_, String>(4), "model");
    }
    // A driver's parameter in the filter (extended protocol): the bound
    // value reaches the function, so unknown users get the fallback.
    let bound = client
        .query(
            "SELECT item_id, source FROM recommend('small', 5) WHERE user_id = $1 ORDER BY rank",
            &[&987654_i64],
        )
        .await
        .expect("bound parameter");
    assert_eq!(bound.len(), 5);
    assert_eq!(bound[0].get::<_, String>(1), "popular");
    let known = client
        .query(
            "SELECT item_id FROM recommend('small', 5) WHERE user_id = $1 ORDER BY rank",
            &[&7_i64],
        )
        .await
        .expect("bound parameter");
    let known: Vec<i64> = known.iter().map(|r| r.get(0)).collect();
    assert_eq!(known, (0..5).map(|i| items.value(i)).collect::<Vec<_>>());
    // The parameter as the user argument itself, bare or cast, aliased.
    for sql in [
        "SELECT item_id FROM recommend('small', 5, $1) ORDER BY rank",
        "SELECT r.item_id FROM recommend('small', 5, $1::bigint) AS r ORDER BY r.rank",
    ] {
        let rows = client.query(sql, &[&7_i64]).await.expect(sql);
        let got: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        assert_eq!(got, known, "{sql}");
    }
    // Seen items never come back by default.
    let seen = client
        .query(
            "SELECT count(*) FROM recommend('small', 20, 7) r JOIN events e \
             ON e.user_id = r.user_id AND e.item_id = r.item_id",
            &[],
        )
        .await
        .expect("join");
    assert_eq!(seen[0].get::<_, i64>(0), 0);
    let err = client
        .query("SELECT * FROM recommend('small', -1)", &[])
        .await
        .expect_err("k < 1");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::INVALID_PARAMETER_VALUE)
    );
    // The session keeps working.
    let one = client
        .query("SELECT count(*) FROM recommend('small', 1)", &[])
        .await
        .expect("all");
    assert!(one[0].get::<_, i64>(0) > 250);
    server.stop().await;
}

/// `recommend` over every user: one row per (user, rank), ranks 1..k.
#[tokio::test]
async fn every_user_gets_k_ranked_rows() {
    let models = tempfile::tempdir().expect("dir");
    let engine = engine(&demo_data_dir(), models.path()).await;
    run(
        &engine,
        "CREATE MODEL m OPTIONS (model_type = 'matrix_factorization', factors = 4, iterations = 2) \
         AS SELECT user_id, item_id FROM events",
    )
    .await;
    let batches = run(
        &engine,
        "SELECT rank, count(*), count(DISTINCT user_id) FROM recommend('m', 3) GROUP BY rank ORDER BY rank",
    )
    .await;
    let mut counts: HashMap<i32, (i64, i64)> = HashMap::new();
    for b in &batches {
        let rank = b.column(0).as_primitive::<Int32Type>();
        let n = b.column(1).as_primitive::<Int64Type>();
        let users = b.column(2).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            counts.insert(rank.value(i), (n.value(i), users.value(i)));
        }
    }
    let users = run(&engine, "SELECT count(DISTINCT user_id) FROM events").await;
    let users = users[0].column(0).as_primitive::<Int64Type>().value(0);
    assert_eq!(counts.len(), 3);
    for rank in 1..=3 {
        assert_eq!(counts[&rank], (users, users), "rank {rank}");
    }
}

/// Items nobody interacted with (every item id ending in 7 is left out of
/// training) are answered by content: their similar items share their
/// category far more often than the catalogue's base rate, and known items
/// keep their factor neighbours unless content is asked for.
#[tokio::test]
async fn cold_start_items_get_similar_items_by_content() {
    let models = tempfile::tempdir().expect("dir");
    let engine = engine(&demo_data_dir(), models.path()).await;
    run(
        &engine,
        "CREATE MODEL cold OPTIONS (model_type = 'matrix_factorization', rating_col = 'weight',
             factors = 16, iterations = 5, regularization = 0.1, alpha = 1,
             content_query = 'SELECT item_id, title, title_zh, category, brand FROM items')
         AS SELECT user_id, item_id,
             CASE event_type WHEN 'purchase' THEN 5 WHEN 'cart' THEN 3 ELSE 1 END AS weight
         FROM events WHERE item_id % 10 <> 7",
    )
    .await;
    // Same-category share among each cold item's 5 similar items, by source.
    let batches = run(
        &engine,
        "SELECT s.source, avg(CASE WHEN a.category = b.category THEN 1.0 ELSE 0.0 END),
                count(DISTINCT s.item_id), count(*)
         FROM similar_items('cold', NULL, 5) s
         JOIN items a ON a.item_id = s.item_id
         JOIN items b ON b.item_id = s.similar_item_id
         WHERE s.item_id % 10 = 7
         GROUP BY s.source",
    )
    .await;
    let b = &batches[0];
    assert_eq!(b.num_rows(), 1);
    assert_eq!(b.column(0).as_string::<i32>().value(0), "content");
    let same = b.column(1).as_primitive::<Float64Type>().value(0);
    let cold_items = b.column(2).as_primitive::<Int64Type>().value(0);
    assert_eq!(cold_items, 100);
    assert_eq!(b.column(3).as_primitive::<Int64Type>().value(0), 500);
    // Base rate: the chance that two distinct random items share a category.
    let base = run(
        &engine,
        "SELECT sum(n * (n - 1)) * 1.0 / (sum(n) * (sum(n) - 1)) FROM
           (SELECT count(*) AS n FROM items GROUP BY category)",
    )
    .await;
    let base = base[0].column(0).as_primitive::<Float64Type>().value(0);
    assert!(
        same > 0.9 && same > 3.0 * base,
        "same category {same}, base {base}"
    );

    // Known items: factors by default, content or a blend when asked.
    for (options, source) in [
        ("", "factors"),
        (", 'mode = content'", "content"),
        (", 'mode = blend, content_weight = 0.3'", "blend"),
        (", 'mode = factors'", "factors"),
    ] {
        let batches = run(
            &engine,
            &format!("SELECT DISTINCT source FROM similar_items('cold', 18, 5{options})"),
        )
        .await;
        assert_eq!(
            batches[0].column(0).as_string::<i32>().value(0),
            source,
            "{options}"
        );
    }
    // A cold item under mode = factors is unknown: no rows.
    let none = run(
        &engine,
        "SELECT count(*) FROM similar_items('cold', 17, 5, 'mode = factors')",
    )
    .await;
    assert_eq!(none[0].column(0).as_primitive::<Int64Type>().value(0), 0);

    // The content is stored with the model: a fresh engine serves it.
    let fresh = crate::common::engine(&demo_data_dir(), models.path()).await;
    let again = run(
        &fresh,
        "SELECT count(*) FROM similar_items('cold', 17, 5) WHERE source = 'content'",
    )
    .await;
    assert_eq!(again[0].column(0).as_primitive::<Int64Type>().value(0), 5);

    // Errors: bad options, content modes on a model without content.
    run(
        &engine,
        "CREATE MODEL plain OPTIONS (model_type = 'matrix_factorization', factors = 4, iterations = 2)
         AS SELECT user_id, item_id FROM events",
    )
    .await;
    for sql in [
        "SELECT * FROM similar_items('plain', 18, 5, 'mode = content')",
        "SELECT * FROM similar_items('cold', 18, 5, 'mode = sideways')",
        "SELECT * FROM similar_items('cold', 18, 5, 'content_weight = 2')",
        "SELECT * FROM similar_items('cold', 18, 5, 'colour = red')",
    ] {
        let err = crate::models::run_err(&engine, sql).await;
        assert_eq!(err.state.code(), "22023", "{sql}: {}", err.message);
    }
}
