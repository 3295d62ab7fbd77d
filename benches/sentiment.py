"""Driver of benches/sentiment.sh (see there). Writes only under
target/bench; prints rows per second and the ratio."""
import os
import re
import statistics
import subprocess
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

ROWS = int(os.environ.get("ROWS", 1_000_000))
SAMPLE = int(os.environ.get("SAMPLE", 50_000))
RUNS = int(os.environ.get("RUNS", 3))
BIN = os.environ.get("ECOMSQL_BIN", "target/release/ecomsql")
WORK = f"target/bench/sentiment/{ROWS}"
DATA = f"{WORK}/data"

EN_OPENERS = ["Bought this for my sister.", "Second order from this shop.",
              "Arrived on Tuesday.", "Ordered the blue one in size M.",
              "Used it for three weeks now.", "Gift for my dad."]
EN_GOOD = ["the fabric feels really soft", "battery lasts all day",
           "works exactly as advertised", "the seller answered within an hour",
           "colours are just like the photos", "so happy with this purchase",
           "excellent value for the price", "sturdy and well made"]
EN_BAD = ["the zipper broke after two days", "smells like cheap plastic",
          "nothing like the pictures", "customer support never replied",
          "way too small even though I ordered a size up",
          "the box was crushed and one part was missing", "waste of money",
          "stopped charging after a week"]
EN_LINK = [" and ", ", ", ". Also ", ", but ", ". However, "]
ZH_OPENERS = ["第二次购买了。", "给老公买的。", "双十一抢的。", "用了半个月再来评价。", "朋友推荐的店。"]
ZH_GOOD = ["面料很舒服", "做工精细", "物流很快，第二天就到了", "客服耐心解答问题", "颜色和图片一样",
           "性价比超高", "宝贝很喜欢", "包装很用心"]
ZH_BAD = ["穿了一次就起球了", "有股很重的味道", "和图片差别太大", "客服一直不回复", "尺码偏小很多",
          "快递盒都压扁了", "质量太差了", "用了三天就坏了"]
ZH_LINK = ["，", "，而且", "，但是", "。不过"]


def generate():
    os.makedirs(DATA, exist_ok=True)
    path = f"{DATA}/reviews_big.parquet"
    if os.path.exists(path):
        return pq.read_table(path)
    rng = np.random.default_rng(5)
    texts = []
    for i in range(ROWS):
        zh = i % 2 == 1
        good, bad, link, openers = (ZH_GOOD, ZH_BAD, ZH_LINK, ZH_OPENERS) if zh else \
            (EN_GOOD, EN_BAD, EN_LINK, EN_OPENERS)
        positive = rng.random() < 0.7
        clauses = int(rng.integers(2, 5))
        parts = [openers[int(rng.integers(len(openers)))]] if rng.random() < 0.5 else []
        body = ""
        for c in range(clauses):
            pool = good if (positive or rng.random() < 0.2) else bad
            clause = pool[int(rng.integers(len(pool)))]
            body += clause if c == 0 else link[int(rng.integers(len(link)))] + clause
        parts.append(body + ("！" if zh else "!") * int(rng.integers(0, 2)))
        texts.append(("" if zh else " ").join(parts))
    table = pa.table({"review_id": pa.array(np.arange(ROWS)), "review_text": pa.array(texts)})
    pq.write_table(table, path, row_group_size=128 * 1024)
    return table


def timed(sql):
    """Statement seconds as `ecomsql sql --timing` reports them."""
    out = subprocess.run([BIN, "sql", "--data", DATA, "--timing", sql], check=True,
                         capture_output=True, text=True)
    times = re.findall(r"([0-9.]+) ?(ms|s)\b", out.stderr)
    value, unit = times[-1]
    return float(value) / (1000 if unit == "ms" else 1), out.stdout


def main():
    table = generate()
    english = [t for i, t in enumerate(table.column("review_text").to_pylist()) if i % 2 == 0]
    print(f"{ROWS} reviews, half English, half Chinese")
    score = [timed("SELECT avg(sentiment(review_text)) FROM reviews_big") for _ in range(RUNS)]
    scan = [timed("SELECT avg(length(review_text)) FROM reviews_big") for _ in range(RUNS)]
    ours = statistics.median(t for t, _ in score)
    scan_s = statistics.median(t for t, _ in scan)
    en_only = statistics.median(
        timed("SELECT avg(sentiment(review_text)) FROM reviews_big WHERE review_id % 2 = 0")[0]
        for _ in range(RUNS))
    analyzer = SentimentIntensityAnalyzer()
    sample = english[:SAMPLE]
    began = time.perf_counter()
    for text in sample:
        analyzer.polarity_scores(text)
    vader_s = time.perf_counter() - began
    vader_rate = len(sample) / vader_s
    print(f"ecomsql sentiment, all rows:   {ours:7.3f} s = {ROWS / ours:12,.0f} rows/s "
          f"(median of {RUNS}; plain scan {scan_s:.3f} s)")
    print(f"ecomsql sentiment, English half: {en_only:5.3f} s = {ROWS / 2 / en_only:12,.0f} rows/s")
    print(f"VADER, {len(sample)} English rows: {vader_s:7.3f} s = {vader_rate:12,.0f} rows/s")
    print(f"ratio ecomsql (English) / VADER: {ROWS / 2 / en_only / vader_rate:.0f}x; "
          f"ecomsql (all rows) / VADER: {ROWS / ours / vader_rate:.0f}x")


if __name__ == "__main__":
    main()
