import type { QueuedMessage } from '../functions/conversion-uploader/messages';
import type { UploaderDeps } from '../functions/conversion-uploader/ports';
import type { LoggedConversion } from '../functions/shared/features/conversions/dynamo-log';
import type { Platform } from '../functions/shared/features/conversions/model';
import type { ProviderRegistry } from '../functions/shared/features/conversions/ports-provider';
import type { StoredLead } from '../functions/shared/features/leads/model';

/** The two ways the uploader is fed: AWS's batching (the event source mapping) and the local poller. */
export const BATCHINGS = [
  ['AWS tuning (batch size 10,000, batching window)', 10_000],
  ['local poller (10 per receive)', 10],
] as const;

/**
 * Queued conversions with their won leads, kept in memory, for benchmarks of the real uploader
 * and providers against the fake platforms: what is measured is batching, not DynamoDB.
 */
export function uploadWorld(options: {
  tenant: string;
  platform: Platform;
  clickIdType: LoggedConversion['click_id_type'];
  clickId(i: number): string;
  now: Date;
  phone?: string;
}) {
  const conversions = new Map<string, LoggedConversion>();
  const leads = new Map<string, StoredLead>();
  const at = new Date(options.now.getTime() - 3600_000).toISOString();
  return {
    conversions,
    leads,
    /** `total` queued conversions `cnv_0`... and their leads, replacing what was there. */
    fill(total: number): void {
      conversions.clear();
      leads.clear();
      for (let i = 0; i < total; i++) {
        conversions.set(`cnv_${i}`, {
          id: `cnv_${i}`,
          lead_id: `lead_${i}`,
          platform: options.platform,
          status: 'queued',
          attempts: 0,
          order_id: `order-${i}`,
          conversion_time: at,
          value: 10,
          currency: 'EUR',
          click_id_type: options.clickIdType,
          click_id: options.clickId(i),
          created_at: at,
          updated_at: at,
        });
        leads.set(`lead_${i}`, {
          id: `lead_${i}`,
          email: `buyer${i}@example.com`,
          ...(options.phone ? { phone: options.phone } : {}),
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
    },
    /** The uploader's dependencies over the in-memory log, with these providers. */
    deps(providers: ProviderRegistry): UploaderDeps {
      return {
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
        providers,
        now: () => options.now,
        random: Math.random,
        retryBaseSeconds: 60,
      };
    },
    /** Queue messages for `cnv_<from>` to `cnv_<from + count - 1>`. */
    messages(from: number, count: number): QueuedMessage[] {
      return Array.from({ length: count }, (_, k) => ({
        messageId: `m${from + k}`,
        message: { version: 1 as const, tenant_id: options.tenant, conversion_id: `cnv_${from + k}` },
        receiveCount: 1,
      }));
    },
  };
}
