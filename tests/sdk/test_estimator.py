"""Estimator and TrainingJob against a real server: every call, and its failures."""

from __future__ import annotations

import time
from typing import Any

import pytest

from conftest import Server, unique_name
from trainjobs.sdk import Estimator, ModelArtsError, Session, TrainingJob
from trainjobs.sdk.errors import InvalidArgument

MISSING = 987_654_321


def estimator(session: Session, code: tuple[str, str], **extra: Any) -> Estimator:
    code_dir, boot = code
    args: dict[str, Any] = {
        "train_instance_count": 1,
        "train_instance_type": Estimator.get_train_instance_types(session)[0],
        "code_dir": code_dir,
        "boot_file": boot.rsplit("/", 1)[-1],  # a name inside code_dir, as some scripts give it
        "framework_type": Estimator.get_framework_list(session)[0]["framework_type"],
        "hyperparameters": [{"label": "lr", "value": "0.1"}],
        "job_description": "made by the SDK",
        **extra,
    }
    return Estimator(session, **args)


def wait_until(session: Session, job: TrainingJob, statuses: set[int]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        info = job.get_job_info()
        if info["status"] in statuses or time.monotonic() > deadline:
            return info
        time.sleep(0.1)


def test_fit_with_wait_runs_to_completion_and_shows_status(
    session: Session, code: tuple[str, str], data_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name = unique_name()
    job = estimator(session, code).fit(inputs=data_url, wait=True, job_name=name)
    assert isinstance(job, TrainingJob)
    assert isinstance(job.job_id, int) and isinstance(job.version_id, int)
    assert (job.job_name, job.version_name, job.status) == (name, "V0001", 10)
    printed = capsys.readouterr().out
    assert f"{name} V0001 COMPLETED in " in printed
    info = job.get_job_info()
    assert info["is_success"] is True and info["status"] == 10
    assert info["parameter"] == [{"label": "lr", "value": "0.1"}]
    assert info["data_url"] == data_url and info["job_desc"] == "made by the SDK"
    assert info["boot_file_url"] == code[1]


def test_fit_without_wait_returns_at_once_and_a_random_name_is_given(
    session: Session, code: tuple[str, str]
) -> None:
    job = estimator(session, code).fit()
    assert job.status in (1, 7, 8, 10)
    assert job.job_name.startswith("job-") and len(job.job_name) <= 64
    final = job.wait(show=False)
    assert final["status"] == 10 and job.status == 10


def test_fit_on_an_estimator_with_job_id_creates_a_version(
    session: Session, code: tuple[str, str]
) -> None:
    first = estimator(session, code).fit(wait=True)
    again = Estimator(
        session,
        job_id=first.job_id,
        version_id=first.version_id,
        hyperparameters={"lr": 0.5},
    ).fit(wait=True)
    assert again.job_id == first.job_id and again.version_id != first.version_id
    assert again.version_name == "V0002"
    info = again.get_job_info()
    assert info["pre_version_id"] == first.version_id
    assert info["parameter"] == [{"label": "lr", "value": "0.5"}]
    assert info["app_url"] == code[0]  # inherited


def test_create_job_version_then_list_versions(
    session: Session, code: tuple[str, str], data_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first = estimator(session, code).fit(wait=True)
    version = estimator(session, code, hyperparameters=[{"label": "lr", "value": "0.9"}])
    second = version.create_job_version(
        job_id=str(first.job_id),  # legacy scripts pass ids as strings
        pre_version_id=str(first.version_id),
        inputs=data_url,
        wait=True,
        job_desc="second try",
    )
    assert second.version_name == "V0002" and second.status == 10
    listed = second.get_job_version_info()
    assert listed["job_id"] == first.job_id and listed["version_count"] == 2
    assert listed["job_desc"] == "second try"
    assert [v["version_id"] for v in listed["versions"]] == [second.version_id, first.version_id]
    capsys.readouterr()
    handles = first.get_job_version_object_list(is_show=True)
    assert [(h.job_id, h.version_id) for h in handles] == [
        (first.job_id, second.version_id),
        (first.job_id, first.version_id),
    ]
    shown = capsys.readouterr().out
    assert "V0002" in shown and "lr=0.9" in shown and "COMPLETED" in shown
    assert first.get_job_version_object_list(is_show=False)[1].get_job_info()["status"] == 10
    assert capsys.readouterr().out == ""


def test_lookup_estimator_reads_updates_and_deletes(
    session: Session, code: tuple[str, str]
) -> None:
    job = estimator(session, code).fit(job_name=unique_name(), wait=True)
    lookup = Estimator(session, job_id=job.job_id, version_id=job.version_id)
    assert lookup.get_job_info()["version_id"] == job.version_id
    assert lookup.update_job_description("renamed") == {"is_success": True}
    assert lookup.get_job_version_info()["job_desc"] == "renamed"
    assert job.update_job_description("again")["is_success"] is True
    second = lookup.create_job_version(wait=True)
    assert second.get_job_info()["pre_version_id"] == job.version_id
    assert second.delete_job_version() == {"is_success": True}
    with pytest.raises(ModelArtsError) as caught:
        second.get_job_info()
    assert (caught.value.http_status, caught.value.error_code) == (404, "ModelArts.2775")
    assert job.delete_job() == {"is_success": True}
    with pytest.raises(ModelArtsError) as caught:
        lookup.get_job_version_info()
    assert caught.value.http_status == 404


def test_stop_a_running_version(session: Session, code: tuple[str, str]) -> None:
    slow = estimator(session, code, hyperparameters=[{"label": "sleep", "value": "30"}])
    job = slow.fit()
    wait_until(session, job, {8})
    assert job.stop_job_version() == {"is_success": True}
    final = job.wait(show=False)
    assert final["status"] == 12  # KILLED
    with pytest.raises(ModelArtsError) as caught:
        job.stop_job_version()
    assert (caught.value.http_status, caught.value.error_code) == (409, "ModelArts.2796")


def test_wait_shows_a_failed_run_without_raising(
    session: Session, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    code_dir, boot = server.upload_script("import sys\nprint('boom')\nsys.exit(2)\n")
    spec = Estimator.get_train_instance_types(session)[0]
    failing = Estimator(
        session, code_dir=code_dir, boot_file=boot, train_instance_count=1, train_instance_type=spec
    )
    job = failing.fit(wait=True)
    assert job.status == 11
    assert "FAILED in" in capsys.readouterr().out
    assert "boom" in job.read_log()


def test_wait_timeout_raises(session: Session, code: tuple[str, str]) -> None:
    job = estimator(session, code, hyperparameters={"sleep": "30"}).fit()
    try:
        with pytest.raises(ModelArtsError) as caught:
            job.wait(timeout_s=0.3, show=False)
        assert caught.value.error_code == "trainjobs.wait_timeout"
    finally:
        job.delete_job()


def test_get_job_list_filters_sorts_and_pages(session: Session, code: tuple[str, str]) -> None:
    prefix = unique_name()
    for suffix in ("a", "b", "c"):
        estimator(session, code).fit(job_name=f"{prefix}-{suffix}")
    listed = Estimator.get_job_list(session, search_content=prefix)
    assert listed["is_success"] is True and listed["job_total_count"] == 3
    names = [j["job_name"] for j in listed["jobs"]]
    assert names == [f"{prefix}-c", f"{prefix}-b", f"{prefix}-a"]  # legacy default: desc
    ascending = Estimator.get_job_list(
        session, search_content=prefix, sort_by="job_name", order="asc", per_page=2, page=1
    )
    assert [j["job_name"] for j in ascending["jobs"]] == [f"{prefix}-a", f"{prefix}-b"]
    by_camel = Estimator.get_job_list(
        session, search_content=prefix, sortBy="create_time", order="asc", per_page=1, page=3
    )
    assert [j["job_name"] for j in by_camel["jobs"]] == [f"{prefix}-c"]
    assert set(listed["jobs"][0]) >= {
        "job_id", "job_name", "version_id", "status", "create_time", "duration", "job_desc",
        "version_count",
    }  # fmt: skip
    for job in listed["jobs"]:
        assert Estimator.delete_job_by_id(session, job["job_id"]) == {"is_success": True}
    assert Estimator.get_job_list(session, search_content=prefix)["job_total_count"] == 0
    with pytest.raises(ModelArtsError) as caught:
        Estimator.get_job_list(session, per_page=0)
    assert (caught.value.http_status, caught.value.error_code) == (400, "ModelArts.0104")


def test_catalogue_calls(session: Session, server: Server) -> None:
    frameworks = Estimator.get_framework_list(session)
    engines = server.client.get(f"{server.v1}/job/ai-engines").json()["engines"]
    assert frameworks == [
        {"framework_type": e["engine_name"], "framework_version": e["engine_version"]}
        for e in engines
    ]
    specs = server.client.get(f"{server.v1}/job/resource-specs").json()["specs"]
    assert Estimator.get_train_instance_types(session) == [s["spec_code"] for s in specs]


def test_engine_and_spec_are_looked_up_by_name(
    session: Session, code: tuple[str, str], server: Server
) -> None:
    framework = Estimator.get_framework_list(session)[-1]
    specs = server.client.get(f"{server.v1}/job/resource-specs").json()["specs"]
    job = estimator(
        session,
        code,
        framework_type=framework["framework_type"].upper(),
        framework_version=framework["framework_version"],
        train_instance_type=specs[0]["spec_id"],  # SDK.md types it Long: an id works too
    ).fit()
    info = job.get_job_info()
    assert info["engine_version"] == framework["framework_version"]
    assert info["spec_id"] == specs[0]["spec_id"]
    job.delete_job()


def test_unknown_spec_or_engine_is_refused_before_sending(
    session: Session, code: tuple[str, str]
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        estimator(session, code, train_instance_type="modelarts.vm.cpu.2u").fit()
    assert caught.value.error_code == "ModelArts.2781" and caught.value.http_status == 0
    assert "get_train_instance_types" in caught.value.error_message
    with pytest.raises(ModelArtsError) as caught:
        estimator(session, code, framework_version="TF-1.4.0-python2.7").fit()
    assert caught.value.error_code == "ModelArts.2780"


def test_refusals_from_the_service_carry_its_code(session: Session, code: tuple[str, str]) -> None:
    name = unique_name()
    estimator(session, code).fit(job_name=name)
    with pytest.raises(ModelArtsError) as caught:
        estimator(session, code).fit(job_name=name)
    assert (caught.value.http_status, caught.value.error_code) == (400, "ModelArts.0103")
    with pytest.raises(ModelArtsError) as caught:
        estimator(session, code, train_instance_count=100_000).fit()
    assert caught.value.http_status == 400


def test_unknown_ids_are_404(session: Session) -> None:
    lookup = Estimator(session, job_id=MISSING, version_id=MISSING)
    calls = [
        lookup.get_job_info,
        lookup.get_job_version_info,
        lambda: lookup.get_job_version_object_list(is_show=False),
        lookup.stop_job_version,
        lookup.delete_job_version,
        lookup.get_job_log_file_list,
        lambda: lookup.get_job_log("x.0"),
        lambda: lookup.update_job_description("x"),
        lambda: lookup.create_job_version(inputs="/a/b/"),
        lambda: Estimator.delete_job_by_id(session, MISSING),
        TrainingJob(session, MISSING).delete_job,
    ]
    for call in calls:
        with pytest.raises(ModelArtsError) as caught:
            call()
        assert (caught.value.http_status, caught.value.error_code) == (404, "ModelArts.2775")


def test_calls_that_need_ids_say_so(session: Session) -> None:
    bare = Estimator(session)
    with pytest.raises(InvalidArgument, match="no job_id"):
        bare.get_job_version_info()
    with pytest.raises(InvalidArgument, match="no version_id"):
        Estimator(session, job_id=1).get_job_info()
    with pytest.raises(InvalidArgument, match="no job_id"):
        bare.create_job_version()
