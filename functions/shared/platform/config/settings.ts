import { RATE_LIMIT_ENV } from '../../../../contract/rate-limits';
import { STAGES } from '../../../../contract/stages';
import { MAX_STANDING_CACHE_SECONDS, STANDING_CACHE_ENV } from '../auth/standing';
import { STORE_TIMEOUT_RANGE_MS } from '../rate-limit/limiter';
import { publicBaseUrl } from './public-url';

/**
 * Every setting a function reads from its environment, checked once when it starts. A stage that
 * is misconfigured never serves with a silent default: locally `npm start` refuses to start with
 * the reasons; in AWS each request is refused with the documented 503 (see `http.ts`).
 */
export interface SettingsProblem {
  readonly setting: string;
  readonly reason: string;
  /** Rate-limit problems answer 503 `rate_limit_config_error`, the others 503 `service_unavailable`. */
  readonly area: 'rate_limit' | 'service';
}

const MIN_SECRET_BYTES = 32;
const URL_SETTINGS = [
  'GOOGLE_ADS_API_BASE_URL',
  'GOOGLE_DATA_MANAGER_BASE_URL',
  'GOOGLE_OAUTH_TOKEN_URL',
  'GOOGLE_OAUTH_AUTH_URL',
  'META_GRAPH_BASE_URL',
  'STRIPE_API_BASE_URL',
] as const;
const POSITIVE_INTEGER_SETTINGS = [
  'CIRCUIT_FAILURE_THRESHOLD',
  'CIRCUIT_OPEN_SECONDS',
  'GOOGLE_ADS_TIMEOUT_MS',
  'JWT_MAX_TTL_SECONDS',
] as const;
/** Retry delays; 0 retries at once. */
const WHOLE_NUMBER_SETTINGS = ['WEBHOOK_RETRY_BASE_SECONDS', 'CONVERSION_RETRY_BASE_SECONDS'] as const;

const isPositiveInteger = (raw: string) => /^[1-9][0-9]{0,9}$/.test(raw);
const isWholeNumber = (raw: string) => /^(0|[1-9][0-9]{0,9})$/.test(raw);

export function settingsProblems(env: NodeJS.ProcessEnv = process.env): SettingsProblem[] {
  const problems: SettingsProblem[] = [];
  const problem = (setting: string, reason: string, area: SettingsProblem['area'] = 'service') =>
    problems.push({ setting, reason, area });
  const given = (name: string) => (env[name] === undefined ? undefined : env[name]);

  const stage = env.STAGE ?? 'dev';
  if (!(STAGES as readonly string[]).includes(stage)) {
    problem('STAGE', `must be one of ${STAGES.join(', ')}, not ${JSON.stringify(stage)}`);
  }
  const dev = stage === 'dev';

  const store = env.RATE_LIMIT_STORE ?? 'dynamodb';
  if (store !== 'dynamodb' && store !== 'memory') {
    problem('RATE_LIMIT_STORE', `must be dynamodb or memory, not ${JSON.stringify(store)}`, 'rate_limit');
  } else if (store === 'memory' && !dev) {
    problem(
      'RATE_LIMIT_STORE',
      `memory is for the dev stage only; stage ${stage} must use the DynamoDB rate-limit table`,
      'rate_limit',
    );
  }
  const storeTimeout = given('RATE_LIMIT_STORE_TIMEOUT_MS');
  if (storeTimeout !== undefined && storeTimeout !== '') {
    const value = Number(storeTimeout);
    const { min, max } = STORE_TIMEOUT_RANGE_MS;
    if (!Number.isInteger(value) || value < min || value > max) {
      problem('RATE_LIMIT_STORE_TIMEOUT_MS', `must be an integer from ${min} to ${max}`, 'rate_limit');
    }
  }
  for (const name of Object.values(RATE_LIMIT_ENV)) {
    const raw = given(name);
    if (raw !== undefined && raw !== '' && !isPositiveInteger(raw)) {
      problem(name, 'must be a positive integer (requests per hour)', 'rate_limit');
    }
  }

  for (const name of POSITIVE_INTEGER_SETTINGS) {
    const raw = given(name);
    if (raw !== undefined && raw !== '' && !isPositiveInteger(raw))
      problem(name, 'must be a positive integer');
  }
  for (const name of WHOLE_NUMBER_SETTINGS) {
    const raw = given(name);
    if (raw !== undefined && raw !== '' && !isWholeNumber(raw))
      problem(name, 'must be a whole number of seconds');
  }

  const standingCache = given(STANDING_CACHE_ENV);
  if (
    standingCache !== undefined &&
    standingCache !== '' &&
    !(isWholeNumber(standingCache) && Number(standingCache) <= MAX_STANDING_CACHE_SECONDS)
  ) {
    problem(STANDING_CACHE_ENV, `must be a whole number of seconds from 0 to ${MAX_STANDING_CACHE_SECONDS}`);
  }
  const publicUrl = given('PUBLIC_BASE_URL');
  if (publicUrl !== undefined && publicUrl !== '') {
    try {
      publicBaseUrl({ PUBLIC_BASE_URL: publicUrl });
    } catch {
      problem('PUBLIC_BASE_URL', 'must be an absolute http(s) URL without query, fragment or credentials');
    }
  }

  const platform = given('PLATFORM_ORG_ID');
  if (platform !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(platform)) {
    problem('PLATFORM_ORG_ID', 'must be 1 to 64 letters, digits, dashes or underscores');
  }

  for (const name of ['JWT_SECRET', 'EMAIL_HASH_KEY']) {
    const secret = given(name);
    if (secret !== undefined && secret !== '' && Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) {
      problem(name, `must be at least ${MIN_SECRET_BYTES} bytes`);
    }
  }

  const uploadApi = given('GOOGLE_ADS_UPLOAD_API');
  if (
    uploadApi !== undefined &&
    uploadApi !== '' &&
    !['data_manager', 'google_ads_api'].includes(uploadApi)
  ) {
    problem('GOOGLE_ADS_UPLOAD_API', 'must be data_manager or google_ads_api');
  }

  for (const name of URL_SETTINGS) {
    const raw = given(name);
    if (raw === undefined || raw === '') continue;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      problem(name, 'must be an absolute URL');
      continue;
    }
    if (url.protocol !== 'https:' && !(dev && url.protocol === 'http:')) {
      problem(name, `must use https outside the dev stage (stage ${stage})`);
    }
  }
  return problems;
}

/** One sentence per problem, for an operator. */
export function describeProblems(problems: readonly SettingsProblem[]): string {
  return problems.map((p) => `${p.setting} ${p.reason}`).join('; ');
}

/** The settings are unusable; `problems` says why. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
  constructor(readonly problems: readonly SettingsProblem[]) {
    super(`Invalid configuration: ${describeProblems(problems)}.`);
  }
}

/** Throws a SettingsError naming every problem, or returns when the settings are usable. */
export function assertSettings(env: NodeJS.ProcessEnv = process.env): void {
  const problems = settingsProblems(env);
  if (problems.length) throw new SettingsError(problems);
}
