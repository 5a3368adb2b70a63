"""Tabular regression: gradient-boosted trees (scikit-learn's
HistGradientBoostingRegressor) over CSV files with a named numeric label column.

Writes ``model.joblib``, the held-out R², mean absolute error and root mean
squared error in ``model_metrics.json`` (a regression has no classes, so its
per-class list is empty), and the held-out error of every boosting iteration
as TensorBoard scalars under ``events/``.
"""

from __future__ import annotations

import math
import time

from algorithm_support import Events, fail, number, parse_args, save_json, write_metrics
from tabular import categorical_mask, encode, model_path, read_table, split_ratio

DEFAULTS = {"label_column": "", "max_iter": "100", "learning_rate": "0.05", "max_leaf_nodes": "8",
            "test_ratio": "0.2", "random_seed": "0"}


def main() -> None:
    args = parse_args(DEFAULTS)
    if not args["label_column"]:
        fail("--label_column names the CSV column that holds the value to predict")
    max_iter = number(args, "max_iter", int, 1, 10000)
    rate = number(args, "learning_rate", float, 1e-6, 1.0)
    leaves = number(args, "max_leaf_nodes", int, 2, 4096)
    ratio = number(args, "test_ratio", float, 0.01, 0.9)
    seed = number(args, "random_seed", int, 0, 2**31 - 1)

    import joblib
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
    from sklearn.model_selection import train_test_split

    started = time.monotonic()
    features, rows, label_texts = read_table(args["data_url"], args["label_column"])
    try:
        y = np.array([float(t) for t in label_texts])
    except ValueError:
        fail(f"the label column '{args['label_column']}' must hold numbers for a regression")
    x, encoding = encode(features, rows)
    held = split_ratio(len(y), ratio)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=held, random_state=seed
    )
    print(f"{len(y)} rows, {len(features)} features; training on {len(y_train)}, "
          f"testing on {len(y_test)}", flush=True)
    model = HistGradientBoostingRegressor(
        max_iter=max_iter, learning_rate=rate, max_leaf_nodes=leaves,
        categorical_features=categorical_mask(encoding), early_stopping=False, random_state=seed,
    )
    model.fit(x_train, y_train)

    events = Events(args["train_url"])
    for step, predicted in enumerate(model.staged_predict(x_test), start=1):
        events.scalar("test/mae", mean_absolute_error(y_test, predicted), step)
        events.scalar("test/rmse", math.sqrt(mean_squared_error(y_test, predicted)), step)
    events.close()

    predicted = model.predict(x_test)
    total = {
        "r2": r2_score(y_test, predicted) if len(y_test) > 1 else 0.0,
        "mae": mean_absolute_error(y_test, predicted),
        "rmse": math.sqrt(mean_squared_error(y_test, predicted)),
    }
    write_metrics(args["train_url"], [], total)
    joblib.dump({"model": model, "encoding": encoding}, model_path(args["train_url"]))
    save_json(args["train_url"], "model_info.json",
              {"algorithm": "tabular_regression", "label_column": args["label_column"],
               "features": features, "parameters": args})
    print(f"r2 {total['r2']:.4f}, mae {total['mae']:.4f}, rmse {total['rmse']:.4f} "
          f"in {time.monotonic() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
