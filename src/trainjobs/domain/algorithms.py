"""The built-in algorithms (T10, D25): what they are, their parameters, and
the code a version with ``model_id`` runs.

Each algorithm's code ships inside the package (``trainjobs/algorithms/bundled``)
and is staged into the version's code folder with the shared helpers; it runs
with the catalogue's scikit-learn engine when the server has one.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from trainjobs.domain import errors
from trainjobs.domain.catalog import Catalog, Engine

BUNDLED = Path(__file__).resolve().parent.parent / "algorithms" / "bundled"
COMMON = BUNDLED / "common"
BOOT_FILE = "train.py"
SKLEARN_ENGINE_ID = 3
# When the algorithms were added to trainjobs; a fixed moment, so listings are stable.
CREATE_TIME = 1764460800000
DOCS = "docs/algorithms.md"

# model_usage: ModelArts' 1 (image classification), and trainjobs' own codes
# for the kinds ModelArts never listed.
USAGE_IMAGE_CLASSIFICATION = 1
USAGE_TABULAR_CLASSIFICATION = 6
USAGE_TABULAR_REGRESSION = 7


@dataclass(frozen=True)
class Param:
    label: str
    value: str  # the default ("" for a required one without a default)
    required: bool
    placeholder_en: str
    placeholder_cn: str = ""


@dataclass(frozen=True)
class Algorithm:
    model_id: int
    model_name: str
    folder: str
    model_usage: int
    model_precision: str
    model_train_dataset: str
    model_dataset_format: str
    parameters: tuple[Param, ...]

    @property
    def code_dir(self) -> Path:
        return BUNDLED / self.folder

    @property
    def model_size(self) -> int:
        """Bytes of the code a version stages (the model itself is what it trains)."""
        files = [*self.code_dir.glob("*.py"), *COMMON.glob("*.py")]
        return sum(f.stat().st_size for f in files)

    @property
    def parameter_text(self) -> str:
        return json.dumps(
            [
                {
                    "label": p.label,
                    "value": p.value,
                    "required": p.required,
                    "placeholder_en": p.placeholder_en,
                    "placeholder_cn": p.placeholder_cn,
                }
                for p in self.parameters
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )


_SPLIT = (
    Param("test_ratio", "0.2", False, "Share of the rows held out to measure the model (0.01-0.9)"),
    Param("random_seed", "0", False, "Seed of the split and the training, for repeatable runs"),
)
_TREES = (
    Param("max_iter", "100", False, "Boosting iterations (trees per class)"),
    Param("learning_rate", "0.1", False, "Shrinkage of each tree's contribution"),
    Param("max_leaf_nodes", "31", False, "Most leaves per tree"),
)
_CSV_FORMAT = (
    "One or more .csv files (UTF-8, a header row, the same columns in every file) anywhere "
    "in the data folder. label_column names the column to predict; every other column is a "
    "feature: numbers (an empty cell is missing) or text categories."
)

ALGORITHMS: tuple[Algorithm, ...] = (
    Algorithm(
        model_id=1,
        model_name="image_classification",
        folder="image_classification",
        model_usage=USAGE_IMAGE_CLASSIFICATION,
        model_precision="93.3%(accuracy, held-out digits, 10 epochs)",
        model_train_dataset="scikit-learn's digits: 1,797 8x8 images of 10 handwritten digits",
        model_dataset_format=(
            "A folder with one subfolder per class, named after the class, holding that "
            "class's images (.png, .jpg, .jpeg, .bmp, .gif, .webp, .tif; any size, any color "
            "mode; read as RGB and resized to image_size square). At least two classes and two "
            "images per class."
        ),
        parameters=(
            Param("epochs", "30", False, "Passes over the training images"),
            Param("learning_rate", "0.001", False, "Adam's initial learning rate"),
            Param("hidden_units", "256", False, "Units of the network's hidden layer"),
            Param("batch_size", "64", False, "Images per update"),
            Param("image_size", "32", False, "Side in pixels the images are resized to (4-256)"),
            *_SPLIT,
        ),
    ),
    Algorithm(
        model_id=2,
        model_name="tabular_classification",
        folder="tabular_classification",
        model_usage=USAGE_TABULAR_CLASSIFICATION,
        model_precision="97.4%(accuracy, held-out breast cancer)",
        model_train_dataset="scikit-learn's breast cancer: 569 rows, 30 features, 2 classes",
        model_dataset_format=_CSV_FORMAT + " The label column holds the class names.",
        parameters=(
            Param("label_column", "", True, "Name of the CSV column that holds the class"),
            *_TREES,
            *_SPLIT,
        ),
    ),
    Algorithm(
        model_id=3,
        model_name="tabular_regression",
        folder="tabular_regression",
        model_usage=USAGE_TABULAR_REGRESSION,
        model_precision="0.20(r2, held-out diabetes)",
        model_train_dataset="scikit-learn's diabetes: 442 rows, 10 features, a numeric target",
        model_dataset_format=_CSV_FORMAT + " The label column holds numbers.",
        parameters=(
            Param("label_column", "", True, "Name of the CSV column that holds the value"),
            Param("max_iter", "100", False, "Boosting iterations (trees)"),
            Param("learning_rate", "0.05", False, "Shrinkage of each tree's contribution"),
            Param("max_leaf_nodes", "8", False, "Most leaves per tree"),
            *_SPLIT,
        ),
    ),
)

SORT_KEYS = (
    "engine",
    "model_name",
    "model_precision",
    "model_usage",
    "model_size",
    "create_time",
    "parameter",
)


def find(model_id: int) -> Algorithm | None:
    return next((a for a in ALGORITHMS if a.model_id == model_id), None)


def get(model_id: int) -> Algorithm:
    found = find(model_id)
    if found is None:
        known = ", ".join(f"{a.model_id} ({a.model_name})" for a in ALGORITHMS)
        raise errors.InvalidStorePath(
            f"model_id {model_id} is not a built-in algorithm; built-in algorithms: {known} "
            "(GET /v1/{project_id}/built-in-algorithms)"
        )
    return found


def engine_of(catalog: Catalog) -> Engine:
    """The engine the algorithms run with: scikit-learn's when the catalogue has it."""
    engine = catalog.engine(SKLEARN_ENGINE_ID) or catalog.engine(catalog.default_engine_id)
    assert engine is not None  # the catalogue always holds its default engine
    return engine


