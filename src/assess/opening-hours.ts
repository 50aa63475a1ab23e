/**
 * Opening hours: is a facility open at a given moment? A thin wrapper over `opening_hours`, the
 * OpenStreetMap reference implementation of the opening_hours tag grammar.
 *
 * Moments are WALL-CLOCK times at the facilities: a Date whose local fields (getDay, getHours …
 * in this process's time zone) carry the time on the clocks of the region being assessed. That is
 * what `opening_hours` reads. `parseMoment` builds such Dates; a Date built any other way is taken
 * the same way (its local fields are the wall-clock time).
 *
 * - "Mo 07:00", "Monday 7:00", "周一 07:00", "星期日 18:30" → that weekday and time in the fixed
 *   REFERENCE WEEK, Monday 24 – Sunday 30 November 2025: a week with no public or school holiday in
 *   China, Austria, Germany, Finland, Andorra, Switzerland, France or Italy (per the library's data),
 *   no daylight-saving change, and no Chinese make-up working day (调休), so "PH off" and "SH" rules
 *   do not distort an ordinary-week question. Ask about a real date with an ISO date-time.
 * - "2026-02-17T09:00" (no offset) → that wall-clock time as written.
 * - "2026-02-17T09:00+08:00", "…Z", "now" → an absolute instant, turned into wall-clock time in
 *   `timeZone` when given (e.g. "Asia/Shanghai"), else in this process's time zone.
 *
 * openAt(tag, when, place) → 'open' | 'closed' | 'unknown': 'unknown' when the tag is absent or
 * empty, cannot be parsed (counted: see stats), fails to evaluate (e.g. PH for a country the library
 * has no holidays for), or the library itself says unknown (e.g. `"by appointment"`, `… unknown`).
 *
 * Parsing is slow (a fraction of a millisecond to milliseconds) and the same values repeat a lot
 * ("Mo-Fr 08:00-18:00", "24/7"), so parsed values are cached by tag value; the key also holds the
 * country/state when the value uses PH/SH, and the (rounded) coordinates when it uses
 * sunrise/sunset/dawn/dusk. The cache is bounded and evicts the oldest entry first.
 *
 * Sun times: the library computes sunrise for the coordinates and reads it in this process's time
 * zone. When the place's time zone (`place.timeZone`, else a single-zone country's zone from
 * COUNTRY_TIME_ZONES) differs from the process's, the longitude handed to the library is shifted
 * by 15° per hour of difference, which moves the solar events by exactly that difference (error
 * well under a minute), so "sunrise-18:00" is right in Shanghai even on a UTC server.
 */
import { createRequire } from 'node:module';
import type OpeningHours from 'opening_hours';

/**
 * The library takes about 0.3 s to load (1 MB of grammar and holiday data plus i18next), so it is
 * loaded on first use: importing this module for parseMoment alone costs nothing.
 */
let library: typeof OpeningHours | undefined;
function openingHoursClass(): typeof OpeningHours {
  // the CommonJS build exports the class itself (module.exports = opening_hours)
  library ??= createRequire(import.meta.url)('opening_hours') as typeof OpeningHours;
  return library;
}

export type OpenState = 'open' | 'closed' | 'unknown';

export interface Place {
  lat: number;
  lon: number;
  /** ISO 3166-1 alpha-2 country code ('cn', 'at'): selects public holidays (PH). */
  country: string;
  /** state / province name as the library knows it ('Niederösterreich'): regional PH and SH. */
  state?: string;
  /** IANA zone of the place's clocks; default COUNTRY_TIME_ZONES[country], else the process zone. */
  timeZone?: string;
}

/** Monday of the reference week (local wall-clock), 24 November 2025. */
export const REFERENCE_MONDAY = { year: 2025, month: 11, day: 24 } as const;

