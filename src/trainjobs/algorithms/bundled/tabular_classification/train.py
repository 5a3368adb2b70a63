"""Tabular classification: gradient-boosted trees (scikit-learn's
HistGradientBoostingClassifier) over CSV files with a named label column.

Writes ``model.joblib`` (the model and its column encoding), per-class metrics
on a held-out split in ``model_metrics.json``, and the held-out accuracy and
loss of every boosting iteration as TensorBoard scalars under ``events/``.
"""

from __future__ import annotations

import time

from algorithm_support import (
    Events,
    classification_metrics,
    fail,
    number,
    parse_args,
    save_json,
    write_metrics,
)
from tabular import categorical_mask, encode, model_path, read_table, split_ratio

DEFAULTS = {"label_column": "", "max_iter": "100", "learning_rate": "0.1", "max_leaf_nodes": "31",
            "test_ratio": "0.2", "random_seed": "0"}


def main() -> None:
    args = parse_args(DEFAULTS)
    if not args["label_column"]:
        fail("--label_column names the CSV column that holds the class")
    max_iter = number(args, "max_iter", int, 1, 10000)
    rate = number(args, "learning_rate", float, 1e-6, 1.0)
    leaves = number(args, "max_leaf_nodes", int, 2, 4096)
    ratio = number(args, "test_ratio", float, 0.01, 0.9)
    seed = number(args, "random_seed", int, 0, 2**31 - 1)

    import joblib
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import accuracy_score, log_loss
    from sklearn.model_selection import train_test_split

    started = time.monotonic()
    features, rows, label_texts = read_table(args["data_url"], args["label_column"])
    classes = sorted(set(label_texts))
    if len(classes) < 2:
        fail(f"the label column holds a single class ({classes[0]}); classification needs two")
    y = np.array([classes.index(t) for t in label_texts])
    x, encoding = encode(features, rows)
    held = split_ratio(len(y), ratio)
    counts = np.bincount(y)
    stratify = y if counts.min() >= 2 and held >= len(classes) else None
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=held, random_state=seed, stratify=stratify
    )
    print(f"{len(y)} rows, {len(features)} features, {len(classes)} classes; "
          f"training on {len(y_train)}, testing on {len(y_test)}", flush=True)
    model = HistGradientBoostingClassifier(
        max_iter=max_iter, learning_rate=rate, max_leaf_nodes=leaves,
        categorical_features=categorical_mask(encoding), early_stopping=False, random_state=seed,
    )
    model.fit(x_train, y_train)

    events = Events(args["train_url"])
    labels = list(range(len(classes)))
    for step, proba in enumerate(model.staged_predict_proba(x_test), start=1):
        full = np.zeros((len(x_test), len(classes)))
        full[:, model.classes_] = proba
        events.scalar("test/accuracy", accuracy_score(y_test, full.argmax(axis=1)), step)
        events.scalar("test/loss", log_loss(y_test, full, labels=labels), step)
    events.close()

    predicted = model.predict(x_test)
    per_class, total = classification_metrics(list(y_test), list(predicted), classes)
    write_metrics(args["train_url"], per_class, total)
    joblib.dump({"model": model, "encoding": encoding, "classes": classes},
                model_path(args["train_url"]))
    save_json(args["train_url"], "model_info.json",
              {"algorithm": "tabular_classification", "label_column": args["label_column"],
               "features": features, "classes": classes, "parameters": args})
    print(f"accuracy {total['accuracy']:.4f}, macro f1 {total['f1_score']:.4f} "
          f"in {time.monotonic() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
