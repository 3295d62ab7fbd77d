"""Driver of benches/recommend.sh (see there). Writes only under
target/bench; prints medians and ratios."""
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

USERS = int(os.environ.get("USERS", 100_000))
ITEMS = int(os.environ.get("ITEMS", 20_000))
INTERACTIONS = int(os.environ.get("INTERACTIONS", 1_000_000))
FACTORS = int(os.environ.get("FACTORS", 64))
ITERATIONS = int(os.environ.get("ITERATIONS", 15))
REG = float(os.environ.get("REG", 0.05))
ALPHA = float(os.environ.get("ALPHA", 1.0))
RUNS = int(os.environ.get("RUNS", 3))
K = 10
THREADS = os.cpu_count()
BIN = os.environ.get("ECOMSQL_BIN", "target/release/ecomsql")
WORK = f"target/bench/recommend/{USERS}u-{ITEMS}i-{INTERACTIONS}r"
DATA = f"{WORK}/data"
MODELS = f"{WORK}/models"


def generate():
    """Interactions with latent structure: 200 item clusters; each user
    prefers two clusters (70/30) and picks items inside a cluster by a Zipf
    popularity. Weights: view 1 (80%), cart 3 (15%), purchase 5 (5%).
    Duplicated (user, item) rows are kept (both engines sum them). One
    interaction per user with at least two distinct items is held out."""
    os.makedirs(DATA, exist_ok=True)
    train_path, test_path = f"{DATA}/train.parquet", f"{DATA}/test.parquet"
    if os.path.exists(train_path) and os.path.exists(test_path):
        return
    rng = np.random.default_rng(7)
    clusters = 200
    item_cluster = rng.integers(0, clusters, ITEMS)
    members = [np.flatnonzero(item_cluster == c) for c in range(clusters)]
    zipf = [1.0 / np.arange(1, len(m) + 1) ** 0.8 for m in members]
    zipf = [z / z.sum() for z in zipf]
    per_user = rng.geometric(1.0 / (INTERACTIONS / USERS), USERS)
    favourite = rng.integers(0, clusters, USERS)
    second = rng.integers(0, clusters, USERS)
    users = np.repeat(np.arange(USERS), per_user)
    pick_second = rng.random(len(users)) < 0.3
    cluster = np.where(pick_second, second[users], favourite[users])
    items = np.empty(len(users), dtype=np.int64)
    for c in range(clusters):
        rows = np.flatnonzero(cluster == c)
        if len(rows) and len(members[c]):
            items[rows] = rng.choice(members[c], size=len(rows), p=zipf[c])
    weight = rng.choice([1.0, 3.0, 5.0], size=len(users), p=[0.8, 0.15, 0.05])
    table = pa.table({"user_id": users.astype(np.int64), "item_id": items, "weight": weight})
    # Hold out one distinct item per user (all its rows), users with >= 2 items.
    pairs = np.unique(np.stack([users, items], axis=1), axis=0)
    held = {}
    order = rng.permutation(len(pairs))
    counts = np.bincount(pairs[:, 0], minlength=USERS)
    for j in order:
        u, i = pairs[j]
        if counts[u] >= 2 and u not in held:
            held[u] = i
    held_mask = np.array([held.get(u, -1) == i for u, i in zip(users, items)])
    pq.write_table(table.filter(pa.array(~held_mask)), train_path, row_group_size=131072)
    test = pa.table({"user_id": np.array(list(held.keys()), dtype=np.int64),
                     "item_id": np.array(list(held.values()), dtype=np.int64)})
    pq.write_table(test, test_path)


def ecomsql(*args, sql=None):
    cmd = [BIN, "sql", "--data", DATA, "--models", MODELS, *args]
    if sql is not None:
        cmd.append(sql)
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "RUST_LOG": "error"})
    if out.returncode != 0:
        sys.exit(f"ecomsql failed: {out.stderr}")
    return out


def timed(script):
    path = f"{WORK}/script.sql"
    with open(path, "w") as f:
        f.write(script)
    out = ecomsql("--timing", "--format", "csv", "-f", path)
    return [float(t) for t in re.findall(r"^Time: ([0-9.]+) ms$", out.stderr, re.M)]


