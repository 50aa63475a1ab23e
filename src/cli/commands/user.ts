/**
 * `quarter user create|list|set`: accounts for the web app. The first admin is created here
 * (there is no sign-up page). Passwords come from stdin (--password-stdin) or the
 * QUARTER_PASSWORD environment variable — never from a flag, which would end up in the shell
 * history and the process list.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { openStore } from '../../store/open-store.js';
import { DuplicateNameError, NotFoundError, StoreInputError, StoreOpenError, type QuarterStore, type UserRole } from '../../store/store.js';
import { CliError, EXIT, usageError } from '../errors.js';
import { printJson } from '../output.js';
import { dbPath } from './scenario.js';

const ROLES: readonly UserRole[] = ['public', 'planner', 'admin'];
/** Below this a password is refused: the web app faces a network. */
export const MIN_PASSWORD_CHARS = 10;

interface UserFlags {
  db?: string;
  role?: string;
  passwordStdin?: boolean;
  disable?: boolean;
  enable?: boolean;
  json?: boolean;
}

function readPassword(flags: UserFlags): string {
  let pw: string | undefined;
  if (flags.passwordStdin) pw = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  else pw = process.env.QUARTER_PASSWORD;
  if (pw === undefined) throw usageError('give the password on stdin with --password-stdin, or in QUARTER_PASSWORD');
  if ([...pw].length < MIN_PASSWORD_CHARS) throw usageError(`the password must have at least ${MIN_PASSWORD_CHARS} characters`);
  return pw;
}

function parseRole(raw: string | undefined, fallback?: UserRole): UserRole {
  if (raw === undefined) {
    if (fallback) return fallback;
    throw usageError(`--role: required (${ROLES.join(', ')})`);
  }
  if (!(ROLES as readonly string[]).includes(raw)) throw usageError(`--role: "${raw}" is not one of ${ROLES.join(', ')}`);
  return raw as UserRole;
}

async function withStore<T>(flag: string | undefined, fn: (s: QuarterStore) => Promise<T>): Promise<T> {
  let store: QuarterStore;
  try {
    store = await openStore(dbPath(flag), { passwordFile: process.env.QUARTER_DB_PASSWORD_FILE });
  } catch (e) {
    if (e instanceof StoreOpenError || e instanceof StoreInputError) throw new CliError(e.message, EXIT.input);
    throw e;
  }
  try {
    return await fn(store);
  } catch (e) {
    if (e instanceof DuplicateNameError || e instanceof StoreInputError) throw new CliError(e.message, EXIT.usage);
    if (e instanceof NotFoundError) throw new CliError(e.message, EXIT.noResult);
    throw e;
  } finally {
    await store.close();
  }
}

export function registerUser(program: Command): void {
  const u = program.command('user').description('web app accounts: planners and admins (passwords from stdin or QUARTER_PASSWORD)');
  const dbOpt = ['--db <file|url>', 'database: an SQLite file or a postgres:// URL (default $QUARTER_DB, else out/quarter.db)'] as const;
  u.command('create')
    .argument('<name>', 'login name')
    .option(...dbOpt)
    .option('--role <role>', `role: ${ROLES.join(', ')}`)
    .option('--password-stdin', 'read the password from stdin')
    .option('--json', 'print the user as JSON')
    .action(async (name: string, flags: UserFlags) => {
      const role = parseRole(flags.role);
      const password = readPassword(flags);
      const user = await withStore(flags.db, (s) => s.createUser({ name, password, role, actor: 'cli' }));
      if (flags.json) printJson(user);
      else process.stdout.write(`created ${user.role} "${user.name}" (id ${user.id})\n`);
    });
  u.command('list')
    .option(...dbOpt)
    .option('--json', 'print as JSON')
    .action(async (flags: UserFlags) => {
      const users = await withStore(flags.db, (s) => s.listUsers());
      if (flags.json) printJson(users);
      else for (const x of users) process.stdout.write(`${x.id}\t${x.name}\t${x.role}${x.disabled ? '\tdisabled' : ''}\n`);
    });
  u.command('set')
    .argument('<name>', 'login name')
    .option(...dbOpt)
    .option('--role <role>', `new role: ${ROLES.join(', ')}`)
    .option('--password-stdin', 'set a new password from stdin')
    .option('--disable', 'disable the account (ends its sessions)')
    .option('--enable', 'enable the account')
    .action(async (name: string, flags: UserFlags) => {
      if (flags.disable && flags.enable) throw usageError('--disable and --enable together');
      const role = flags.role === undefined ? undefined : parseRole(flags.role);
      const password = flags.passwordStdin || process.env.QUARTER_PASSWORD ? readPassword(flags) : undefined;
      if (role === undefined && password === undefined && !flags.disable && !flags.enable) throw usageError('nothing to change: give --role, --password-stdin, --disable or --enable');
      const user = await withStore(flags.db, async (s) => {
        const cur = await s.getUser(name);
        return s.updateUser(cur.id, cur.version, { role, password, disabled: flags.disable ? true : flags.enable ? false : undefined }, 'cli');
      });
      process.stdout.write(`updated "${user.name}": ${user.role}${user.disabled ? ', disabled' : ''}\n`);
    });
}
