/**
 * Session and CSRF tokens. The store keeps only a SHA-256 of a session token: a copy of the
 * database (a backup, a leaked file) does not let anyone log in. A plain hash is enough here, unlike
 * passwords, because the token is 256 random bits and cannot be guessed.
 */
import { createHash, randomBytes } from 'node:crypto';

/** 32 random bytes, base64url (43 characters, safe in cookies and headers). */
export function newSecretToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** What newSecretToken makes; anything else is not looked up at all. */
export const SECRET_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
