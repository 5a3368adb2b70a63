"""Session finds the service and its credentials; every failure is one ModelArtsError."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from conftest import Server, free_port
from trainjobs.sdk import (
    CredentialsNotFound,
    Estimator,
    ModelArtsError,
    ServiceUnreachable,
    Session,
)


def test_session_with_no_arguments_reads_the_default_data_dir(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ./trainjobs-data is the default data dir: run from a folder that holds the server's
    monkeypatch.chdir(tmp_path)
    (tmp_path / "trainjobs-data").symlink_to(server.data_dir)
    with Session() as session:
        assert session.endpoint == server.base
        assert session.project_id == server.project_id
        assert Estimator.get_job_list(session)["is_success"] is True


def test_session_reads_the_data_dir_from_the_environment(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAINJOBS_DATA_DIR", str(server.data_dir))
    with Session() as session:
        assert session.endpoint == server.base
        assert session.obs.object_store_url == str((server.data_dir / "obs").resolve())


def test_environment_variables_win_over_credentials_json(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = {"endpoint": "http://127.0.0.1:1", "project_id": "nope", "token": "stale"}
    (tmp_path / "credentials.json").write_text(json.dumps(stale))
    monkeypatch.setenv("TRAINJOBS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRAINJOBS_ENDPOINT", server.base)
    monkeypatch.setenv("TRAINJOBS_TOKEN", server.token)
    monkeypatch.setenv("TRAINJOBS_PROJECT_ID", server.project_id)
    with Session() as session:
        assert Estimator.get_job_list(session)["is_success"] is True


def test_explicit_endpoint_and_token(server: Server, tmp_path: Path) -> None:
    with Session(
        endpoint=server.base + "/",
        token=server.token,
        project_id=server.project_id,
        data_dir=tmp_path,
    ) as session:
        assert session.endpoint == server.base
        assert Estimator.get_framework_list(session)


def test_set_endpoint_is_used_by_later_sessions(server: Server, tmp_path: Path) -> None:
    Session.set_endpoint(
        iam_endpoint="ignored",
        obs_endpoint=str(tmp_path / "store"),
        modelarts_endpoint=server.base,
        region_name="here",
    )
    with Session(token=server.token, project_id=server.project_id, data_dir=tmp_path) as s:
        assert (s.endpoint, s.region_name) == (server.base, "here")
        assert s.obs.object_store_url == str(tmp_path / "store")
        assert Estimator.get_train_instance_types(s)


def test_legacy_credential_arguments_are_accepted(server: Server) -> None:
    with Session(
        access_key="AK",
        secret_key="SK",
        project_id=server.project_id,
        region_name="cn-north-4",
        data_dir=server.data_dir,
    ) as session:
        assert session.region_name == "cn-north-4"
        assert Estimator.get_job_list(session)["is_success"] is True


def test_no_credentials_anywhere_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(CredentialsNotFound) as caught:
        Session(data_dir=tmp_path)
    err = caught.value
    assert isinstance(err, ModelArtsError)
    assert err.http_status == 0 and err.error_code == "trainjobs.no_credentials"
    assert "TRAINJOBS_TOKEN" in err.error_message and "credentials.json" in err.error_message


def test_unreadable_credentials_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "credentials.json").write_text("{not json")
    with pytest.raises(CredentialsNotFound, match="cannot be read as JSON"):
        Session(data_dir=tmp_path)


def test_bad_token_raises_with_code_message_and_status(server: Server) -> None:
    with (
        Session(token="not-a-token", data_dir=server.data_dir) as session,
        pytest.raises(ModelArtsError) as caught,
    ):
        Estimator.get_job_list(session)
    err = caught.value
    assert (err.http_status, err.error_code) == (401, "ModelArts.0203")
    assert err.error_message and err.error_msg == err.error_message
    assert "ModelArts.0203" in str(err)


def test_token_of_another_project_is_refused(server: Server) -> None:
    with (
        Session(project_id="0" * 32, data_dir=server.data_dir) as session,
        pytest.raises(ModelArtsError) as caught,
    ):
        Estimator.get_framework_list(session)
    assert (caught.value.http_status, caught.value.error_code) == (403, "ModelArts.0210")


def test_server_down_is_service_unreachable(server: Server) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    with (
        Session(endpoint=endpoint, data_dir=server.data_dir) as session,
        pytest.raises(ServiceUnreachable) as caught,
    ):
        Estimator.get_job_list(session)
    err = caught.value
    assert err.http_status == 0 and err.error_code == "trainjobs.unreachable"
    assert err.error_message == (
        f"cannot reach the trainjobs service at {endpoint}: is `trainjobs serve` running?"
    )


class _HtmlHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = b"<html>some other web server</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def test_an_endpoint_that_is_not_trainjobs_is_reported(server: Server) -> None:
    other = HTTPServer(("127.0.0.1", 0), _HtmlHandler)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{other.server_address[1]}"
        with (
            Session(endpoint=endpoint, data_dir=server.data_dir) as session,
            pytest.raises(ModelArtsError) as caught,
        ):
            Estimator.get_job_list(session)
    finally:
        other.shutdown()
        other.server_close()
    err = caught.value
    assert (err.error_code, err.http_status) == ("trainjobs.bad_response", 200)
    assert "is the endpoint a trainjobs service?" in err.error_message


def test_malformed_endpoint_is_a_client_error(server: Server) -> None:
    with (
        Session(endpoint="127.0.0.1:8080", data_dir=server.data_dir) as session,
        pytest.raises(ModelArtsError) as caught,
    ):
        Estimator.get_job_list(session)
    assert caught.value.error_code == "trainjobs.client_error"
    assert "http://127.0.0.1:8080" in caught.value.error_message
