import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  MomentError,
  OpeningHoursEvaluator,
  openAt,
  openingHoursStats,
  parseMoment,
  REFERENCE_MONDAY,
  resetOpeningHours,
  type Place,
} from '../../src/assess/opening-hours.js';

const SHANGHAI: Place = { lat: 31.19, lon: 121.44, country: 'cn' };
const KREMS: Place = { lat: 48.41, lon: 15.6, country: 'at', state: 'Niederösterreich' };

/** Local (wall-clock) fields of a Date, for comparisons independent of the process time zone. */
const fields = (d: Date) => [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getDay(), d.getHours(), d.getMinutes()];

function momentError(text: string): string {
  try {
    parseMoment(text);
  } catch (e) {
    expect(e).toBeInstanceOf(MomentError);
    return (e as Error).message;
  }
  throw new Error(`expected a MomentError for ${text}`);
}

describe('parseMoment', () => {
  it('places a weekday and time in the reference week (Mon 24 – Sun 30 Nov 2025)', () => {
    expect(REFERENCE_MONDAY).toEqual({ year: 2025, month: 11, day: 24 });
    expect(fields(parseMoment('Mo 07:00'))).toEqual([2025, 11, 24, 1, 7, 0]);
    expect(fields(parseMoment('Su 23:59'))).toEqual([2025, 11, 30, 0, 23, 59]);
    expect(fields(parseMoment('friday 7:05'))).toEqual([2025, 11, 28, 5, 7, 5]);
    expect(fields(parseMoment('  Tue, 18:30 '))).toEqual([2025, 11, 25, 2, 18, 30]);
    expect(fields(parseMoment('Sa. 09:00'))).toEqual([2025, 11, 29, 6, 9, 0]);
  });

  it('reads Chinese weekdays', () => {
    expect(fields(parseMoment('周一 07:00'))).toEqual([2025, 11, 24, 1, 7, 0]);
    expect(fields(parseMoment('周一07:00'))).toEqual([2025, 11, 24, 1, 7, 0]);
    expect(fields(parseMoment('星期三 12:30'))).toEqual([2025, 11, 26, 3, 12, 30]);
    expect(fields(parseMoment('礼拜五 6:30'))).toEqual([2025, 11, 28, 5, 6, 30]);
    expect(fields(parseMoment('周日 07：00'))).toEqual([2025, 11, 30, 0, 7, 0]);
    expect(fields(parseMoment('星期天 20:00'))).toEqual([2025, 11, 30, 0, 20, 0]);
    expect(fields(parseMoment('周7 20:00'))).toEqual([2025, 11, 30, 0, 20, 0]);
    expect(parseMoment('周二 08:00').getTime()).toBe(parseMoment('Tu 08:00').getTime());
  });

  it('reads ISO date-times: as wall-clock time without offset, as an instant with one', () => {
    expect(fields(parseMoment('2026-02-17T09:15'))).toEqual([2026, 2, 17, 2, 9, 15]);
    expect(fields(parseMoment('2026-02-17 09:15:30'))).toEqual([2026, 2, 17, 2, 9, 15]);
    expect(fields(parseMoment('2025-11-24T07:00+08:00', { timeZone: 'Asia/Shanghai' }))).toEqual([2025, 11, 24, 1, 7, 0]);
    expect(fields(parseMoment('2025-11-24T07:00+0800', { timeZone: 'Asia/Shanghai' }))).toEqual([2025, 11, 24, 1, 7, 0]);
    expect(fields(parseMoment('2025-11-23T23:00Z', { timeZone: 'Asia/Shanghai' }))).toEqual([2025, 11, 24, 1, 7, 0]);
    expect(fields(parseMoment('2025-11-24T07:00+01:00', { timeZone: 'Europe/Vienna' }))).toEqual([2025, 11, 24, 1, 7, 0]);
    // without a zone, an instant is read on this process's clock
    expect(parseMoment('2025-11-24T07:00Z').getTime()).toBe(Date.UTC(2025, 10, 24, 7, 0));
  });

  it('"now" is the current instant on the clocks of the zone', () => {
    const now = new Date(Date.UTC(2025, 5, 1, 4, 30));
    expect(fields(parseMoment('now', { now, timeZone: 'Asia/Shanghai' }))).toEqual([2025, 6, 1, 0, 12, 30]);
    expect(fields(parseMoment('NOW', { now, timeZone: 'Europe/Vienna' }))).toEqual([2025, 6, 1, 0, 6, 30]);
    expect(parseMoment('now', { now }).getTime()).toBe(now.getTime());
    expect(Math.abs(parseMoment('now').getTime() - Date.now())).toBeLessThan(5000);
  });

  it('rejects what it cannot read, saying what it expects', () => {
    expect(momentError('tomorrow')).toBe(
      'cannot read the moment "tomorrow": expected "now", an ISO date-time ("2025-11-24T07:00", optionally with "Z" or "+08:00") or a weekday and time ("Mo 07:00", "周一 07:00")',
    );
    expect(momentError('Xy 07:00')).toBe('cannot read the moment "Xy 07:00": unknown weekday "Xy"');
    expect(momentError('Mo 25:00')).toBe('cannot read the moment "Mo 25:00": time must be 00:00–23:59');
    expect(momentError('2025-02-30T07:00')).toBe('cannot read the moment "2025-02-30T07:00": no such date or time');
    expect(momentError('07:00')).toMatch(/expected "now"/);
    expect(() => parseMoment('now', { timeZone: 'Mars/Olympus' })).toThrow('unknown time zone "Mars/Olympus"');
  });
});

