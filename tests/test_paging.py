"""Paging of the versions list of a job (DECISIONS D7-D9, D17). The job list's paging,
ordering, filters and counters are in test_job_listing.py."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Server, assert_envelope

QUICK = "pass\n"  # a boot file that exits at once: versions are cheap to make
SLEEPY = "import time\ntime.sleep(60)\n"
INVALID = "ModelArts.0104"
VERSIONS = 12


def versions_page(server: Server, job_id: int, **query: Any) -> dict[str, Any]:
    return server.get_ok(f"/training-jobs/{job_id}/versions", **query)


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
