"""Parameter configurations and built-in algorithms: the SDK has the legacy calls, but the
service does not serve their endpoints (C1-C5, T10) yet. Until it does, each call must end
in the service's own clean refusal, not a traceback. When the endpoints land, these tests
fail on purpose: replace them with tests of the real behaviour."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from trainjobs.sdk import Estimator, ModelArtsError, Session, TrainingJob
from trainjobs.sdk.errors import InvalidArgument

UNKNOWN_PATH = (404, "ModelArts.2836")


def test_configuration_calls_reach_the_v1_paths(session: Session, code: tuple[str, str]) -> None:
    estimator = Estimator(
        session,
        code_dir=code[0],
        boot_file=code[1],
        train_instance_count=1,
        train_instance_type=Estimator.get_train_instance_types(session)[0],
        config_name="cfg-a",
    )
    calls: list[Callable[[], Any]] = [
        lambda: Estimator.get_job_configs_list(session, sort_by="config_name"),
        lambda: Estimator.get_job_configs_object_list(session, is_show=False),
        lambda: Estimator.get_built_in_algorithms(session),
        lambda: estimator.create_job_configs(config_name="cfg-a", config_desc="d"),
        lambda: estimator.update_job_configs(data_source=[{"type": "obs", "data_url": "/a/b/"}]),
        estimator.get_job_configs_info,
        estimator.delete_job_configs,
        TrainingJob(session, config_name="cfg-a").get_job_configs_info,
        lambda: Estimator(session, model_name="ResNet_v2_50").fit(),
    ]
    for call in calls:
        with pytest.raises(ModelArtsError) as caught:
            call()
        assert (caught.value.http_status, caught.value.error_code) == UNKNOWN_PATH


def test_a_numeric_model_name_is_sent_as_model_id(session: Session) -> None:
    spec = Estimator.get_train_instance_types(session)[0]
    estimator = Estimator(session, model_name=4, train_instance_count=1, train_instance_type=spec)
    with pytest.raises(ModelArtsError) as caught:
        estimator.fit()
    # refused while no built-in algorithm is registered (DECISIONS D13)
    assert caught.value.http_status == 400 and "model_id" in caught.value.error_message


def test_configuration_calls_need_a_name(session: Session) -> None:
    with pytest.raises(InvalidArgument, match="no config_name"):
        Estimator(session).get_job_configs_info()
    with pytest.raises(InvalidArgument, match="no config_name"):
        Estimator(session).update_job_configs()
    assert repr(TrainingJob(session, config_name="c")) == "TrainingJob(config_name='c')"
