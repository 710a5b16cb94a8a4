import { createHmac } from 'node:crypto';
import { clearKeyringCache } from '../../functions/shared/platform/auth/keyring';
import {
  type CursorBinding,
  decodeCursor,
  encodeCursor,
  MAX_CURSOR_LENGTH,
  type PageKey,
  pageSize,
} from '../../functions/shared/platform/dynamo/pagination';
import { DomainValidationError } from '../../functions/shared/platform/errors/domain';

const SECRET = 'pagination-test-secret-0123456789-abcdefgh';
const NEXT = 'pagination-next-secret-0123456789-abcdefghi';
const leads: CursorBinding = { list: 'leads', tenantId: 'ten_a', filter: { status: 'won' } };
const key = { pk: 'TENANT#ten_a', sk: 'LEAD#lead_1', gsi2pk: 'TENANT#ten_a#STATUS#won', gsi2sk: 'x' };
const anyKey = (_key: PageKey) => true;

async function refused(cursor: string, binding: CursorBinding = leads, belongs = anyKey): Promise<void> {
  await expect(decodeCursor(cursor, binding, belongs)).rejects.toThrow(DomainValidationError);
  await expect(decodeCursor(cursor, binding, belongs)).rejects.toMatchObject({
    details: [{ path: 'cursor', message: 'Invalid cursor' }],
  });
}

describe('page cursors', () => {
  const saved = process.env.JWT_SECRET;
  beforeEach(() => {
    process.env.JWT_SECRET = SECRET;
    clearKeyringCache();
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.JWT_SECRET;
    else process.env.JWT_SECRET = saved;
    clearKeyringCache();
  });

  it('round-trips a key for the listing it was made for; no key, no cursor', async () => {
    const cursor = (await encodeCursor(key, leads)) as string;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(await decodeCursor(cursor, leads, (k) => k.pk === 'TENANT#ten_a')).toEqual(key);
    expect(await encodeCursor(undefined, leads)).toBeNull();
    expect(await decodeCursor(undefined, leads, anyKey)).toBeUndefined();
    expect(await decodeCursor('', leads, anyKey)).toBeUndefined();
  });

  it('refuses it for another tenant, list or filter', async () => {
    const cursor = (await encodeCursor(key, leads)) as string;
    await refused(cursor, { ...leads, tenantId: 'ten_b' });
    await refused(cursor, { ...leads, list: 'conversions' });
    await refused(cursor, { ...leads, filter: { status: 'new' } });
    await refused(cursor, { ...leads, filter: { status: 'won', created_from: '2026-01-01' } });
    await refused(cursor, { list: 'leads', tenantId: 'ten_a' });
    // The order of filter fields and absent ones do not matter.
    const both = (await encodeCursor(key, {
      ...leads,
      filter: { status: 'won', created_to: 'z' },
    })) as string;
    expect(
      await decodeCursor(
        both,
        { ...leads, filter: { created_to: 'z', status: 'won', x: undefined } },
        anyKey,
      ),
    ).toEqual(key);
  });

  it('refuses the unsigned cursors of before, a changed payload, and malformed text', async () => {
    const unsigned = Buffer.from(JSON.stringify({ pk: 'TENANT#ten_a' })).toString('base64url');
    await refused(unsigned);
    const cursor = (await encodeCursor(key, leads)) as string;
    const [, tag] = cursor.split('.');
    const partial = Buffer.from(JSON.stringify({ pk: 'TENANT#ten_a' })).toString('base64url');
    await refused(`${partial}.${tag}`);
    // The same bytes spelled otherwise: the last character's low bits are not part of the tag.
    const last = (tag as string).slice(-1);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sameBytes = alphabet[(alphabet.indexOf(last) & ~0b11) | (~alphabet.indexOf(last) & 0b11)] as string;
    await refused(`${cursor.split('.')[0]}.${(tag as string).slice(0, -1)}${sameBytes}`);
    for (const bad of ['.', 'a.b', `${cursor}.x`, `${cursor}=`, 'é', 'x'.repeat(MAX_CURSOR_LENGTH + 1)])
      await refused(bad);
  });

  it('refuses a validly signed payload that is not a key of the partition', async () => {
    const sign = (payload: unknown) => {
      const body = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)).toString(
        'base64url',
      );
      const macKey = createHmac('sha256', SECRET).update('adsengineer page cursor v1').digest();
      const text = `${JSON.stringify([leads.list, leads.tenantId, [['status', 'won']]])}\n${body}`;
      return `${body}.${createHmac('sha256', macKey).update(text).digest('base64url')}`;
    };
    expect(await decodeCursor(sign(key), leads, anyKey)).toEqual(key);
    for (const payload of ['not json', [1], null, { pk: { nested: true } }]) await refused(sign(payload));
    await refused(sign(key), leads, (k) => k.pk === 'TENANT#ten_b');
  });

  it("keeps cursors of the previous secret working through a rotation's window only", async () => {
    const cursor = (await encodeCursor(key, leads)) as string;
    const nowS = Math.floor(Date.now() / 1000);
    process.env.JWT_SECRET = JSON.stringify({
      current: NEXT,
      previous: SECRET,
      previous_expires_at: nowS + 600,
    });
    clearKeyringCache();
    expect(await decodeCursor(cursor, leads, anyKey)).toEqual(key);
    process.env.JWT_SECRET = JSON.stringify({
      current: NEXT,
      previous: SECRET,
      previous_expires_at: nowS - 600,
    });
    clearKeyringCache();
    await refused(cursor);
    process.env.JWT_SECRET = NEXT;
    clearKeyringCache();
    await refused(cursor);
  });

  it('bounds the page size', () => {
    expect(pageSize(undefined)).toBe(50);
    expect(pageSize('100')).toBe(100);
    for (const bad of ['0', '101', '1.5', 'x']) expect(() => pageSize(bad)).toThrow(DomainValidationError);
  });
});
