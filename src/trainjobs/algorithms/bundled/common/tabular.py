"""Reading CSV files with a header row into a feature matrix (staged with the tabular algorithms).

Numeric columns stay numbers (an empty cell is missing); any other column is a
category, encoded as an integer code that the model file keeps.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from algorithm_support import fail, files_under

MAX_CATEGORIES = 250  # HistGradientBoosting's limit on a categorical feature's codes


def read_table(data_url: str, label_column: str) -> tuple[list[str], list[list[str]], list[str]]:
    """(feature names, feature rows as text, label texts) from every CSV file in the folder."""
    files = files_under(data_url, (".csv",))
    if not files:
        fail(f"no .csv file in the data folder {data_url}")
    header: list[str] | None = None
    rows: list[list[str]] = []
    labels: list[str] = []
    for path in files:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            head = next(reader, None)
            if head is None:
                continue
            head = [h.strip() for h in head]
            if header is None:
                header = head
                if label_column not in header:
                    names = ", ".join(header)
                    fail(f"{path.name} has no column '{label_column}' (columns: {names})")
            elif head != header:
                fail(f"{path.name} has other columns than the first CSV file")
            at = header.index(label_column)
            for line, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) != len(header):
                    fail(f"{path.name} line {line}: {len(row)} cells, the header has {len(header)}")
                if row[at].strip() == "":
                    continue  # an unlabelled row teaches nothing
                labels.append(row[at].strip())
                rows.append([c.strip() for i, c in enumerate(row) if i != at])
    if header is None or not rows:
        fail(f"the CSV files in {data_url} hold no labelled rows")
    assert header is not None
    features = [h for h in header if h != label_column]
    if not features:
        fail("the CSV files have no column besides the label")
    return features, rows, labels


def _is_number(text: str) -> bool:
    if text == "":
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def encode(
    features: list[str], rows: list[list[str]], encoding: dict[str, Any] | None = None
) -> tuple[Any, dict[str, Any]]:
    """The float matrix, and the encoding (numeric or category codes per column) it used."""
    import numpy as np

    if encoding is None:
        columns: list[dict[str, Any]] = []
        for j, _name in enumerate(features):
            cells = [r[j] for r in rows]
            if all(_is_number(c) for c in cells):
                columns.append({"kind": "number"})
            else:
                codes = {v: i for i, v in enumerate(sorted({c for c in cells if c}))}
                kind = "category" if len(codes) <= MAX_CATEGORIES else "code"
                columns.append({"kind": kind, "codes": codes})
        encoding = {"features": features, "columns": columns}
    matrix = np.full((len(rows), len(features)), np.nan)
    for j, column in enumerate(encoding["columns"]):
        codes = column.get("codes")
        for i, row in enumerate(rows):
            cell = row[j]
            if cell == "":
                continue
            if codes is None:
                matrix[i, j] = float(cell)
            elif cell in codes:
                matrix[i, j] = codes[cell]
    return matrix, encoding


def categorical_mask(encoding: dict[str, Any]) -> list[bool]:
    return [c["kind"] == "category" for c in encoding["columns"]]


def split_ratio(n: int, ratio: float) -> int:
    """How many rows to hold out for testing: at least one, and leave one to train on."""
    if n < 2:
        fail("the data holds fewer than two labelled rows")
    return min(n - 1, max(1, round(n * ratio)))


def model_path(train_url: str) -> Path:
    return Path(train_url) / "model.joblib"