def merged_parameters(
    algorithm: Algorithm, sent: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The algorithm's defaults overridden by the parameters sent; required ones checked."""
    given = dict(sent)
    merged = [(p.label, given.pop(p.label, p.value)) for p in algorithm.parameters]
    missing = [label for label, value in merged if value == "" and _required(algorithm, label)]
    if missing:
        raise errors.InvalidParameter(
            f"built-in algorithm {algorithm.model_name} needs the parameter(s) "
            f"{', '.join(missing)}; see model_dataset_format in GET built-in-algorithms"
        )
    # Parameters the algorithm does not know still reach it (it reports them in its log).
    return merged + list(given.items())


def _required(algorithm: Algorithm, label: str) -> bool:
    return any(p.required for p in algorithm.parameters if p.label == label)


def stage(model_id: int, target: Path) -> Path:
    """Copy the algorithm's code and the shared helpers into ``target``; the boot file."""
    algorithm = find(model_id)
    if algorithm is None:
        raise FileNotFoundError(f"model_id {model_id} is not a built-in algorithm")
    target.mkdir(parents=True, exist_ok=True)
    for source in (*sorted(COMMON.glob("*.py")), *sorted(algorithm.code_dir.glob("*.py"))):
        shutil.copyfile(source, target / source.name)
    return target / BOOT_FILE


def listing(
    catalog: Catalog,
    *,
    search: str,
    sort_by: str,
    descending: bool,
    page: int,
    per_page: int,
) -> tuple[int, list[dict[str, object]]]:
    """(matching count, one page of T10 ``models`` items)."""
    engine = engine_of(catalog)
    needle = search.lower()
    items = [
        item(a, engine)
        for a in ALGORITHMS
        if not needle
        or needle in a.model_name.lower()
        or any(needle in p.label.lower() for p in a.parameters)
    ]
    key = "engine_name" if sort_by == "engine" else sort_by

    def order(entry: Mapping[str, object]) -> tuple[object, int]:
        return (entry[key], int(entry["model_id"]))  # type: ignore[call-overload]

    items.sort(key=order, reverse=descending)
    start = (page - 1) * per_page
    return len(items), items[start : start + per_page]


def item(algorithm: Algorithm, engine: Engine) -> dict[str, object]:
    return {
        "model_id": algorithm.model_id,
        "model_name": algorithm.model_name,
        "model_usage": algorithm.model_usage,
        "model_precision": algorithm.model_precision,
        "model_size": algorithm.model_size,
        "model_train_dataset": algorithm.model_train_dataset,
        "model_dataset_format": algorithm.model_dataset_format,
        "model_description_url": f"{DOCS}#{algorithm.model_name.replace('_', '-')}",
        "parameter": algorithm.parameter_text,
        "create_time": CREATE_TIME,
        "engine_id": engine.engine_id,
        "engine_name": engine.engine_name,
        "engine_version": engine.engine_version,
    }
