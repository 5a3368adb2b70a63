"""Paging, ordering, filters and counters of the two list endpoints (DECISIONS D7-D9, D17)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Server, assert_envelope, unique_name

QUICK = "pass\n"  # a boot file that exits at once: versions are cheap to make
SLEEPY = "import time\ntime.sleep(60)\n"
INVALID = "ModelArts.0104"
VERSIONS = 12


def versions_page(server: Server, job_id: int, **query: Any) -> dict[str, Any]:
    r = server.client.get(f"{server.v1}/training-jobs/{job_id}/versions", params=query)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["is_success"] is True
    return body


def ids_of(body: dict[str, Any]) -> list[int]:
    return [v["version_id"] for v in body["versions"]]


def new_version(server: Server, job_id: int) -> int:
    r = server.client.post(f"{server.v1}/training-jobs/{job_id}/versions", json={"config": {}})
    assert r.status_code == 200, r.text
    version_id: int = r.json()["version_id"]
    return version_id


@pytest.fixture(scope="module")
def versioned(server: Server) -> dict[str, Any]:
    """A job with VERSIONS finished versions; ``newest_first`` holds their ids."""
    created = server.create_job(QUICK)
    job_id = created["job_id"]
    ids = [created["version_id"]] + [new_version(server, job_id) for _ in range(VERSIONS - 1)]
    for version_id in ids:
        server.wait_status(job_id, version_id)
    return {"job_id": job_id, "newest_first": sorted(ids, reverse=True)}


# -- GET .../training-jobs/{job_id}/versions -------------------------------------


@pytest.mark.parametrize(
    "query",
    [{}, {"page": 0}, {"page": 0, "per_page": 5}, {"per_page": 1}, {"page": 0, "per_page": 1000}],
    ids=["default", "page-0", "page-0-per-page-5", "per-page-1-alone", "page-0-per-page-1000"],
)
def test_page_zero_returns_every_version_newest_first_ignoring_per_page(
    server: Server, versioned: dict[str, Any], query: dict[str, Any]
) -> None:
    body = versions_page(server, versioned["job_id"], **query)
    assert ids_of(body) == versioned["newest_first"]
    assert body["version_count"] == VERSIONS


def test_first_page_holds_the_per_page_newest_versions(
    server: Server, versioned: dict[str, Any]
) -> None:
    body = versions_page(server, versioned["job_id"], page=1, per_page=5)
    assert ids_of(body) == versioned["newest_first"][:5]
    assert body["version_count"] == VERSIONS
    assert body["job_id"] == versioned["job_id"]


def test_pages_walk_every_version_once_and_the_last_page_is_partial(
    server: Server, versioned: dict[str, Any]
) -> None:
    pages = [versions_page(server, versioned["job_id"], page=p, per_page=5) for p in (1, 2, 3)]
    assert [len(p["versions"]) for p in pages] == [5, 5, VERSIONS - 10]
    assert [i for p in pages for i in ids_of(p)] == versioned["newest_first"]
    assert {p["version_count"] for p in pages} == {VERSIONS}


def test_per_page_one_reaches_the_oldest_version_on_the_last_page(
    server: Server, versioned: dict[str, Any]
) -> None:
    body = versions_page(server, versioned["job_id"], page=VERSIONS, per_page=1)
    assert ids_of(body) == [versioned["newest_first"][-1]]


def test_page_one_defaults_to_ten_per_page(server: Server, versioned: dict[str, Any]) -> None:
    body = versions_page(server, versioned["job_id"], page=1)
    assert ids_of(body) == versioned["newest_first"][:10]


@pytest.mark.parametrize(
    ("page", "per_page"), [(4, 5), (2, 1000), (VERSIONS + 1, 1), (65535, 1000), (2, 10)]
)
def test_page_past_the_end_is_empty_but_still_counts_every_version(
    server: Server, versioned: dict[str, Any], page: int, per_page: int
) -> None:
    body = versions_page(server, versioned["job_id"], page=page, per_page=per_page)
    if (page - 1) * per_page >= VERSIONS:
        assert body["versions"] == []
    else:
        assert ids_of(body) == versioned["newest_first"][(page - 1) * per_page :]
    assert body["version_count"] == VERSIONS


BAD_PER_PAGE = ("0", "1001", "abc", "-1", "1.5", "")
BAD_VERSION_PAGING = [
    *({"page": page, "per_page": bad} for page in (0, 1) for bad in BAD_PER_PAGE),
    {"per_page": "0"},  # per_page is checked even when page is left at its default 0
    {"per_page": "1001"},
    *({"page": bad} for bad in ("-1", "65536", "x", "1.5", "")),
    {"page": "-1", "per_page": "5"},
]  # fmt: skip


@pytest.mark.parametrize(
    "query", BAD_VERSION_PAGING, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items())
)
def test_version_paging_out_of_range_or_not_an_integer_is_0104(
    server: Server, versioned: dict[str, Any], query: dict[str, str]
) -> None:
    r = server.client.get(f"{server.v1}/training-jobs/{versioned['job_id']}/versions", params=query)
    body = assert_envelope(r, 400, INVALID)
    assert "detail" not in body


def test_deleting_a_version_shrinks_the_count_and_the_pages(server: Server) -> None:
    created = server.create_job(QUICK)
    job_id = created["job_id"]
    ids = [created["version_id"], new_version(server, job_id), new_version(server, job_id)]
    for version_id in ids:
        server.wait_status(job_id, version_id)
    r = server.client.delete(f"{server.v1}/training-jobs/{job_id}/versions/{ids[1]}")
    assert r.status_code == 200, r.text
    assert ids_of(versions_page(server, job_id)) == [ids[2], ids[0]]
    assert versions_page(server, job_id)["version_count"] == 2
    assert ids_of(versions_page(server, job_id, page=2, per_page=1)) == [ids[0]]
    third = versions_page(server, job_id, page=3, per_page=1)
    assert third["versions"] == [] and third["version_count"] == 2
    # numbers are never reused after a delete (D10)
    r = server.client.post(f"{server.v1}/training-jobs/{job_id}/versions", json={"config": {}})
    assert r.json()["version_name"] == "V0004"
    server.wait_status(job_id, r.json()["version_id"])


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
    r = server.client.get(f"{server.v1}/training-jobs", params=query)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["is_success"] is True
    return body


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
