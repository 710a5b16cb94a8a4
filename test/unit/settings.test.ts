import { ConfigurationError } from '../../functions/shared/platform/config/resources';
import {
  assertSettings,
  SettingsError,
  settingsProblems,
} from '../../functions/shared/platform/config/settings';
import { errorResult, httpHandler, json } from '../../functions/shared/platform/http/handler';
import { apiEvent, lambdaContext } from '../support/events';

const names = (env: NodeJS.ProcessEnv) => settingsProblems(env).map((p) => p.setting);

describe('settings checked once at start', () => {
  it('accepts the defaults and a complete production configuration', () => {
    expect(settingsProblems({})).toEqual([]);
    expect(
      settingsProblems({
        STAGE: 'prod',
        RATE_LIMIT_STORE: 'dynamodb',
        RATE_LIMIT_IP_PER_HOUR: '100',
        PLATFORM_ORG_ID: 'platform',
        JWT_SECRET: 'x'.repeat(32),
        GOOGLE_ADS_UPLOAD_API: 'google_ads_api',
        STRIPE_API_BASE_URL: 'https://api.stripe.com',
        CIRCUIT_OPEN_SECONDS: '60',
        WEBHOOK_RETRY_BASE_SECONDS: '0',
        JWT_MAX_TTL_SECONDS: '86400',
        TENANT_STATUS_CACHE_SECONDS: '0',
        PUBLIC_BASE_URL: 'https://api.example.org',
      }),
    ).toEqual([]);
  });

  it('names every problem, never a value', () => {
    const env = {
      STAGE: 'prod',
      RATE_LIMIT_STORE: 'memory',
      RATE_LIMIT_TENANT_PER_HOUR: '-5',
      RATE_LIMIT_STORE_TIMEOUT_MS: '10',
      JWT_SECRET: 'short-secret-value',
      EMAIL_HASH_KEY: 'tiny',
      GOOGLE_ADS_UPLOAD_API: 'soap',
      META_GRAPH_BASE_URL: 'http://graph.example',
      STRIPE_API_BASE_URL: 'not a url',
      CIRCUIT_FAILURE_THRESHOLD: '0',
      CONVERSION_RETRY_BASE_SECONDS: '-1',
      JWT_MAX_TTL_SECONDS: '0',
      TENANT_STATUS_CACHE_SECONDS: '61',
      PUBLIC_BASE_URL: 'api.example.org/?x=1',
      PLATFORM_ORG_ID: 'has spaces',
    };
    expect(names(env)).toEqual([
      'RATE_LIMIT_STORE',
      'RATE_LIMIT_STORE_TIMEOUT_MS',
      'RATE_LIMIT_TENANT_PER_HOUR',
      'CIRCUIT_FAILURE_THRESHOLD',
      'JWT_MAX_TTL_SECONDS',
      'CONVERSION_RETRY_BASE_SECONDS',
      'TENANT_STATUS_CACHE_SECONDS',
      'PUBLIC_BASE_URL',
      'PLATFORM_ORG_ID',
      'JWT_SECRET',
      'EMAIL_HASH_KEY',
      'GOOGLE_ADS_UPLOAD_API',
      'META_GRAPH_BASE_URL',
      'STRIPE_API_BASE_URL',
    ]);
    let thrown: unknown;
    try {
      assertSettings(env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SettingsError);
    const message = (thrown as Error).message;
    expect(message).toMatch(/^Invalid configuration: RATE_LIMIT_STORE memory is for the dev stage only/);
    expect(message).not.toContain('short-secret-value');
    expect(message).not.toContain('tiny');
  });

  it('refuses an unknown stage and an unknown store; allows plain http and memory only in dev', () => {
    expect(names({ STAGE: 'production' })).toEqual(['STAGE']);
    expect(names({ RATE_LIMIT_STORE: 'redis' })).toEqual(['RATE_LIMIT_STORE']);
    expect(
      names({ STAGE: 'dev', RATE_LIMIT_STORE: 'memory', META_GRAPH_BASE_URL: 'http://127.0.0.1:9' }),
    ).toEqual([]);
    expect(names({ STAGE: 'staging', GOOGLE_OAUTH_TOKEN_URL: 'http://127.0.0.1:9' })).toEqual([
      'GOOGLE_OAUTH_TOKEN_URL',
    ]);
    expect(() => assertSettings({})).not.toThrow();
  });
});

describe('a function started with unusable settings', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('answers every request with the contract 503 rate_limit_config_error, never a crash', async () => {
    process.env.STAGE = 'prod';
    process.env.RATE_LIMIT_STORE = 'memory';
    const handler = httpHandler('health', { 'GET /health': async () => json(200, { ok: true }) });
    const result = await handler(apiEvent({ requestId: 'r-1' }), lambdaContext());
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['Retry-After']).toBe('60');
    expect(JSON.parse(result.body)).toEqual({
      error: 'rate_limit_config_error',
      message: 'Service temporarily unavailable',
      request_id: 'r-1',
      retry_after: 60,
    });
  });

  it('answers 503 service_unavailable for any other unusable setting, without naming it', async () => {
    process.env.JWT_SECRET = 'short';
    const handler = httpHandler('health', { 'GET /health': async () => json(200, { ok: true }) });
    const result = await handler(apiEvent({ requestId: 'r-2' }), lambdaContext());
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body)).toEqual(JSON.parse(errorResult(new ConfigurationError('x'), 'r-2').body));
    expect(result.body).not.toContain('JWT_SECRET');
  });
});
