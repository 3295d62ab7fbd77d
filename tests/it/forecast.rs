//! forecast_ar through the server, on the demo `daily_sales`, whose
//! generator wrote the true festival lifts and base levels to
//! `data/ground_truth.json`.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use tokio_postgres::error::SqlState;

use crate::common::{TestServer, demo_data_dir, engine};

/// The generator's noise-free base units of `category` on `day`:
/// level·(1 + trend·t/365) + weekly[dow] + amplitude·sin(2π(doy − peak)/365.25 + π/2).
fn base_units(truth: &serde_json::Value, category: &str, day: NaiveDate) -> f64 {
    let c = &truth["daily_sales"][category];
    let num = |k: &str| c[k].as_f64().expect("number in ground truth");
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).expect("date");
    let t = (day - start).num_days() as f64;
    let weekly = c["weekly"][day.weekday().num_days_from_monday() as usize]
        .as_f64()
        .expect("weekly");
    let doy = f64::from(day.ordinal0());
    num("level") * (1.0 + num("trend_per_year") * t / 365.0)
        + weekly
        + num("yearly_amplitude")
            * (2.0 * std::f64::consts::PI * (doy - num("yearly_peak_day")) / 365.25
                + std::f64::consts::FRAC_PI_2)
                .sin()
}

/// Festival regressors recover the generator's one-day lifts (618, Double
/// 11, Black Friday, Cyber Monday), give the Spring Festival lull a
/// negative effect, shrink the residual variance, and carry into the
/// forecasts; all through a real client on both protocols.
#[tokio::test]
async fn festivals_on_demo_sales_through_the_server() {
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(demo_data_dir().join("ground_truth.json")).expect("truth"),
    )
    .expect("json");
    let models = tempfile::tempdir().expect("dir");
    let server = TestServer::start(engine(&demo_data_dir(), models.path()).await).await;
    let client = server.connect().await;
    for (name, calendar) in [("plain", "none"), ("festive", "retail_cn,retail_us")] {
        client
            .simple_query(&format!(
                "CREATE MODEL {name} OPTIONS (model_type = 'ar', time_col = 'day', value_col = 'units', \
                 series_col = 'category', p = 'auto', max_p = 14, calendar = '{calendar}') \
                 AS SELECT day, category, units FROM daily_sales"
            ))
            .await
            .unwrap_or_else(|e| panic!("CREATE MODEL {name}: {e}"));
    }
    let weights = |model: &'static str| {
        let client = &client;
        async move {
            let rows = client
                .query(
                    &format!("SELECT series, term, value FROM model_weights('{model}')"),
                    &[],
                )
                .await
                .expect("model_weights");
            rows.iter()
                .map(|r| {
                    (
                        (r.get::<_, String>(0), r.get::<_, String>(1)),
                        r.get::<_, Option<f64>>(2).unwrap_or(f64::NAN),
                    )
                })
                .collect::<HashMap<_, _>>()
        }
    };
    let (plain, festive) = (weights("plain").await, weights("festive").await);
    let categories: Vec<String> = truth["daily_sales"]
        .as_object()
        .expect("categories")
        .keys()
        .cloned()
        .collect();
    assert_eq!(categories.len(), 8);
    let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(2025, m, d).expect("date");
    // (festival, its day in 2025, the generator's lift on that day)
    let one_day = [
        ("618", day(6, 18), 3.0),
        ("double_11", day(11, 11), 4.0),
        ("black_friday", day(11, 28), 2.2),
        ("cyber_monday", day(12, 1), 1.8),
    ];
    for c in &categories {
        let w = |term: &str| festive[&(c.clone(), term.to_string())];
        for (festival, on, lift) in one_day {
            let expected = (lift - 1.0) * base_units(&truth, c, on);
            let got = w(&format!("festival.{festival}"));
            assert!(
                (got - expected).abs() < 0.35 * expected,
                "{c} {festival}: coefficient {got}, generator's lift {expected}"
            );
        }
        assert!(w("festival.spring_festival") < 0.0, "{c}");
        let (before, after) = (plain[&(c.clone(), "sigma2".into())], w("sigma2"));
        assert!(
            after < 0.6 * before,
            "{c}: sigma2 {after} with festivals, {before} without"
        );
    }
    // The forecasts run into the Spring Festival of 2026 (17 February):
    // its week sells less than the week before, in every category.
    let lull = client
        .query(
            "SELECT series, \
                    avg(CASE WHEN ts BETWEEN DATE '2026-02-17' AND DATE '2026-02-23' THEN forecast END), \
                    avg(CASE WHEN ts BETWEEN DATE '2026-02-03' AND DATE '2026-02-09' THEN forecast END) \
             FROM forecast_ar('festive', 60) GROUP BY series ORDER BY series",
            &[],
        )
        .await
        .expect("forecast");
    assert_eq!(lull.len(), 8);
    for row in &lull {
        let (during, before): (f64, f64) = (row.get(1), row.get(2));
        assert!(during < 0.8 * before, "{row:?}: {during} vs {before}");
    }
    // Extended protocol with a bound parameter and Postgres types.
    let rows = client
        .query(
            "SELECT ts, step, forecast, lower, upper, method FROM forecast_ar('festive', 30, 0.8) \
             WHERE series = $1 ORDER BY step",
            &[&"electronics"],
        )
        .await
        .expect("prepared forecast");
    assert_eq!(rows.len(), 30);
    for (i, row) in rows.iter().enumerate() {
        let ts: NaiveDate = row.get(0);
        assert_eq!(ts, day(12, 31) + chrono::Days::new(i as u64 + 1));
        assert_eq!(row.get::<_, i32>(1), i as i32 + 1);
        let (f, lo, hi): (f64, f64, f64) = (row.get(2), row.get(3), row.get(4));
        assert!(lo < f && f < hi);
        assert_eq!(row.get::<_, String>(5), "ar");
    }
    // EVALUATE MODEL over the wire: the stored backtest, per series.
    let metrics = client
        .query("EVALUATE MODEL festive OPTIONS (by_series = true)", &[])
        .await
        .expect("evaluate");
    assert_eq!(metrics.len(), 9 * 7);
    // Errors keep their SQLSTATE and the session keeps working.
    let err = client
        .query("SELECT * FROM forecast_ar('festive', 0)", &[])
        .await
        .expect_err("horizon 0");
    assert_eq!(err.code(), Some(&SqlState::INVALID_PARAMETER_VALUE));
    let err = client
        .simple_query(
            "CREATE MODEL late OPTIONS (model_type = 'ar', time_col = 'day', value_col = 'units', \
             calendar = 'retail_cn') AS SELECT day + INTERVAL '20 years' AS day, units FROM daily_sales",
        )
        .await
        .expect_err("outside the Spring Festival table");
    assert_eq!(err.code(), Some(&SqlState::INVALID_PARAMETER_VALUE));
    let count = client
        .query("SELECT count(*) FROM forecast_ar('plain', 7)", &[])
        .await
        .expect("still usable");
    assert_eq!(count[0].get::<_, i64>(0), 56);
    server.stop().await;
}
