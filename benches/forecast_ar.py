"""Driver of benches/forecast_ar.sh (see there). Writes only under
target/bench; prints medians and the ratio."""
import csv
import datetime as dt
import os
import statistics
import subprocess
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from statsmodels.tsa.ar_model import AutoReg, ar_select_order

SERIES = int(os.environ.get("SERIES", 10_000))
POINTS = int(os.environ.get("POINTS", 730))
SAMPLE = min(int(os.environ.get("SAMPLE", 300)), SERIES)
RUNS = int(os.environ.get("RUNS", 3))
MAX_P = 28
HORIZON = 30
BIN = os.environ.get("ECOMSQL_BIN", "target/release/ecomsql")
WORK = f"target/bench/forecast_ar/{SERIES}s-{POINTS}p"
DATA = f"{WORK}/data"
MODELS = f"{WORK}/models"
START = dt.date(2024, 1, 1)


def generate():
    """Each series: level + weekly pattern + AR(2) noise with random
    coefficients (stationary), rounded to cents."""
    os.makedirs(DATA, exist_ok=True)
    path = f"{DATA}/sales.parquet"
    if os.path.exists(path):
        return pq.read_table(path)
    rng = np.random.default_rng(11)
    level = rng.uniform(50, 5000, SERIES)
    weekly = rng.normal(0, 0.1, (SERIES, 7)) * level[:, None]
    phi1 = rng.uniform(0.2, 0.7, SERIES)
    phi2 = rng.uniform(-0.2, 0.25, SERIES)
    sd = 0.08 * level
    eps = rng.normal(0, 1, (SERIES, POINTS)) * sd[:, None]
    e = np.zeros((SERIES, POINTS))
    for t in range(POINTS):
        e[:, t] = eps[:, t]
        if t >= 1:
            e[:, t] += phi1 * e[:, t - 1]
        if t >= 2:
            e[:, t] += phi2 * e[:, t - 2]
    dow = (np.arange(POINTS) + START.weekday()) % 7
    y = np.round(level[:, None] + weekly[:, dow] + e, 2)
    days = np.array([START + dt.timedelta(days=int(t)) for t in range(POINTS)])
    table = pa.table({
        "day": pa.array(np.tile(days, SERIES), pa.date32()),
        "sku": pa.array(np.repeat([f"sku{i:05d}" for i in range(SERIES)], POINTS)),
        "units": pa.array(y.reshape(-1)),
    })
    pq.write_table(table, path, row_group_size=1 << 20)
    return table


def run_ecomsql():
    sql = (
        "CREATE OR REPLACE MODEL fc OPTIONS (model_type = 'ar', time_col = 'day', "
        f"value_col = 'units', series_col = 'sku', p = 'auto', max_p = {MAX_P}, "
        "backtest_folds = 0) AS SELECT day, sku, units FROM sales; "
        f"SELECT series, step, forecast FROM forecast_ar('fc', {HORIZON}) ORDER BY series, step;"
    )
    out = f"{WORK}/ecomsql_forecast.csv"
    began = time.perf_counter()
    subprocess.run(
        [BIN, "sql", "--data", DATA, "--models", MODELS, "--format", "csv", "-o", out, sql],
        check=True, stderr=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - began
    forecasts = {}
    with open(out) as f:
        rows = [r for r in csv.reader(f) if r]
    # Result sets are separated by a blank line; the forecast set has a
    # "series" header.
    header = next(i for i, r in enumerate(rows) if r and r[0] == "series")
    for series, step, value in rows[header + 1:]:
        forecasts.setdefault(series, []).append(float(value))
    return elapsed, forecasts


def run_statsmodels(table, keys):
    data = table.to_pandas()
    groups = {k: g["units"].to_numpy() for k, g in data.groupby("sku") if k in keys}
    began = time.perf_counter()
    forecasts, orders = {}, {}
    for k in keys:
        y = groups[k]
        sel = ar_select_order(y, maxlag=MAX_P, ic="aic", trend="c")
        lags = sel.ar_lags or 0
        res = AutoReg(y, lags, trend="c").fit()
        forecasts[k] = res.predict(start=len(y), end=len(y) + HORIZON - 1)
        orders[k] = 0 if not sel.ar_lags else max(sel.ar_lags)
    return time.perf_counter() - began, forecasts, orders


def main():
    table = generate()
    print(f"{SERIES} series x {POINTS} days, p by AIC up to {MAX_P}, {HORIZON}-day forecasts")
    ours = [run_ecomsql() for _ in range(RUNS)]
    ours_s = statistics.median(t for t, _ in ours)
    forecasts = ours[-1][1]
    keys = sorted(forecasts)[:: max(1, SERIES // SAMPLE)][:SAMPLE]
    sm_s, sm_forecasts, _ = run_statsmodels(table, set(keys))
    sm_total = sm_s * SERIES / len(keys)
    worst = max(
        float(np.max(np.abs(np.array(forecasts[k]) - sm_forecasts[k]) / np.abs(sm_forecasts[k])))
        for k in keys
    )
    print(f"ecomsql   fit + forecast, all series: {ours_s:8.2f} s (median of {RUNS})")
    print(f"statsmodels {len(keys)} series: {sm_s:.2f} s -> all {SERIES}: {sm_total:8.1f} s")
    print(f"ratio statsmodels / ecomsql: {sm_total / ours_s:.0f}x")
    print(f"largest relative forecast difference over {len(keys)} series: {worst:.2e}")


if __name__ == "__main__":
    main()
