/**
 * The best split assignment of demand to a given set of capacitated sites, as a maximum flow:
 * source → demand i (weight), demand i → site j (unbounded, when j reaches i within layer 0's
 * threshold), site j → sink (capacity). Demand already served by an existing facility of layer 0
 * counts as served and takes no capacity. Dinic's algorithm on typed arrays.
 */
import { PlanInputError, validateInstance, type PlanInstance } from './instance.js';
import { checkCapacity } from './heuristic-common.js';

export interface CapacitatedAssignment {
  /** total served weight, the already-served demand included. */
  served: number;
  /** how much of each demand point each site serves (triples, grouped by site in candidate order). */
  assignment: { demand: Int32Array; site: Int32Array; amount: Float64Array };
}

/** Demand that layer 0's existing facilities already serve (seconds ≤ threshold). */
export function alreadyServed(inst: PlanInstance): Uint8Array {
  const l = inst.layers[0];
  const out = new Uint8Array(inst.demandCount);
  for (let i = 0; i < inst.demandCount; i++) if (l.existingSeconds[i] <= l.thresholdSeconds) out[i] = 1;
  return out;
}

/** Sites taking part: fixed ones and `open` (duplicates ignored); throws PlanInputError('open') on a bad index. */
function siteSet(inst: PlanInstance, open: ArrayLike<number>): Int32Array {
  const n = inst.candidateCount;
  const on = new Uint8Array(n);
  for (let j = 0; j < n; j++) if (inst.fixed[j]) on[j] = 1;
  for (let x = 0; x < open.length; x++) {
    const j = open[x];
    if (!(Number.isInteger(j) && j >= 0 && j < n)) throw new PlanInputError(`open site ${j} is not a candidate index in 0..${n - 1}`, 'open');
    on[j] = 1;
  }
  const sites: number[] = [];
  for (let j = 0; j < n; j++) if (on[j]) sites.push(j);
  return Int32Array.from(sites);
}

export function capacitatedAssignment(inst: PlanInstance, open: ArrayLike<number>): CapacitatedAssignment {
  validateInstance(inst);
  const cap = checkCapacity(inst);
  const m = inst.demandCount;
  const T = inst.layers[0].thresholdSeconds;
  const served0 = alreadyServed(inst);
  const sites = siteSet(inst, open);

  let preServed = 0;
  for (let i = 0; i < m; i++) if (served0[i]) preServed += inst.weight[i];

  // nodes: 0 source, 1 sink, then demand points that some site reaches, then sites
  const node = new Int32Array(m).fill(-1);
  const demandOf: number[] = [];
  let pairCount = 0;
  for (const j of sites) {
    for (let k = inst.start[j]; k < inst.start[j + 1]; k++) {
      const i = inst.demand[k];
      if (inst.seconds[k] > T || served0[i] || !(inst.weight[i] > 0)) continue;
      pairCount++;
      if (node[i] < 0) {
        node[i] = 2 + demandOf.length;
        demandOf.push(i);
      }
    }
  }
  const dCount = demandOf.length;
  const V = 2 + dCount + sites.length;
  const E = 2 * (dCount + pairCount + sites.length);
  const net = new FlowNetwork(V, E);
  let totalWeight = 0;
  for (let x = 0; x < dCount; x++) {
    net.addEdge(0, 2 + x, inst.weight[demandOf[x]]);
    totalWeight += inst.weight[demandOf[x]];
  }
  const pairEdge: number[] = [];
  const pairDemand: number[] = [];
  const pairSite: number[] = [];
  sites.forEach((j, s) => {
    const sn = 2 + dCount + s;
    for (let k = inst.start[j]; k < inst.start[j + 1]; k++) {
      const i = inst.demand[k];
      if (inst.seconds[k] > T || served0[i] || !(inst.weight[i] > 0)) continue;
      pairEdge.push(net.addEdge(node[i], sn, Infinity));
      pairDemand.push(i);
      pairSite.push(j);
    }
    net.addEdge(sn, 1, cap[j]);
  });
  // residuals this small are rounding left-overs, not capacity
  const flow = net.maxFlow(0, 1, 1e-12 * Math.max(totalWeight, 1e-300));

  const demand: number[] = [];
  const site: number[] = [];
  const amount: number[] = [];
  for (let x = 0; x < pairEdge.length; x++) {
    const f = net.flowOn(pairEdge[x]);
    if (f > 0) {
      demand.push(pairDemand[x]);
      site.push(pairSite[x]);
      amount.push(f);
    }
  }
  return {
    served: preServed + flow,
    assignment: { demand: Int32Array.from(demand), site: Int32Array.from(site), amount: Float64Array.from(amount) },
  };
}

