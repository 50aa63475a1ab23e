/**
 * The walking network as compressed sparse rows in typed arrays.
 *
 * Two layers:
 *  - undirected *edges* (one per OSM way segment between junctions), each with its
 *    length, source way, highway class, flags and full polyline geometry;
 *  - directed *arcs* (two per edge: walking ignores one-way), grouped by tail node (CSR),
 *    each pointing back to its edge. Routing reads only the arc arrays.
 */
export interface WalkGraph {
  readonly nodeCount: number;
  readonly edgeCount: number;
  /** lon,lat interleaved, length 2 * nodeCount (WGS-84). */
  readonly nodeCoords: Float64Array;
  /** OSM node id of each graph node (Float64: ids exceed 2^31). */
  readonly nodeOsmIds: Float64Array;

  readonly edgeFrom: Int32Array;
  readonly edgeTo: Int32Array;
  /** metres along the geometry. */
  readonly edgeLength: Float32Array;
  /** OSM way id the edge comes from. */
  readonly edgeWayId: Float64Array;
  /** index into WALK_CLASSES (see src/ingest/walkability.ts). */
  readonly edgeClass: Uint8Array;
  /** bit flags, EDGE_FLAG_*. */
  readonly edgeFlags: Uint8Array;
  /** geometry of edge e is points geomOffsets[e] .. geomOffsets[e+1]-1 in geomCoords (lon,lat pairs), from edgeFrom to edgeTo. */
  readonly geomOffsets: Int32Array;
  readonly geomCoords: Float64Array;

  /** CSR: arcs of node u are arcOffsets[u] .. arcOffsets[u+1]-1. length nodeCount + 1. */
  readonly arcOffsets: Int32Array;
  /** head node of each arc. length 2 * edgeCount. */
  readonly arcTarget: Int32Array;
  /** edge of each arc. */
  readonly arcEdge: Int32Array;
  /** connected component of each node; component 0 is the largest. */
  readonly nodeComponent: Int32Array;
}

export const EDGE_FLAG_STEPS = 1;
export const EDGE_FLAG_CROSSES_CLIP = 2;
/** Added by a user edit rather than imported (scenarios). */
export const EDGE_FLAG_SYNTHETIC = 4;

/** Plain edge list, the builder's input. */
export interface EdgeList {
  nodeCoords: Float64Array;
  nodeOsmIds: Float64Array;
  edgeFrom: Int32Array;
  edgeTo: Int32Array;
  edgeLength: Float32Array;
  edgeWayId: Float64Array;
  edgeClass: Uint8Array;
  edgeFlags: Uint8Array;
  geomOffsets: Int32Array;
  geomCoords: Float64Array;
}

/** Build CSR arcs and components from an edge list. O(n + m), no per-element objects. */
export function buildWalkGraph(list: EdgeList): WalkGraph {
  const nodeCount = list.nodeOsmIds.length;
  const edgeCount = list.edgeFrom.length;
  const arcOffsets = new Int32Array(nodeCount + 1);
  for (let e = 0; e < edgeCount; e++) {
    arcOffsets[list.edgeFrom[e] + 1]++;
    arcOffsets[list.edgeTo[e] + 1]++;
  }
  for (let u = 0; u < nodeCount; u++) arcOffsets[u + 1] += arcOffsets[u];
  const fill = arcOffsets.slice(0, nodeCount);
  const arcTarget = new Int32Array(2 * edgeCount);
  const arcEdge = new Int32Array(2 * edgeCount);
  for (let e = 0; e < edgeCount; e++) {
    const a = list.edgeFrom[e];
    const b = list.edgeTo[e];
    let i = fill[a]++;
    arcTarget[i] = b;
    arcEdge[i] = e;
    i = fill[b]++;
    arcTarget[i] = a;
    arcEdge[i] = e;
  }
  const nodeComponent = labelComponents(nodeCount, arcOffsets, arcTarget);
  return { nodeCount, edgeCount, ...list, arcOffsets, arcTarget, arcEdge, nodeComponent };
}

/** Components by BFS, renumbered so that 0 is the largest, 1 the next, ... */
function labelComponents(n: number, offsets: Int32Array, targets: Int32Array): Int32Array {
  const comp = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  const sizes: number[] = [];
  for (let s = 0; s < n; s++) {
    if (comp[s] !== -1) continue;
    const c = sizes.length;
    let head = 0;
    let tail = 0;
    queue[tail++] = s;
    comp[s] = c;
    while (head < tail) {
      const u = queue[head++];
      for (let i = offsets[u]; i < offsets[u + 1]; i++) {
        const v = targets[i];
        if (comp[v] === -1) {
          comp[v] = c;
          queue[tail++] = v;
        }
      }
    }
    sizes.push(tail);
  }
  const order = sizes.map((_, i) => i).sort((a, b) => sizes[b] - sizes[a] || a - b);
  const rank = new Int32Array(sizes.length);
  order.forEach((c, r) => (rank[c] = r));
  for (let u = 0; u < n; u++) comp[u] = rank[comp[u]];
  return comp;
}

/** Sizes (node counts) per component, index = component id. */
export function componentSizes(g: WalkGraph): number[] {
  const sizes: number[] = [];
  for (let u = 0; u < g.nodeCount; u++) {
    const c = g.nodeComponent[u];
    while (sizes.length <= c) sizes.push(0);
    sizes[c]++;
  }
  return sizes;
}
