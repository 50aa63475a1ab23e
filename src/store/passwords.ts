/**
 * Password hashing with scrypt (node:crypto), in the PHC string format
 *   $scrypt$ln=15,r=8,p=1$<salt, base64 without padding>$<key, base64 without padding>
 * so every hash carries its own parameters and salt: the defaults can be raised later and old
 * hashes still verify (needsRehash tells when to replace one).
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  logN: number;
  /** block size. */
  r: number;
  /** parallelism. */
  p: number;
  /** bytes of derived key. */
  keyLength: number;
  /** bytes of random salt. */
  saltLength: number;
}

/** N = 2^15, r = 8: 32 MiB and some tens of milliseconds per hash (RFC 7914's interactive-login range). */
export const DEFAULT_SCRYPT: Readonly<ScryptParams> = { logN: 15, r: 8, p: 1, keyLength: 32, saltLength: 16 };

type Bounds = Readonly<Record<keyof ScryptParams, readonly [number, number]>>;
/** What hashPassword accepts: nothing weaker than a 128-bit salt and a 256-bit key. */
const NEW_HASH_BOUNDS: Bounds = { logN: [10, 20], r: [1, 32], p: [1, 16], keyLength: [32, 128], saltLength: [16, 128] };
/**
 * What a stored hash may say before we run it: a tampered row must not make a login allocate
 * gigabytes or spin for minutes (cost capped), nor verify against a trivially short key. Salt and
 * key lengths are looser than for new hashes so that hashes made elsewhere (RFC 7914's vectors
 * among them) still verify.
 */
const STORED_HASH_BOUNDS: Bounds = { logN: [10, 20], r: [1, 32], p: [1, 16], keyLength: [16, 128], saltLength: [4, 128] };

/** Longer passwords are refused: scrypt's cost does not depend on length, but memory for the input does. */
export const MAX_PASSWORD_CHARS = 1024;

export class PasswordHashFormatError extends Error {
  constructor(reason: string) {
    super(`stored password hash is not a valid $scrypt$ PHC string: ${reason}`);
    this.name = 'PasswordHashFormatError';
  }
}

function deriveKey(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.logN;
  return new Promise((resolve, reject) => {
    // Node refuses unless maxmem ≥ 128·N·r; leave headroom for the p lanes.
    const maxmem = 128 * N * params.r * (params.p + 1) + (1 << 20);
    // Compatibility normalisation (NFKC, as NIST SP 800-63B advises): the same password typed with
    // full-width or half-width characters, or composed differently by an input method, matches.
    scryptCallback(password.normalize('NFKC'), salt, params.keyLength, { N, r: params.r, p: params.p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

const b64 = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');

function checkParams(params: ScryptParams, bounds: Bounds, fail: (reason: string) => Error): void {
  for (const [k, [lo, hi]] of Object.entries(bounds) as [keyof ScryptParams, readonly [number, number]][]) {
    const v = params[k];
    if (!Number.isInteger(v) || v < lo || v > hi) throw fail(`${k} = ${v} is outside [${lo}, ${hi}]`);
  }
}

/** Hash a password with a fresh random salt. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  if (typeof password !== 'string') throw new TypeError('password must be a string');
  checkParams(params, NEW_HASH_BOUNDS, (reason) => new RangeError(`scrypt parameters: ${reason}`));
  const salt = randomBytes(params.saltLength);
  const key = await deriveKey(password, salt, params);
  return `$scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

export interface ParsedPasswordHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

export function parsePasswordHash(stored: string): ParsedPasswordHash {
  const m = typeof stored === 'string' ? PHC.exec(stored) : null;
  if (!m) throw new PasswordHashFormatError('expected $scrypt$ln=…,r=…,p=…$salt$key');
  const salt = Buffer.from(m[4], 'base64');
  const key = Buffer.from(m[5], 'base64');
  const params: ScryptParams = { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]), keyLength: key.length, saltLength: salt.length };
  checkParams(params, STORED_HASH_BOUNDS, (reason) => new PasswordHashFormatError(reason));
  return { params, salt, key };
}

/** True when the password matches; compares in constant time. Throws PasswordHashFormatError on a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const { params, salt, key } = parsePasswordHash(stored);
  if (typeof password !== 'string') return false;
  const candidate = await deriveKey(password, salt, params);
  return timingSafeEqual(candidate, key);
}

/** True when a stored hash was made with weaker (or other) parameters than `params`. */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const p = parsePasswordHash(stored).params;
  return p.logN !== params.logN || p.r !== params.r || p.p !== params.p || p.keyLength !== params.keyLength || p.saltLength !== params.saltLength;
}
