/**
 * Zone figures from per-residence results: coverage per requirement (weighted by the
 * requirement's population group), format coverage within MOFCOM minutes, completeness, the
 * zone-level grade and a ranked gap list.
 *
 * Weights: 'all' = residents, 'elderly' = residents 65+, 'children' = residents × childrenShare.
 * When a zone's weight for a figure sums to 0 while it has residences (e.g. population given by
 * zones and these residences lie in none), the figure is a share of residences instead, so it
 * still says something; a zone without residences gets 0 everywhere, grade −1 and no gaps.
 */
import type { Population, StandardsProfile } from './standards.js';
import { evaluateGrade } from './standards.js';
import type { RequirementInfo, ZoneResult } from './result.js';
import type { Taxonomy } from '../taxonomy/formats.js';
import type { ZoneSpec } from './zones.js';

export interface ZoneStatsInput {
  profile: StandardsProfile;
  taxonomy: Taxonomy;
  requirements: readonly RequirementInfo[];
  /** columns of withinMofcom. */
  formatCount: number;
  /** [r * Q + q]. */
  met: Uint8Array;
  /** [r * Q + q] minutes under the requirement's walking profile (Infinity: none). */
  requirementMinutes: Float32Array;
  /** 1 when every requirement is met. */
  complete: Uint8Array;
  completeness: Float32Array;
  grade: Int8Array;
  population: Float32Array;
  elderly: Float32Array;
  childrenShare: number;
  /** [r * F + f]: 1 when within the format's MOFCOM minutes. */
  withinMofcom: Uint8Array;
  lon: Float64Array;
  lat: Float64Array;
}

const GROUP: Record<Population, number> = { all: 0, elderly: 1, children: 2 };

/** Scratch arrays sized to the largest zone, reused across zones. */
export class ZoneStatsScratch {
  values = new Float64Array(0);
  weights = new Float64Array(0);
  ensure(n: number): void {
    if (this.values.length < n) {
      this.values = new Float64Array(n);
      this.weights = new Float64Array(n);
    }
  }
}

