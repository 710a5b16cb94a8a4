import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { SECRET_SETTING_TAG, SECRET_STAGE_TAG } from '../../contract/settings';
import { resetClients } from '../../functions/shared/platform/aws/clients';
import { pagerDutyParameterName } from '../../infra/constructs/monitoring';
import { run } from '../../ops/cli';
import { checkStageConfig, PAGERDUTY_PARAMETER, pagerDutyUrlProblem, SETTINGS } from '../../ops/config-check';
import { emulatorUrl } from '../support/emulator';
import { capture } from '../support/operator';

const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let ssm: SSMClient;
let secrets: SecretsManagerClient;
const lines: string[] = [];
const deps = () => ({ ssm, secrets, progress: (line: string) => lines.push(line) });
const uniqueStage = () => `cfg${randomBytes(4).toString('hex')}`;

async function putSecret(stage: string, setting: string, value: string) {
  await secrets.send(
    new CreateSecretCommand({
      Name: `${stage}-${setting}-${randomBytes(3).toString('hex')}`,
      SecretString: value,
      Tags: [
        { Key: SECRET_STAGE_TAG, Value: stage },
        { Key: SECRET_SETTING_TAG, Value: setting },
      ],
    }),
  );
}

const GOOD = {
  'jwt-secret': 'a'.repeat(48),
  'email-hash-key': 'k'.repeat(64),
  'stripe-webhook-secret': `whsec_${'x'.repeat(32)}`,
  'stripe-api-key': `sk_live_${'y'.repeat(32)}`,
  'google-ads-developer-token': 'AbCdEfGhIjKlMnOpQrStUv',
};

beforeAll(() => {
  ssm = new SSMClient({ endpoint: emulatorUrl(), region, credentials });
  secrets = new SecretsManagerClient({ endpoint: emulatorUrl(), region, credentials });
});
afterAll(() => {
  ssm.destroy();
  secrets.destroy();
});

describe('config check against the emulator', () => {
  it('reports every setting of an unconfigured stage as missing', async () => {
    const stage = uniqueStage();
    const findings = await checkStageConfig(stage, deps());
    expect(findings.map((f) => [f.label, f.ok, f.problem])).toEqual([
      ['PagerDuty integration URL', false, 'missing'],
      ['JWT signing secret', false, 'missing (is the stack deployed?)'],
      ['Email hash key', false, 'missing (is the stack deployed?)'],
      ['Stripe webhook signing secret', false, 'missing (is the stack deployed?)'],
      ['Stripe API key', false, 'missing (is the stack deployed?)'],
      ['Google Ads developer token', false, 'missing (is the stack deployed?)'],
    ]);
  });

  it('names each empty or malformed setting without printing a value; another stage does not count', async () => {
    const stage = uniqueStage();
    await ssm.send(
      new PutParameterCommand({
        Name: PAGERDUTY_PARAMETER(stage),
        Value: 'http://events.pagerduty.com/x',
        Type: 'String',
      }),
    );
    await putSecret(stage, 'jwt-secret', 'short');
    await putSecret(stage, 'email-hash-key', '   ');
    await putSecret(stage, 'stripe-webhook-secret', 'Q'.repeat(64));
    await putSecret(`${stage}x`, 'stripe-api-key', GOOD['stripe-api-key']);
    await putSecret(stage, 'google-ads-developer-token', 'g'.repeat(64));
    lines.length = 0;
    const findings = await checkStageConfig(stage, deps());
    expect(findings.map((f) => [f.label, f.problem])).toEqual([
      ['PagerDuty integration URL', 'not an https URL'],
      ['JWT signing secret', 'JWT current secret must be a string of at least 32 bytes'],
      ['Email hash key', 'empty'],
      [
        'Stripe webhook signing secret',
        'not a Stripe endpoint secret (whsec_...) (still the generated placeholder?)',
      ],
      ['Stripe API key', 'missing (is the stack deployed?)'],
      [
        'Google Ads developer token',
        'not a Google Ads API developer token (still the generated placeholder?)',
      ],
    ]);
    expect(lines.join('\n')).not.toMatch(/short|QQQQ|gggg/);
  });

  it('passes a fully configured stage, and the command exits 0 / 1 with a summary', async () => {
    const stage = uniqueStage();
    await ssm.send(
      new PutParameterCommand({
        Name: PAGERDUTY_PARAMETER(stage),
        Value: 'https://events.pagerduty.com/integration/abc123/enqueue',
        Type: 'SecureString',
      }),
    );
    for (const [setting, value] of Object.entries(GOOD)) await putSecret(stage, setting, value);
    const findings = await checkStageConfig(stage, deps());
    expect(findings.filter((f) => !f.ok)).toEqual([]);
    expect(findings).toHaveLength(SETTINGS.length);

    const saved = {
      endpoint: process.env.AWS_ENDPOINT_URL,
      key: process.env.AWS_ACCESS_KEY_ID,
      secret: process.env.AWS_SECRET_ACCESS_KEY,
    };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: emulatorUrl(),
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    resetClients();
    try {
      // The CLI takes only the three real stages; staging has nothing in this emulator account.
      const io = capture();
      expect(await run(['config', 'check', '--stage', 'staging'], io)).toBe(1);
      expect(io.stderr.at(-1)).toBe(
        'Stage staging is not fully configured: PagerDuty integration URL, JWT signing secret, Email hash key, Stripe webhook signing secret, Stripe API key, Google Ads developer token',
      );
      expect(await run(['config', 'check', '--stage', 'qa'], capture())).toBe(2);
    } finally {
      for (const [name, value] of [
        ['AWS_ENDPOINT_URL', saved.endpoint],
        ['AWS_ACCESS_KEY_ID', saved.key],
        ['AWS_SECRET_ACCESS_KEY', saved.secret],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      resetClients();
    }
  });
});

describe('config check rules', () => {
  it('reads the PagerDuty parameter the stack reads', () => {
    expect(PAGERDUTY_PARAMETER('prod')).toBe(pagerDutyParameterName('prod'));
  });

  it('accepts only https PagerDuty events URLs', () => {
    expect(pagerDutyUrlProblem('https://events.eu.pagerduty.com/integration/k/enqueue')).toBeUndefined();
    expect(pagerDutyUrlProblem('not a url')).toBe('not a URL');
    expect(pagerDutyUrlProblem('https://evil.example/integration')).toBe('not a PagerDuty events URL');
  });
});
