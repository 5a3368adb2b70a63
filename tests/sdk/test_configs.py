"""Parameter configurations, built-in algorithms and visualization jobs through the
legacy SDK's calls, against the real endpoints (C1-C5, T10, V1-V7)."""

from __future__ import annotations

import time
import uuid

import pytest

from trainjobs.sdk import Estimator, ModelArtsError, Session, TrainingJob
from trainjobs.sdk.errors import InvalidArgument
from trainjobs.sdk.visualization import VisualizationJob


def test_configuration_calls(session: Session, code: tuple[str, str]) -> None:
    name = f"cfg-{uuid.uuid4().hex[:8]}"
    estimator = Estimator(
        session,
        code_dir=code[0],
        boot_file=code[1],
        train_instance_count=1,
        train_instance_type=Estimator.get_train_instance_types(session)[0],
        config_name=name,
    )
    created = estimator.create_job_configs(config_name=name, config_desc="d")
    assert isinstance(created, TrainingJob) and created.config_name == name
    listed = Estimator.get_job_configs_list(session, sort_by="config_name", search_content=name)
    assert [c["config_name"] for c in listed["configs"]] == [name]
    handles = Estimator.get_job_configs_object_list(session, is_show=False, search_content=name)
    assert [h.config_name for h in handles] == [name]
    info = TrainingJob(session, config_name=name).get_job_configs_info()
    assert info["app_url"] == code[0] and info["config_desc"] == "d"
    estimator.update_job_configs(data_source=[{"type": "obs", "data_url": "/a/b/"}])
    assert estimator.get_job_configs_info()["data_source"] == [{"type": "obs", "data_url": "/a/b/"}]
    estimator.delete_job_configs()
    with pytest.raises(ModelArtsError) as caught:
        estimator.get_job_configs_info()
    assert (caught.value.http_status, caught.value.error_code) == (404, "ModelArts.2775")


def test_built_in_algorithms_by_name_and_by_number(session: Session) -> None:
    models = Estimator.get_built_in_algorithms(session)["models"]
    assert {m["model_name"] for m in models} == {
        "image_classification", "tabular_classification", "tabular_regression"}  # fmt: skip
    spec = Estimator.get_train_instance_types(session)[0]
    estimator = Estimator(session, model_name=4, train_instance_count=1, train_instance_type=spec)
    with pytest.raises(ModelArtsError) as caught:
        estimator.fit(inputs="/b/in/")
    assert caught.value.http_status == 400 and "model_id 4" in caught.value.error_message
    named = Estimator(session, model_name="tabular_regression", train_instance_count=1,
                      train_instance_type=spec)  # fmt: skip
    with pytest.raises(ModelArtsError) as caught:
        named.fit(inputs="/b/in/")  # found by name; refused for its missing label_column
    assert caught.value.error_code == "ModelArts.0104"
    assert "label_column" in caught.value.error_message


def test_configuration_calls_need_a_name(session: Session) -> None:
    with pytest.raises(InvalidArgument, match="no config_name"):
        Estimator(session).get_job_configs_info()
    with pytest.raises(InvalidArgument, match="no config_name"):
        Estimator(session).update_job_configs()
    assert repr(TrainingJob(session, config_name="c")) == "TrainingJob(config_name='c')"


def test_visualization_job_calls(session: Session) -> None:
    job = VisualizationJob(session).create_visualization_job(
        train_url="/logs/none/", job_name=f"v{uuid.uuid4().hex[:8]}", job_desc="sdk"
    )
    listed = VisualizationJob.get_visualization_job_list(session, per_page=100)
    assert job.visualization_id in {j["job_id"] for j in listed["jobs"]}
    handles = VisualizationJob.get_visualization_job_object_list(session, is_show=False)
    assert job.visualization_id in {h.visualization_id for h in handles}
    deadline = time.monotonic() + 120
    while job.get_visualization_job_info()["status"] != 8:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert job.update_visualization_job("new")["is_success"] is True
    assert job.get_visualization_job_info()["job_desc"] == "new"
    job.stop_visualization_job()
    assert job.get_visualization_job_info()["status"] == 12
    job.restart_visualization_job()
    job.delete_visualization_job()
    with pytest.raises(ModelArtsError) as caught:
        job.get_visualization_job_info()
    assert caught.value.http_status == 404
    with pytest.raises(InvalidArgument):
        VisualizationJob(session).get_visualization_job_info()
