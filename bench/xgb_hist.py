#!/usr/bin/python3
"""XGBoost `hist` peer for bench/gbdt.ts: fits the same table and prints one JSON line.

    /usr/bin/python3 bench/xgb_hist.py TRAIN.csv [--test TEST.csv] [--holdout 0.25] [--trees 300]
        [--depth 4] [--eta 0.1] [--bins 256] [--threads 2] [--subsample 1] [--colsample 1]
        [--reg-lambda 1] [--min-child-weight 1]

Reads a CSV written by bench/gbdt-table.ts (header of feature names plus `y` last; an empty cell is a
missing value) with the stdlib csv module and numpy. With --test the model is trained on all of TRAIN and
scored on TEST; without it the last --holdout share of TRAIN is held out. The categorical column is passed
as its numeric code (no enable_categorical), so XGBoost splits it as an ordered number.

Only the xgb.train call is timed (time.perf_counter); DMatrix construction is timed separately. XGBoost
comes from Debian (apt-get install -y python3-xgboost) and needs /usr/bin/python3.
"""

import argparse
import csv
import json
import resource
import sys
import time

import numpy as np
import xgboost as xgb

CATEGORICAL = "segment"


def read_table(path):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [[float(c) if c != "" else np.nan for c in row] for row in reader]
    data = np.asarray(rows, dtype=np.float64)
    return header[:-1], data[:, :-1], data[:, -1]


def auc(scores, labels):
    """Mann-Whitney AUC with tied scores sharing their average rank."""
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(s), dtype=np.float64)
    starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    ends = np.r_[starts[1:], len(s)]
    for a, b in zip(starts, ends):
        ranks[a:b] = (a + b + 1) / 2.0
    r = np.empty_like(ranks)
    r[order] = ranks
    pos = labels == 1
    n_pos = int(pos.sum())
    n_neg = len(labels) - n_pos
    return float((r[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("train")
    ap.add_argument("--test")
    ap.add_argument("--holdout", type=float, default=0.25)
    ap.add_argument("--trees", type=int, default=300)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--eta", type=float, default=0.1)
    ap.add_argument("--bins", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--subsample", type=float, default=1.0)
    ap.add_argument("--colsample", type=float, default=1.0, help="colsample_bytree")
    ap.add_argument("--reg-lambda", type=float, default=1.0)
    ap.add_argument("--min-child-weight", type=float, default=1.0)
    args = ap.parse_args()

    names, x, y = read_table(args.train)
    if args.test:
        test_names, x_test, y_test = read_table(args.test)
        if test_names != names:
            sys.exit(f"xgb_hist: test columns {test_names} differ from train columns {names}")
        x_train, y_train = x, y
    else:
        cut = int(round(len(y) * (1 - args.holdout)))
        x_train, y_train, x_test, y_test = x[:cut], y[:cut], x[cut:], y[cut:]

    t0 = time.perf_counter()
    dtrain = xgb.DMatrix(x_train, label=y_train, missing=np.nan, feature_names=names, nthread=args.threads)
    dtest = xgb.DMatrix(x_test, missing=np.nan, feature_names=names, nthread=args.threads)
    dmatrix_seconds = time.perf_counter() - t0
    params = {
        "objective": "binary:logistic",
        "tree_method": "hist",
        "max_depth": args.depth,
        "eta": args.eta,
        "max_bin": args.bins,
        "nthread": args.threads,
        "subsample": args.subsample,
        "colsample_bytree": args.colsample,
        "lambda": args.reg_lambda,
        "min_child_weight": args.min_child_weight,
        "seed": 1,
    }
    t1 = time.perf_counter()
    booster = xgb.train(params, dtrain, num_boost_round=args.trees)
    fit_seconds = time.perf_counter() - t1
    t2 = time.perf_counter()
    p = booster.predict(dtest)
    predict_seconds = time.perf_counter() - t2

    print(
        json.dumps(
            {
                "fit_seconds": round(fit_seconds, 4),
                "auc": round(auc(p, y_test), 6),
                "rows": int(len(y_train)),
                "test_rows": int(len(y_test)),
                "features": len(names),
                "version": xgb.__version__,
                "dmatrix_seconds": round(dmatrix_seconds, 4),
                "predict_rows_per_second": round(len(y_test) / predict_seconds),
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "params": {**params, "num_boost_round": args.trees},
                "categorical": f"'{CATEGORICAL}' passed as numeric codes (ordered splits, no enable_categorical)"
                if CATEGORICAL in names
                else "none",
            }
        )
    )


if __name__ == "__main__":
    main()
