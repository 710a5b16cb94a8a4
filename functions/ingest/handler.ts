import { createHash } from 'node:crypto';
import { METRICS } from '../../contract/metrics';
import { CREDENTIAL_NAMES, type CredentialName } from '../../contract/resources';
import {
  DynamoSourceStore,
  ghlTokenKey,
  normaliseShopDomain,
  normaliseStoreUrl,
  type SourceKind,
} from '../shared/features/integrations/dynamo';
import {
  type WebhookSource as EnvelopeSource,
  serializeEnvelope,
  type WebhookEnvelope,
} from '../shared/features/webhooks/model';
import { guardWebhookHeaders } from '../shared/features/webhooks/rules/headers';
import {
  verifyGhl,
  verifyShopify,
  verifyStripe,
  verifyWooCommerce,
} from '../shared/features/webhooks/rules/signatures';
import { platformOrgId } from '../shared/platform/auth/context';
import { BoundedCache } from '../shared/platform/cache';
import { loadSecret } from '../shared/platform/config/secrets';
import { openCredential } from '../shared/platform/crypto/credentials';
import { HttpError, payloadTooLarge, unsupportedMediaType } from '../shared/platform/http/errors';
import { type HttpRequest, type HttpResponse, httpHandler, json } from '../shared/platform/http/handler';
import { newId } from '../shared/platform/ids';
import { emitMetric, logger, metrics } from '../shared/platform/observability';
import { sendMessage, stringAttribute } from '../shared/platform/queues/publisher';
import { enforceLimit } from '../shared/platform/rate-limit/middleware';
import { systemScope } from '../shared/platform/system-scope';

/**
 * SQS takes messages up to 256 KiB; the envelope around the body needs a little of that. A body
 * larger than this cannot be queued durably, so it is refused with 413 before anything else.
 */
export const MAX_WEBHOOK_BODY_BYTES = 250 * 1024;
const SOURCE_CACHE_MS = 5 * 60 * 1000;
/** Sources one warm container remembers; an agency platform sees far fewer per container. */
const SOURCE_CACHE_ENTRIES = 2_000;

/** How long a source nobody connected is remembered as unknown, so made-up keys cost one read each. */
const UNKNOWN_SOURCE_MS = 30 * 1000;

const sources = new DynamoSourceStore();

/** One tenant connected to a source, with its opened webhook secret where the source has one. */
interface Connection {
  tenantId: string;
  secret?: string;
}

/**
 * Sources and their opened secrets, per warm container, for a few minutes and a bounded number:
 * the warm path is then one rate-limit write and one enqueue, with no DynamoDB read and no KMS
 * call. A connection changed through the API is seen at most SOURCE_CACHE_MS later.
 */
const resolved = new BoundedCache<string, Connection[]>(SOURCE_CACHE_ENTRIES, SOURCE_CACHE_MS);

/**
 * How long an opened secret is kept, by the sealed value it was opened from: a source read again
 * after SOURCE_CACHE_MS costs no KMS call while its secret is unchanged. A disconnected source is
 * gone from that read, and a new secret is a new sealed value, so neither waits for this.
 */
const OPENED_SECRET_MS = 60 * 60 * 1000;
const opened = new BoundedCache<string, string>(SOURCE_CACHE_ENTRIES, OPENED_SECRET_MS);

async function openSecret(name: CredentialName, tenantId: string, sealed: string): Promise<string> {
  const id = `${tenantId}#${name}#${sealed}`;
  const hit = opened.get(id);
  if (hit !== undefined) return hit;
  const secret = await openCredential(systemScope('ingest', tenantId), name, sealed);
  opened.set(id, secret);
  return secret;
}
const unknown = new BoundedCache<string, true>(SOURCE_CACHE_ENTRIES, UNKNOWN_SOURCE_MS);

/**
 * The tenants connected to a source (several may connect one shop), from the cache when warm;
 * with `secretName`, each with its webhook secret opened.
 */
async function resolveSource(
  kind: SourceKind,
  key: string,
  secretName?: CredentialName,
): Promise<Connection[]> {
  const id = `${kind}#${key}`;
  const hit = resolved.get(id);
  if (hit) return hit;
  if (unknown.get(id)) return [];
  const found = await sources.connections(kind, key);
  if (found.length === 0) {
    unknown.set(id, true);
    return [];
  }
  const entries = await Promise.all(
    found.map(async (source): Promise<Connection> => {
      const secret =
        secretName && source.sealed_secret
          ? await openSecret(secretName, source.tenant_id, source.sealed_secret)
          : undefined;
      return { tenantId: source.tenant_id, ...(secret ? { secret } : {}) };
    }),
  );
  resolved.set(id, entries);
  return entries;
}

