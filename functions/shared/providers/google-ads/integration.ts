import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import type { TenantScope } from '../../features/tenancy/rules/scope';
import { documentClient } from '../../platform/aws/clients';
import { tableName } from '../../platform/config/resources';
import { trimmedText } from '../../platform/http/schema-text';

/** Names the Google Ads secrets are sealed under (bound to the tenant by the encryption context). */
export const CLIENT_SECRET_NAME = 'google_ads.client_secret';
export const REFRESH_TOKEN_NAME = 'google_ads.refresh_token';

/** Google Ads account ids are ten digits, often written `123-456-7890`. */
export function normaliseCustomerId(id: string): string {
  return id.trim().replace(/[\s-]/g, '');
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const accountId = (name: string) =>
  z
    .string()
    .check(
      z.overwrite(normaliseCustomerId),
      z.regex(/^\d{10}$/, `${name} must be a 10-digit Google Ads account id (dashes allowed)`),
    );

const secret = (name: string) => trimmedText(2048, `${name} is required`);

/** `PUT /api/v1/integrations/google-ads` (docs/conversions.md, Google Ads conversions). */
export const googleAdsSettingsBody = z.object({
  customer_id: accountId('customer_id'),
  conversion_action_id: z
    .string()
    .check(
      z.overwrite(normaliseCustomerId),
      z.regex(/^\d{1,20}$/, 'conversion_action_id must be the numeric id of a conversion action'),
    ),
  login_customer_id: z.optional(accountId('login_customer_id')),
  client_id: trimmedText(512, 'client_id is required'),
  client_secret: secret('client_secret'),
  refresh_token: secret('refresh_token'),
  currency: z.optional(
    z.string().check(z.regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code such as EUR')),
  ),
  time_zone: z.optional(
    z
      .string()
      .check(
        z.refine(isTimeZone, 'time_zone must be an IANA time zone such as Europe/Berlin'),
        z.describe('An IANA time zone such as Europe/Berlin'),
      ),
  ),
  /**
   * Enhanced conversions for leads: a won lead or paid order without a Google click id becomes a
   * conversion matched on the person's hashed e-mail and phone. Off by default: the Google Ads
   * account must have it turned on and its customer data terms accepted.
   */
  enhanced_conversions_for_leads: z.optional(
    z
      .boolean()
      .check(
        z.describe(
          'Send conversions without a click id, matched on hashed user data (enhanced conversions for leads); the account must have it enabled. Default false.',
        ),
      ),
  ),
});
export type GoogleAdsSettingsBody = z.infer<typeof googleAdsSettingsBody>;

/**
 * `needs_reconnect`: connected without a permission the uploads need (the Data Manager scope);
 * conversions wait, queued, until an admin connects the account again.
 * `needs_configuration`: Google refused conversions matched on user data for the account's
 * settings (enhanced conversions for leads not turned on, its terms not accepted, Google's data
 * policy); conversions wait, queued, until an admin saves the integration again.
 */
export type IntegrationStatus = 'connected' | 'disconnected' | 'needs_reconnect' | 'needs_configuration';

export const NEEDS_DATA_MANAGER_SCOPE =
  'Google granted no Data Manager permission: connect the account again (GET /api/v1/integrations/google-ads/oauth/start)';

/** The settings as the API shows them: never a secret. */
export interface GoogleAdsSettings {
  customer_id: string;
  conversion_action_id: string;
  login_customer_id?: string;
  client_id: string;
  currency?: string;
  time_zone: string;
  /** Absent on integrations saved before the setting existed: false. */
  enhanced_conversions_for_leads?: boolean;
  status: IntegrationStatus;
  /** Why the integration stopped (e.g. the refresh token was revoked). */
  status_reason?: string;
  updated_at: string;
}

/** The stored item: the settings and the sealed secrets. */
export interface StoredGoogleAdsIntegration extends GoogleAdsSettings {
  sealed_client_secret: string;
  sealed_refresh_token: string;
}

const SK = 'INTEGRATION#google-ads';
const pk = (tenantId: string) => `TENANT#${tenantId}`;

export function publicSettings(stored: StoredGoogleAdsIntegration): GoogleAdsSettings {
  const { sealed_client_secret: _s, sealed_refresh_token: _r, ...settings } = stored;
  return { ...settings, enhanced_conversions_for_leads: stored.enhanced_conversions_for_leads === true };
}

/** The tenant's Google Ads connection in the tenants table (pk TENANT#<id>, sk INTEGRATION#google-ads). */
export class GoogleAdsIntegrationStore {
  constructor(private readonly clientOverride?: DynamoDBDocumentClient) {}

  private get client(): DynamoDBDocumentClient {
    return this.clientOverride ?? documentClient();
  }

  async save(scope: TenantScope, integration: StoredGoogleAdsIntegration): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: tableName('tenants'),
        Item: { pk: pk(scope.tenantId), sk: SK, ...integration },
      }),
    );
  }

  async get(tenantId: string): Promise<StoredGoogleAdsIntegration | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: tableName('tenants'),
        Key: { pk: pk(tenantId), sk: SK },
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, ...stored } = out.Item;
    return stored as StoredGoogleAdsIntegration;
  }

  /** Stops the tenant's uploads until an admin connects the account again. */
  async disconnect(
    tenantId: string,
    reason: string,
    status: Exclude<IntegrationStatus, 'connected'> = 'disconnected',
  ): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: tableName('tenants'),
        Key: { pk: pk(tenantId), sk: SK },
        UpdateExpression: 'SET #status = :status, status_reason = :reason, updated_at = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':status': status,
          ':reason': reason,
          ':now': new Date().toISOString(),
        },
      }),
    );
  }
}
