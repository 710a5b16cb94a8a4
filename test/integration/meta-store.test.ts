import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoConversionStore } from '../../functions/shared/features/conversions/dynamo';
import type { TenantScope } from '../../functions/shared/features/tenancy/rules/scope';
import { sqsClient } from '../../functions/shared/platform/aws/clients';
import { queueUrl } from '../../functions/shared/platform/config/resources';
import { MetaIntegrationStore } from '../../functions/shared/providers/meta/dynamo';
import { metaIntegrationOf } from '../../functions/shared/providers/meta/integration';
import { freshResources } from '../support/emulator';
import { conversion } from '../support/fixtures';

/** The Meta integration item on DynamoDB: one disconnect per refused token, a new token reconnects. */
describe('Meta integration store', () => {
  const store = new MetaIntegrationStore();
  const scope = { tenantId: 'ten_meta_store' } as TenantScope;
  const now = new Date('2026-11-25T12:00:00Z');
  const body = { pixel_id: '1234567890', access_token: 'EAAB-unused-here-000000' };

  beforeAll(async () => {
    await freshResources();
  });

  it('disconnects once for the token it was called with; saving a new token connects again', async () => {
    await store.save(scope, metaIntegrationOf(body, 'sealed-1', now));
    expect(await store.disconnect(scope.tenantId, 'sealed-1', 'Meta refused the access token', now)).toBe(
      true,
    );
    // A second batch that saw the same refusal changes nothing: the alarm is raised once.
    expect(await store.disconnect(scope.tenantId, 'sealed-1', 'Meta refused the access token', now)).toBe(
      false,
    );
    expect(await store.get(scope.tenantId)).toMatchObject({
      status: 'disconnected',
      status_reason: 'Meta refused the access token',
    });

    await store.save(scope, metaIntegrationOf(body, 'sealed-2', now));
    expect((await store.get(scope.tenantId))?.status).toBe('connected');
    expect(await store.get(scope.tenantId)).not.toHaveProperty('status_reason');
    // A refusal of the old token, seen late, does not disconnect the new one.
    expect(await store.disconnect(scope.tenantId, 'sealed-1', 'late', now)).toBe(false);
    expect((await store.get(scope.tenantId))?.status).toBe('connected');
    expect(await store.disconnect('ten_unknown', 'sealed-1', 'x', now)).toBe(false);
  });

  it("queues again the tenant's waiting Meta conversions, and only those", async () => {
    const conversions = new DynamoConversionStore();
    const at = new Date();
    const other = { tenantId: 'ten_other' } as TenantScope;
    for (const c of [
      conversion({ id: 'cnv_m1', platform: 'meta' }, at),
      conversion({ id: 'cnv_m2', platform: 'meta' }, at),
      conversion({ id: 'cnv_g1', platform: 'google_ads' }, at),
    ])
      await conversions.queue(scope, c);
    await conversions.queue(other, conversion({ id: 'cnv_o1', platform: 'meta' }, at));
    const drain = async (): Promise<Array<{ tenant_id: string; conversion_id: string }>> => {
      const bodies: Array<{ tenant_id: string; conversion_id: string }> = [];
      for (;;) {
        const out = await sqsClient().send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl('conversions'),
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
          }),
        );
        if (!out.Messages?.length) return bodies;
        for (const m of out.Messages) {
          bodies.push(JSON.parse(m.Body ?? '{}'));
          await sqsClient().send(
            new DeleteMessageCommand({
              QueueUrl: queueUrl('conversions'),
              ReceiptHandle: m.ReceiptHandle ?? '',
            }),
          );
        }
      }
    };
    expect((await drain()).length).toBe(4);
    expect(await conversions.requeueWaiting(scope, 'meta')).toBe(2);
    const again = await drain();
    expect(again.map((m) => m.conversion_id).sort()).toEqual(['cnv_m1', 'cnv_m2']);
    expect(again.every((m) => m.tenant_id === scope.tenantId)).toBe(true);
  });
});
