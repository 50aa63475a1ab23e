"""Shared plumbing for the peer benchmarks (igraph_nearest.py, networkx_nearest.py).

Reads an export directory (nodes.csv / edges.csv / facilities.csv, see bench/README.md),
builds the multi-source seed list, times phases, reports JSON on stdout.

Run with Debian's /usr/bin/python3 (python3-igraph, python3-networkx, python3-numpy).
"""
import argparse
import csv
import json
import math
import os
import resource
import signal
import sys
import time

import numpy as np


def parse_args(peer):
    p = argparse.ArgumentParser(
        prog=f"{peer}_nearest.py",
        description=f"{peer}: multi-source nearest-facility walking seconds on an export directory",
    )
    p.add_argument("export_dir", help="directory with nodes.csv, edges.csv, facilities.csv")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--format", help="facility format id: seed from its rows in facilities.csv")
    src.add_argument("--seeds", help="file of seed nodes: 'node' or 'node,seconds' per line (header optional)")
    p.add_argument("--out", help="write the distance array here (float64 little-endian, n values, inf = unreached)")
    p.add_argument("--repeat", type=int, default=1, help="run the query this many times (query_s = first, query_s_min = best)")
    p.add_argument("--time-limit", type=float, default=0, help="abort (timed_out: true) after this many seconds in total")
    return p.parse_args()


class TimedOut(Exception):
    pass


def arm_time_limit(seconds):
    if seconds and seconds > 0:
        def on_alarm(_sig, _frm):
            raise TimedOut()
        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)


def count_nodes(export_dir):
    """Number of graph nodes = data lines of nodes.csv (nodes are 0..n-1)."""
    with open(os.path.join(export_dir, "nodes.csv"), "rb") as f:
        lines = 0
        last = b"\n"
        while True:
            chunk = f.read(1 << 24)
            if not chunk:
                break
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return lines - 1  # header


def read_edges(export_dir):
    """(src int64[m], dst int64[m], seconds float64[m]) from edges.csv, via numpy's C parser."""
    path = os.path.join(export_dir, "edges.csv")
    with open(path, "r", encoding="utf-8-sig", newline=None) as f:
        header = f.readline().strip().split(",")
        want = ["from", "to", "seconds"]
        try:
            cols = tuple(header.index(c) for c in want)
        except ValueError:
            sys.exit(f"{path}: header {header} lacks one of {want}")
        arr = np.loadtxt(f, delimiter=",", usecols=cols, dtype=np.float64, ndmin=2)
    if arr.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
    return arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2].copy()


def read_seeds(args, n):
    """Dict node -> initial seconds (minimum over facilities/rows)."""
    seeds = {}

    def put(node, sec):
        if not (0 <= node < n):
            sys.exit(f"seed node {node} out of range 0..{n - 1}")
        if sec < 0 or not math.isfinite(sec):
            sys.exit(f"seed node {node}: bad seconds {sec}")
        if node not in seeds or sec < seeds[node]:
            seeds[node] = sec

    if args.format is not None:
        path = os.path.join(args.export_dir, "facilities.csv")
        with open(path, "r", encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                if row["format"] != args.format or row["edge"] == "":
                    continue
                put(int(row["from_node"]), float(row["seconds_to_from"]))
                put(int(row["to_node"]), float(row["seconds_to_to"]))
    else:
        with open(args.seeds, "r", encoding="utf-8-sig") as f:
            for line in f:
                parts = line.replace(",", " ").split()
                if not parts or not parts[0].lstrip("-").isdigit():
                    continue  # blank or header
                put(int(parts[0]), float(parts[1]) if len(parts) > 1 else 0.0)
    if not seeds:
        sys.exit("no seeds: format has no snapped facilities, or the seed file is empty")
    return seeds


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def current_rss_mb():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def finish(report, dist, out_path):
    """dist: float64[n] with inf for unreached. Adds reached/checksum, writes --out, prints JSON."""
    finite = np.isfinite(dist)
    report["reached"] = int(finite.sum())
    report["checksum"] = float(dist[finite].sum())
    report["max_s"] = float(dist[finite].max()) if report["reached"] else None
    if out_path:
        dist.astype("<f8").tofile(out_path)
        report["out"] = out_path
    report["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(report))


def now():
    return time.perf_counter()