describe('openAt', () => {
  afterEach(() => resetOpeningHours());
  const at = (tag: string | undefined, when: string, place: Place = SHANGHAI) => openAt(tag, parseMoment(when), place);

  it('weekday hours', () => {
    const tag = 'Mo-Fr 07:00-19:00';
    expect(at(tag, 'Mo 07:00')).toBe('open');
    expect(at(tag, 'Mo 06:59')).toBe('closed');
    expect(at(tag, 'Fr 18:59')).toBe('open');
    expect(at(tag, 'Fr 19:00')).toBe('closed');
    expect(at(tag, 'Sa 12:00')).toBe('closed');
    expect(at(tag, 'Su 12:00')).toBe('closed');
    expect(at(tag, '周三 12:00')).toBe('open');
  });

  it('24/7', () => {
    expect(at('24/7', 'Mo 23:00')).toBe('open');
    expect(at('24/7', 'Su 03:00')).toBe('open');
  });

  it('a breakfast point, 06:30-10:00 every day', () => {
    const tag = '06:30-10:00';
    expect(at(tag, 'Tu 06:29')).toBe('closed');
    expect(at(tag, 'Tu 06:30')).toBe('open');
    expect(at(tag, '周日 07:00')).toBe('open');
    expect(at(tag, 'Tu 09:59')).toBe('open');
    expect(at(tag, 'Tu 10:00')).toBe('closed');
  });

  it('split hours and hours past midnight', () => {
    const tag = 'Mo-Sa 09:00-12:00,14:00-18:00; Su off';
    expect(at(tag, 'We 13:00')).toBe('closed');
    expect(at(tag, 'We 15:00')).toBe('open');
    expect(at(tag, 'Su 15:00')).toBe('closed');
    expect(at('Fr-Sa 18:00-02:00', 'Sa 01:00')).toBe('open');
    expect(at('Fr-Sa 18:00-02:00', 'Fr 01:00')).toBe('closed');
  });

  it('absent, empty, unparseable and explicitly unknown values are unknown', () => {
    const ev = new OpeningHoursEvaluator();
    const mo7 = parseMoment('Mo 07:00');
    expect(ev.openAt(undefined, mo7, SHANGHAI)).toBe('unknown');
    expect(ev.openAt('  ', mo7, SHANGHAI)).toBe('unknown');
    for (let i = 0; i < 5; i++) expect(ev.openAt('garbage', mo7, SHANGHAI)).toBe('unknown');
    expect(ev.openAt('Mo-Fr 25:00-26:00', mo7, SHANGHAI)).toBe('unknown');
    expect(ev.openAt('"by appointment"', mo7, SHANGHAI)).toBe('unknown');
    expect(ev.openAt('Mo-Fr 07:00-19:00 unknown', mo7, SHANGHAI)).toBe('unknown');
    const s = ev.stats();
    expect(s.absent).toBe(2);
    expect(s.parseFailures).toBe(2); // 'garbage' once (then cached), the 25:00 value once
    expect(s.unparsedLookups).toBe(6);
    expect([...ev.failures().keys()]).toEqual(['garbage', 'Mo-Fr 25:00-26:00']);
    expect(ev.failures().get('garbage')).toMatch(/Unexpected token/);
  });

  it('public holidays: the reference week has none; a real date can be asked', () => {
    const tag = 'Mo-Fr 08:00-18:00; PH off';
    expect(at(tag, 'We 10:00')).toBe('open');
    expect(at(tag, '2025-10-01T10:00')).toBe('closed'); // 国庆节, a Wednesday
    expect(at(tag, '2025-10-08T10:00')).toBe('open');
    expect(at(tag, '2025-12-08T10:00', KREMS)).toBe('closed'); // Mariä Empfängnis, a Monday
    expect(at(tag, '2025-12-08T10:00', SHANGHAI)).toBe('open');
  });

  it('a country the library has no holidays for makes PH rules unknown, silently', () => {
    const spy = vi.spyOn(console, 'error');
    const andorra: Place = { lat: 42.51, lon: 1.53, country: 'ad' };
    expect(at('Mo-Fr 08:00-18:00; PH off', 'We 10:00', andorra)).toBe('unknown');
    expect(at('Mo-Fr 08:00-18:00', 'We 10:00', andorra)).toBe('open');
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });

  it('sunrise and sunset at the place, on its own clocks, whatever this process’s time zone', () => {
    // Shanghai, late November: sunrise ≈ 06:27, sunset ≈ 16:53 (UTC+8)
    expect(at('sunrise-sunset', 'Mo 06:00')).toBe('closed');
    expect(at('sunrise-sunset', 'Mo 06:45')).toBe('open');
    expect(at('sunrise-sunset', 'Mo 16:40')).toBe('open');
    expect(at('sunrise-sunset', 'Mo 17:10')).toBe('closed');
    // Krems: sunrise ≈ 07:17, sunset ≈ 16:05 (UTC+1)
    expect(at('sunrise-sunset', 'Mo 07:05', KREMS)).toBe('closed');
    expect(at('sunrise-sunset', 'Mo 07:30', KREMS)).toBe('open');
    expect(at('sunrise-sunset', 'Mo 15:55', KREMS)).toBe('open');
    expect(at('sunrise-sunset', 'Mo 16:20', KREMS)).toBe('closed');
    // an explicit zone wins over the country's
    expect(at('sunrise-sunset', 'Mo 07:30', { ...KREMS, country: 'xx', timeZone: 'Europe/Vienna' })).toBe('open');
    expect(at('sunrise-sunset', 'Mo 07:05', { ...KREMS, country: 'xx', timeZone: 'Europe/Vienna' })).toBe('closed');
    // offsets from the sun
    expect(at('(sunrise+01:00)-18:00', 'Mo 07:00')).toBe('closed');
    expect(at('(sunrise+01:00)-18:00', 'Mo 07:40')).toBe('open');
  });

  it('rejects bad arguments rather than guessing', () => {
    expect(() => openAt('24/7', new Date(Number.NaN), SHANGHAI)).toThrow('invalid Date');
    expect(() => openAt('24/7', parseMoment('Mo 07:00'), { ...SHANGHAI, lat: Number.NaN })).toThrow('finite lat and lon');
  });
});