def precision_recall(recs, truth):
    """recs: user -> list of items (best first); truth: user -> held-out
    item. precision@K = hits / K, recall@K = hits / 1, averaged over the
    held-out users."""
    hits = sum(1 for u, i in truth.items() if i in recs.get(u, [])[:K])
    return hits / K / len(truth), hits / len(truth)


def bench_ecomsql(truth):
    create = (f"CREATE OR REPLACE MODEL bench OPTIONS (model_type = 'matrix_factorization', "
              f"rating_col = 'weight', factors = {FACTORS}, iterations = {ITERATIONS}, "
              f"regularization = {REG}, alpha = {ALPHA}, seed = 42) "
              f"AS SELECT user_id, item_id, weight FROM train;\n")
    topk = f"SELECT count(*) FROM recommend('bench', {K});\n"
    times = timed((create + topk) * RUNS)
    train_ms = statistics.median(times[0::2])
    topk_ms = statistics.median(times[1::2])
    out_path = f"{WORK}/ecomsql_recs.parquet"
    ecomsql("--format", "parquet", "--output", out_path,
            sql=f"SELECT user_id, item_id FROM recommend('bench', {K}) ORDER BY user_id, rank")
    t = pq.read_table(out_path)
    recs = {}
    for u, i in zip(t["user_id"].to_numpy(), t["item_id"].to_numpy()):
        recs.setdefault(int(u), []).append(int(i))
    return train_ms, topk_ms, precision_recall(recs, truth)


def bench_implicit(truth):
    import scipy.sparse as sp
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    t = pq.read_table(f"{DATA}/train.parquet")
    users, items = t["user_id"].to_numpy(), t["item_id"].to_numpy()
    weight = t["weight"].to_numpy().astype(np.float32)
    # Duplicates are summed by the CSR conversion, as ecomsql sums them.
    user_items = sp.coo_matrix((weight, (users, items)), shape=(USERS, ITEMS)).tocsr()
    user_items.sum_duplicates()
    train_ms, topk_ms = [], []
    # implicit parallelises itself; it asks for single-threaded BLAS.
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(RUNS):
            model = AlternatingLeastSquares(factors=FACTORS, regularization=REG, alpha=ALPHA,
                                            iterations=ITERATIONS, random_state=42,
                                            num_threads=THREADS, calculate_training_loss=False)
            start = time.perf_counter()
            model.fit(user_items, show_progress=False)
            train_ms.append((time.perf_counter() - start) * 1000)
            active = np.unique(users)
            start = time.perf_counter()
            ids, _ = model.recommend(active, user_items[active], N=K, filter_already_liked_items=True)
            topk_ms.append((time.perf_counter() - start) * 1000)
    recs = {int(u): [int(i) for i in row] for u, row in zip(active, ids)}
    return statistics.median(train_ms), statistics.median(topk_ms), precision_recall(recs, truth)


def main():
    generate()
    test = pq.read_table(f"{DATA}/test.parquet")
    truth = dict(zip(test["user_id"].to_pylist(), test["item_id"].to_pylist()))
    ours = bench_ecomsql(truth)
    theirs = bench_implicit(truth)
    n = pq.read_metadata(f"{DATA}/train.parquet").num_rows
    print(f"\nrecommend benchmark ({THREADS} threads, median of {RUNS} runs)")
    print(f"{n:,} training rows, {USERS:,} users, {ITEMS:,} items, {FACTORS} factors, "
          f"{ITERATIONS} iterations, regularization {REG}, alpha {ALPHA}; {len(truth):,} held-out users")
    print(f"{'':24}{'train ms':>10}{'top-10 all users ms':>22}{'precision@10':>14}{'recall@10':>11}")
    for name, (tr, tk, (p, r)) in (("ecomsql", ours), ("implicit (CPU ALS, CG)", theirs)):
        print(f"{name:24}{tr:10.0f}{tk:22.0f}{p:14.5f}{r:11.5f}")
    print(f"ecomsql / implicit: training {ours[0] / theirs[0]:.2f}, top-10 {ours[1] / theirs[1]:.2f}, "
          f"precision@10 {ours[2][0] / max(theirs[2][0], 1e-12):.3f}")


if __name__ == "__main__":
    main()
