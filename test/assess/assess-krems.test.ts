/**
 * Krems (data/krems/krems.osm.pbf), mofcom-2021, 24 000 residents: every format's coverage within
 * its MOFCOM minutes checked against a computation written here from scratch — per residence a
 * plain Dijkstra from each of its access points over an adjacency list built in this file, then the
 * nearest facility of the format by the partial-edge + access-leg rule (and straight along the
 * edge when the facility is on the access point's edge); population spread by floor area here too.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { assess } from '../../src/assess/assess.js';
import { importRegion } from '../../src/region/import-region.js';

const region = await importRegion('data/krems/krems.osm.pbf');
const TOTAL = 24000;
const t0 = performance.now();
const result = assess(region, { profile: 'mofcom-2021', population: TOTAL, h3Resolutions: [9, 10] });
const ms = performance.now() - t0;

interface Walk {
  id: string;
  speedMps: number;
  stepsFactor: number;
}
interface Fmt {
  id: string;
  mofcomMinutes: number;
}
const walking = (JSON.parse(readFileSync('data/profiles/walking.json', 'utf8')) as Walk[]).find((w) => w.id === 'default')!;
const formats = (JSON.parse(readFileSync('data/taxonomy/formats.json', 'utf8')) as { formats: Fmt[] }).formats;
const STEPS = 1; // EDGE_FLAG_STEPS

/** Seconds per edge, adjacency lists. */
const g = region.graph;
const sec: number[] = [];
for (let e = 0; e < g.edgeCount; e++) sec.push((g.edgeLength[e] / walking.speedMps) * (g.edgeFlags[e] & STEPS ? walking.stepsFactor : 1));
const adj: Array<Array<[number, number]>> = Array.from({ length: g.nodeCount }, () => []);
for (let e = 0; e < g.edgeCount; e++) {
  adj[g.edgeFrom[e]].push([g.edgeTo[e], sec[e]]);
  adj[g.edgeTo[e]].push([g.edgeFrom[e], sec[e]]);
}

/** Textbook Dijkstra with a sorted-insertion queue (small graph: fine). */
function dijkstra(seeds: Array<[number, number]>): number[] {
  const dist = new Array<number>(g.nodeCount).fill(Infinity);
  const queue: Array<[number, number]> = [];
  const push = (d: number, u: number) => {
    let lo = 0;
    let hi = queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (queue[mid][0] < d) lo = mid + 1;
      else hi = mid;
    }
    queue.splice(lo, 0, [d, u]);
  };
  for (const [u, d] of seeds) {
    if (d < dist[u]) {
      dist[u] = d;
      push(d, u);
    }
  }
  while (queue.length > 0) {
    const [d, u] = queue.shift()!;
    if (d > dist[u]) continue;
    for (const [v, w] of adj[u]) {
      if (d + w < dist[v]) {
        dist[v] = d + w;
        push(d + w, v);
      }
    }
  }
  return dist;
}

const fraction = (offset: number, e: number) => (g.edgeLength[e] > 0 ? Math.min(1, Math.max(0, offset / g.edgeLength[e])) : 0);

