"""Train a classifier on scikit-learn's bundled digits (no download) and report its metrics.

Follows the ModelArts convention: --data_url, --train_url and one --<name>=<value>
per hyperparameter. With files in --data_url (digits.csv: 64 pixel columns then
the label) it trains on those; otherwise on the bundled data set.
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from trainjobs.report import write_model_metrics


def load(data_url: str) -> tuple[np.ndarray, np.ndarray]:
    csv = Path(data_url) / "digits.csv"
    if csv.exists():
        table = np.loadtxt(csv, delimiter=",")
        return table[:, :-1], table[:, -1].astype(int)
    digits = load_digits()
    return digits.data, digits.target


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_url", default="")
    parser.add_argument("--train_url", required=True)
    parser.add_argument("--C", type=float, default=1.0, help="inverse regularisation strength")
    parser.add_argument("--max_iter", type=int, default=200)
    parser.add_argument("--test_size", type=float, default=0.25)
    args = parser.parse_args()

    x, y = load(args.data_url)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=args.test_size, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(x_train)
    started = time.time()
    model = LogisticRegression(C=args.C, max_iter=args.max_iter)
    model.fit(scaler.transform(x_train), y_train)
    print(f"trained on {len(x_train)} images in {time.time() - started:.2f}s (C={args.C})")

    predicted = model.predict(scaler.transform(x_test))
    precision, recall, _f1, _support = precision_recall_fscore_support(
        y_test, predicted, zero_division=0
    )
    per_class = []
    for label in sorted(set(y_test)):
        # one-vs-rest accuracy: how often "is it this digit?" is answered right
        one_vs_rest = float(np.mean((predicted == label) == (y_test == label)))
        per_class.append(
            {
                "class_id": int(label),
                "class_name": str(label),
                "precision": round(float(precision[label]), 6),
                "recall": round(float(recall[label]), 6),
                "accuracy": round(one_vs_rest, 6),
            }
        )
    total = {
        "accuracy": round(float(accuracy_score(y_test, predicted)), 6),
        "precision": round(float(np.mean(precision)), 6),
        "recall": round(float(np.mean(recall)), 6),
        "f1_score": round(float(f1_score(y_test, predicted, average="macro")), 6),
    }
    print("test metrics:", json.dumps(total))

    out = Path(args.train_url)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "model.pkl", "wb") as f:
        pickle.dump({"scaler": scaler, "model": model}, f)
    write_model_metrics(out, per_class=per_class, total=total)


if __name__ == "__main__":
    main()
