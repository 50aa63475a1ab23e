/** A generated 200k-node XML streams through the importer (the text is never held whole). */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { readOsm } from '../../src/ingest/read-osm.js';

const tmp = mkdtempSync(join(tmpdir(), 'quarter-huge-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ROWS = 400;
const COLS = 500;
const JUNCTION_COLS = [0, 100, 200, 300, 400, COLS - 1];
const id = (r: number, c: number) => 1_000_000 + r * COLS + c;

/** Grid: ROWS footways of COLS nodes, crossed by residential streets at JUNCTION_COLS. */
function writeGrid(file: string): void {
  const fd = openSync(file, 'w');
  writeSync(fd, '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="quarter-test">\n');
  for (let r = 0; r < ROWS; r++) {
    let s = '';
    for (let c = 0; c < COLS; c++) {
      const lat = (30 + r * 0.0001).toFixed(7);
      const lon = (120 + c * 0.0001).toFixed(7);
      const n = id(r, c);
      s +=
        n % 1000 === 0
          ? `  <node id="${n}" lat="${lat}" lon="${lon}">\n    <tag k="amenity" v="bench"/>\n  </node>\n`
          : `  <node id="${n}" lat="${lat}" lon="${lon}"/>\n`;
    }
    writeSync(fd, s);
  }
  for (let r = 0; r < ROWS; r++) {
    let s = `  <way id="${r + 1}">\n`;
    for (let c = 0; c < COLS; c++) s += `    <nd ref="${id(r, c)}"/>\n`;
    writeSync(fd, s + '    <tag k="highway" v="footway"/>\n  </way>\n');
  }
  JUNCTION_COLS.forEach((c, k) => {
    let s = `  <way id="${100_000 + k}">\n`;
    for (let r = 0; r < ROWS; r++) s += `    <nd ref="${id(r, c)}"/>\n`;
    writeSync(fd, s + '    <tag k="highway" v="residential"/>\n  </way>\n');
  });
  writeSync(fd, '</osm>\n');
  closeSync(fd);
}

test('200k-node XML imports', async () => {
  const file = join(tmp, 'grid.osm');
  writeGrid(file);
  expect(statSync(file).size).toBeGreaterThan(10_000_000);
  const t0 = performance.now();
  const r = await readOsm(file, { keepFeature: (t) => t.amenity !== undefined });
  console.log(`grid.osm (${(statSync(file).size / 1e6).toFixed(1)} MB, ${ROWS * COLS} nodes): ${(performance.now() - t0).toFixed(0)} ms`);
  expect(r.stats.nodesRead).toBe(ROWS * COLS);
  expect(r.stats.waysRead).toBe(ROWS + JUNCTION_COLS.length);
  expect(r.network.nodeOsmIds.length).toBe(ROWS * JUNCTION_COLS.length);
  expect(r.network.edgeFrom.length).toBe(ROWS * (JUNCTION_COLS.length - 1) + JUNCTION_COLS.length * (ROWS - 1));
  expect(r.features.length).toBe((ROWS * COLS) / 1000);
}, 60_000);