/** seconds[r][format] by brute force. */
const t = region.residences;
const rs = region.residenceSnaps;
const fs = region.facilitySnaps;
const facilitiesOf = new Map<string, number[]>();
region.facilities.forEach((f, i) => {
  if (fs.edge[i] < 0) return;
  for (const fmt of f.formats) facilitiesOf.set(fmt, [...(facilitiesOf.get(fmt) ?? []), i]);
});
const brute: number[][] = [];
for (let r = 0; r < t.count; r++) {
  const best = new Array<number>(formats.length).fill(Infinity);
  for (let p = t.gateOffsets[r]; p < t.gateOffsets[r + 1]; p++) {
    const e = rs.edge[p];
    if (e < 0) continue;
    const f = fraction(rs.offset[p], e);
    const leg = rs.access[p] / walking.speedMps;
    const dist = dijkstra([
      [g.edgeFrom[e], leg + f * sec[e]],
      [g.edgeTo[e], leg + (1 - f) * sec[e]],
    ]);
    formats.forEach((fmt, k) => {
      for (const i of facilitiesOf.get(fmt.id) ?? []) {
        const fe = fs.edge[i];
        const ff = fraction(fs.offset[i], fe);
        let s = Math.min(dist[g.edgeFrom[fe]] + ff * sec[fe], dist[g.edgeTo[fe]] + (1 - ff) * sec[fe]);
        if (fe === e) s = Math.min(s, leg + Math.abs(f - ff) * sec[e]);
        s += fs.access[i] / walking.speedMps;
        if (s < best[k]) best[k] = s;
      }
    });
  }
  brute.push(best);
}
let area = 0;
for (let r = 0; r < t.count; r++) area += Math.max(0, t.floorArea[r]);
const people = Array.from({ length: t.count }, (_, r) => (TOTAL * Math.max(0, t.floorArea[r])) / area);

describe('Krems, mofcom-2021', () => {
  test('every format: coverage within its MOFCOM minutes equals the brute-force computation', () => {
    console.log(
      `Krems assessment: ${t.count} residences, ${region.facilities.length} facilities, ${g.nodeCount} nodes, ` +
        `${result.zones.length} zones (H3 9+10) in ${ms.toFixed(0)} ms (first run, cold); steps ${JSON.stringify(result.timings, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}`,
    );
    expect(result.residences.formats).toEqual(formats.map((f) => f.id));
    const zone = result.zones[0];
    let checked = 0;
    formats.forEach((fmt, k) => {
      let got = 0;
      for (let r = 0; r < t.count; r++) if (brute[r][k] <= fmt.mofcomMinutes * 60) got += people[r];
      const expected = got / TOTAL;
      expect(Math.abs(zone.formatCoverage[k] - expected), `${fmt.id}: ${zone.formatCoverage[k]} vs ${expected}`).toBeLessThanOrEqual(1e-6);
      if (expected > 0 && expected < 1) checked++;
    });
    expect(checked).toBeGreaterThan(8); // most formats are neither absent nor everywhere: a real check
    const basic = result.headline.basicFormatCoverage;
    for (const b of basic) expect(b.coverage).toBe(zone.formatCoverage[formats.findIndex((f) => f.id === b.format)]);
  });

  test('minutes per residence and format agree with the brute force (up to the 60-minute cap)', () => {
    const F = formats.length;
    let finite = 0;
    for (let r = 0; r < t.count; r++) {
      for (let k = 0; k < F; k++) {
        const mine = result.residences.minutes[r * F + k];
        const theirs = brute[r][k] / 60;
        if (theirs > 60) expect(mine).toBe(Infinity);
        else {
          finite++;
          expect(Math.abs(mine - theirs), `residence ${r} ${formats[k].id}`).toBeLessThanOrEqual(1e-3);
        }
      }
    }
    expect(finite).toBeGreaterThan(t.count * 10);
  });

  test('requirement coverage follows the same times; population totals preserved', () => {
    const zone = result.zones[0];
    expect(Math.abs(zone.population - TOTAL)).toBeLessThan(0.1);
    result.requirements.forEach((q) => {
      const k = formats.findIndex((f) => f.id === q.requirement.format);
      let got = 0;
      for (let r = 0; r < t.count; r++) if (brute[r][k] <= q.seconds) got += people[r];
      expect(Math.abs(zone.coverage[q.index] - got / TOTAL), q.requirement.format).toBeLessThanOrEqual(1e-6);
    });
    // H3: every residence in exactly one cell per resolution
    for (const res of [9, 10]) {
      const cells = result.zones.filter((z) => z.kind === 'h3' && z.resolution === res);
      expect(cells.reduce((s, z) => s + z.residences, 0)).toBe(t.count);
      expect(Math.abs(cells.reduce((s, z) => s + z.population, 0) - TOTAL)).toBeLessThan(0.1);
    }
  });
});
