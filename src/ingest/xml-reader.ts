/**
 * Streaming OSM XML reader (.osm, and .osm.gz through zlib's gunzip stream) on saxes.
 * The text is never held whole: chunks from fs.createReadStream go straight into the parser.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import type { Tags } from './osm-types.js';
import { MEMBER_NODE, MEMBER_RELATION, MEMBER_WAY, OsmInputError, type OsmVisitor, type RelationMembers } from './osm-source.js';

const NONE = 0;
const NODE = 1;
const WAY = 2;
const RELATION = 3;

export async function scanXml(
  file: string,
  size: number,
  gz: boolean,
  v: OsmVisitor,
  onBytes?: (done: number, total: number) => void,
): Promise<void> {
  const raw = createReadStream(file, { highWaterMark: 1 << 18 });
  let text: Readable = raw;
  if (gz) text = raw.pipe(createGunzip());
  text.setEncoding('utf8');
  // pipe() does not forward errors: surface read errors of the raw file through the text stream.
  if (gz) raw.on('error', (e) => text.destroy(e));

  const parser = new SaxesParser({ position: true, xmlns: false });
  let sawRoot = false;
  let kind = NONE;
  let deleted = false;
  let id = 0;
  let lon = NaN;
  let lat = NaN;
  let tags: Tags | null = null;
  let refs = new Float64Array(256);
  let nrefs = 0;
  const members: RelationMembers = { count: 0, types: new Uint8Array(64), ids: new Float64Array(64), roles: [] };
  let inRemark = false;
  let remark = '';
  let failure: OsmInputError | null = null;

  const fail = (detail: string): never => {
    throw new OsmInputError(file, `line ${parser.line}, column ${parser.column + 1}: ${detail}`, {
      line: parser.line,
      column: parser.column + 1,
    });
  };
  const num = (a: Record<string, string>, k: string): number => {
    const s = a[k];
    const x = s === undefined ? NaN : Number(s);
    if (!Number.isFinite(x)) fail(`<${kindName(kind)}> has ${s === undefined ? 'no' : 'a bad'} "${k}" attribute`);
    return x;
  };

  parser.on('opentag', (t: SaxesTagPlain) => {
    const a = t.attributes;
    const name = t.name;
    if (!sawRoot) {
      sawRoot = true;
      if (name !== 'osm') fail(`root element is <${name}>, expected <osm> (not an OSM XML file)`);
      return;
    }
    switch (name) {
      case 'node':
        kind = NODE;
        id = num(a, 'id');
        deleted = a.action === 'delete' || a.visible === 'false';
        tags = null;
        if (deleted || a.lat === undefined) {
          // deleted nodes carry no position; they are skipped at the close tag.
          deleted = true;
          return;
        }
        lat = num(a, 'lat');
        lon = num(a, 'lon');
        return;
      case 'way':
        kind = WAY;
        id = num(a, 'id');
        deleted = a.action === 'delete' || a.visible === 'false';
        tags = null;
        nrefs = 0;
        return;
      case 'relation':
        kind = RELATION;
        id = num(a, 'id');
        deleted = a.action === 'delete' || a.visible === 'false';
        tags = null;
        members.count = 0;
        return;
      case 'tag':
        if (kind !== NONE) {
          if (tags === null) tags = {};
          tags[a.k ?? ''] = a.v ?? '';
        }
        return;
      case 'nd':
        if (kind === WAY) {
          if (nrefs === refs.length) {
            const b = new Float64Array(refs.length * 2);
            b.set(refs);
            refs = b;
          }
          refs[nrefs++] = num(a, 'ref');
        }
        return;
      case 'member': {
        if (kind !== RELATION) return;
        const i = members.count++;
        if (i === members.ids.length) {
          const ids = new Float64Array(i * 2);
          ids.set(members.ids);
          const types = new Uint8Array(i * 2);
          types.set(members.types);
          members.ids = ids;
          members.types = types;
        }
        const ty = a.type;
        members.types[i] = ty === 'node' ? MEMBER_NODE : ty === 'way' ? MEMBER_WAY : MEMBER_RELATION;
        members.ids[i] = num(a, 'ref');
        members.roles[i] = a.role ?? '';
        return;
      }
      case 'remark':
        // Overpass reports timeouts and memory exhaustion inside a 200 response as <remark>.
        inRemark = true;
        remark = '';
        return;
      default:
        return;
    }
  });
  parser.on('text', (s: string) => {
    if (inRemark) remark += s;
  });
  parser.on('closetag', (t: SaxesTagPlain) => {
    const name = t.name;
    if (name === 'node' && kind === NODE) {
      if (!deleted) v.node?.(id, lon, lat, tags);
      kind = NONE;
    } else if (name === 'way' && kind === WAY) {
      if (!deleted) v.way?.(id, refs, nrefs, tags ?? {});
      kind = NONE;
    } else if (name === 'relation' && kind === RELATION) {
      members.roles.length = members.count;
      if (!deleted) v.relation?.(id, members, tags ?? {});
      kind = NONE;
    } else if (name === 'remark') {
      inRemark = false;
      if (/error/i.test(remark)) fail(`the server reported an error, so the data is incomplete: ${remark.trim().slice(0, 200)}`);
    }
  });

  const wrap = (e: unknown): OsmInputError => {
    if (e instanceof OsmInputError) return e;
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err.code === 'string' && err.code.startsWith('Z_')) {
      const what = err.code === 'Z_BUF_ERROR' ? 'gzip data ends early (truncated?)' : `corrupt gzip data: ${err.message}`;
      return new OsmInputError(file, `${what} near byte ${raw.bytesRead}`, { byte: raw.bytesRead });
    }
    if (err && typeof err.code === 'string') return new OsmInputError(file, `cannot read: ${err.message}`);
    // saxes prefixes "line:column: "; we state the position ourselves.
    let msg = String(err?.message ?? e).replace(/^\d+:\d+: /, '');
    if (ended && msg.startsWith('unclosed tag')) msg += ' (the file ends early: truncated?)';
    return new OsmInputError(file, `line ${parser.line}, column ${parser.column + 1}: malformed XML: ${msg}`, {
      line: parser.line,
      column: parser.column + 1,
    });
  };

  let ended = false;
  try {
    for await (const chunk of text) {
      parser.write(chunk as string);
      onBytes?.(raw.bytesRead, size);
    }
    ended = true;
    parser.close();
  } catch (e) {
    failure = wrap(e);
  } finally {
    raw.destroy();
    if (gz) text.destroy();
  }
  if (failure) throw failure;
  if (!sawRoot) throw new OsmInputError(file, 'no XML element found (empty or not an OSM XML file)', { line: 1 });
  onBytes?.(size, size);
}

function kindName(k: number): string {
  return k === NODE ? 'node' : k === WAY ? 'way' : k === RELATION ? 'relation' : 'element';
}