/** Zones of single-zone countries, used for sun times when the place gives no timeZone. */
export const COUNTRY_TIME_ZONES: Readonly<Record<string, string>> = {
  cn: 'Asia/Shanghai',
  hk: 'Asia/Hong_Kong',
  mo: 'Asia/Macau',
  tw: 'Asia/Taipei',
  jp: 'Asia/Tokyo',
  kr: 'Asia/Seoul',
  sg: 'Asia/Singapore',
  at: 'Europe/Vienna',
  de: 'Europe/Berlin',
  ch: 'Europe/Zurich',
  fi: 'Europe/Helsinki',
  ad: 'Europe/Andorra',
  fr: 'Europe/Paris',
  it: 'Europe/Rome',
  cz: 'Europe/Prague',
  gb: 'Europe/London',
};

export class MomentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MomentError';
  }
}

// ---------------------------------------------------------------------------------------------
// moments

const WEEKDAYS: Readonly<Record<string, number>> = (() => {
  // offset from Monday
  const m: Record<string, number> = {};
  const en = [
    ['mo', 'mon', 'monday'],
    ['tu', 'tue', 'tues', 'tuesday'],
    ['we', 'wed', 'wednesday'],
    ['th', 'thu', 'thur', 'thurs', 'thursday'],
    ['fr', 'fri', 'friday'],
    ['sa', 'sat', 'saturday'],
    ['su', 'sun', 'sunday'],
  ];
  en.forEach((names, i) => names.forEach((n) => (m[n] = i)));
  const zhDays = [['一', '1'], ['二', '2'], ['三', '3'], ['四', '4'], ['五', '5'], ['六', '6'], ['日', '天', '7']];
  for (const prefix of ['周', '星期', '礼拜']) zhDays.forEach((names, i) => names.forEach((n) => (m[prefix + n] = i)));
  return m;
})();

const WEEKDAY_TIME_RE = /^([A-Za-z]+|(?:周|星期|礼拜)[一二三四五六日天1-7])\.?\s*,?\s*(\d{1,2})[:：](\d{2})$/;
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

const MOMENT_HELP =
  'expected "now", an ISO date-time ("2025-11-24T07:00", optionally with "Z" or "+08:00") or a weekday and time ("Mo 07:00", "周一 07:00")';

export interface MomentOptions {
  /** the current instant for "now" (tests); default the clock. */
  now?: Date;
  /** IANA zone whose wall clock absolute instants ("now", ISO with offset) are turned into. */
  timeZone?: string;
}

/** Parse a moment (see the module comment) into a wall-clock Date. Throws MomentError. */
export function parseMoment(text: string, opts: MomentOptions = {}): Date {
  const s = text.trim();
  if (s.toLowerCase() === 'now' || s === '现在') return wallClock(opts.now ?? new Date(), opts.timeZone);

  const wt = WEEKDAY_TIME_RE.exec(s);
  if (wt) {
    const offset = WEEKDAYS[wt[1].toLowerCase()];
    if (offset === undefined) throw new MomentError(`cannot read the moment "${text}": unknown weekday "${wt[1]}"`);
    const h = Number(wt[2]);
    const min = Number(wt[3]);
    if (h > 23 || min > 59) throw new MomentError(`cannot read the moment "${text}": time must be 00:00–23:59`);
    const { year, month, day } = REFERENCE_MONDAY;
    return new Date(year, month - 1, day + offset, h, min, 0, 0);
  }

  const iso = ISO_RE.exec(s);
  if (iso) {
    const [y, mo, d, h, mi] = [1, 2, 3, 4, 5].map((i) => Number(iso[i]));
    const sec = iso[6] === undefined ? 0 : Number(iso[6]);
    const daysInMonth = mo >= 1 && mo <= 12 ? new Date(Date.UTC(y, mo, 0)).getUTCDate() : 0;
    if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || sec > 59) {
      throw new MomentError(`cannot read the moment "${text}": no such date or time`);
    }
    const zone = iso[7];
    if (zone === undefined) return new Date(y, mo - 1, d, h, mi, sec, 0);
    let offsetMin = 0;
    if (zone.toUpperCase() !== 'Z') {
      const sign = zone[0] === '-' ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2)) : 0));
    }
    return wallClock(new Date(Date.UTC(y, mo - 1, d, h, mi, sec) - offsetMin * 60_000), opts.timeZone);
  }
  throw new MomentError(`cannot read the moment "${text}": ${MOMENT_HELP}`);
}

