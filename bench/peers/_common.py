"""Shared plumbing for the peer benchmarks (igraph_nearest.py, networkx_nearest.py).

Reads an export directory (nodes.csv / edges.csv / facilities.csv, as written by the
product's `quarter export` = src/report/graph-export.ts; see bench/README.md), builds the
multi-source seed sets, times phases, reports JSON on stdout.

Run with Debian's /usr/bin/python3 (python3-igraph, python3-networkx, python3-numpy).
"""
import argparse
import csv
import json
import math
import os
import resource
import signal
import statistics
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
    src.add_argument("--all-formats", action="store_true",
                     help="one query per format of facilities.csv (first-appearance order)")
    src.add_argument("--seeds", help="file of seed nodes: 'node' or 'node,seconds' per line (header optional)")
    p.add_argument("--out", help="write the distance array here (float64 little-endian, n values, inf = unreached)")
    p.add_argument("--out-dir", help="with --all-formats: write FORMAT.f64 per format into this directory")
    p.add_argument("--repeat", type=int, default=1,
                   help="timed runs of the query (per format); query_s = first, query_s_min = best, query_s_median")
    p.add_argument("--warmup", type=int, default=0, help="untimed runs of the query (per format) before timing")
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


def _put(seeds, n, node, sec):
    if not (0 <= node < n):
        sys.exit(f"seed node {node} out of range 0..{n - 1}")
    if sec < 0 or not math.isfinite(sec):
        sys.exit(f"seed node {node}: bad seconds {sec}")
    if node not in seeds or sec < seeds[node]:
        seeds[node] = sec


def read_seed_sets(args, n):
    """[(name, {node: initial seconds})]: one set for --format / --seeds, one per format for --all-formats.
    A node seeded twice keeps its minimum."""
    if args.seeds is not None:
        seeds = {}
        with open(args.seeds, "r", encoding="utf-8-sig") as f:
            for line in f:
                parts = line.replace(",", " ").split()
                if not parts or not parts[0].lstrip("-").isdigit():
                    continue  # blank or header
                _put(seeds, n, int(parts[0]), float(parts[1]) if len(parts) > 1 else 0.0)
        if not seeds:
            sys.exit("no seeds: the seed file is empty")
        return [("seeds", seeds)]

    sets = {}  # insertion order = first appearance in facilities.csv
    path = os.path.join(args.export_dir, "facilities.csv")
    with open(path, "r", encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            fmt = row["format"]
            if args.format is not None and fmt != args.format:
                continue
            s = sets.setdefault(fmt, {})
            if row["edge"] == "":
                continue  # not snapped: not a seed
            _put(s, n, int(row["from_node"]), float(row["seconds_to_from"]))
            _put(s, n, int(row["to_node"]), float(row["seconds_to_to"]))
    out = [(k, v) for k, v in sets.items() if v]
    if not out:
        sys.exit("no seeds: format has no snapped facilities" if args.format else "no snapped facilities in facilities.csv")
    return out


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def current_rss_mb():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def dist_stats(dist):
    finite = np.isfinite(dist)
    reached = int(finite.sum())
    return {
        "reached": reached,
        "checksum": float(dist[finite].sum()),
        "max_s": float(dist[finite].max()) if reached else None,
    }


def run_queries(args, report, seed_sets, query, collect):
    """Warm up, time `repeat` runs of query(seeds) -> (seed_s, dijkstra_s, result) per seed set,
    collect(result) -> float64[n] (untimed, after the last run), fill the report, write distances."""
    reps = max(1, args.repeat)
    for _ in range(max(0, args.warmup)):
        for _name, seeds in seed_sets:
            query(seeds)
    times = [[] for _ in seed_sets]
    stats = [None] * len(seed_sets)
    collect_s = 0.0
    for r in range(reps):
        for i, (name, seeds) in enumerate(seed_sets):
            ts, td, res = query(seeds)
            times[i].append((ts, td))
            if r == reps - 1:
                c0 = now()
                dist = collect(res)
                collect_s += now() - c0
                del res
                stats[i] = dist_stats(dist)
                if args.all_formats:
                    if args.out_dir:
                        os.makedirs(args.out_dir, exist_ok=True)
                        dist.astype("<f8").tofile(os.path.join(args.out_dir, f"{name}.f64"))
                elif args.out:
                    dist.astype("<f8").tofile(args.out)
                    report["out"] = args.out
                del dist
    report["warmup"] = max(0, args.warmup)
    report["repeat"] = reps
    report["collect_s"] = collect_s
    if not args.all_formats:
        (name, seeds), t = seed_sets[0], times[0]
        report["seeds"] = len(seeds)
        report["seed_s"], report["dijkstra_s"] = t[0]
        q = [a + b for a, b in t]
        report["query_s"] = q[0]
        report["query_s_min"] = min(q)
        report["query_s_median"] = statistics.median(q)
        report.update(stats[0])
    else:
        rows = []
        for (name, seeds), t, st in zip(seed_sets, times, stats):
            q = [a + b for a, b in t]
            rows.append({"format": name, "seeds": len(seeds), "query_s": q[0], "query_s_min": min(q),
                         "query_s_median": statistics.median(q), **st})
        report["formats"] = rows
        passes = [sum(a + b for a, b in (t[r] for t in times)) for r in range(reps)]
        report["pass_s"] = passes[0]
        report["pass_s_min"] = min(passes)
        report["pass_s_median"] = statistics.median(passes)
        if args.out_dir:
            report["out_dir"] = args.out_dir
    report["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(report))


def timed_out(report, args):
    report.update(timed_out=True, time_limit_s=args.time_limit, peak_rss_mb=round(peak_rss_mb(), 1))
    print(json.dumps(report))
    sys.exit(3)


def now():
    return time.perf_counter()
