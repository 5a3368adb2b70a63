"""Small training data for the built-in algorithms, written from scikit-learn's
bundled data sets (no download)."""

from __future__ import annotations

import csv
from pathlib import Path


def digit_images(folder: Path, per_class: int = 60) -> Path:
    """PNG images of handwritten digits, one subfolder per class (the ModelArts layout)."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    counts: dict[int, int] = {}
    for pixels, target in zip(digits.images, digits.target, strict=True):
        n = counts.get(int(target), 0)
        if n >= per_class:
            continue
        counts[int(target)] = n + 1
        klass = folder / f"digit_{target}"
        klass.mkdir(parents=True, exist_ok=True)
        image = Image.fromarray((pixels * 255 / 16).astype("uint8"), mode="L")
        image.resize((16, 16)).save(klass / f"{n:03d}.png")
    return folder


def breast_cancer_csv(folder: Path) -> Path:
    """Two CSV files with a text label column ``diagnosis`` and a text feature."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    folder.mkdir(parents=True, exist_ok=True)
    header = [n.replace(" ", "_") for n in data.feature_names] + ["clinic", "diagnosis"]
    rows = [
        [f"{v:.5g}" for v in x] + [["north", "south"][i % 2], data.target_names[y]]
        for i, (x, y) in enumerate(zip(data.data, data.target, strict=True))
    ]
    half = len(rows) // 2
    for name, part in (("part1.csv", rows[:half]), ("part2.csv", rows[half:])):
        with open(folder / name, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(part)
    return folder


def diabetes_csv(folder: Path) -> Path:
    """One CSV file with a numeric label column ``progression``."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "diabetes.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*data.feature_names, "progression"])
        for x, y in zip(data.data, data.target, strict=True):
            writer.writerow([f"{v:.6g}" for v in x] + [f"{y:g}"])
    return folder
