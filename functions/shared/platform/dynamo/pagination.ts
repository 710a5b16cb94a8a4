import { createHmac, timingSafeEqual } from 'node:crypto';
import { loadKeyring } from '../auth/keyring';
import { DomainValidationError } from '../errors/domain';

export type PageKey = Record<string, string | number>;

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export const MAX_PAGE_SIZE = 100;
/** Longer than any cursor this service hands out; a longer one is refused before it is read. */
export const MAX_CURSOR_LENGTH = 2048;

/**
 * What a cursor continues: one listing (the route's list, e.g. `leads`), of one tenant (absent for
 * platform lists), with one filter. A cursor made for one binding is refused for any other.
 */
export interface CursorBinding {
  readonly list: string;
  readonly tenantId?: string;
  readonly filter?: Readonly<Record<string, string | undefined>>;
}

const CURSOR_KEY_LABEL = 'adsengineer page cursor v1';

/** Cursor MAC keys, derived from the service's signing secrets: current first, then previous. */
async function cursorKeys(): Promise<Buffer[]> {
  const keyring = await loadKeyring();
  const secrets = [keyring.current.secret];
  const previous = keyring.previous;
  if (previous && (previous.notAfter === undefined || Date.now() / 1000 <= previous.notAfter))
    secrets.push(previous.secret);
  return secrets.map((secret) => createHmac('sha256', secret).update(CURSOR_KEY_LABEL).digest());
}

function bindingText(binding: CursorBinding): string {
  const filter = Object.entries(binding.filter ?? {})
    .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '')
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([binding.list, binding.tenantId ?? '', filter]);
}

function mac(key: Buffer, binding: CursorBinding, payload: string): Buffer {
  return createHmac('sha256', key)
    .update(`${bindingText(binding)}\n${payload}`)
    .digest();
}

/**
 * A page cursor: the last key read, and an HMAC over it and its binding (tenant, list, filter)
 * with a key derived from the service's signing secret. Clients cannot make or alter one.
 */
export async function encodeCursor(key: PageKey | undefined, binding: CursorBinding): Promise<string | null> {
  if (!key) return null;
  const payload = Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
  const [current] = await cursorKeys();
  return `${payload}.${mac(current as Buffer, binding, payload).toString('base64url')}`;
}

/**
 * Reads a cursor back: it must carry a valid MAC for this binding (made with the current or the
 * in-window previous secret) and decode to a key of the partition being listed (`belongs`).
 * Anything else is 400 `validation_failed`: a crafted cursor never reaches the database.
 */
export async function decodeCursor(
  cursor: string | undefined,
  binding: CursorBinding,
  belongs: (key: PageKey) => boolean,
): Promise<PageKey | undefined> {
  if (cursor === undefined || cursor === '') return undefined;
  const invalid = () => new DomainValidationError([{ path: 'cursor', message: 'Invalid cursor' }]);
  if (cursor.length > MAX_CURSOR_LENGTH) throw invalid();
  const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(cursor);
  if (!match) throw invalid();
  const [, payload, tag] = match as unknown as [string, string, string];
  const given = Buffer.from(tag, 'base64url');
  // Only the tag this service wrote: base64url ignores the low bits of the last character, so
  // other spellings of the same bytes exist; they are refused like any altered cursor.
  if (given.toString('base64url') !== tag) throw invalid();
  const keys = await cursorKeys();
  if (!keys.some((k) => timingSafeEqual(mac(k, binding, payload), given))) throw invalid();
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof key !== 'object' || key === null || Array.isArray(key)) throw invalid();
  const values = Object.values(key);
  if (!values.every((v) => typeof v === 'string' || typeof v === 'number')) throw invalid();
  if (!belongs(key as PageKey)) throw invalid();
  return key as PageKey;
}

export function pageSize(limit: string | undefined, fallback = 50): number {
  if (limit === undefined || limit === '') return fallback;
  const n = Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) {
    throw new DomainValidationError([
      { path: 'limit', message: `limit must be an integer from 1 to ${MAX_PAGE_SIZE}` },
    ]);
  }
  return n;
}
