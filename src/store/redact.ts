/**
 * Keeping database passwords out of messages and logs. A PostgreSQL URL may carry a password in its
 * user-info part (postgres://user:secret@host/db) or as a query parameter (?password=secret); the
 * store names its database by the URL with both replaced by ***, and every message that might echo
 * a connection error is passed through redactSecrets as well.
 */

export const REDACTED = '***';

/** Query parameters of a connection URL whose values are secrets. */
const SECRET_PARAMS = /([?&](?:password|sslpassword)=)([^&#]*)/gi;

/**
 * The URL with its password (user-info and query parameter) replaced by ***. Works on the raw text,
 * not a URL parser, so that a malformed URL is redacted too (a parser would throw, and the message
 * of that error would be where the password leaks).
 */
export function redactDatabaseUrl(url: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url);
  if (!scheme) return url.replace(SECRET_PARAMS, `$1${REDACTED}`);
  const rest = url.slice(scheme[0].length);
  // The user info ends at the last '@' before the path, query or fragment begins: a password may
  // hold a stray '@' or ':', but not an unencoded '/', '?' or '#' (no URL parser would read one).
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf('@');
  let out = rest;
  if (at >= 0) {
    const userInfo = authority.slice(0, at);
    const colon = userInfo.indexOf(':');
    if (colon >= 0) out = `${userInfo.slice(0, colon + 1)}${REDACTED}${rest.slice(at)}`;
  }
  return scheme[0] + out.replace(SECRET_PARAMS, `$1${REDACTED}`);
}

/** The secrets a URL carries, raw and as written (percent-encoded), for redactSecrets. */
export function databaseUrlSecrets(url: string): string[] {
  const found: string[] = [];
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url);
  if (scheme) {
    const rest = url.slice(scheme[0].length);
    const authorityEnd = rest.search(/[/?#]/);
    const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
    const at = authority.lastIndexOf('@');
    const colon = at >= 0 ? authority.slice(0, at).indexOf(':') : -1;
    if (colon >= 0) found.push(authority.slice(colon + 1, at));
  }
  for (const m of url.matchAll(SECRET_PARAMS)) found.push(m[2]);
  const all = new Set<string>();
  for (const s of found) {
    if (s === '') continue;
    all.add(s);
    try {
      all.add(decodeURIComponent(s));
    } catch {
      // not valid percent-encoding: only the raw form can appear
    }
  }
  return [...all];
}

/** `text` with every occurrence of each secret replaced by ***; longest secrets first. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].filter((x) => x !== '').sort((a, b) => b.length - a.length)) out = out.split(s).join(REDACTED);
  return out;
}
