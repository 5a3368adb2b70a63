"""Reading a version's log through the SDK (the v1 log endpoints, DECISIONS D22/D23)."""

from __future__ import annotations

import time

import pytest

from conftest import Server
from trainjobs.sdk import Estimator, ModelArtsError, Session, TrainingJob
from trainjobs.sdk.errors import InvalidArgument

MANY_LINES = "for i in range(1, 601):\n    print(f'line {i}')\n"
SLOW_LINES = (
    "import time\nfor i in range(1, 6):\n    print(f'tick {i}', flush=True)\n    time.sleep(0.3)\n"
)


def run(session: Session, server: Server, source: str, wait: bool = True) -> TrainingJob:
    code_dir, boot = server.upload_script(source)
    spec = Estimator.get_train_instance_types(session)[0]
    return Estimator(
        session, code_dir=code_dir, boot_file=boot, train_instance_count=1, train_instance_type=spec
    ).fit(wait=wait)


@pytest.fixture(scope="module")
def many(server: Server) -> tuple[int, int, str]:
    """(job_id, version_id, job_name) of a finished run that printed 'line 1'..'line 600'."""
    with Session(data_dir=server.data_dir, poll_interval_s=0.1) as session:
        job = run(session, server, MANY_LINES)
        assert job.status == 10
        return int(job.job_id), int(job.version_id or 0), job.job_name


def test_log_file_list_names_one_file_per_worker(
    session: Session, many: tuple[int, int, str]
) -> None:
    job_id, version_id, name = many
    listed = Estimator(session, job_id=job_id, version_id=version_id).get_job_log_file_list()
    assert listed["is_success"] is True
    assert listed["log_file_list"] == [f"{name}-V0001.0"]


def test_get_job_log_reads_windows_by_line(session: Session, many: tuple[int, int, str]) -> None:
    job_id, version_id, name = many
    job = TrainingJob(session, job_id, version_id)
    log_file = f"{name}-V0001.0"
    head = job.get_job_log(log_file)  # legacy defaults: from the top, as much as allowed
    assert head["is_success"] is True
    lines = head["content"].splitlines()
    assert head["lines"] == len(lines) == 500 and head["start_line"] == "1"
    assert "line 1" in lines
    after = job.get_job_log(log_file, start_byte=int(head["end_line"]), offset=5)
    assert after["lines"] == 5 and int(after["start_line"]) == int(head["end_line"]) + 1
    newest = job.get_job_log(log_file, start_byte=-1, offset=3)
    assert newest["lines"] == 3
    before = job.get_job_log(log_file, start_byte=int(newest["start_line"]), offset=-2)
    assert before["lines"] == 2 and int(before["end_line"]) == int(newest["start_line"]) - 1


def test_get_job_log_checks_its_arguments(session: Session, many: tuple[int, int, str]) -> None:
    job = TrainingJob(session, many[0], many[1])
    with pytest.raises(InvalidArgument):
        job.get_job_log("x", start_byte=-2)
    with pytest.raises(InvalidArgument):
        job.get_job_log("x", offset=4096)
    with pytest.raises(ModelArtsError) as caught:
        job.get_job_log("not-a-file.0")
    assert (caught.value.http_status, caught.value.error_code) == (404, "ModelArts.2818")


def test_read_log_returns_the_whole_log(session: Session, many: tuple[int, int, str]) -> None:
    text = TrainingJob(session, many[0], many[1]).read_log()
    for i in (1, 500, 501, 600):
        assert f"line {i}\n" in text


def test_read_log_with_follow_collects_lines_until_the_run_ends(
    session: Session, server: Server
) -> None:
    job = run(session, server, SLOW_LINES, wait=False)
    started = time.monotonic()
    text = job.read_log(follow=True)
    assert [line for line in text.splitlines() if line.startswith("tick")] == [
        f"tick {i}" for i in range(1, 6)
    ]
    assert time.monotonic() - started >= 1.0  # it waited for the run
    assert job.get_job_info()["status"] == 10
