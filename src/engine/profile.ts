/**
 * Walking profiles: speed and penalties, as data (data/profiles/walking.json).
 * Arc costs in seconds are derived per profile once (cheap: one pass over edges).
 */
import { readFileSync } from 'node:fs';
import { dataPath } from '../paths.js';
import { EDGE_FLAG_STEPS, type WalkGraph } from './graph.js';

export interface WalkingProfile {
  id: string;
  name: { 'zh-CN': string; en: string };
  /** metres per second on flat ground. */
  speedMps: number;
  /** multiplier on the time of an edge tagged highway=steps. */
  stepsFactor: number;
  /** why this speed: shown in docs and reports. */
  rationale: string;
}

const PROFILE_FILE = dataPath('profiles', 'walking.json');

export function loadWalkingProfiles(file = PROFILE_FILE): WalkingProfile[] {
  const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(raw)) throw new Error(`${file}: expected a JSON array of walking profiles`);
  return raw.map((p: Record<string, unknown>, i: number) => {
    for (const k of ['id', 'speedMps', 'stepsFactor'] as const) {
      if (p[k] === undefined) throw new Error(`${file}: profile #${i + 1} is missing field "${k}"`);
    }
    if (typeof p.speedMps !== 'number' || !(p.speedMps > 0 && p.speedMps < 5)) {
      throw new Error(`${file}: profile "${String(p.id)}" field "speedMps" must be a number in (0, 5) m/s`);
    }
    if (typeof p.stepsFactor !== 'number' || !(p.stepsFactor >= 1)) {
      throw new Error(`${file}: profile "${String(p.id)}" field "stepsFactor" must be a number ≥ 1`);
    }
    return p as unknown as WalkingProfile;
  });
}

export function getWalkingProfile(id = 'default'): WalkingProfile {
  const all = loadWalkingProfiles();
  const p = all.find((x) => x.id === id);
  if (!p) throw new Error(`unknown walking profile "${id}" (known: ${all.map((x) => x.id).join(', ')})`);
  return p;
}

/** Seconds to walk each edge under a profile (index = edge). */
export function edgeSeconds(g: WalkGraph, profile: WalkingProfile): Float32Array {
  const out = new Float32Array(g.edgeCount);
  const inv = 1 / profile.speedMps;
  for (let e = 0; e < g.edgeCount; e++) {
    const f = g.edgeFlags[e] & EDGE_FLAG_STEPS ? profile.stepsFactor : 1;
    out[e] = g.edgeLength[e] * inv * f;
  }
  return out;
}

/** Seconds per arc (index = arc), what Dijkstra reads; pass edgeSec when already computed. */
export function arcSeconds(g: WalkGraph, profile: WalkingProfile, edgeSec?: Float32Array): Float32Array {
  const es = edgeSec ?? edgeSeconds(g, profile);
  const out = new Float32Array(g.arcEdge.length);
  for (let a = 0; a < out.length; a++) out[a] = es[g.arcEdge[a]];
  return out;
}
