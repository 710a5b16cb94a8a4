import { type App, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { Stage } from '../../contract/stages';
import type { AdsEngineerStack } from '../../infra/stack';
import { buildStack } from './build';

/** Every acknowledgement in the tree: rule id, reason, and where it was made. */
function acknowledgements(root: IConstruct) {
  const found: { id: string; reason: string; path: string }[] = [];
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push({ id: id.replace(/^annotation::/i, ''), reason, path: construct.node.path });
      }
    }
  }
  return found;
}

/** Unacknowledged AwsSolutions findings, one line each, so a failure names rule and resource. */
function findings(stack: AdsEngineerStack): string[] {
  const report = new AwsSolutionsChecks().validateScope(stack);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}: ${v.description}`),
  );
}

/** The acknowledged rules, each reviewed: a new one must be added here with its reason in the code. */
const EXPECTED_ACKNOWLEDGEMENTS = [
  'AwsSolutions-APIG2',
  'AwsSolutions-APIG4',
  'AwsSolutions-APIG6',
  'AwsSolutions-COG4',
  'AwsSolutions-IAM4',
  'AwsSolutions-IAM5',
  'AwsSolutions-L1',
  'AwsSolutions-SMG4',
];

describe.each(['dev', 'prod'] as Stage[])('cdk-nag AwsSolutions in %s', (stage) => {
  let app: App;
  let stack: AdsEngineerStack;
  beforeAll(() => {
    ({ app, stack } = buildStack(stage));
  });

  test('no unacknowledged error or warning', () => {
    expect(findings(stack)).toEqual([]);
  });

  test('synthesis with the plugin registered as in bin/app.ts succeeds', () => {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    expect(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  test('only the reviewed rules are acknowledged, each with a specific reason', () => {
    const all = acknowledgements(stack);
    // A finding's resource-specific suffix (`[Resource::...]`) is checked by its own test below.
    const rules = all.map((a) => a.id.replace(/\[.*\]$/, ''));
    expect([...new Set(rules)].sort()).toEqual(EXPECTED_ACKNOWLEDGEMENTS);
    for (const { id, reason } of all) {
      expect({ id, long: reason.length >= 80 }).toEqual({ id, long: true });
      expect(reason).not.toMatch(/\b(TODO|FIXME|suppress(ed)?|not needed|n\/a)\b/i);
    }
  });

  test('the API acknowledgements sit on the REST API, not on the whole stack', () => {
    const stackLevel = acknowledgements(stack).filter((a) => a.path === stack.node.path);
    expect(stackLevel).toEqual([]);
  });
});

test('the backup worker stays clean: its one prefix wildcard is acknowledged on its own role', () => {
  const { stack } = buildStack('prod');
  expect(findings(stack)).toEqual([]);
  const iam5 = acknowledgements(stack).filter(
    (a) => a.id.startsWith('AwsSolutions-IAM5') && a.path.includes('/Functions/'),
  );
  expect(iam5).toHaveLength(1);
  expect(iam5[0]?.id).toMatch(/^AwsSolutions-IAM5\[Resource::<StorageBackups[0-9A-F]+\.Arn>\/backups\/\*\]$/);
  expect(iam5[0]?.path).toMatch(/Functions\/BackupWorkerRole$/);
});

test('the uptime canary role acknowledges only the wildcards the Synthetics runtime needs', () => {
  const { stack } = buildStack('prod');
  const canary = acknowledgements(stack).filter((a) => a.path.endsWith('Monitoring/Uptime/Role'));
  expect(canary.map((a) => a.id).sort()).toEqual([
    'AwsSolutions-IAM5[Resource::*]',
    expect.stringMatching(
      /^AwsSolutions-IAM5\[Resource::<MonitoringUptimeArtifacts[0-9A-F]+\.Arn>\/runs\/\*\]$/,
    ),
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:eu-west-1:123456789012:log-group:/aws/lambda/cwsyn-ae-prod-api-*]',
  ]);
});