/** The wall-clock Date of an absolute instant in `timeZone` (the process zone when absent). */
function wallClock(instant: Date, timeZone: string | undefined): Date {
  if (timeZone === undefined) return new Date(instant.getTime());
  const f = zoneFields(timeZone, instant.getTime());
  return new Date(f.year, f.month - 1, f.day, f.hour, f.minute, f.second, 0);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function zoneFields(timeZone: string, ms: number) {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    try {
      fmt = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new MomentError(`unknown time zone "${timeZone}" (expected an IANA name such as "Asia/Shanghai")`);
    }
    formatters.set(timeZone, fmt);
  }
  const out = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const p of fmt.formatToParts(new Date(ms))) {
    if (p.type in out) out[p.type as keyof typeof out] = Number(p.value);
  }
  return out;
}

/** Offset (minutes east of UTC) of `timeZone` at the instant `ms`. */
function zoneOffsetMinutes(timeZone: string, ms: number): number {
  const f = zoneFields(timeZone, ms);
  const asUtc = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

/** Offset of `timeZone` when its clocks show the wall-clock time carried by `when`'s local fields. */
function zoneOffsetAtWallClock(timeZone: string, when: Date): number {
  const guess = Date.UTC(when.getFullYear(), when.getMonth(), when.getDate(), when.getHours(), when.getMinutes());
  const first = zoneOffsetMinutes(timeZone, guess);
  return zoneOffsetMinutes(timeZone, guess - first * 60_000);
}

// ---------------------------------------------------------------------------------------------
// evaluation

export interface OpeningHoursStats {
  /** openAt calls. */
  lookups: number;
  /** calls with no (or an empty) tag. */
  absent: number;
  /** calls answered from a cached parse (or cached parse failure). */
  cacheHits: number;
  /** values parsed (cache misses). */
  parses: number;
  /** values that failed to parse (each counted once per parse). */
  parseFailures: number;
  /** calls answered 'unknown' because the value did not parse. */
  unparsedLookups: number;
  /** calls whose evaluation threw (answered 'unknown'). */
  evaluationErrors: number;
  /** entries now in the cache. */
  cached: number;
}

type Entry = { oh: OpeningHours; error?: undefined } | { oh?: undefined; error: string };

const SUN_RE = /sunrise|sunset|dawn|dusk/i;
const HOLIDAY_RE = /\b(?:PH|SH)\b/i;
const MAX_FAILURES_KEPT = 200;

/** A cache of parsed opening_hours values with counters. Use one per job, or the shared one. */
export class OpeningHoursEvaluator {
  private readonly cache = new Map<string, Entry>();
  private readonly failed = new Map<string, string>();
  private counts = { lookups: 0, absent: 0, cacheHits: 0, parses: 0, parseFailures: 0, unparsedLookups: 0, evaluationErrors: 0 };

  constructor(readonly maxEntries = 20_000) {
    if (!(maxEntries >= 1)) throw new RangeError('maxEntries must be ≥ 1');
  }

  openAt(tag: string | undefined, when: Date, place: Place): OpenState {
    this.counts.lookups++;
    if (tag === undefined || tag.trim() === '') {
      this.counts.absent++;
      return 'unknown';
    }
    if (Number.isNaN(when.getTime())) throw new TypeError('openAt: invalid Date');
    if (!Number.isFinite(place.lat) || !Number.isFinite(place.lon)) throw new TypeError('openAt: place needs finite lat and lon');

    const country = place.country.toLowerCase();
    const state = place.state ?? '';
    const sun = SUN_RE.test(tag);
    let lon = place.lon;
    let key = tag;
    if (HOLIDAY_RE.test(tag)) key += `\u0001${country}\u0001${state}`;
    if (sun) {
      lon = this.libraryLongitude(place, country, when);
      key += `\u0001${place.lat.toFixed(2)}\u0001${lon.toFixed(2)}`;
    }

    let entry = this.cache.get(key);
    if (entry) this.counts.cacheHits++;
    else {
      entry = this.parse(tag, {
        // The library only uses coordinates given as strings (it tests typeof … === 'string' and
        // otherwise falls back to 06:00/18:00 for sunrise/sunset); its typings say number.
        lat: String(place.lat) as unknown as number,
        lon: String(lon) as unknown as number,
        address: { country_code: country, state },
      });
      if (this.cache.size >= this.maxEntries) {
        const oldest = this.cache.keys().next().value;
        if (oldest !== undefined) this.cache.delete(oldest);
      }
      this.cache.set(key, entry);
    }
    if (entry.oh === undefined) {
      this.counts.unparsedLookups++;
      return 'unknown';
    }
    const oh = entry.oh;
    try {
      return quietly(() => oh.getStateString(when, true));
    } catch {
      this.counts.evaluationErrors++;
      return 'unknown';
    }
  }

  stats(): OpeningHoursStats {
    return { ...this.counts, cached: this.cache.size };
  }

  /** Values that failed to parse → the library's message (the first MAX_FAILURES_KEPT). */
  failures(): ReadonlyMap<string, string> {
    return this.failed;
  }

  clear(): void {
    this.cache.clear();
    this.failed.clear();
    for (const k of Object.keys(this.counts) as (keyof typeof this.counts)[]) this.counts[k] = 0;
  }

  private parse(tag: string, nominatim: { lat: number; lon: number; address: { country_code: string; state: string } }): Entry {
    this.counts.parses++;
    try {
      // mode 0: time ranges, what the opening_hours key holds.
      const Library = openingHoursClass();
      return { oh: quietly(() => new Library(tag, nominatim, 0)) };
    } catch (e) {
      this.counts.parseFailures++;
      const message = (e instanceof Error ? e.message : String(e)).trim();
      if (this.failed.size < MAX_FAILURES_KEPT && !this.failed.has(tag)) this.failed.set(tag, message);
      return { error: message };
    }
  }

  private libraryLongitude(place: Place, country: string, when: Date): number {
    const zone = place.timeZone ?? COUNTRY_TIME_ZONES[country];
    if (zone === undefined) return place.lon;
    const deltaHours = (zoneOffsetAtWallClock(zone, when) + when.getTimezoneOffset()) / 60;
    if (deltaHours === 0) return place.lon;
    let lon = place.lon - 15 * deltaHours;
    lon = ((((lon + 180) % 360) + 360) % 360) - 180;
    return lon;
  }
}

/** Run a library call with console.error/warn silenced: the library logs what it also throws. */
function quietly<T>(fn: () => T): T {
  const { error, warn } = console;
  console.error = () => {};
  console.warn = () => {};
  try {
    return fn();
  } finally {
    console.error = error;
    console.warn = warn;
  }
}

const shared = new OpeningHoursEvaluator();

/** Is the facility open at `when` (wall-clock), per its opening_hours tag? Uses the shared cache. */
export const openAt = (tag: string | undefined, when: Date, place: Place): OpenState => shared.openAt(tag, when, place);
/** Counters of the shared cache. */
export const openingHoursStats = (): OpeningHoursStats => shared.stats();
/** Values the shared cache failed to parse. */
export const openingHoursFailures = (): ReadonlyMap<string, string> => shared.failures();
/** Empty the shared cache and reset its counters. */
export const resetOpeningHours = (): void => shared.clear();
