import type { WebhookEnvelope, WebhookSource } from '../shared/envelope';

/** What processing one delivery came to; stored with its idempotency record. */
export interface ProcessingResult {
  outcome: 'processed' | 'ignored';
  detail?: string;
}

export type WebhookProcessor = (envelope: WebhookEnvelope) => Promise<ProcessingResult>;

/** Processors by source and topic. A topic without a processor is acknowledged and ignored. */
export type ProcessorRegistry = Partial<Record<WebhookSource, Readonly<Record<string, WebhookProcessor>>>>;

export const PROCESSORS: ProcessorRegistry = {};

export async function processEnvelope(
  envelope: WebhookEnvelope,
  registry: ProcessorRegistry = PROCESSORS,
): Promise<ProcessingResult> {
  const processor = registry[envelope.source]?.[envelope.topic];
  if (!processor)
    return { outcome: 'ignored', detail: `no processor for ${envelope.source} ${envelope.topic}` };
  return processor(envelope);
}
