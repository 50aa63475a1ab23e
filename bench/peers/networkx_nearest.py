#!/usr/bin/python3
"""Peer benchmark: NetworkX (pure Python) multi-source Dijkstra on an export directory.

  /usr/bin/python3 bench/peers/networkx_nearest.py EXPORT_DIR --format ID [--out dist.f64] [--time-limit 900]
  /usr/bin/python3 bench/peers/networkx_nearest.py EXPORT_DIR --all-formats [--out-dir DIR]
  /usr/bin/python3 bench/peers/networkx_nearest.py EXPORT_DIR --seeds seeds.csv
  options: --warmup K --repeat K --time-limit S

nx.Graph keeps one edge per node pair, so parallel edges are reduced to the cheapest
(numpy, counted in build_s) before loading. Multi-source: a virtual node "n" joined to each
seed node with its initial seconds, then
multi_source_dijkstra_path_length(G, {virtual}, weight="weight").

Phases: read_s (parse edges.csv), build_s (dedupe + nx.Graph), load_s = sum;
seed_s (add virtual node edges), dijkstra_s, query_s = seed_s + dijkstra_s;
collect_s (dict -> numpy, untimed).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

import numpy as np  # noqa: E402

try:
    import networkx as nx  # noqa: E402
except ImportError as err:  # pragma: no cover
    sys.exit(f"cannot import networkx ({err}); run with /usr/bin/python3 (Debian python3-networkx)")


def cheapest_parallel(src, dst, w):
    """Keep one edge per unordered pair {u, v}: the cheapest."""
    a = np.minimum(src, dst)
    b = np.maximum(src, dst)
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    keep = np.ones(len(a), dtype=bool)
    keep[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return a[keep], b[keep], w[keep]


def main():
    args = C.parse_args("networkx")
    C.arm_time_limit(args.time_limit)
    report = {"peer": "networkx", "version": nx.__version__}
    try:
        t0 = C.now()
        n = C.count_nodes(args.export_dir)
        src, dst, w = C.read_edges(args.export_dir)
        m = int(len(src))
        t1 = C.now()
        a, b, ww = cheapest_parallel(src, dst, w)
        G = nx.Graph()
        G.add_nodes_from(range(n))
        G.add_weighted_edges_from(zip(a.tolist(), b.tolist(), ww.tolist()), weight="weight")
        t2 = C.now()
        report.update(nodes=n, edges=m, edges_after_dedupe=int(len(a)), read_s=t1 - t0, build_s=t2 - t1, load_s=t2 - t0)
        report["rss_after_load_mb"] = round(C.current_rss_mb(), 1)
        del src, dst, w, a, b, ww

        seed_sets = C.read_seed_sets(args, n)
        virtual = n

        def query(seeds):
            q0 = C.now()
            G.add_weighted_edges_from(((virtual, u, s) for u, s in seeds.items()), weight="weight")
            q1 = C.now()
            lengths = nx.multi_source_dijkstra_path_length(G, {virtual}, weight="weight")
            q2 = C.now()
            G.remove_node(virtual)
            return q1 - q0, q2 - q1, lengths

        def collect(lengths):
            dist = np.full(n, np.inf, dtype=np.float64)
            lengths.pop(virtual, None)
            if lengths:
                idx = np.fromiter(lengths.keys(), dtype=np.int64, count=len(lengths))
                val = np.fromiter(lengths.values(), dtype=np.float64, count=len(lengths))
                dist[idx] = val
            return dist

        C.run_queries(args, report, seed_sets, query, collect)
    except C.TimedOut:
        C.timed_out(report, args)


if __name__ == "__main__":
    main()
