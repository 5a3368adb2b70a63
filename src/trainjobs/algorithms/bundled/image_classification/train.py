"""Image classification: a small neural network (scikit-learn's MLPClassifier,
trained epoch by epoch) over a folder of images with one subfolder per class.

Each image is read with Pillow, turned to RGB, resized to ``image_size`` square
and scaled. Writes ``model.joblib`` (the scaler, the network and the class
names), per-class metrics on a held-out split in ``model_metrics.json``, and
the training loss and held-out accuracy of every epoch as TensorBoard scalars
under ``events/``.
"""

from __future__ import annotations

import time
from pathlib import Path

from algorithm_support import (
    Events,
    classification_metrics,
    fail,
    files_under,
    number,
    parse_args,
    save_json,
    write_metrics,
)

DEFAULTS = {"epochs": "30", "learning_rate": "0.001", "hidden_units": "256", "batch_size": "64",
            "image_size": "32", "test_ratio": "0.2", "random_seed": "0"}
SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def load(data_url: str, size: int) -> tuple[list[str], list[list[float]], list[int]]:
    from PIL import Image, UnidentifiedImageError

    root = Path(data_url)
    files = files_under(data_url, SUFFIXES)
    by_class: dict[str, list[Path]] = {}
    for path in files:
        parts = path.relative_to(root).parts
        if len(parts) < 2:
            print(f"skipping {parts[0]}: images belong in a subfolder named after their class",
                  flush=True)
            continue
        by_class.setdefault(parts[0], []).append(path)
    classes = sorted(by_class)
    if len(classes) < 2:
        fail(f"the data folder needs one subfolder per class, at least two; found {classes}")
    pixels: list[list[float]] = []
    labels: list[int] = []
    for index, name in enumerate(classes):
        for path in by_class[name]:
            try:
                with Image.open(path) as image:
                    small = image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
                    pixels.append([v / 255.0 for v in small.tobytes()])
            except (UnidentifiedImageError, OSError) as exc:
                print(f"skipping {path.relative_to(root)}: {exc}", flush=True)
                continue
            labels.append(index)
    return classes, pixels, labels


def main() -> None:
    args = parse_args(DEFAULTS)
    epochs = number(args, "epochs", int, 1, 1000)
    rate = number(args, "learning_rate", float, 1e-6, 1.0)
    hidden = number(args, "hidden_units", int, 1, 4096)
    batch = number(args, "batch_size", int, 1, 4096)
    size = number(args, "image_size", int, 4, 256)
    ratio = number(args, "test_ratio", float, 0.01, 0.9)
    seed = number(args, "random_seed", int, 0, 2**31 - 1)

    import joblib
    import numpy as np
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    started = time.monotonic()
    classes, pixels, labels = load(args["data_url"], size)
    x, y = np.array(pixels, dtype=np.float32), np.array(labels)
    if len(y) < 2 * len(classes):
        fail(f"{len(y)} images for {len(classes)} classes: give each class at least two")
    held = min(len(y) - len(classes), max(len(classes), round(len(y) * ratio)))
    counts = np.bincount(y, minlength=len(classes))
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=held, random_state=seed, stratify=y if counts.min() >= 2 else None
    )
    print(f"{len(y)} images of {len(classes)} classes at {size}x{size}; training on "
          f"{len(y_train)}, testing on {len(y_test)}", flush=True)
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    model = MLPClassifier(hidden_layer_sizes=(hidden,), learning_rate_init=rate,
                          batch_size=min(batch, len(y_train)), random_state=seed)
    rng = np.random.default_rng(seed)
    events = Events(args["train_url"])
    everything = np.arange(len(classes))
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(y_train))
        model.partial_fit(x_train[order], y_train[order], classes=everything)
        accuracy = accuracy_score(y_test, model.predict(x_test))
        events.scalar("train/loss", model.loss_, epoch)
        events.scalar("test/accuracy", accuracy, epoch)
        print(f"epoch {epoch}: loss {model.loss_:.4f}, test accuracy {accuracy:.4f}", flush=True)
    events.close()

    predicted = model.predict(x_test)
    per_class, total = classification_metrics(list(y_test), list(predicted), classes)
    write_metrics(args["train_url"], per_class, total)
    joblib.dump({"scaler": scaler, "model": model, "classes": classes, "image_size": size},
                Path(args["train_url"]) / "model.joblib")
    save_json(args["train_url"], "model_info.json",
              {"algorithm": "image_classification", "classes": classes, "image_size": size,
               "parameters": args})
    print(f"accuracy {total['accuracy']:.4f}, macro f1 {total['f1_score']:.4f} "
          f"in {time.monotonic() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
