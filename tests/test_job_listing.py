"""Paging, ordering, filters and counters of the job list (DECISIONS D7-D9, D17)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import test_paging
from conftest import Server, assert_envelope, unique_name
from test_paging import INVALID, QUICK, SLEEPY, new_version, versions_page

# The versions list's module fixture, for the test of both list bodies' fields.
versioned = test_paging.versioned

# -- GET .../training-jobs ------------------------------------------------------

QUOTA = 30
WORKSPACE_JOBS = {  # the default workspace's jobs, each with a distinct description
    "alpha-one": "desc-c",
    "a_b-under": "desc-g",
    "axb-plain": "desc-d",
    "beta_run": "desc-a",
    "delta-empty": "desc-b",
    "gamma-kill": "desc-e",
    "multi-ver": "desc-f",
}
STATUS = {
    "alpha-one": 10, "a_b-under": 10, "axb-plain": 10, "beta_run": 11,
    "delta-empty": 0, "gamma-kill": 12, "multi-ver": 10,
}  # fmt: skip
ALL = sorted(WORKSPACE_JOBS)


@pytest.fixture(scope="module")
def listing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A service of its own, so counts are exact, holding jobs in several statuses:
    seven in the default workspace and one in workspace ``ws-7``."""
    srv = Server(
        tmp_path_factory.mktemp("listing") / "data", env={"TRAINJOBS_JOB_QUOTA": str(QUOTA)}
    )
    srv.start()
    try:
        _populate(srv)
        yield srv
    finally:
        srv.stop()


def _populate(srv: Server) -> None:
    pending: list[tuple[int, int]] = []
    for name in ("alpha-one", "a_b-under", "axb-plain"):
        created = srv.create_job(QUICK, name=name)
        pending.append((created["job_id"], created["version_id"]))
    failed = srv.create_job("raise SystemExit(1)\n", name="beta_run")
    pending.append((failed["job_id"], failed["version_id"]))
    multi = srv.create_job(QUICK, name="multi-ver")
    pending.append((multi["job_id"], multi["version_id"]))
    for _ in range(2):
        pending.append((multi["job_id"], new_version(srv, multi["job_id"])))
    app_url, boot = srv.upload_script(QUICK)
    for name, workspace in (("delta-empty", "0"), ("other-ws", "ws-7")):
        r = srv.client.post(
            f"{srv.v1}/training-jobs",
            json={"job_name": name, "workspace_id": workspace,
                  "config": {"worker_server_num": 1, "app_url": app_url, "boot_file_url": boot,
                             "spec_id": 1, "create_version": name == "other-ws"}},
        )  # fmt: skip
        assert r.status_code == 200, r.text
    killed = srv.create_job(SLEEPY, name="gamma-kill")
    srv.wait_status(killed["job_id"], killed["version_id"], {8})
    r = srv.client.post(
        f"{srv.v1}/training-jobs/{killed['job_id']}/versions/{killed['version_id']}/stop"
    )
    assert r.status_code == 200, r.text
    pending.append((killed["job_id"], killed["version_id"]))
    for job_id, version_id in pending:
        srv.wait_status(job_id, version_id)
    ids = {j["job_name"]: j["job_id"] for j in list_jobs(srv, per_page=1000)["jobs"]}
    for name, desc in WORKSPACE_JOBS.items():
        r = srv.client.put(f"{srv.v1}/training-jobs/{ids[name]}", json={"job_desc": desc})
        assert r.status_code == 200, r.text


def list_jobs(server: Server, **query: Any) -> dict[str, Any]:
    return server.get_ok("/training-jobs", **query)


def names(body: dict[str, Any]) -> list[str]:
    return [j["job_name"] for j in body["jobs"]]


def test_statuses_of_the_listing_fixture_are_as_built(listing: Server) -> None:
    body = list_jobs(listing, per_page=1000)
    assert {j["job_name"]: j["status"] for j in body["jobs"]} == STATUS


def test_default_order_is_job_name_ascending(listing: Server) -> None:
    assert names(list_jobs(listing)) == ALL


SORT_KEYS = ["job_name", "job_desc", "status", "duration", "version_count", "create_time"]


@pytest.mark.parametrize("param", ["sortBy", "sort_by"])
@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("key", SORT_KEYS)
def test_sorting_by_each_key_orders_the_jobs(
    listing: Server, key: str, order: str, param: str
) -> None:
    body = list_jobs(listing, **{param: key, "order": order, "per_page": 1000})
    values = [j[key] for j in body["jobs"]]
    assert sorted(names(body)) == ALL
    assert len(set(values)) > 1, "the fixture should give this key several values"
    assert values == sorted(values, reverse=order == "desc"), values


def test_order_desc_alone_reverses_the_default_name_order(listing: Server) -> None:
    assert names(list_jobs(listing, order="desc")) == ALL[::-1]