export function zoneStats(spec: ZoneSpec, s: ZoneStatsInput, scratch = new ZoneStatsScratch()): ZoneResult {
  const members = spec.members;
  const n = members.length;
  const Q = s.requirements.length;
  const F = s.formatCount;
  const grades = s.profile.grades.length;
  let pop = 0;
  let eld = 0;
  for (let i = 0; i < n; i++) {
    const r = members[i];
    pop += s.population[r];
    eld += s.elderly[r];
  }
  const base: ZoneResult = {
    id: spec.id,
    name: spec.name,
    kind: spec.kind,
    ...(spec.resolution !== undefined ? { resolution: spec.resolution } : {}),
    geometry: spec.geometry,
    residences: n,
    population: pop,
    elderly: eld,
    coverage: new Array<number>(Q).fill(0),
    formatCoverage: new Array<number>(F).fill(0),
    completeness: 0,
    completeShare: 0,
    grade: -1,
    gradeDistribution: new Array<number>(grades + 1).fill(0),
    gaps: [],
  };
  if (n === 0) return base;

  const byCount = !(pop > 0); // shares by residence count (see the module comment)
  const P = s.population;
  const popTotal = byCount ? n : pop;

  // completeness, complete share, grades
  let comp = 0;
  let complete = 0;
  const dist = new Float64Array(grades + 1);
  for (let i = 0; i < n; i++) {
    const r = members[i];
    const w = byCount ? 1 : P[r];
    comp += w * s.completeness[r];
    if (s.complete[r]) complete += w;
    dist[s.grade[r] + 1] += P[r];
  }
  base.completeness = comp / popTotal;
  base.completeShare = complete / popTotal;
  base.gradeDistribution = Array.from(dist);

  // format coverage within MOFCOM minutes
  const within = s.withinMofcom;
  const got = new Float64Array(F);
  for (let i = 0; i < n; i++) {
    const r = members[i];
    const w = byCount ? 1 : P[r];
    const o = r * F;
    for (let f = 0; f < F; f++) if (within[o + f]) got[f] += w;
  }
  for (let f = 0; f < F; f++) base.formatCoverage[f] = got[f] / popTotal;

  // coverage and gaps per requirement
  scratch.ensure(n);
  const vals = scratch.values;
  const wts = scratch.weights;
  const E = s.elderly;
  const met = s.met;
  const rm = s.requirementMinutes;
  const lon = s.lon;
  const lat = s.lat;
  for (let q = 0; q < Q; q++) {
    const group = GROUP[s.requirements[q].requirement.population];
    const W = group === 1 ? E : P;
    const mult = group === 2 ? s.childrenShare : 1;
    let total = 0;
    for (let i = 0; i < n; i++) total += W[members[i]];
    total *= mult;
    const counts = !(total > 0);
    let served = 0;
    let k = 0;
    let unservedW = 0;
    let unservedEld = 0;
    let cx = 0;
    let cy = 0;
    for (let i = 0; i < n; i++) {
      const r = members[i];
      const w = counts ? 1 : W[r] * mult;
      if (met[r * Q + q]) {
        served += w;
        continue;
      }
      unservedW += w;
      unservedEld += E[r];
      cx += w * lon[r];
      cy += w * lat[r];
      vals[k] = rm[r * Q + q];
      wts[k] = w;
      k++;
    }
    base.coverage[q] = served / (counts ? n : total);
    if (k === 0) continue;
    const weighted = unservedW > 0;
    if (!weighted) {
      // the unserved homes have no residents of the group (the group is served elsewhere): plain centre
      cx = 0;
      cy = 0;
      for (let i = 0; i < n; i++) {
        const r = members[i];
        if (met[r * Q + q]) continue;
        cx += lon[r];
        cy += lat[r];
      }
    }
    const cw = weighted ? unservedW : k;
    base.gaps.push({
      requirement: q,
      format: s.requirements[q].requirement.format,
      residentsAffected: counts ? 0 : unservedW,
      elderlyAffected: unservedEld,
      residences: k,
      lon: cx / cw,
      lat: cy / cw,
      medianMinutes: weightedMedian(vals, wts, k, !weighted),
    });
  }
  base.gaps.sort((a, b) => b.residentsAffected - a.residentsAffected || b.residences - a.residences || a.requirement - b.requirement);
  base.grade = evaluateGrade(s.profile, s.taxonomy, (_req, i) => base.coverage[i] >= 0.5).gradeIndex;
  return base;
}

/**
 * Weighted (lower) median of values[0 .. n-1]: the smallest v whose cumulative weight reaches
 * half the total. Quickselect, O(n) expected; reorders both arrays. `unweighted` treats every
 * weight as 1.
 */
export function weightedMedian(values: Float64Array, weights: Float64Array, n: number, unweighted = false): number {
  if (n === 0) return NaN;
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (unweighted) weights[i] = 1;
    total += weights[i];
  }
  let need = total / 2;
  let lo = 0;
  let hi = n - 1;
  for (;;) {
    if (lo === hi) return values[lo];
    const pivot = values[(lo + hi) >>> 1];
    // three-way partition: [lo, lt) < pivot, [lt, gt] == pivot, (gt, hi] > pivot
    let lt = lo;
    let gt = hi;
    let i = lo;
    while (i <= gt) {
      const v = values[i];
      if (v < pivot) {
        swap(values, weights, lt++, i++);
      } else if (v > pivot) {
        swap(values, weights, i, gt--);
      } else i++;
    }
    let wLess = 0;
    for (let j = lo; j < lt; j++) wLess += weights[j];
    let wEq = 0;
    for (let j = lt; j <= gt; j++) wEq += weights[j];
    if (lt > lo && wLess >= need) {
      hi = lt - 1;
    } else if (wLess + wEq >= need || gt >= hi) {
      return pivot;
    } else {
      need -= wLess + wEq;
      lo = gt + 1;
    }
  }
}

function swap(v: Float64Array, w: Float64Array, a: number, b: number): void {
  const tv = v[a];
  v[a] = v[b];
  v[b] = tv;
  const tw = w[a];
  w[a] = w[b];
  w[b] = tw;
}
