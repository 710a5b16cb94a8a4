import { parseEnvelope, serializeEnvelope } from '../../functions/shared/features/webhooks/model';
import { InvalidMessageError } from '../../functions/shared/platform/queues/message';
import { processEnvelope } from '../../functions/webhook-worker/processors';

const envelope = {
  version: 1 as const,
  id: 'wh_1',
  source: 'shopify' as const,
  tenant_id: 't_1',
  topic: 'orders/create',
  delivery_id: 'd-1',
  received_at: '2026-11-25T10:00:00.000Z',
  payload: '{"id":1}',
};

describe('webhook envelope v1', () => {
  it('round-trips through the queue format', () => {
    expect(parseEnvelope(serializeEnvelope(envelope))).toEqual(envelope);
  });

  it('rejects non-JSON and names the missing fields', () => {
    expect(() => parseEnvelope('not json')).toThrow(InvalidMessageError);
    expect(() => parseEnvelope(JSON.stringify({ ...envelope, delivery_id: undefined }))).toThrow(
      'message is not a webhook envelope v1 (delivery_id)',
    );
    expect(() => parseEnvelope(JSON.stringify({ ...envelope, version: 2 }))).toThrow('(version)');
    expect(() => parseEnvelope('[]')).toThrow('((root))');
  });

  it('refuses to serialize an invalid envelope', () => {
    expect(() => serializeEnvelope({ ...envelope, source: 'ftp' as never })).toThrow();
  });
});

describe('processEnvelope', () => {
  it('dispatches to the processor of the source and topic', async () => {
    const seen: string[] = [];
    const result = await processEnvelope(envelope, {
      shopify: {
        'orders/create': async (e) => {
          seen.push(e.delivery_id);
          return { outcome: 'processed' };
        },
      },
    });
    expect(result).toEqual({ outcome: 'processed' });
    expect(seen).toEqual(['d-1']);
  });

  it('acknowledges a topic without a processor as ignored', async () => {
    expect(await processEnvelope({ ...envelope, topic: 'app/uninstalled' }, {})).toEqual({
      outcome: 'ignored',
      detail: 'no processor for shopify app/uninstalled',
    });
  });
});
