/**
 * GET /api/profiles against the data files read here directly: the walking profiles of
 * data/profiles/walking.json, and one standards profile per data/standards/*.json with its name
 * and thresholds (minutes and metres as written; the walking time they amount to, worked out here
 * from the requirement's walking speed: metres / (m/s · 60), the smaller of the two when both).
 */
import type { FastifyInstance } from 'fastify';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../../src/server/app.js';
import { handRegion } from './hand-region.js';

interface WalkingFile {
  id: string;
  name: { 'zh-CN': string; en: string };
  speedMps: number;
  stepsFactor: number;
}
interface StandardsFile {
  id: string;
  name: { 'zh-CN': string; en: string };
  walkingProfile: string;
  defaultMinutes?: number;
  requirements: Array<{ format: string; alternatives?: string[]; withinMinutes?: number; withinMetres?: number; walkingProfile?: string; population?: string; level?: string | number }>;
  targets?: Array<{ indicator: string; value: number }>;
}

const walkingFile = JSON.parse(readFileSync('data/profiles/walking.json', 'utf8')) as WalkingFile[];
const standardsDir = 'data/standards';
const standardsFiles = readdirSync(standardsDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ id: f.replace(/\.json$/, ''), body: JSON.parse(readFileSync(join(standardsDir, f), 'utf8')) as StandardsFile }));

let app: FastifyInstance;
beforeAll(async () => {
  app = await buildServer({ region: handRegion().region, rateLimit: false });
});
afterAll(async () => {
  await app?.close();
});

interface ProfilesBody {
  walking: Array<WalkingFile & { rationale: string }>;
  standards: Array<{
    id: string;
    name: { 'zh-CN': string; en: string } | null;
    walkingProfile: string;
    broken?: boolean;
    requirements: Array<{ formats: string[]; withinMinutes?: number; withinMetres?: number; minutes: number; walkingProfile: string; population: string; level?: string | number }>;
    targets: Array<{ indicator: string; value: number }>;
  }>;
  defaultStandards: string;
}

describe('GET /api/profiles', () => {
  test('walking profiles and standards profiles are the data files’, with names and thresholds', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/profiles' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as ProfilesBody;

    expect(body.walking.map((w) => w.id)).toEqual(walkingFile.map((w) => w.id));
    for (const w of walkingFile) expect(body.walking.find((x) => x.id === w.id)).toMatchObject({ name: w.name, speedMps: w.speedMps, stepsFactor: w.stepsFactor });

    expect(body.standards.map((s) => s.id).sort()).toEqual(standardsFiles.map((f) => f.id).sort());
    expect(standardsFiles.length).toBeGreaterThanOrEqual(4);
    const speed = new Map(walkingFile.map((w) => [w.id, w.speedMps]));
    for (const { id, body: file } of standardsFiles) {
      const s = body.standards.find((x) => x.id === id)!;
      expect(s.broken).toBeUndefined();
      expect(s.name).toEqual(file.name);
      expect(s.walkingProfile).toBe(file.walkingProfile);
      expect(s.requirements.length).toBe(file.requirements.length);
      file.requirements.forEach((q, i) => {
        const got = s.requirements[i];
        const wp = q.walkingProfile ?? file.walkingProfile;
        const minutes = q.withinMinutes === undefined && q.withinMetres === undefined ? file.defaultMinutes! : Math.min(q.withinMinutes ?? Infinity, q.withinMetres !== undefined ? q.withinMetres / (speed.get(wp)! * 60) : Infinity);
        expect(got.formats, `${id} requirement ${i}`).toEqual([q.format, ...(q.alternatives ?? [])]);
        expect(got.walkingProfile).toBe(wp);
        expect(got.population).toBe(q.population ?? 'all');
        if (q.withinMetres !== undefined) expect(got.withinMetres).toBe(q.withinMetres);
        if (q.withinMinutes !== undefined) expect(got.withinMinutes).toBe(q.withinMinutes);
        expect(Math.abs(got.minutes - minutes), `${id} requirement ${i}`).toBeLessThanOrEqual(0.0005);
        if (q.level !== undefined) expect(got.level).toBe(q.level);
      });
      expect(s.targets).toEqual((file.targets ?? []).map((t) => ({ indicator: t.indicator, value: t.value })));
    }
    // Xuhui's 800 m at 1.0 m/s is 13⅓ minutes; its elderly services 15 minutes at the elderly speed
    const xuhui = body.standards.find((s) => s.id === 'xuhui')!;
    expect(xuhui.requirements.find((q) => q.formats[0] === 'community_canteen')!.minutes).toBeCloseTo(800 / 60, 3);
    expect(xuhui.requirements.find((q) => q.formats[0] === 'elderly_care')).toMatchObject({ minutes: 15, walkingProfile: 'elderly', population: 'elderly' });
    expect(body.defaultStandards).toBe('mofcom-2021');
  });

  test('the answer is cached: the second request is a hit with the same body', async () => {
    const a = await app.inject({ method: 'GET', url: '/api/profiles' });
    const b = await app.inject({ method: 'GET', url: '/api/profiles' });
    expect(b.headers['x-cache']).toBe('HIT');
    expect(b.body).toBe(a.body);
  });
});
