import { readFileSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { COST_DOC, renderCostDoc } from '../../bench/cost/docs';
import { fixedFromTemplate } from '../../bench/cost/fixed';
import { synthesizedTemplate } from '../../bench/cost/template';

/**
 * The cost model reads the stack it prices: the fixed resources come from the synthesized
 * template, and docs/cost.md shows exactly what `npm run cost` prints for it.
 */
describe('cost of the synthesized stack', () => {
  const template = synthesizedTemplate('prod');
  const fixed = fixedFromTemplate(template);

  it('reads the resources CloudFormation will create', () => {
    const assertions = Template.fromJSON(template as unknown as Record<string, unknown>);
    expect(Object.keys(assertions.findResources('AWS::CloudWatch::Alarm'))).toHaveLength(fixed.alarms);
    expect(Object.keys(assertions.findResources('AWS::KMS::Key'))).toHaveLength(fixed.kmsKeys);
    expect(Object.keys(assertions.findResources('AWS::SecretsManager::Secret'))).toHaveLength(fixed.secrets);
    expect(fixed.alarmMetrics).toBeGreaterThanOrEqual(fixed.alarms);
    expect(fixed.canaries).toBe(1);
    expect(fixed.canaryRunsPerMonth).toBeGreaterThan(0);
    expect(fixed.wafRules).toBeGreaterThan(0);
    expect(fixed.logRetentionDays).toBeGreaterThan(0);
  });

  it('docs/cost.md holds the figures `npm run cost` prints for this stack (npm run cost:docs rewrites them)', () => {
    const doc = readFileSync(COST_DOC, 'utf8');
    expect(doc).toContain('<!-- npm run cost -- ');
    const stages: string[] = [];
    const rendered = renderCostDoc(doc, (stage) => {
      stages.push(stage);
      return fixed;
    });
    expect(stages.length).toBeGreaterThan(0);
    expect(new Set(stages)).toEqual(new Set(['prod']));
    expect(rendered).toBe(doc);
  });
});
