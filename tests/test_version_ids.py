"""Version ids are never reused, also after the newest version is deleted (D10)."""

from __future__ import annotations

from conftest import Server


def test_a_deleted_newest_versions_id_is_not_handed_out_again(server: Server) -> None:
    created = server.create_job("print('done')\n", parameter=[{"label": "p", "value": "first"}])
    job, first = created["job_id"], created["version_id"]
    server.wait_status(job, first)
    base = f"{server.v1}/training-jobs/{job}/versions"

    def new_version(value: str) -> int:
        body = {"config": {"parameter": [{"label": "p", "value": value}]}}
        response = server.client.post(base, json=body)
        assert response.status_code == 200, response.text
        version_id = int(response.json()["version_id"])
        server.wait_status(job, version_id)
        return version_id

    doomed = new_version("doomed")
    # Listed once it ended: the listing keeps its rendering by id.
    assert server.client.get(base).json()["versions"][0]["version_id"] == doomed
    assert server.client.delete(f"{base}/{doomed}").status_code == 200
    later = new_version("later")
    assert later > doomed
    listed = server.client.get(base).json()["versions"]
    assert [v["version_id"] for v in listed] == [later, first]
    assert listed[0]["parameter"] == [{"label": "p", "value": "later"}]
