"""PuLP + CBC peer for the planning models: builds the model from the raw instance (no reductions
of Quarter's) and solves it with CBC, for an independent optimum and a time comparison.

Input: a JSON instance written by bench/plan-bench.ts (PlanInstance in plain arrays):
  {model: mclp|lscp|pmedian, p, coverShare, unreachedSeconds, weight[], start[], demand[],
   seconds[], layers: [{threshold, value, existing[]}], fixed[]}
(existing: seconds to the nearest existing facility, null = none within the horizon).

Output (stdout, one JSON line): objective, status, build_s, solve_s, open (chosen free
candidates), variables, constraints.

Run with Debian's /usr/bin/python3 (python3-pulp, coinor-cbc).
"""
import argparse
import json
import sys
import time

import pulp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("instance")
    ap.add_argument("--time-limit", type=float, default=120)
    a = ap.parse_args()
    with open(a.instance) as f:
        inst = json.load(f)
    t0 = time.perf_counter()
    model = inst["model"]
    w = inst["weight"]
    m = len(w)
    start, demand, seconds = inst["start"], inst["demand"], inst["seconds"]
    n = len(start) - 1
    fixed = inst["fixed"]
    free = [j for j in range(n) if not fixed[j]]
    layers = inst["layers"]
    inf = float("inf")

    def existing(layer, i):
        v = layer["existing"][i]
        return inf if v is None else v

    x = {j: pulp.LpVariable(f"x{j}", cat="Binary") for j in free}

    def opened(j):
        return 1 if fixed[j] else x[j]

    if model in ("mclp", "lscp"):
        sense = pulp.LpMaximize if model == "mclp" else pulp.LpMinimize
        prob = pulp.LpProblem("plan", sense)
        constant = 0.0
        cover_terms = []  # (layer index, i, y var)
        # who covers whom, per layer
        for li, layer in enumerate(layers if model == "mclp" else layers[:1]):
            T = layer["threshold"]
            covers = [[] for _ in range(m)]
            pre = [existing(layer, i) <= T for i in range(m)]
            for j in range(n):
                for k in range(start[j], start[j + 1]):
                    if seconds[k] <= T:
                        if fixed[j]:
                            pre[demand[k]] = True
                        else:
                            covers[demand[k]].append(j)
            for i in range(m):
                if pre[i]:
                    constant += layer["value"] * w[i] if model == "mclp" else 0
                    if model == "lscp":
                        cover_terms.append((li, i, None))
                    continue
                if not covers[i] or w[i] <= 0 and model == "mclp":
                    continue
                y = pulp.LpVariable(f"y{li}_{i}", lowBound=0, upBound=1)
                prob += y <= pulp.lpSum(x[j] for j in covers[i])
                cover_terms.append((li, i, y))
        if model == "mclp":
            prob += pulp.lpSum(layers[li]["value"] * w[i] * y for li, i, y in cover_terms if y is not None) + constant
            prob += pulp.lpSum(x.values()) == inst["p"]
        else:
            total = sum(w)
            target = inst["coverShare"] * total
            prob += pulp.lpSum(x.values())
            prob += pulp.lpSum(w[i] * (1 if y is None else y) for _, i, y in cover_terms) >= target - 1e-9 * max(1.0, total)
    elif model == "pmedian":
        prob = pulp.LpProblem("plan", pulp.LpMinimize)
        U = inst["unreachedSeconds"]
        layer = layers[0]
        objective = []
        rows = [[] for _ in range(m)]
        for j in range(n):
            for k in range(start[j], start[j + 1]):
                rows[demand[k]].append((j, seconds[k]))
        for i in range(m):
            base = min(existing(layer, i), U)
            options = [(j, s) for j, s in rows[i] if s < base]
            if not options:
                objective.append(w[i] * base)
                continue
            z0 = pulp.LpVariable(f"z{i}_base", lowBound=0, upBound=1)
            zs = []
            for j, s in options:
                z = pulp.LpVariable(f"z{i}_{j}", lowBound=0, upBound=1)
                prob += z <= opened(j)
                zs.append((z, s))
            prob += z0 + pulp.lpSum(z for z, _ in zs) == 1
            objective.append(w[i] * base * z0)
            objective.extend(w[i] * s * z for z, s in zs)
        prob += pulp.lpSum(objective)
        prob += pulp.lpSum(x.values()) == inst["p"]
    else:
        raise SystemExit(f"model {model} not supported by this peer")

    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    # Debian ships CBC as /usr/bin/cbc (coinor-cbc), not the binary bundled with PyPI PuLP
    solver = pulp.COIN_CMD(path="/usr/bin/cbc", msg=False, timeLimit=a.time_limit, threads=1)
    prob.solve(solver)
    solve_s = time.perf_counter() - t1
    status = pulp.LpStatus[prob.status]
    opened_list = [j for j in free if (x[j].value() or 0) > 0.5]
    print(json.dumps({
        "objective": pulp.value(prob.objective),
        "status": status,
        "solution_status": pulp.LpSolution[prob.sol_status] if hasattr(pulp, "LpSolution") else None,
        "build_s": build_s,
        "solve_s": solve_s,
        "open": opened_list,
        "variables": len(prob.variables()),
        "constraints": len(prob.constraints),
        "pulp": pulp.__version__ if hasattr(pulp, "__version__") else None,
    }))


if __name__ == "__main__":
    sys.exit(main())
