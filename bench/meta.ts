import { uploadMessages } from '../functions/conversion-uploader/upload';
import { postEvents } from '../functions/shared/providers/meta/client';
import { metaIntegrationOf } from '../functions/shared/providers/meta/integration';
import { metaProvider } from '../functions/shared/providers/meta/provider';
import { startFakeMeta } from '../local/fake-meta';
import { BATCHINGS, uploadWorld } from './upload-world';

const TENANT = 'ten_bench_meta';
const FBCLID = 'IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRx';

/**
 * Meta events per Conversions API request for 5,000 queued Meta conversions, with the real
 * uploader, Meta provider and client against the fake Graph server over HTTP (which validates
 * every event as Meta does); the conversion log and leads are kept in memory: this measures
 * batching, not DynamoDB. Also what isolating one refused event in a full batch costs.
 */
export async function benchMeta(total = 5000): Promise<void> {
  const fake = await startFakeMeta();
  process.env.META_GRAPH_BASE_URL = fake.baseUrl;
  try {
    const now = new Date();
    const world = uploadWorld({
      tenant: TENANT,
      platform: 'meta',
      clickIdType: 'fbclid',
      clickId: (i) => `${FBCLID}${i}`,
      now,
      phone: '+4915123456789',
    });
    const fresh = () => world.fill(total);
    const integration = metaIntegrationOf(
      { pixel_id: '1234567890', access_token: 'EAAB-bench-token-0000000' },
      'sealed',
      now,
    );
    const deps = world.deps({
      meta: metaProvider({
        integrations: { get: async () => integration, disconnect: async () => true },
        accessToken: async () => 'EAAB-bench-token-0000000',
        post: (call) => postEvents(call),
        now: () => now,
      }),
    });
    const messages = world.messages;
    for (const [label, batchSize] of BATCHINGS) {
      fresh();
      fake.reset();
      const started = performance.now();
      for (let from = 0; from < total; from += batchSize)
        await uploadMessages(messages(from, Math.min(batchSize, total - from)), deps);
      const ms = performance.now() - started;
      const accepted = fake.requests.filter((r) => r.status === 200);
      const sent = fake.received.length;
      console.log(
        `${label}: ${total} Meta conversions in ${accepted.length} requests, ` +
          `${(sent / Math.max(1, accepted.length)).toFixed(0)} events per request, ${ms.toFixed(0)} ms`,
      );
    }

    fresh();
    fake.reset();
    fake.commands.rejectEventIds.add('cnv_537');
    await uploadMessages(messages(0, 1000), deps);
    console.log(
      `one refused event in a batch of 1,000: ${fake.requests.length} requests to isolate it, ` +
        `${fake.received.length} events delivered, cnv_537 ${world.conversions.get('cnv_537')?.status}`,
    );
  } finally {
    await fake.close();
    delete process.env.META_GRAPH_BASE_URL;
  }
}
