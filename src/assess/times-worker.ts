/**
 * Worker side of the parallel walking-time searches (parallel-times.ts): the region's search
 * arrays arrive once as views over one SharedArrayBuffer (no copy per worker); each task is one
 * run of one walking profile's formats searched by residenceTimes itself, so the numbers are those of the
 * single-thread path bit for bit. Seconds and nearest ids go back transferred, not copied.
 */
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { DijkstraWorkspace } from '../engine/dijkstra.js';
import type { WalkingProfile } from '../engine/profile.js';
import type { Region } from '../region/region.js';
import { residenceTimes, type PreparedNetwork } from './residence-times.js';
import { viewShared, type SharedLayout } from './shared-arrays.js';

export const TIMES_WORKER_KIND = 'quarter-times';

export interface TimesWorkerData {
  kind: typeof TIMES_WORKER_KIND;
  shared: SharedLayout;
  nodeCount: number;
  edgeCount: number;
  residenceCount: number;
  facilityCount: number;
  /** walking profiles by job index. */
  walking: WalkingProfile[];
  maxSeconds: number;
  /** seeded facility ids per format (only the formats searched). */
  seeds: Record<string, Int32Array>;
}

/** A run of one job's formats; search `first + k` is formats[k] (searches are numbered in the single-thread order). */
export interface TimesTask {
  task: number;
  job: number;
  formats: string[];
  first: number;
}

export type TimesWorkerMessage =
  | { type: 'result'; search: number; seconds: Float64Array; nearest: Int32Array }
  | { type: 'done'; task: number }
  | { type: 'failed'; task: number; message: string };

/** A PreparedNetwork over the shared arrays: the fields residenceTimes and runDijkstra read, and only those. */
export function searchNetwork(data: TimesWorkerData): PreparedNetwork {
  const a = viewShared(data.shared);
  const empty = new Float64Array(0);
  const region = {
    graph: {
      nodeCount: data.nodeCount,
      edgeCount: data.edgeCount,
      arcOffsets: a.arcOffsets,
      arcTarget: a.arcTarget,
      arcEdge: a.arcEdge,
      edgeFrom: a.edgeFrom,
      edgeTo: a.edgeTo,
      edgeLength: a.edgeLength,
      edgeFlags: a.edgeFlags,
    },
    residenceSnaps: { edge: a.pointEdge, access: a.pointAccess, offset: empty },
    facilitySnaps: { edge: a.facilityEdge, access: a.facilityAccess, offset: empty },
    residences: { count: data.residenceCount, gateOffsets: a.gateOffsets },
    facilities: { length: data.facilityCount },
  };
  return {
    // a partial Region: residenceTimes reads graph arcs and edges, both snap tables' edge and
    // access, residences.count / gateOffsets and facilities.length; the test comparing the
    // parallel and serial results catches any field it starts to read that is not sent
    region: region as unknown as Region,
    pointFrac: a.pointFrac as Float64Array,
    usable: new Uint8Array(0),
    facFrac: a.facFrac as Float64Array,
    seedsByFormat: new Map(Object.entries(data.seeds)),
    sePoint: a.sePoint as Int32Array,
    seStart: a.seStart as Int32Array,
    seFac: a.seFac as Int32Array,
    reachable: new Uint8Array(0),
    ws: new DijkstraWorkspace(data.nodeCount),
  };
}

function serve(port: MessagePort, data: TimesWorkerData): void {
  const net = searchNetwork(data);
  port.on('message', (t: TimesTask) => {
    try {
      residenceTimes(net, {
        walking: data.walking[t.job],
        formats: t.formats,
        maxSeconds: data.maxSeconds,
        onFormat: (k, secs, near) => {
          // residenceTimes reuses its arrays: send fresh copies, transferred (plain ArrayBuffers)
          const seconds = secs.slice();
          const nearest = near.slice();
          const msg: TimesWorkerMessage = { type: 'result', search: t.first + k, seconds, nearest };
          port.postMessage(msg, [seconds.buffer as ArrayBuffer, nearest.buffer as ArrayBuffer]);
        },
      });
      port.postMessage({ type: 'done', task: t.task } satisfies TimesWorkerMessage);
    } catch (err) {
      port.postMessage({ type: 'failed', task: t.task, message: err instanceof Error ? err.message : String(err) } satisfies TimesWorkerMessage);
    }
  });
}

const isTimesWorkerData = (d: unknown): d is TimesWorkerData =>
  typeof d === 'object' && d !== null && (d as { kind?: unknown }).kind === TIMES_WORKER_KIND;

// Only when started as a times worker: importing this module elsewhere must not start serving.
if (!isMainThread && parentPort && isTimesWorkerData(workerData)) serve(parentPort, workerData);
