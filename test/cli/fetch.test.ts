/**
 * `quarter fetch` against a local Overpass stand-in (node:http on 127.0.0.1) — never the real
 * network — then `import` of what it fetched; server failures exit 6 with the reason.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXIT, FIXTURES, expectFailure, expectOk, leftoverTemps, quarterAsync, scratch } from './helpers.js';

const dir = scratch('fetch');
const OVERPASS_XML = readFileSync(join(FIXTURES, 'overpass-krems.osm'));
const requests: Array<{ method: string; url: string; contentType: string; body: string }> = [];
let server: Server;
let base = '';

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (s += c));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await readBody(req);
    requests.push({ method: req.method ?? '', url: req.url ?? '', contentType: String(req.headers['content-type'] ?? ''), body });
    switch (req.url) {
      case '/api/interpreter':
        res.writeHead(200, { 'content-type': 'application/osm3s+xml' });
        res.end(OVERPASS_XML);
        return;
      case '/500/api/interpreter':
        res.writeHead(500, { 'content-type': 'text/html' });
        res.end('<html><body><p>Internal server error: dispatcher gone</p></body></html>');
        return;
      case '/429/api/interpreter':
        res.writeHead(429, { 'content-type': 'text/plain' });
        res.end('Too many requests');
        return;
      case '/html/api/interpreter':
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<!DOCTYPE html><html><body>maintenance</body></html>');
        return;
      case '/remark/api/interpreter':
        res.writeHead(200, { 'content-type': 'application/osm3s+xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="Overpass API">\n<node id="1" lat="48.41" lon="15.61"/>\n<remark> runtime error: Query timed out in "query" at line 3 after 181 seconds. </remark>\n</osm>\n');
        return;
      case '/hang/api/interpreter':
        return; // never answers
      default:
        res.writeHead(404);
        res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const BBOX = '15.6085,48.4095,15.61,48.4105';
const fetchCli = (endpoint: string, out: string, extra: string[] = []) =>
  quarterAsync(['fetch', '--bbox', BBOX, '-o', out, '--endpoint', endpoint, ...extra], { cwd: dir });

describe('fetch from a local Overpass endpoint', () => {
  test('downloads the XML with an Overpass query for the bbox, and import reads it', async () => {
    const r = await fetchCli(`${base}/api/interpreter`, 'osm/krems.osm', ['--json']);
    expectOk(r);
    expect(JSON.parse(r.stdout)).toEqual({ file: 'osm/krems.osm', bytes: OVERPASS_XML.length });
    expect(readFileSync(join(dir, 'osm', 'krems.osm')).equals(OVERPASS_XML)).toBe(true);
    expect(leftoverTemps(join(dir, 'osm'))).toEqual([]);

    const req = requests.find((q) => q.url === '/api/interpreter');
    expect(req?.method).toBe('POST');
    expect(req?.contentType).toMatch(/application\/x-www-form-urlencoded/);
    const query = new URLSearchParams(req?.body).get('data') ?? '';
    expect(query).toMatch(/^\[out:xml\]\[timeout:300\]/);
    expect(query).toContain('node(48.4095,15.6085,48.4105,15.61);');
    expect(query).toContain('way(48.4095,15.6085,48.4105,15.61);');
    expect(query).toContain('out body;');

    const imp = await quarterAsync(['import', 'osm/krems.osm', '-o', 'krems.quarter', '--json'], { cwd: dir });
    expectOk(imp);
    const meta = JSON.parse(imp.stdout).meta;
    expect(meta.source).toMatchObject({ file: 'krems.osm', format: 'xml', bytes: OVERPASS_XML.length });
    expect(meta.report.osm.walkableWays).toBeGreaterThan(0);
    const info = await quarterAsync(['info', '--json'], { cwd: dir, region: join(dir, 'krems.quarter') });
    expectOk(info);
    expect(JSON.parse(info.stdout).nodes).toBeGreaterThan(1);
  });

  test('text output says where the file went and what to run next', async () => {
    const r = await fetchCli(`${base}/api/interpreter`, 'text.osm');
    expectOk(r);
    expect(r.stdout).toContain(`from ${base}/api/interpreter → text.osm`);
    expect(r.stdout).toContain('next: quarter import text.osm');
  });
});

describe('fetch failures: exit 6, the reason on one line, no file left', () => {
  const noFile = (name: string) => {
    expect(existsSync(join(dir, name))).toBe(false);
    expect(leftoverTemps(dir)).toEqual([]);
  };

  test('HTTP 500: the status is in the message', async () => {
    const r = await fetchCli(`${base}/500/api/interpreter`, 'e500.osm');
    expectFailure(r, EXIT.network, new RegExp(`Overpass endpoint ${base}/500/api/interpreter answered HTTP 500: .*Internal server error`));
    noFile('e500.osm');
  });

  test('HTTP 429: rate limited, with a hint', async () => {
    expectFailure(await fetchCli(`${base}/429/api/interpreter`, 'e429.osm'), EXIT.network, /answered HTTP 429 \(rate limited/);
    noFile('e429.osm');
  });

  test('200 but not OSM XML', async () => {
    expectFailure(await fetchCli(`${base}/html/api/interpreter`, 'html.osm'), EXIT.network, /did not send OSM XML/);
    noFile('html.osm');
  });

  test('200 with an Overpass runtime error remark: incomplete data refused', async () => {
    expectFailure(await fetchCli(`${base}/remark/api/interpreter`, 'remark.osm'), EXIT.network, /stopped with an error, data incomplete: runtime error: Query timed out/);
    noFile('remark.osm');
  });

  test('nobody listening', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expectFailure(await fetchCli(`http://127.0.0.1:${port}/api/interpreter`, 'refused.osm'), EXIT.network, /cannot reach Overpass endpoint http:\/\/127\.0\.0\.1:\d+\/api\/interpreter: .*ECONNREFUSED/);
    noFile('refused.osm');
  });

  test('--timeout: a server that never answers', async () => {
    expectFailure(await fetchCli(`${base}/hang/api/interpreter`, 'hang.osm', ['--timeout', '1']), EXIT.network, /timed out after 1000 ms/);
    noFile('hang.osm');
    expect(readdirSync(dir).filter((f) => f.startsWith('hang'))).toEqual([]);
  });
});
