#!/usr/bin/python3
"""Peer benchmark: python-igraph (C core) multi-source Dijkstra on an export directory.

  /usr/bin/python3 bench/peers/igraph_nearest.py EXPORT_DIR --format ID [--out dist.f64]
  /usr/bin/python3 bench/peers/igraph_nearest.py EXPORT_DIR --all-formats [--out-dir DIR]
  /usr/bin/python3 bench/peers/igraph_nearest.py EXPORT_DIR --seeds seeds.csv
  options: --warmup K --repeat K --time-limit S

Multi-source: one virtual vertex (index n) joined to every seed node with an edge weighted
by the seed's initial seconds (facility -> from_node / to_node including the access leg),
then Graph.distances(source=[n], weights="weight") — igraph picks Dijkstra because all
weights are >= 0 (python-igraph 0.10 has no algorithm= argument).

Phases: read_s (parse edges.csv), build_s (Graph + weight attribute), load_s = sum;
seed_s (add virtual vertex edges), dijkstra_s (distances call, includes building the
Python result list), query_s = seed_s + dijkstra_s; collect_s (list -> numpy, untimed).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

import numpy as np  # noqa: E402

try:
    import igraph  # noqa: E402
except ImportError as err:  # pragma: no cover
    sys.exit(f"cannot import igraph ({err}); run with /usr/bin/python3 (Debian python3-igraph)")


def main():
    args = C.parse_args("igraph")
    C.arm_time_limit(args.time_limit)
    report = {"peer": "igraph", "version": igraph.__version__}
    try:
        t0 = C.now()
        n = C.count_nodes(args.export_dir)
        src, dst, w = C.read_edges(args.export_dir)
        t1 = C.now()
        # n+1 vertices: the last one is the virtual source, isolated until a query seeds it.
        # list(zip(...)) of two tolist()s is ~2x faster than ndarray.tolist() on an (m, 2) array.
        g = igraph.Graph(n=n + 1, edges=list(zip(src.tolist(), dst.tolist())), directed=False)
        g.es["weight"] = w  # igraph copies it into a list of floats
        t2 = C.now()
        report.update(nodes=n, edges=int(len(src)), read_s=t1 - t0, build_s=t2 - t1, load_s=t2 - t0)
        report["rss_after_load_mb"] = round(C.current_rss_mb(), 1)
        del src, dst, w

        seed_sets = C.read_seed_sets(args, n)
        virtual = n

        def query(seeds):
            seed_nodes = list(seeds.keys())
            seed_w = list(seeds.values())
            q0 = C.now()
            first = g.ecount()
            g.add_edges([(virtual, u) for u in seed_nodes], attributes={"weight": seed_w})
            q1 = C.now()
            row = g.distances(source=[virtual], weights="weight")[0]
            q2 = C.now()
            g.delete_edges(range(first, first + len(seed_nodes)))
            return q1 - q0, q2 - q1, row

        def collect(row):
            return np.asarray(row[:n], dtype=np.float64)

        C.run_queries(args, report, seed_sets, query, collect)
    except C.TimedOut:
        C.timed_out(report, args)


if __name__ == "__main__":
    main()
