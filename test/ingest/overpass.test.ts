/** Overpass: query text, and downloads from a local server only (never the network). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadClipPolygon } from '../../src/ingest/clip.js';
import { buildOverpassQuery, fetchOverpass, OverpassError } from '../../src/ingest/overpass.js';
import { readOsm } from '../../src/ingest/read-osm.js';

const RECORDED = readFileSync('test/fixtures/osm/overpass-krems.osm');
const tmp = mkdtempSync(join(tmpdir(), 'quarter-overpass-'));
let server: Server;
let base = '';
const queries: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      queries.push(new URLSearchParams(body).get('data') ?? '');
      switch (req.url) {
        case '/ok':
          res.writeHead(200, { 'content-type': 'application/osm3s+xml' });
          // in pieces, as a real server streams
          res.write(RECORDED.subarray(0, 1000));
          setTimeout(() => res.end(RECORDED.subarray(1000)), 10);
          return;
        case '/busy':
          res.writeHead(429, { 'content-type': 'text/html' });
          res.end(`<html><body><p>Too Many Requests.</p>${'x'.repeat(500)}</body></html>`);
          return;
        case '/remark':
          res.writeHead(200);
          res.end('<?xml version="1.0"?>\n<osm version="0.6">\n<node id="1" lat="1" lon="1"/>\n<remark> runtime error: Query run out of memory using about 2048 MB of RAM. </remark>\n</osm>\n');
          return;
        case '/html':
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('<!DOCTYPE html><html><body>maintenance</body></html>');
          return;
        case '/hang':
          res.writeHead(200);
          res.write('<?xml version="1.0"?>\n<osm version="0.6">\n'); // and never finishes
          return;
        default:
          res.writeHead(404);
          res.end('not found');
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((ok) => server.close(ok));
  rmSync(tmp, { recursive: true, force: true });
});

describe('buildOverpassQuery', () => {
  test('bbox: south,west,north,east; nodes, ways, area relations, recursion down, out body', () => {
    const q = buildOverpassQuery({ bbox: [15.6085, 48.4095, 15.61, 48.4105] }, { timeoutSeconds: 60 });
    expect(q).toBe(
      [
        '[out:xml][timeout:60][maxsize:1073741824];',
        '(',
        '  node(48.4095,15.6085,48.4105,15.61);',
        '  way(48.4095,15.6085,48.4105,15.61);',
        '  rel(48.4095,15.6085,48.4105,15.61)[type~"^(multipolygon|building)$"];',
        ');',
        '(._;>;);',
        'out body;',
        '',
      ].join('\n'),
    );
  });

  test('polygon: lat lon pairs per polygon, closing point left out', () => {
    const clip = loadClipPolygon('data/xuhui-boundaries/xuhui-district-R1278188.geojson');
    const q = buildOverpassQuery({ polygon: clip });
    const polys = [...q.matchAll(/node\(poly:"([^"]+)"\)/g)].map((m) => m[1].split(' ').map(Number));
    expect(polys).toHaveLength(3); // the district and its two exclaves
    const first = polys[0];
    expect(first.length).toBe(clip.polygons[0][0].length - 2);
    expect(first[0]).toBeCloseTo(clip.polygons[0][0][1], 7); // lat first
    expect(first[1]).toBeCloseTo(clip.polygons[0][0][0], 7);
  });

  test('rejects a bbox in the wrong order', () => {
    expect(() => buildOverpassQuery({ bbox: [48.4, 15.6, 48.3, 15.7] })).toThrow(/minLon, minLat, maxLon, maxLat/);
  });
});

describe('fetchOverpass (local server)', () => {
  test('streams the answer to the file, which then imports', async () => {
    const out = join(tmp, 'area.osm');
    const q = buildOverpassQuery({ bbox: [15.6085, 48.4095, 15.61, 48.4105] });
    const got = await fetchOverpass(q, { endpoint: `${base}/ok`, out, timeoutMs: 5000 });
    expect(got.bytes).toBe(RECORDED.length);
    expect(queries.at(-1)).toBe(q);
    expect(readFileSync(out).equals(RECORDED)).toBe(true);
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const r = await readOsm(out, { keepFeature: (t) => t.amenity !== undefined || t.shop !== undefined });
    expect(r.stats.format).toBe('xml');
    expect(r.network.edgeFrom.length).toBeGreaterThan(5);
    expect(r.features.length).toBeGreaterThan(0);
    expect(r.stats.missingNodeRefs).toBe(0);
  });

  test('non-200: status and the first 200 characters of the body', async () => {
    const out = join(tmp, 'busy.osm');
    const err = await fetchOverpass('x', { endpoint: `${base}/busy`, out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OverpassError);
    const e = err as OverpassError;
    expect(e.status).toBe(429);
    expect(e.message).toMatch(new RegExp(`^Overpass endpoint ${base}/busy answered HTTP 429 \\(rate limited`));
    expect(e.message).toContain('Too Many Requests');
    expect(e.message.split(': ').at(-1)!.length).toBe(200);
    expect(existsSync(out)).toBe(false);
  });

  test('an error remark inside a 200 answer is refused, nothing is left behind', async () => {
    const out = join(tmp, 'remark.osm');
    await expect(fetchOverpass('x', { endpoint: `${base}/remark`, out })).rejects.toThrow(/stopped with an error, data incomplete: runtime error: Query run out of memory/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  test('HTML instead of OSM XML is refused', async () => {
    await expect(fetchOverpass('x', { endpoint: `${base}/html`, out: join(tmp, 'html.osm') })).rejects.toThrow(/did not send OSM XML/);
  });

  test('a stalled download times out and leaves no file', async () => {
    const out = join(tmp, 'hang.osm');
    await expect(fetchOverpass('x', { endpoint: `${base}/hang`, out, timeoutMs: 300 })).rejects.toThrow(/timed out after 300 ms/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  test('network failure names the endpoint', async () => {
    // a port that was just free: bind, read it, close
    const s = createServer();
    await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
    const port = (s.address() as AddressInfo).port;
    await new Promise((ok) => s.close(ok));
    const endpoint = `http://127.0.0.1:${port}/api/interpreter`;
    await expect(fetchOverpass('x', { endpoint, out: join(tmp, 'down.osm'), timeoutMs: 5000 })).rejects.toThrow(
      new RegExp(`^cannot reach Overpass endpoint ${endpoint}: ECONNREFUSED`),
    );
  });
});
