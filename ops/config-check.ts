/**
 * `config check --stage S`: every SSM parameter and secret a deployed stage reads, each present,
 * non-empty and well-formed. Secrets are found by their `adsengineer:stage` and
 * `adsengineer:setting` tags (set by infra/constructs/storage.ts), parameters by name. Values are
 * never printed: only which setting is wrong and why.
 */

import {
  GetSecretValueCommand,
  ListSecretsCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { SECRET_SETTING_TAG, SECRET_STAGE_TAG, type SecretSetting } from '../contract/settings';
import { parseKeyring } from '../functions/shared/platform/auth/keyring';

export type Check = (value: string) => string | undefined;

export interface ParameterSpec {
  readonly kind: 'parameter';
  readonly label: string;
  readonly name: (stage: string) => string;
  readonly check: Check;
}
export interface SecretSpec {
  readonly kind: 'secret';
  readonly label: string;
  readonly setting: SecretSetting;
  readonly check: Check;
}
export type SettingSpec = ParameterSpec | SecretSpec;

const atLeast =
  (bytes: number): Check =>
  (value) =>
    Buffer.byteLength(value, 'utf8') >= bytes ? undefined : `shorter than ${bytes} bytes`;

/** Generated placeholders (64 letters and digits) stand until an operator pastes the real value. */
const prefixed =
  (pattern: RegExp, what: string): Check =>
  (value) =>
    pattern.test(value) ? undefined : `not ${what} (still the generated placeholder?)`;

export function pagerDutyUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'https:') return 'not an https URL';
  if (!/^events\.(eu\.)?pagerduty\.com$/.test(url.hostname)) return 'not a PagerDuty events URL';
  return undefined;
}

export const PAGERDUTY_PARAMETER = (stage: string) => `/adsengineer/${stage}/pagerduty-url`;

/** What a stage reads. Add a line here with every new parameter or secret. */
export const SETTINGS: readonly SettingSpec[] = [
  {
    kind: 'parameter',
    label: 'PagerDuty integration URL',
    name: PAGERDUTY_PARAMETER,
    check: pagerDutyUrlProblem,
  },
  {
    kind: 'secret',
    label: 'JWT signing secret',
    setting: 'jwt-secret',
    check: (value) => {
      try {
        parseKeyring(value);
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    },
  },
  { kind: 'secret', label: 'Email hash key', setting: 'email-hash-key', check: atLeast(32) },
  {
    kind: 'secret',
    label: 'Stripe webhook signing secret',
    setting: 'stripe-webhook-secret',
    check: prefixed(/^whsec_[A-Za-z0-9]{16,}$/, 'a Stripe endpoint secret (whsec_...)'),
  },
  {
    kind: 'secret',
    label: 'Stripe API key',
    setting: 'stripe-api-key',
    check: prefixed(
      /^(sk|rk)_(live|test)_[A-Za-z0-9]{16,}$/,
      'a Stripe secret or restricted key (sk_/rk_...)',
    ),
  },
  {
    kind: 'secret',
    label: 'Google Ads developer token',
    setting: 'google-ads-developer-token',
    check: prefixed(/^[A-Za-z0-9_-]{16,40}$/, 'a Google Ads API developer token'),
  },
];

export interface Finding {
  readonly label: string;
  readonly where: string;
  readonly ok: boolean;
  readonly problem?: string;
}

export interface ConfigCheckDeps {
  readonly ssm: SSMClient;
  readonly secrets: SecretsManagerClient;
  readonly progress: (line: string) => void;
}

/** The stage's secrets by setting, from their tags. */
async function stageSecrets(deps: ConfigCheckDeps, stage: string): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  let token: string | undefined;
  do {
    const page = await deps.secrets.send(
      new ListSecretsCommand({
        Filters: [{ Key: 'tag-key', Values: [SECRET_SETTING_TAG] }],
        ...(token ? { NextToken: token } : {}),
      }),
    );
    for (const secret of page.SecretList ?? []) {
      const tags = new Map((secret.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
      const setting = tags.get(SECRET_SETTING_TAG);
      if (tags.get(SECRET_STAGE_TAG) !== stage || !setting || !secret.ARN) continue;
      found.set(setting, [...(found.get(setting) ?? []), secret.ARN]);
    }
    token = page.NextToken;
  } while (token);
  return found;
}

export async function checkStageConfig(
  stage: string,
  deps: ConfigCheckDeps,
  settings: readonly SettingSpec[] = SETTINGS,
): Promise<Finding[]> {
  deps.progress(`Checking ${settings.length} settings of stage ${stage} ...`);
  const secrets = await stageSecrets(deps, stage);
  const findings: Finding[] = [];
  for (const spec of settings) {
    const finding =
      spec.kind === 'parameter' ? await parameter(deps, stage, spec) : await secret(deps, secrets, spec);
    findings.push(finding);
    deps.progress(
      `  ${finding.ok ? 'ok  ' : 'FAIL'}  ${finding.label} (${finding.where})${finding.problem ? `: ${finding.problem}` : ''}`,
    );
  }
  return findings;
}

async function parameter(deps: ConfigCheckDeps, stage: string, spec: ParameterSpec): Promise<Finding> {
  const where = `SSM ${spec.name(stage)}`;
  try {
    const out = await deps.ssm.send(
      new GetParameterCommand({ Name: spec.name(stage), WithDecryption: true }),
    );
    return judge(spec, where, out.Parameter?.Value);
  } catch (error) {
    if (error instanceof ParameterNotFound || (error as Error).name === 'ParameterNotFound') {
      return { label: spec.label, where, ok: false, problem: 'missing' };
    }
    throw error;
  }
}

async function secret(
  deps: ConfigCheckDeps,
  secrets: Map<string, string[]>,
  spec: SecretSpec,
): Promise<Finding> {
  const arns = secrets.get(spec.setting) ?? [];
  const where = `secret tagged ${SECRET_SETTING_TAG}=${spec.setting}`;
  if (arns.length === 0)
    return { label: spec.label, where, ok: false, problem: 'missing (is the stack deployed?)' };
  if (arns.length > 1)
    return { label: spec.label, where, ok: false, problem: `${arns.length} secrets carry this tag` };
  const out = await deps.secrets.send(new GetSecretValueCommand({ SecretId: arns[0] }));
  return judge(spec, where, out.SecretString);
}

function judge(spec: SettingSpec, where: string, value: string | undefined): Finding {
  if (value === undefined || value.trim() === '')
    return { label: spec.label, where, ok: false, problem: 'empty' };
  const problem = spec.check(value.trim());
  return problem ? { label: spec.label, where, ok: false, problem } : { label: spec.label, where, ok: true };
}