function invalidSignature(source: string, reason: string): HttpError {
  emitMetric(METRICS.webhookSignatureInvalid, 1, { sender: source });
  logger.warn('Webhook refused', { source, reason });
  return new HttpError(401, 'invalid_signature', 'The webhook signature could not be verified');
}

function requireJson(request: HttpRequest): void {
  if (request.rawBody.length > MAX_WEBHOOK_BODY_BYTES)
    throw payloadTooLarge('The webhook body is larger than 250 KiB');
  if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? ''))
    throw unsupportedMediaType();
}

/** The body's JSON object, or `{}` when it is not JSON or not an object (`null`, an array, a number). */
function jsonObjectOf(body: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

function bodyDigest(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/**
 * Queues the delivery once per tenant it belongs to (normally one), all sends in flight together;
 * only durable messages are ever answered 2xx. The answer is the same whatever the number of
 * tenants: the sender learns nothing of who else connected the source.
 */
async function enqueue(
  request: HttpRequest,
  tenantIds: readonly string[],
  fields: Omit<WebhookEnvelope, 'version' | 'id' | 'received_at' | 'payload' | 'tenant_id'>,
  status = 202,
): Promise<HttpResponse> {
  const receivedAt = new Date().toISOString();
  const envelopes: WebhookEnvelope[] = tenantIds.map((tenantId) => ({
    version: 1,
    id: newId('wh'),
    received_at: receivedAt,
    payload: request.rawBody.toString('utf8'),
    tenant_id: tenantId,
    ...fields,
  }));
  try {
    await Promise.all(
      envelopes.map((envelope) =>
        sendMessage('webhooks', {
          body: serializeEnvelope(envelope),
          attributes: {
            source: stringAttribute(envelope.source),
            delivery_id: stringAttribute(envelope.delivery_id),
          },
          correlate: true,
        }),
      ),
    );
  } catch (error) {
    logger.error('Webhook could not be queued; the sender will retry', { source: fields.source, error });
    metrics.addMetric(METRICS.webhookEnqueueFailed, 'Count', 1);
    throw new HttpError(
      503,
      'service_unavailable',
      'The webhook could not be accepted now; retry later',
      {
        retry_after: 30,
      },
      { 'Retry-After': '30' },
    );
  }
  emitMetric(METRICS.webhookAccepted, 1, { sender: fields.source });
  return json(status, { status: 'received', id: envelopes[0]?.id });
}

/**
 * The senders that sign each delivery with the connection's shared secret (an HMAC of the raw
 * body): the header that names the source, how its key is normalised, the signature's header
 * and check, and the credential the secret is sealed under.
 */
const SIGNING_SENDERS = {
  shopify: {
    sourceHeader: 'x-shopify-shop-domain',
    keyOf: normaliseShopDomain,
    signatureHeader: 'x-shopify-hmac-sha256',
    verify: verifyShopify,
    secretName: CREDENTIAL_NAMES.shopifyWebhookSecret,
  },
  woocommerce: {
    sourceHeader: 'x-wc-webhook-source',
    keyOf: normaliseStoreUrl,
    signatureHeader: 'x-wc-webhook-signature',
    verify: verifyWooCommerce,
    secretName: CREDENTIAL_NAMES.wooCommerceWebhookSecret,
  },
} as const;

/**
 * A signing sender's delivery: JSON within the size, its headers bounded, its source known and
 * the signature verified with a connected tenant's secret, the source's rate limit taken. Returns
 * every tenant whose secret verifies it (several may connect one shop). Every connected secret is
 * compared (a handful at most, each in constant time), so the time taken says nothing of which one
 * matched.
 */
async function signedDelivery(request: HttpRequest, kind: keyof typeof SIGNING_SENDERS): Promise<string[]> {
  requireJson(request);
  guardWebhookHeaders(kind, request.headers);
  const sender = SIGNING_SENDERS[kind];
  const named = request.headers[sender.sourceHeader];
  const key = named ? sender.keyOf(named) : undefined;
  if (!key) throw invalidSignature(kind, 'no source header');
  const connections = await resolveSource(kind, key, sender.secretName);
  if (connections.length === 0) throw invalidSignature(kind, 'unknown source');
  const signature = request.headers[sender.signatureHeader];
  const verified = connections
    .filter((connection) => connection.secret && sender.verify(request.rawBody, signature, connection.secret))
    .map((connection) => connection.tenantId);
  if (verified.length === 0) throw invalidSignature(kind, 'signature mismatch');
  await enforceLimit(request, 'source', `${kind}:${key}`);
  return verified;
}

/**
 * Shopify's mandatory compliance topics: answered 200 once queued (Shopify asks for a 200-series
 * status), processed by the worker like any delivery.
 */
export const SHOPIFY_COMPLIANCE_TOPICS: ReadonlySet<string> = new Set([
  'customers/data_request',
  'customers/redact',
  'shop/redact',
]);

export const handler = httpHandler('ingest', {
  'POST /api/v1/shopify/webhook': async (request) => {
    const tenants = await signedDelivery(request, 'shopify');
    const triggeredAt = request.headers['x-shopify-triggered-at'];
    // guardWebhookHeaders bounded every header above to what the envelope holds.
    const topic = request.headers['x-shopify-topic'] ?? 'unknown';
    return enqueue(
      request,
      tenants,
      {
        source: 'shopify',
        topic,
        delivery_id:
          request.headers['x-shopify-webhook-id'] ??
          request.headers['x-shopify-event-id'] ??
          bodyDigest(request.rawBody),
        ...(triggeredAt ? { triggered_at: triggeredAt } : {}),
      },
      SHOPIFY_COMPLIANCE_TOPICS.has(topic) ? 200 : 202,
    );
  },

  'POST /api/v1/woocommerce/webhook': async (request) => {
    const contentType = request.headers['content-type'] ?? '';
    // WooCommerce pings a new webhook's URL with `webhook_id=<n>`, unsigned, and wants a 200.
    if (
      /^application\/x-www-form-urlencoded/i.test(contentType) &&
      /^webhook_id=\d+$/.test(request.rawBody.toString())
    ) {
      return json(200, { status: 'ok' });
    }
    const tenants = await signedDelivery(request, 'woocommerce');
    return enqueue(request, tenants, {
      source: 'woocommerce',
      topic: request.headers['x-wc-webhook-topic'] ?? 'unknown',
      delivery_id: request.headers['x-wc-webhook-delivery-id'] ?? bodyDigest(request.rawBody),
    });
  },

  'POST /api/v1/ghl/webhook/{webhookToken}': async (request) => {
    requireJson(request);
    guardWebhookHeaders('ghl', request.headers);
    const token = request.params.webhookToken ?? '';
    const key = ghlTokenKey(token);
    const source = token.length >= 32 ? (await resolveSource('ghl', key))[0] : undefined;
    if (!source) throw invalidSignature('ghl', 'unknown token');
    // HighLevel signs with Ed25519 in X-GHL-Signature only; the retired RSA X-WH-Signature is not read.
    const check = verifyGhl(
      request.rawBody,
      request.headers['x-ghl-signature'],
      process.env.GHL_WEBHOOK_PUBLIC_KEY,
    );
    if (check === 'absent') throw invalidSignature('ghl', 'no X-GHL-Signature');
    if (check === 'invalid') throw invalidSignature('ghl', 'signature mismatch');
    await enforceLimit(request, 'source', `ghl:${key.slice(0, 16)}`);
    // Not a JSON object: queued as received; the worker refuses it as a permanent failure.
    const payload = jsonObjectOf(request.rawBody);
    return enqueue(request, [source.tenantId], {
      source: 'ghl' satisfies EnvelopeSource,
      topic: typeof payload.type === 'string' ? payload.type.slice(0, 256) : 'contact',
      delivery_id:
        typeof payload.webhookId === 'string' ? payload.webhookId.slice(0, 256) : bodyDigest(request.rawBody),
    });
  },

  'POST /api/v1/billing/webhooks/stripe': async (request) => {
    requireJson(request);
    guardWebhookHeaders('stripe', request.headers);
    const secret = await loadSecret({
      plainEnv: 'STRIPE_WEBHOOK_SECRET',
      arnEnv: 'STRIPE_WEBHOOK_SECRET_ARN',
    });
    const check = verifyStripe(
      request.rawBody,
      request.headers['stripe-signature'],
      secret,
      Math.floor(Date.now() / 1000),
    );
    if (!check.ok) throw invalidSignature('stripe', check.reason);
    // Signed but not a JSON object: the worker refuses it as a permanent failure.
    const event = jsonObjectOf(request.rawBody);
    // A connected account's events count against that account, the platform's own against it.
    const account = typeof event.account === 'string' ? event.account.slice(0, 64) : 'platform';
    await enforceLimit(request, 'source', `stripe:${account}`);
    return enqueue(request, [platformOrgId()], {
      source: 'stripe',
      topic: typeof event.type === 'string' ? event.type.slice(0, 256) : 'unknown',
      delivery_id: typeof event.id === 'string' ? event.id.slice(0, 256) : bodyDigest(request.rawBody),
      triggered_at: String(check.timestamp),
    });
  },
});