describe('the cache', () => {
  it('parses each value once and answers repeats from the cache', () => {
    const ev = new OpeningHoursEvaluator();
    const values = ['Mo-Fr 08:00-18:00', 'Mo-Sa 07:30-20:00', '24/7', 'garbage'];
    const moments = ['Mo 07:00', 'We 12:00', 'Sa 19:00', 'Su 09:00'].map((m) => parseMoment(m));
    for (let i = 0; i < 1000; i++) ev.openAt(values[i % values.length], moments[i % 3], SHANGHAI);
    expect(ev.stats()).toEqual({
      lookups: 1000,
      absent: 0,
      cacheHits: 996,
      parses: 4,
      parseFailures: 1,
      unparsedLookups: 250,
      evaluationErrors: 0,
      cached: 4,
    });
  });

  it('is much faster on repeats than parsing', () => {
    const ev = new OpeningHoursEvaluator();
    const when = parseMoment('Tu 10:00');
    const distinct = Array.from({ length: 40 }, (_, i) => `Mo-Fr 08:${String(i).padStart(2, '0')}-18:00`);
    let t = performance.now();
    for (const v of distinct) ev.openAt(v, when, SHANGHAI);
    const parseMs = performance.now() - t;
    t = performance.now();
    for (let r = 0; r < 10; r++) for (const v of distinct) ev.openAt(v, when, SHANGHAI);
    const cachedMs = (performance.now() - t) / 10;
    expect(ev.stats().parses).toBe(40);
    expect(cachedMs).toBeLessThan(parseMs);
  });

  it('keys by holiday country only for PH/SH values and by place only for sun values', () => {
    const ev = new OpeningHoursEvaluator();
    const when = parseMoment('Mo 07:30');
    ev.openAt('Mo-Fr 08:00-18:00', when, SHANGHAI);
    ev.openAt('Mo-Fr 08:00-18:00', when, KREMS);
    expect(ev.stats().parses).toBe(1);
    ev.openAt('Mo-Fr 08:00-18:00; PH off', when, SHANGHAI);
    ev.openAt('Mo-Fr 08:00-18:00; PH off', when, KREMS);
    ev.openAt('Mo-Fr 08:00-18:00; PH off', when, { ...SHANGHAI, lat: 31.3 });
    expect(ev.stats().parses).toBe(3);
    expect(ev.openAt('sunrise-sunset', when, SHANGHAI)).toBe('open');
    expect(ev.openAt('sunrise-sunset', when, KREMS)).toBe('open');
    expect(ev.openAt('sunrise-sunset', parseMoment('Mo 07:05'), KREMS)).toBe('closed');
    expect(ev.stats().parses).toBe(5);
  });

  it('is bounded, evicting the oldest entry', () => {
    const ev = new OpeningHoursEvaluator(2);
    const when = parseMoment('Mo 09:00');
    for (const v of ['24/7', 'Mo-Fr 08:00-18:00', 'Sa 08:00-12:00', '24/7']) ev.openAt(v, when, SHANGHAI);
    expect(ev.stats()).toMatchObject({ parses: 4, cacheHits: 0, cached: 2 });
    ev.openAt('24/7', when, SHANGHAI);
    expect(ev.stats()).toMatchObject({ parses: 4, cacheHits: 1 });
    ev.clear();
    expect(ev.stats()).toMatchObject({ lookups: 0, parses: 0, cached: 0 });
    expect(() => new OpeningHoursEvaluator(0)).toThrow(RangeError);
  });

  it('the shared cache counts too', () => {
    resetOpeningHours();
    openAt('24/7', parseMoment('Mo 09:00'), SHANGHAI);
    openAt('24/7', parseMoment('Mo 10:00'), SHANGHAI);
    openAt('nonsense value', parseMoment('Mo 10:00'), SHANGHAI);
    expect(openingHoursStats()).toMatchObject({ lookups: 3, parses: 2, cacheHits: 1, parseFailures: 1 });
    resetOpeningHours();
  });
});
