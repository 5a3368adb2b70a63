"""The v1 ``config`` an ``Estimator`` sends: its legacy arguments turned into the
service's fields, and names (algorithm, resource spec, framework) into ids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trainjobs.sdk.errors import InvalidArgument
from trainjobs.sdk.session import Session
from trainjobs.sdk.training_job import INVALID_PARAMETER

UNKNOWN_ENGINE = "ModelArts.2780"
UNKNOWN_SPEC = "ModelArts.2781"

Hyperparameters = Sequence[Mapping[str, Any]] | Mapping[str, Any]


def parameters(hyperparameters: Hyperparameters) -> list[dict[str, str]]:
    """``[{"label", "value"}]`` as the v1 body takes it; a plain dict is accepted too."""
    if isinstance(hyperparameters, Mapping):
        pairs = [(k, v) for k, v in hyperparameters.items()]
    else:
        pairs = [(item["label"], item.get("value", "")) for item in hyperparameters]
    return [{"label": str(label), "value": str(value)} for label, value in pairs]


def boot_file_url(code_dir: str | None, boot_file: str) -> str:
    # Legacy examples give the boot file both as a full path and as a name inside code_dir.
    if boot_file.startswith("/") or "://" in boot_file or not code_dir:
        return boot_file
    return code_dir.rstrip("/") + "/" + boot_file.lstrip("/")


def model_id(session: Session, model_name: int | str) -> int:
    """``model_name`` is typed Long on the legacy pages but named like an algorithm:
    a number is the ``model_id``, a name is looked up among the built-in algorithms."""
    wanted = model_name
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        return wanted
    if str(wanted).isdigit():
        return int(str(wanted))
    models = session.client.built_in_algorithms().get("models", [])
    for model in models:
        if model.get("model_name") == wanted:
            return int(model["model_id"])
    raise InvalidArgument(
        INVALID_PARAMETER,
        f"model_name '{wanted}' is not a built-in algorithm of this service "
        "(see Estimator.get_built_in_algorithms)",
    )


def spec_id(session: Session, train_instance_type: str | int | None) -> int | None:
    wanted = train_instance_type
    if wanted is None or wanted == "":
        return None
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        return wanted
    specs = session.client.resource_specs().get("specs", [])
    for spec in specs:
        if spec.get("spec_code") == wanted:
            return int(spec["spec_id"])
    if str(wanted).isdigit():
        return int(wanted)
    codes = ", ".join(str(s.get("spec_code")) for s in specs) or "none"
    raise InvalidArgument(
        UNKNOWN_SPEC,
        f"train_instance_type '{wanted}' is not a resource spec of this service; "
        f"its specs are: {codes} (see Estimator.get_train_instance_types)",
    )


def engine_id(session: Session, framework_type: str, framework_version: str | None) -> int:
    engines = session.client.ai_engines().get("engines", [])
    for engine in engines:
        same_name = str(engine.get("engine_name", "")).lower() == framework_type.lower()
        if same_name and framework_version in (None, "", engine.get("engine_version")):
            return int(engine["engine_id"])
    known = ", ".join(f"{e.get('engine_name')} {e.get('engine_version')}" for e in engines)
    asked = f"{framework_type} {framework_version or ''}".strip()
    raise InvalidArgument(
        UNKNOWN_ENGINE,
        f"framework '{asked}' is not an engine of this service; its engines are: "
        f"{known or 'none'} (see Estimator.get_framework_list)",
    )
