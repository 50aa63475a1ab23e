/**
 * Validation of untrusted edit lists: every bad edit is refused with its index and field, good
 * ones come back as fresh copies. Expected indices and fields are written by hand per case.
 */
import { describe, expect, test } from 'vitest';
import { MAX_EDITS, nextEditId, parseEdits, ScenarioEditError } from '../../src/scenario/edits.js';

const add = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  type: 'add_facility',
  formats: ['pharmacy'],
  name: 'New pharmacy',
  lon: 16.001,
  lat: 48.001,
  ...extra,
});

/** Parse and return the error (fails the test when none is thrown). */
function refuse(raw: unknown, opts: { facilityCount?: number } = {}): ScenarioEditError {
  try {
    parseEdits(raw, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioEditError);
    return err as ScenarioEditError;
  }
  throw new Error(`accepted: ${JSON.stringify(raw).slice(0, 200)}`);
}

function expectProblem(raw: unknown, index: number | null, field: string | null, message: RegExp, opts: { facilityCount?: number } = {}): void {
  const err = refuse(raw, opts);
  expect(err.index, err.message).toBe(index);
  expect(err.field, err.message).toBe(field);
  expect(err.message).toMatch(message);
  if (index !== null) expect(err.message).toMatch(new RegExp(`^edits\\[${index}\\]`));
  if (field !== null) expect(err.message).toContain(`field "${field}"`);
}

describe('parseEdits: accepted lists', () => {
  test('every edit type, returned as a copy with exactly the fields of its type', () => {
    const raw = [
      add('a1', { tags: { opening_hours: 'Mo-Su 08:00-20:00' } }),
      { id: 'm1', type: 'move_facility', facility: { added: 'a1' }, lon: 16.002, lat: 48.002 },
      { id: 'm2', type: 'move_facility', facility: { base: 3 }, lon: 16.003, lat: 48.003 },
      { id: 'r1', type: 'remove_facility', facility: { base: 4 } },
      { id: 'l1', type: 'add_link', from: [16.0, 48.0], to: [16.001, 48.0], kind: 'crossing', name: '过街通道' },
      { id: 'c1', type: 'close_link', at: [16.0, 48.0] },
      { id: 'c2', type: 'close_link', way: 123456789 },
      { id: 'g1', type: 'close_gate', at: [16.0, 48.0] },
    ];
    const parsed = parseEdits(raw, { facilityCount: 10 });
    expect(parsed).toEqual(raw);
    expect(parsed[0]).not.toBe(raw[0]);
    (raw[0].formats as string[]).push('supermarket');
    expect((parsed[0] as { formats: string[] }).formats).toEqual(['pharmacy']);
  });

  test('names with HTML, quotes and CJK are text, not hostile', () => {
    expect(parseEdits([add('x', { name: '<b>"新药店"</b> & Co' })])).toHaveLength(1);
  });

  test('an empty list is fine', () => {
    expect(parseEdits([])).toEqual([]);
  });
});

