"""Driver of benches/predict_purchase.sh (see there). Prints a table of
median wall times and the ratios; writes nothing outside target/bench."""
import os
import re
import statistics
import subprocess
import sys
import time

ROWS = int(os.environ.get("ROWS", 10_000_000))
TRAIN_ROWS = int(os.environ.get("TRAIN_ROWS", 1_000_000))
RUNS = int(os.environ.get("RUNS", 5))
BIN = os.environ.get("ECOMSQL_BIN", "target/release/ecomsql")
WORK = "target/bench/predict_purchase"
DATA = f"{WORK}/data"
MODELS = f"{WORK}/models"

WEIGHTS = [0.5, 0.3, 0.2, 0.1, 0.1]
INTERCEPT = -3.0
INLINE = "1.0 / (1.0 + exp(-({} + {})))".format(
    INTERCEPT, " + ".join(f"{w} * f{j + 1}" for j, w in enumerate(WEIGHTS))
)
TRAIN_W = [0.8, -0.5, 0.3, 0.2, -0.2, 0.1, 0.6, -0.3, 0.05, 0.4]
L2 = 1.0


def ecomsql(*args, sql=None):
    cmd = [BIN, "sql", "--data", DATA, "--models", MODELS, *args]
    if sql is not None:
        cmd.append(sql)
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "RUST_LOG": "error"})
    if out.returncode != 0:
        sys.exit(f"ecomsql failed: {out.stderr}")
    return out


def timed_statements(script):
    """Run a script once with --timing; milliseconds per statement."""
    path = f"{WORK}/script.sql"
    with open(path, "w") as f:
        f.write(script)
    out = ecomsql("--timing", "--format", "csv", "-f", path)
    return [float(t) for t in re.findall(r"^Time: ([0-9.]+) ms$", out.stderr, re.M)], out.stdout


def generate():
    os.makedirs(DATA, exist_ok=True)
    os.makedirs(MODELS, exist_ok=True)
    score = f"{DATA}/score.parquet"
    if not os.path.exists(score):
        features = ", ".join(f"random() * 10 AS f{j}" for j in range(1, 6))
        ecomsql("--format", "parquet", "--output", score,
                sql=f"SELECT {features} FROM generate_series(1, {ROWS})")
    train = f"{DATA}/train.parquet"
    if not os.path.exists(train):
        logit = " + ".join(f"{w} * x{j + 1}" for j, w in enumerate(TRAIN_W))
        cols = ", ".join(f"x{j}" for j in range(1, 11))
        feats = ", ".join(f"random() * 2 - 1 + {j % 3} AS x{j}" for j in range(1, 11))
        ecomsql("--format", "parquet", "--output", train,
                sql=f"SELECT {cols}, random() < 1.0 / (1.0 + exp(-(-0.5 + {logit}))) AS y "
                    f"FROM (SELECT {feats} FROM generate_series(1, {TRAIN_ROWS}))")


def bench_scoring():
    coefficients = ",".join(str(w) for w in WEIGHTS)
    ecomsql(sql=f"CREATE OR REPLACE MODEL bench_score OPTIONS (model_type = 'logistic_regression', "
                f"coefficients = '{coefficients}', intercept = {INTERCEPT})")
    udf = "SELECT avg(predict_purchase('bench_score', f1, f2, f3, f4, f5)) AS v FROM score;\n"
    inline = f"SELECT avg({INLINE}) AS v FROM score;\n"
    # Alternate the two so drift affects both alike; the first pair warms the cache.
    times, out = timed_statements((udf + inline) * (RUNS + 1))
    udf_ms = statistics.median(times[2::2])
    inline_ms = statistics.median(times[3::2])
    values = [line for line in out.splitlines() if line and line != "v"]
    assert abs(float(values[0]) - float(values[1])) < 1e-9, values[:2]

    import duckdb
    con = duckdb.connect()
    query = f"SELECT avg({INLINE}) FROM read_parquet('{DATA}/score.parquet')"
    duck_value = con.execute(query).fetchone()[0]
    assert abs(duck_value - float(values[0])) < 1e-9, (duck_value, values[0])
    duck = []
    for _ in range(RUNS):
        start = time.perf_counter()
        con.execute(query).fetchone()
        duck.append((time.perf_counter() - start) * 1000)
    return udf_ms, inline_ms, statistics.median(duck)


def bench_training():
    create = (f"CREATE OR REPLACE MODEL bench_train OPTIONS (model_type = 'logistic_regression', "
              f"label = 'y', l2 = {L2}, validation_fraction = 0) AS SELECT * FROM train;\n")
    runs = max(3, RUNS // 2)
    times, _ = timed_statements(create * runs)
    ours_ms = statistics.median(times)
    out = ecomsql("--format", "csv",
                  sql="SELECT value FROM model_info('bench_train') WHERE property = 'metric.train_log_loss'")
    ours_loss = float(out.stdout.splitlines()[1])

    import numpy as np
    import pyarrow.parquet as pq
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.preprocessing import StandardScaler
    table = pq.read_table(f"{DATA}/train.parquet")
    X = np.column_stack([table[f"x{j}"].to_numpy() for j in range(1, 11)])
    y = table["y"].to_numpy().astype(int)
    sk = []
    for _ in range(runs):
        start = time.perf_counter()
        Xs = StandardScaler().fit_transform(X)
        model = LogisticRegression(C=1 / L2, solver="lbfgs", max_iter=1000).fit(Xs, y)
        sk.append((time.perf_counter() - start) * 1000)
    sk_loss = log_loss(y, model.predict_proba(Xs)[:, 1])
    return ours_ms, ours_loss, statistics.median(sk), sk_loss


def main():
    generate()
    udf_ms, inline_ms, duck_ms = bench_scoring()
    ours_ms, ours_loss, sk_ms, sk_loss = bench_training()
    cores = os.cpu_count()
    print(f"\npredict_purchase benchmark ({cores} cores, median of {RUNS} runs)")
    print(f"scoring {ROWS:,} rows, avg(probability):")
    print(f"  ecomsql predict_purchase     {udf_ms:9.1f} ms")
    print(f"  ecomsql inline SQL formula   {inline_ms:9.1f} ms   predict_purchase / inline = {udf_ms / inline_ms:.2f}")
    print(f"  DuckDB inline SQL formula    {duck_ms:9.1f} ms   predict_purchase / DuckDB = {udf_ms / duck_ms:.2f}")
    print(f"training {TRAIN_ROWS:,} rows x 10 features, L2 = {L2}:")
    print(f"  ecomsql CREATE MODEL         {ours_ms:9.1f} ms   log loss {ours_loss:.6f}")
    print(f"  scikit-learn lbfgs           {sk_ms:9.1f} ms   log loss {sk_loss:.6f}   ecomsql / scikit-learn = {ours_ms / sk_ms:.2f}")
    print(f"  log loss difference {abs(ours_loss - sk_loss):.2e}")


if __name__ == "__main__":
    main()
