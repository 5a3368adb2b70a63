#!/usr/bin/env bash
# The Ray executor's tests against a real Ray cluster (a head and a second node,
# both on this machine):
#
#   tests/ray/run.sh [pytest args]     the tests in tests/ray (`make test-ray`)
#   tests/ray/run.sh --run CMD [ARGS]  any command, e.g. bench/launch_latency.py
#
# The cluster's address is in TRAINJOBS_TEST_RAY_ADDRESS. Each node keeps the
# run folders of servers without shared storage in a folder of its own
# (TRAINJOBS_NODE_RUN_ROOT of its `ray start`), as nodes on different machines
# would; TRAINJOBS_TEST_NODE_RUN_ROOTS names both, head first.
#
# Ray listens on every interface and dials the machine's own address even when
# told 127.0.0.1, so the head, the servers under test and their workers run in
# a private network namespace that has only loopback. A private PID namespace
# too: `ray stop` there sees only this cluster, and when the script ends the
# kernel ends whatever it left behind. Needs root (unshare), as CI has.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
BIN="${VENV:-$ROOT/.venv}/bin"

if [ -z "${TRAINJOBS_RAY_NAMESPACE:-}" ]; then
    exec unshare --net --pid --fork --mount-proc \
        env TRAINJOBS_RAY_NAMESPACE=1 bash "$ROOT/tests/ray/run.sh" "$@"
fi

ip link set lo up
export RAY_USAGE_STATS_ENABLED=0
# A token file left in ~/.ray by some other cluster would turn token auth on for
# this one too, and sandboxed workers (HOME=/cache) cannot read it.
export RAY_AUTH_MODE=disabled
PORT=6380
TEMP="$(mktemp -d /tmp/tj-ray-XXXXXX)"  # short: Ray's socket paths live under it
cleanup() {
    "$BIN/ray" stop --grace-period 10 >/dev/null 2>&1 || true
    rm -rf "$TEMP"
}
trap cleanup EXIT

# Two nodes of one CPU and 2 GiB each, on this machine: SPREAD has two nodes
# to spread over, and a two-CPU bundle fits the cluster's total but no node.
NODE=(--node-ip-address=127.0.0.1 --num-cpus=1 --num-gpus=0 --memory=$((2 * 1024 ** 3))
      --object-store-memory=$((128 * 1024 ** 2)) --disable-usage-stats)
HEAD_RUNS="$TEMP/runs-head"
NODE_RUNS="$TEMP/runs-node"
TRAINJOBS_NODE_RUN_ROOT="$HEAD_RUNS" \
    "$BIN/ray" start --head --port="$PORT" --include-dashboard=false --temp-dir="$TEMP" \
    "${NODE[@]}" >"$TEMP/head.log" 2>&1 || { cat "$TEMP/head.log"; exit 1; }
TRAINJOBS_NODE_RUN_ROOT="$NODE_RUNS" "$BIN/ray" start --address="127.0.0.1:$PORT" \
    "${NODE[@]}" >"$TEMP/node.log" 2>&1 || { cat "$TEMP/node.log"; exit 1; }
export TRAINJOBS_TEST_NODE_RUN_ROOTS="$HEAD_RUNS:$NODE_RUNS"

export TRAINJOBS_TEST_RAY_ADDRESS="127.0.0.1:$PORT"
if [ "${1:-}" = "--run" ]; then
    shift
    "$@"
else
    "$BIN/pytest" tests/ray "$@"
fi
