import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditTrail } from '../../functions/shared/features/gdpr/dynamo-audit';
import { patchSubjectBody, subjectById, subjectOf } from '../../functions/shared/features/gdpr/service';
import { hasherFor } from '../../functions/shared/features/leads/rules/email-hash';
import type { TenantScope } from '../../functions/shared/features/tenancy/rules/scope';
import { DomainValidationError } from '../../functions/shared/platform/errors/domain';

const hash = hasherFor('k'.repeat(32));
const scope = (tenantId: string) => ({ tenantId }) as TenantScope;
const id = 'a1'.repeat(32);

/** The error a call throws, or undefined when it returns. */
function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('subject ids', () => {
  it('names a subject by the shape of a keyed hash only', () => {
    expect(subjectById(id)).toEqual({ hash: id });
    for (const malformed of [undefined, '', id.toUpperCase(), `${id}0`, id.slice(1), 'person@example.com']) {
      const error = thrown(() => subjectById(malformed));
      expect(error).toBeInstanceOf(DomainValidationError);
      expect((error as DomainValidationError).details).toEqual([
        { path: 'subject_id', message: 'Invalid subject id' },
      ]);
    }
  });

  it('derives the same id from any spelling of an email, a different one in another tenant', () => {
    const a = subjectOf(scope('ten_a'), 'Person@Example.com', hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(subjectById(a.hash)).toEqual(a);
    expect(subjectOf(scope('ten_a'), ' person@EXAMPLE.com ', hash)).toEqual(a);
    expect(subjectOf(scope('ten_b'), 'person@example.com', hash).hash).not.toBe(a.hash);
    const error = thrown(() => subjectOf(scope('ten_a'), 'not an email', hash));
    expect(error).toBeInstanceOf(DomainValidationError);
    expect(JSON.stringify((error as DomainValidationError).details)).not.toContain('not an email');
  });
});

describe('rectification and restriction body', () => {
  it('needs a field to rectify or a restriction; a country alone changes nothing', () => {
    expect(patchSubjectBody.safeParse({}).success).toBe(false);
    expect(patchSubjectBody.safeParse({ country: 'DE' }).success).toBe(false);
    expect(patchSubjectBody.safeParse({ restricted: false }).success).toBe(true);
    expect(patchSubjectBody.safeParse({ phone: '030 1234567', country: 'DE' }).success).toBe(true);
    expect(patchSubjectBody.safeParse({ restricted: 'yes' }).success).toBe(false);
    expect(patchSubjectBody.safeParse({ phone: '030 1234567', country: 'Germany' }).success).toBe(false);
  });
});

/** A client answering each call with the next canned response, recording what was asked. */
function scripted(...responses: Array<Record<string, unknown>>) {
  const calls: Array<Record<string, unknown>> = [];
  const client = {
    send: async (command: { input: Record<string, unknown> }) => {
      calls.push(command.input);
      return responses.shift() ?? {};
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, calls };
}

describe('audit trail queries', () => {
  it("lists one subject's partition, or the tenant's index, newest first", async () => {
    const { client, calls } = scripted({ Items: [] }, { Items: [] });
    const trail = new DynamoAuditTrail(client, 'audit');
    await trail.list(scope('ten_a'), id, 5);
    await trail.list(scope('ten_a'), undefined, 5);
    expect(calls[0]).toEqual(
      expect.objectContaining({
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `TENANT#ten_a#SUBJECT#${id}` },
        ScanIndexForward: false,
        Limit: 5,
      }),
    );
    expect(calls[0]).not.toHaveProperty('IndexName');
    expect(calls[1]).toEqual(
      expect.objectContaining({
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': 'TENANT#ten_a' },
        ScanIndexForward: false,
      }),
    );
  });

  it('reads an answer without items as an empty last page, and returns records without keys', async () => {
    const record = { id: 'aud_1', at: '2026-11-20T10:00:00.000Z', action: 'export', email_hash: id };
    const { client } = scripted({}, { Items: [{ pk: 'p', sk: 's', gsi1pk: 'g', gsi1sk: 'h', ...record }] });
    const trail = new DynamoAuditTrail(client, 'audit');
    expect(await trail.list(scope('ten_a'), id, 5)).toEqual({ items: [], next_cursor: null });
    expect(await trail.list(scope('ten_a'), undefined, 5)).toEqual({ items: [record], next_cursor: null });
  });
});
