/**
 * Password hashes: checked against RFC 7914's published scrypt test vectors and against
 * node:crypto's scryptSync run here on the salt and parameters the hash string declares.
 */
import { scryptSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { DEFAULT_SCRYPT, hashPassword, needsRehash, parsePasswordHash, PasswordHashFormatError, verifyPassword } from '../../src/store/passwords.js';

const b64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64').replace(/=+$/, '');
const b64text = (s: string): string => Buffer.from(s, 'utf8').toString('base64').replace(/=+$/, '');

// RFC 7914 §12, vectors 2 and 3.
const RFC_VECTOR_2 = `$scrypt$ln=10,r=8,p=16$${b64text('NaCl')}$${b64(
  'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
)}`;
const RFC_VECTOR_3 = `$scrypt$ln=14,r=8,p=1$${b64text('SodiumChloride')}$${b64(
  '7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887',
)}`;

const FAST = { ...DEFAULT_SCRYPT, logN: 10 };

describe('scrypt password hashes', () => {
  test('RFC 7914 vectors verify with the right password only', async () => {
    expect(await verifyPassword('password', RFC_VECTOR_2)).toBe(true);
    expect(await verifyPassword('Password', RFC_VECTOR_2)).toBe(false);
    expect(await verifyPassword('pleaseletmein', RFC_VECTOR_3)).toBe(true);
    expect(await verifyPassword('pleaseletmein ', RFC_VECTOR_3)).toBe(false);
  });

  test('the default hash string: format, parameters in it, and the key is scrypt of those', async () => {
    const t0 = performance.now();
    const h = await hashPassword('correct horse battery staple');
    const ms = performance.now() - t0;
    expect(h).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(h).not.toContain('horse');
    const [, , , saltB64, keyB64] = h.split('$');
    const salt = Buffer.from(saltB64, 'base64');
    expect(salt.length).toBe(16);
    const expected = scryptSync('correct horse battery staple', salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 256 * 2 ** 20 });
    expect(Buffer.from(keyB64, 'base64').equals(expected)).toBe(true);
    expect(await verifyPassword('correct horse battery staple', h)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', h)).toBe(false);
    expect(await verifyPassword('', h)).toBe(false);
    console.log(`default scrypt hash: ${ms.toFixed(0)} ms`);
  });

  test('the same password gets a different salt and key each time; both verify', async () => {
    const a = await hashPassword('same password', FAST);
    const b = await hashPassword('same password', FAST);
    expect(a).not.toBe(b);
    expect(parsePasswordHash(a).salt.equals(parsePasswordHash(b).salt)).toBe(false);
    expect(await verifyPassword('same password', a)).toBe(true);
    expect(await verifyPassword('same password', b)).toBe(true);
  });

  test('Unicode: NFKC-equivalent spellings match, different characters do not', async () => {
    const h = await hashPassword('ｐａｓｓ１２３４', FAST); // full-width
    expect(await verifyPassword('pass1234', h)).toBe(true);
    const cafe = await hashPassword('cafe\u0301 一刻钟 🏪', FAST); // e + combining acute
    expect(await verifyPassword('caf\u00e9 一刻钟 🏪', cafe)).toBe(true);
    expect(await verifyPassword('cafe 一刻钟 🏪', cafe)).toBe(false);
  });

  test('needsRehash compares the stored parameters with the wanted ones', async () => {
    const weak = await hashPassword('pw-pw-pw-pw', FAST);
    expect(needsRehash(weak)).toBe(true);
    expect(needsRehash(weak, FAST)).toBe(false);
    expect(needsRehash(RFC_VECTOR_3, { logN: 14, r: 8, p: 1, keyLength: 64, saltLength: 14 })).toBe(false);
  });

  test('malformed or hostile stored hashes are refused with a clear error, before any work', async () => {
    const cases = [
      '',
      'plain text password',
      '$2b$10$abcdefghijklmnopqrstuv', // bcrypt
      '$scrypt$ln=15,r=8$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      // cost 2^30 would allocate 128 GiB
      '$scrypt$ln=30,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      // 3-byte key
      '$scrypt$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAA',
    ];
    for (const c of cases) {
      const t0 = performance.now();
      await expect(verifyPassword('x', c)).rejects.toThrow(PasswordHashFormatError);
      expect(performance.now() - t0).toBeLessThan(50);
    }
    await expect(hashPassword('x', { ...DEFAULT_SCRYPT, logN: 25 })).rejects.toThrow(/logN = 25/);
    await expect(hashPassword('x', { ...DEFAULT_SCRYPT, saltLength: 4 })).rejects.toThrow(/saltLength = 4/);
  });
});