/** Directed network with residual capacities; edge e and e ^ 1 are a pair (forward, backward). */
class FlowNetwork {
  private readonly head: Int32Array;
  private readonly next: Int32Array;
  private readonly to: Int32Array;
  private readonly residual: Float64Array;
  private edges = 0;

  constructor(
    private readonly nodes: number,
    edgeCapacity: number,
  ) {
    this.head = new Int32Array(nodes).fill(-1);
    this.next = new Int32Array(edgeCapacity);
    this.to = new Int32Array(edgeCapacity);
    this.residual = new Float64Array(edgeCapacity);
  }

  /** Returns the forward edge's id. */
  addEdge(a: number, b: number, capacity: number): number {
    const e = this.edges;
    this.to[e] = b;
    this.residual[e] = capacity;
    this.next[e] = this.head[a];
    this.head[a] = e;
    this.to[e + 1] = a;
    this.residual[e + 1] = 0;
    this.next[e + 1] = this.head[b];
    this.head[b] = e + 1;
    this.edges += 2;
    return e;
  }

  /** Flow on a forward edge = residual of its backward twin (which started at 0). */
  flowOn(e: number): number {
    return this.residual[e ^ 1];
  }

  /** Dinic: BFS levels, then blocking flows by iterative DFS with current-arc pointers. */
  maxFlow(s: number, t: number, eps: number): number {
    const V = this.nodes;
    const level = new Int32Array(V);
    const queue = new Int32Array(V);
    const arc = new Int32Array(V);
    const pathEdge = new Int32Array(V);
    const { head, next, to, residual } = this;
    let total = 0;
    for (;;) {
      level.fill(-1);
      level[s] = 0;
      let qh = 0;
      let qt = 0;
      queue[qt++] = s;
      while (qh < qt) {
        const u = queue[qh++];
        for (let e = head[u]; e >= 0; e = next[e]) {
          if (residual[e] > eps && level[to[e]] < 0) {
            level[to[e]] = level[u] + 1;
            queue[qt++] = to[e];
          }
        }
      }
      if (level[t] < 0) return total;
      arc.set(head);
      // path from s as a stack of edges; u is the node at its end
      let depth = 0;
      let u = s;
      for (;;) {
        if (u === t) {
          let push = Infinity;
          for (let d = 0; d < depth; d++) if (residual[pathEdge[d]] < push) push = residual[pathEdge[d]];
          let cut = depth;
          for (let d = 0; d < depth; d++) {
            const e = pathEdge[d];
            residual[e] -= push;
            residual[e ^ 1] += push;
            if (residual[e] <= eps && cut === depth) cut = d;
          }
          total += push;
          // resume from the tail of the first edge that is now saturated
          depth = cut;
          u = depth === 0 ? s : to[pathEdge[depth - 1]];
          continue;
        }
        let e = arc[u];
        while (e >= 0 && !(residual[e] > eps && level[to[e]] === level[u] + 1)) e = next[e];
        arc[u] = e;
        if (e >= 0) {
          pathEdge[depth++] = e;
          u = to[e];
          continue;
        }
        // dead end: no more blocking flow through u this phase
        level[u] = -1;
        if (depth === 0) break;
        depth--;
        u = depth === 0 ? s : to[pathEdge[depth - 1]];
        arc[u] = next[arc[u]];
      }
    }
  }
}
