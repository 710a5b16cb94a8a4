import {
  type QueuedMessage,
  type UploaderDeps,
  uploadMessages,
} from '../functions/conversion-uploader/upload';
import type { LoggedConversion } from '../functions/shared/conversions/log';
import type { StoredLead } from '../functions/shared/leads/model';
import { postEvents } from '../functions/shared/meta/client';
import { metaProvider } from '../functions/shared/meta/provider';
import { metaIntegrationOf } from '../functions/shared/meta/settings';
import { startFakeMeta } from '../lib/local/fake-meta';

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
    const at = new Date(now.getTime() - 3600_000).toISOString();
    const conversions = new Map<string, LoggedConversion>();
    const leads = new Map<string, StoredLead>();
    const fresh = () => {
      for (let i = 0; i < total; i++) {
        conversions.set(`cnv_${i}`, {
          id: `cnv_${i}`,
          lead_id: `lead_${i}`,
          platform: 'meta',
          status: 'queued',
          attempts: 0,
          order_id: `order-${i}`,
          conversion_time: at,
          value: 10,
          currency: 'EUR',
          click_id_type: 'fbclid',
          click_id: `${FBCLID}${i}`,
          created_at: at,
          updated_at: at,
        });
        leads.set(`lead_${i}`, {
          id: `lead_${i}`,
          email: `buyer${i}@example.com`,
          phone: '+4915123456789',
          status: 'won',
          consent: { status: 'granted', ad_user_data: 'granted', ad_personalization: 'granted' },
          consent_history: [],
          restricted: false,
          created_at: at,
          updated_at: at,
          email_hash: 'h',
          version: 1,
        });
      }
    };
    const integration = metaIntegrationOf(
      { pixel_id: '1234567890', access_token: 'EAAB-bench-token-0000000' },
      'sealed',
      now,
    );
    const deps: UploaderDeps = {
      conversions: {
        get: async (_t, id) => conversions.get(id),
        recordAttempt: async (_t, id, outcome) => {
          const c = conversions.get(id);
          if (c) c.status = outcome.status;
          return true;
        },
        recordBatch: async () => {},
        cancel: async () => true,
      },
      leads: { get: async (_s, id) => leads.get(id) },
      providers: {
        meta: metaProvider({
          integrations: { get: async () => integration, disconnect: async () => true },
          accessToken: async () => 'EAAB-bench-token-0000000',
          post: (call) => postEvents(call),
          now: () => now,
        }),
      },
      now: () => now,
      random: Math.random,
      retryBaseSeconds: 60,
    };
    const messages = (from: number, count: number): QueuedMessage[] =>
      Array.from({ length: count }, (_, k) => ({
        messageId: `m${from + k}`,
        message: { version: 1 as const, tenant_id: TENANT, conversion_id: `cnv_${from + k}` },
        receiveCount: 1,
      }));
    for (const [label, batchSize] of [
      ['AWS tuning (batch size 10,000, batching window)', 10_000],
      ['local poller (10 per receive)', 10],
    ] as const) {
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
        `${fake.received.length} events delivered, cnv_537 ${conversions.get('cnv_537')?.status}`,
    );
  } finally {
    await fake.close();
    delete process.env.META_GRAPH_BASE_URL;
  }
}
