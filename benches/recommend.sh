#!/usr/bin/env bash
# recommend (matrix_factorization, implicit feedback) side by side with the
# Python `implicit` library's CPU ALS on the same generated interactions and
# the same split: training time, time to produce top-10 for every user, and
# precision@10 / recall@10 on one held-out item per user, computed by the
# same Python code for both.
# Usage: benches/recommend.sh   (USERS, ITEMS, INTERACTIONS, FACTORS,
# ITERATIONS, RUNS to change sizes; CARGO_TARGET_DIR is honoured)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
venv=target/bench/venv-recommend
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet implicit numpy scipy pyarrow threadpoolctl
fi
export ECOMSQL_BIN="${CARGO_TARGET_DIR:-target}/release/ecomsql"
exec "$venv/bin/python" benches/recommend.py "$@"
