import { DomainValidationError } from './domain-errors';

export type PageKey = Record<string, string | number>;

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export const MAX_PAGE_SIZE = 100;

export function encodeCursor(key: PageKey | undefined): string | null {
  if (!key) return null;
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * Reads a cursor back. A cursor is opaque to clients but not trusted: it must decode to a key of
 * the partition being listed (`belongs`), so a crafted cursor cannot reach another tenant's data.
 */
export function decodeCursor(
  cursor: string | undefined,
  belongs: (key: PageKey) => boolean,
): PageKey | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const invalid = () => new DomainValidationError([{ path: 'cursor', message: 'Invalid cursor' }]);
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
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
