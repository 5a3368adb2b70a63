"""Two (or more) workers that train together: each computes a gradient on its own
shard of the digits data, and the workers average them every step (an all-reduce
over plain TCP sockets, the way torch.distributed's gloo backend would on CPU).

Run it as a version with ``worker_server_num = 2``; each worker learns its place
from the variables trainjobs sets (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``,
``MASTER_PORT``), exactly as torch.distributed reads them.
"""

from __future__ import annotations

import argparse
import os
import pickle
import socket
import struct
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

from trainjobs.report import write_model_metrics


def _send(sock: socket.socket, value: object) -> None:
    data = pickle.dumps(value)
    sock.sendall(struct.pack("!Q", len(data)) + data)


def _recv(sock: socket.socket) -> object:
    size = struct.unpack("!Q", _exactly(sock, 8))[0]
    return pickle.loads(_exactly(sock, size))  # noqa: S301 - from our own peers


def _exactly(sock: socket.socket, n: int) -> bytes:
    chunks = b""
    while len(chunks) < n:
        chunk = sock.recv(n - len(chunks))
        if not chunk:
            raise ConnectionError("a peer went away")
        chunks += chunk
    return chunks


class Group:
    """Rank 0 gathers, averages and sends back: enough for a handful of workers."""

    def __init__(self, rank: int, world: int, addr: str, port: int) -> None:
        self.rank, self.world = rank, world
        if rank == 0:
            server = socket.create_server((addr, port))
            self.peers = [server.accept()[0] for _ in range(world - 1)]
        else:
            for _ in range(300):
                try:
                    self.leader = socket.create_connection((addr, port))
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                raise ConnectionError(f"rank 0 never listened on {addr}:{port}")

    def all_reduce_mean(self, value: np.ndarray) -> np.ndarray:
        if self.rank == 0:
            total = value.copy()
            for peer in self.peers:
                total += _recv(peer)  # type: ignore[operator]
            mean = total / self.world
            for peer in self.peers:
                _send(peer, mean)
            return mean
        _send(self.leader, value)
        return _recv(self.leader)  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_url", default="")
    parser.add_argument("--train_url", required=True)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--lr", type=float, default=0.5)
    args = parser.parse_args()
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    group = Group(rank, world, os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]))

    digits = load_digits()
    x = digits.data / 16.0
    y = np.eye(10)[digits.target]
    test = np.arange(len(x)) % 5 == 0
    train_idx = np.flatnonzero(~test)[rank::world]  # this worker's shard
    weights = np.zeros((x.shape[1], 10))
    for step in range(args.steps):
        logits = x[train_idx] @ weights
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        grad = x[train_idx].T @ (probs - y[train_idx]) / len(train_idx)
        weights -= args.lr * group.all_reduce_mean(grad)
        if step % 50 == 0:
            print(f"rank {rank}/{world} step {step}", flush=True)

    predicted = (x[test] @ weights).argmax(axis=1)
    accuracy = float((predicted == digits.target[test]).mean())
    print(f"rank {rank}: test accuracy {accuracy:.4f} (weights agree across ranks)", flush=True)
    if rank == 0:
        out = Path(args.train_url)
        with open(out / "weights.pkl", "wb") as f:
            pickle.dump(weights, f)
        write_model_metrics(out, per_class=[], total={"accuracy": round(accuracy, 6)})


if __name__ == "__main__":
    main()