describe('parseEdits: refused, naming the edit and the field', () => {
  test('not a list / not objects', () => {
    expectProblem({ edits: [] }, null, null, /must be a JSON array/);
    expectProblem([add('a'), 42], 1, null, /must be an object/);
    expectProblem([null], 0, null, /got null/);
  });

  test('unknown format (with a suggestion), duplicate and empty format lists', () => {
    expectProblem([add('a'), add('b', { formats: ['pharmacy', 'pharmcy'] })], 1, 'formats[1]', /unknown format "pharmcy".*did you mean "pharmacy"/);
    expectProblem([add('a', { formats: [] })], 0, 'formats', /non-empty/);
    expectProblem([add('a', { formats: ['pharmacy', 'pharmacy'] })], 0, 'formats[1]', /listed twice/);
    expectProblem([add('a', { formats: 'pharmacy' })], 0, 'formats', /array/);
    expectProblem([add('a', { formats: [7] })], 0, 'formats[0]', /got the number 7/);
  });

  test('strings, NaN, Infinity, null for numbers; out-of-range coordinates', () => {
    expectProblem([add('a', { lon: '16.0' })], 0, 'lon', /must be a number, got a string/);
    expectProblem([add('a', { lat: NaN })], 0, 'lat', /got NaN/);
    expectProblem([add('a', { lat: Infinity })], 0, 'lat', /Infinity/);
    expectProblem([add('a', { lon: null })], 0, 'lon', /got null/);
    expectProblem([add('a', { lon: 200 })], 0, 'lon', /out of range \[-180, 180\]/);
    expectProblem([add('a', { lat: -91 })], 0, 'lat', /out of range \[-90, 90\]/);
    const noLat = add('a');
    delete noLat.lat;
    expectProblem([noLat], 0, 'lat', /missing/);
    expectProblem([{ id: 'l', type: 'add_link', from: [16, '48'], to: [16, 48.1], kind: 'passage' }], 0, 'from[1]', /got a string/);
    expectProblem([{ id: 'l', type: 'add_link', from: [16], to: [16, 48.1], kind: 'passage' }], 0, 'from', /\[lon, lat\].*of 1 items/);
    expectProblem([{ id: 'g', type: 'close_gate', at: { lon: 16, lat: 48 } }], 0, 'at', /\[lon, lat\]/);
  });

  test('a facility removed earlier cannot be moved, removed again or referred to', () => {
    expectProblem(
      [add('a1'), { id: 'r', type: 'remove_facility', facility: { added: 'a1' } }, { id: 'm', type: 'move_facility', facility: { added: 'a1' }, lon: 16, lat: 48 }],
      2,
      'facility',
      /removed by edits\[1\]/,
    );
    expectProblem(
      [{ id: 'r1', type: 'remove_facility', facility: { base: 2 } }, { id: 'r2', type: 'remove_facility', facility: { base: 2 } }],
      1,
      'facility',
      /facility 2 was removed by edits\[0\]/,
    );
  });

  test('unknown, later, or non-add edit ids; facility ids outside the region', () => {
    expectProblem([{ id: 'm', type: 'move_facility', facility: { added: 'nope' }, lon: 16, lat: 48 }], 0, 'facility.added', /no add_facility edit has id "nope"/);
    expectProblem(
      [{ id: 'm', type: 'move_facility', facility: { added: 'a9' }, lon: 16, lat: 48 }, add('a9')],
      0,
      'facility.added',
      /comes later \(edits\[1\]\)/,
    );
    expectProblem(
      [{ id: 'g', type: 'close_gate', at: [16, 48] }, { id: 'r', type: 'remove_facility', facility: { added: 'g' } }],
      1,
      'facility.added',
      /not an add_facility edit/,
    );
    expectProblem([{ id: 'r', type: 'remove_facility', facility: { base: 10 } }], 0, 'facility.base', /not in the region \(it has 10 facilities/, { facilityCount: 10 });
    expectProblem([{ id: 'r', type: 'remove_facility', facility: { base: -1 } }], 0, 'facility.base', /integer ≥ 0/);
    expectProblem([{ id: 'r', type: 'remove_facility', facility: { base: 1.5 } }], 0, 'facility.base', /integer ≥ 0/);
    expectProblem([{ id: 'r', type: 'remove_facility', facility: { base: 1, added: 'x' } }], 0, 'facility', /exactly one/);
  });

  test('a reference to an invalid add says so', () => {
    expectProblem([add('a1', { lon: 'x' }), { id: 'r', type: 'remove_facility', facility: { added: 'a1' } }], 0, 'lon', /got a string/);
    const err = refuse([add('a1', { lon: 'x' }), { id: 'r', type: 'remove_facility', facility: { added: 'a1' } }]);
    expect(err.problems).toHaveLength(2);
    expect(err.problems[1]).toMatchObject({ index: 1, field: 'facility.added' });
    expect(err.problems[1].message).toMatch(/that adds it is invalid/);
    expect(err.message).toMatch(/and 1 more problem/);
  });

  test('ids: missing, malformed, duplicated', () => {
    const noId = add('x');
    delete noId.id;
    expectProblem([noId], 0, 'id', /missing/);
    expectProblem([add('has space')], 0, 'id', /letters, digits/);
    expectProblem([add('a'), add('b'), add('a')], 2, 'id', /already the id of edits\[0\]/);
    expectProblem([add('x'.repeat(65))], 0, 'id', /1–64/);
  });

  test('types, kinds and unknown fields', () => {
    expectProblem([{ id: 'x', type: 'add_facilty' }], 0, 'type', /one of add_facility/);
    expectProblem([add('a', { lng: 16 })], 0, 'lng', /not a field of add_facility/);
    expectProblem([{ id: 'l', type: 'add_link', from: [16, 48], to: [16, 48.1], kind: 'tunnel' }], 0, 'kind', /passage, crossing, gate/);
    expectProblem([{ id: 'l', type: 'add_link', from: [16, 48], to: [16, 48] , kind: 'gate' }], 0, 'to', /same point/);
    expectProblem([{ id: 'c', type: 'close_link', at: [16, 48], way: 5 }], 0, 'way', /not both/);
    expectProblem([{ id: 'c', type: 'close_link' }], 0, 'at', /missing/);
    expectProblem([{ id: 'c', type: 'close_link', way: '5' }], 0, 'way', /positive integer/);
    expectProblem([{ id: 'c', type: 'close_link', way: -5 }], 0, 'way', /positive integer/);
  });

  test('hostile names and tags: control characters, direction overrides, lone surrogates, overlong', () => {
    expectProblem([add('a', { name: 'Apotheke\u0000; DROP TABLE' })], 0, 'name', /U\+0000/);
    expectProblem([add('a', { name: 'ok\nfake line' })], 0, 'name', /U\+000A/);
    expectProblem([add('a', { name: 'evil\u202Egnp.exe' })], 0, 'name', /U\+202E/);
    expectProblem([add('a', { name: 'half \ud800 pair' })], 0, 'name', /U\+D800/);
    expectProblem([add('a', { name: '药'.repeat(201) })], 0, 'name', /201 characters long; at most 200/);
    expectProblem([add('a', { name: '   ' })], 0, 'name', /must not be empty/);
    expectProblem([add('a', { name: 12 })], 0, 'name', /must be text/);
    expectProblem([add('a', { tags: { opening_hours: 'Mo\u001b[31m' } })], 0, 'tags.opening_hours', /U\+001B/);
    expectProblem([add('a', { tags: { note: 'x'.repeat(256) } })], 0, 'tags.note', /at most 255/);
    expectProblem([add('a', { tags: ['x'] })], 0, 'tags', /object/);
    expectProblem([{ id: 'l', type: 'add_link', from: [16, 48], to: [16, 48.1], kind: 'gate', name: 'a\u2028b' }], 0, 'name', /U\+2028/);
  });

  test('10 000 edits are refused as a whole, before looking at any', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => add(`a${i}`));
    expectProblem(many, null, null, new RegExp(`10000 edits: at most ${MAX_EDITS}`));
    expect(parseEdits(many.slice(0, MAX_EDITS))).toHaveLength(MAX_EDITS);
  });

  test('every problem is listed (up to a cap), the first in the message', () => {
    const err = refuse([add('a', { lon: 'x', lat: 'y' }), add('b', { formats: ['nope'] })]);
    expect(err.problems.map((p) => [p.index, p.field])).toEqual([
      [0, 'lon'],
      [0, 'lat'],
      [1, 'formats[0]'],
    ]);
    expect(err.problems[0].editId).toBe('a');
    expect(err.problems[0].editType).toBe('add_facility');
    const flood = refuse(Array.from({ length: 200 }, (_, i) => add(`a${i}`, { lon: 'x' })));
    expect(flood.problems.length).toBe(50);
    expect(flood.more).toBe(150);
  });
});

test('nextEditId: one past the largest number with the prefix, never a taken id', () => {
  expect(nextEditId([], 'add-')).toBe('add-1');
  expect(nextEditId(['add-1', 'add-7', 'link-9', 'add-x'], 'add-')).toBe('add-8');
  expect(nextEditId(['plan-1', 'plan-2'], 'plan-')).toBe('plan-3');
});