@pytest.mark.parametrize(
    "query",
    [{"sortBy": "name"}, {"sortBy": "create-time"}, {"sortBy": "1"}, {"sort_by": "foo"},
     {"sortBy": "workspace_id"}, {"order": "up"}, {"order": "ascending"},
     {"sortBy": "job_name", "order": "sideways"}],
    ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()),
)  # fmt: skip
def test_unknown_sort_key_or_order_is_0104(listing: Server, query: dict[str, str]) -> None:
    r = listing.client.get(f"{listing.v1}/training-jobs", params=query)
    assert_envelope(r, 400, INVALID)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("10", {"alpha-one", "a_b-under", "axb-plain", "multi-ver"}),
        ("11", {"beta_run"}),
        ("12", {"gamma-kill"}),
        ("0", {"delta-empty"}),
        ("11,12", {"beta_run", "gamma-kill"}),
        ("3,5,6,13", set()),
        ("0,11,12,13", {"delta-empty", "beta_run", "gamma-kill"}),
        ("8", set()),
    ],
)
def test_status_filter_takes_one_value_or_a_comma_list(
    listing: Server, status: str, expected: set[str]
) -> None:
    body = list_jobs(listing, status=status, per_page=1000)
    assert set(names(body)) == expected
    assert body["job_total_count"] == len(expected)
    assert {j["status"] for j in body["jobs"]} <= {int(s) for s in status.split(",")}


@pytest.mark.parametrize(
    "status",
    ["22", "-1", "abc", "10;11", "1.0", "10,x", pytest.param("\uff11", id="fullwidth-digit-1")],
)
def test_status_filter_that_is_not_a_status_code_is_0104(listing: Server, status: str) -> None:
    r = listing.client.get(f"{listing.v1}/training-jobs", params={"status": status})
    assert_envelope(r, 400, INVALID)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("ALPHA", {"alpha-one"}),
        ("Run", {"beta_run"}),
        ("A-ONE", {"alpha-one"}),
        ("xB-p", {"axb-plain"}),
        ("-", {"alpha-one", "a_b-under", "axb-plain", "delta-empty", "gamma-kill", "multi-ver"}),
        ("nothing-like-this", set()),
        ("", set(ALL)),
    ],
)
def test_search_content_is_a_case_insensitive_substring_of_job_name(
    listing: Server, search: str, expected: set[str]
) -> None:
    body = list_jobs(listing, search_content=search, per_page=1000)
    assert set(names(body)) == expected
    assert body["job_total_count"] == len(expected)


@pytest.mark.parametrize(
    ("search", "expected"),
    [("a_b", {"a_b-under"}), ("_", {"a_b-under", "beta_run"}), ("%", set()), ("a%b", set()),
     ("%_%", set()), ("\\", set())],
)  # fmt: skip
def test_search_content_matches_percent_and_underscore_literally(
    listing: Server, search: str, expected: set[str]
) -> None:
    body = list_jobs(listing, search_content=search, per_page=1000)
    assert set(names(body)) == expected
    assert body["job_total_count"] == len(expected)


def test_search_content_has_at_most_64_characters(listing: Server) -> None:
    assert list_jobs(listing, search_content="x" * 64)["jobs"] == []
    r = listing.client.get(f"{listing.v1}/training-jobs", params={"search_content": "x" * 65})
    assert_envelope(r, 400, INVALID)


def test_workspace_filter_defaults_to_workspace_0(listing: Server) -> None:
    assert sorted(names(list_jobs(listing))) == ALL
    assert sorted(names(list_jobs(listing, workspace_id="0"))) == ALL
    other = list_jobs(listing, workspace_id="ws-7")
    assert names(other) == ["other-ws"] and other["job_total_count"] == 1
    none = list_jobs(listing, workspace_id="no-such-workspace")
    assert none["jobs"] == [] and none["job_total_count"] == 0


@pytest.mark.parametrize(
    "query",
    [{}, {"status": "10"}, {"search_content": "alpha"}, {"workspace_id": "ws-7"}, {"page": 9}],
    ids=["no-filter", "status", "search", "workspace", "past-the-end"],
)
def test_quota_counters_are_project_wide_whatever_the_filters(
    listing: Server, query: dict[str, Any]
) -> None:
    body = list_jobs(listing, **query)
    assert body["quotas"] == QUOTA
    assert body["job_count_limit"] == QUOTA - len(ALL) - 1  # other-ws counts against the quota


def test_job_total_count_counts_the_matching_jobs_not_the_page(listing: Server) -> None:
    body = list_jobs(listing, per_page=2)
    assert len(body["jobs"]) == 2 and body["job_total_count"] == len(ALL)


def test_job_list_pages_walk_every_job_once(listing: Server) -> None:
    pages = [list_jobs(listing, per_page=3, page=p) for p in (1, 2, 3)]
    assert [len(p["jobs"]) for p in pages] == [3, 3, 1]
    assert [n for p in pages for n in names(p)] == ALL
    for page in (4, 65535):
        past = list_jobs(listing, per_page=3, page=page)
        assert past["jobs"] == [] and past["job_total_count"] == len(ALL)
    assert names(list_jobs(listing, per_page=1000)) == ALL
    assert len(list_jobs(listing, per_page=1)["jobs"]) == 1


BAD_LIST_PAGING = [
    *({"per_page": bad} for bad in ("0", "1001", "abc", "-1", "1.5", "")),
    *({"page": bad} for bad in ("0", "-1", "65536", "x", "1.5", "")),
]


@pytest.mark.parametrize(
    "query", BAD_LIST_PAGING, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items())
)
def test_job_list_paging_out_of_range_or_not_an_integer_is_0104(
    listing: Server, query: dict[str, str]
) -> None:
    r = listing.client.get(f"{listing.v1}/training-jobs", params=query)
    body = assert_envelope(r, 400, INVALID)
    assert "detail" not in body


def test_job_row_describes_its_latest_version(listing: Server) -> None:
    rows = {j["job_name"]: j for j in list_jobs(listing, per_page=1000)["jobs"]}
    multi = rows["multi-ver"]
    versions = versions_page(listing, multi["job_id"])
    assert multi["version_count"] == 3 == versions["version_count"]
    assert multi["version_id"] == versions["versions"][0]["version_id"]
    assert multi["status"] == versions["versions"][0]["status"] == 10
    assert multi["duration"] == versions["versions"][0]["duration"]
    empty = rows["delta-empty"]
    assert (empty["version_id"], empty["status"], empty["version_count"], empty["duration"]) == (
        0, 0, 0, 0,
    )  # fmt: skip
    assert rows["gamma-kill"]["duration"] > 0


def test_quota_reached_refuses_the_next_job_with_0118(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", env={"TRAINJOBS_JOB_QUOTA": "2"}).start()
    try:
        first = srv.create_job(QUICK)
        srv.create_job(QUICK)
        body = list_jobs(srv)
        assert (body["quotas"], body["job_count_limit"], body["job_total_count"]) == (2, 0, 2)
        app_url, boot = srv.upload_script(QUICK)
        r = srv.client.post(
            f"{srv.v1}/training-jobs",
            json={"job_name": unique_name(), "config": {"worker_server_num": 1, "app_url": app_url,
                                                        "boot_file_url": boot, "spec_id": 1}},
        )  # fmt: skip
        assert_envelope(r, 400, "ModelArts.0118")
        assert list_jobs(srv)["job_total_count"] == 2
        r = srv.client.delete(f"{srv.v1}/training-jobs/{first['job_id']}")
        assert r.status_code == 200, r.text
        body = list_jobs(srv)
        assert (body["quotas"], body["job_count_limit"], body["job_total_count"]) == (2, 1, 1)
    finally:
        srv.stop()


def test_list_bodies_carry_the_tabled_fields_and_no_page_links(
    listing: Server, server: Server, versioned: dict[str, Any]
) -> None:
    body = list_jobs(listing, per_page=2)
    assert set(body) == {"is_success", "job_total_count", "job_count_limit", "jobs", "quotas"}
    for job in body["jobs"]:
        assert set(job) == {
            "job_id", "job_name", "version_id", "status", "create_time", "duration",
            "job_desc", "version_count",
        }  # fmt: skip
    versions = versions_page(server, versioned["job_id"], page=1, per_page=2)
    assert set(versions) == {
        "is_success", "job_id", "job_name", "job_desc", "version_count", "versions",
    }  # fmt: skip


def test_a_listing_reuses_ended_versions_and_follows_live_ones(server: Server) -> None:
    """Ended versions are served from their rendering; live ones as they change."""
    created = server.create_job(
        "import os, time\nout = os.environ['TRAINJOBS_TRAIN_URL']\n"
        "while not os.path.exists(os.path.join(out, 'release')):\n    time.sleep(0.02)\n"
    )
    job, held = created["job_id"], created["version_id"]
    url = f"{server.v1}/training-jobs/{job}/versions"
    done = server.client.post(url, json={"config": {"parameter": []}}).json()["version_id"]
    server.wait_status(job, held, {8})
    live = server.client.get(url, params={"per_page": 10, "page": 1}).json()["versions"]
    assert {v["version_id"]: v["status"] for v in live}[held] == 8
    for vid in (held, done):  # both run the script that waits to be released
        server.wait_status(job, vid, {8})
        (server.data_dir / "runs" / str(vid) / "output" / "release").write_text("")
        server.wait_status(job, vid)
    first = server.client.get(url, params={"per_page": 10, "page": 1})
    again = server.client.get(url, params={"per_page": 10, "page": 1})
    assert first.content == again.content  # the second came from the kept renderings
    listed = {v["version_id"]: v for v in again.json()["versions"]}
    for vid in (held, done):
        detail = server.version(job, vid)
        for key in ("status", "duration", "model_metric_list", "system_metric_list", "parameter"):
            assert listed[vid][key] == detail[key], (vid, key)
    # A deleted version leaves the pages at once.
    assert server.client.delete(f"{url}/{done}").status_code == 200
    after = server.client.get(url, params={"per_page": 10, "page": 1}).json()
    assert [v["version_id"] for v in after["versions"]] == [held]
