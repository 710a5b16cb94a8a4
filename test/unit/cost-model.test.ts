import { costCommand, parseCount } from '../../bench/cost/cli';
import {
  type CfnTemplate,
  customMetricCount,
  type FixedResources,
  fixedFromTemplate,
  runsPerMonth,
} from '../../bench/cost/fixed';
import { MEASURED } from '../../bench/cost/measured';
import {
  byService,
  DEFAULT_VOLUME,
  fixedCost,
  floorPerMillionWebhooks,
  monthlyCost,
  total,
  variablePerMillionWebhooks,
} from '../../bench/cost/model';
import { PRICES } from '../../bench/cost/prices';
import { attributeValueSize, itemSize } from '../../bench/support/dynamo-units';

const line = (lines: ReturnType<typeof monthlyCost>, service: string, item: string) =>
  lines.find((l) => l.service === service && l.item.startsWith(item));

/** A small deployment, as fixedFromTemplate would read it. */
const FIXED: FixedResources = {
  alarms: 2,
  alarmMetrics: 4,
  compositeAlarms: 1,
  dashboards: 1,
  kmsKeys: 1,
  secrets: 3,
  webAcls: 1,
  wafRules: 2,
  canaries: 1,
  canaryRunsPerMonth: 8640,
  logRetentionDays: 90,
  accessLogRetentionDays: 90,
  tables: 2,
  queuesWithConsumers: 1,
  customMetrics: 10,
};
const monthly = (volume: Parameters<typeof monthlyCost>[0]) => monthlyCost(volume, FIXED);

describe('cost model', () => {
  it('prices DynamoDB units as measured per webhook, conversion and lead', () => {
    const lines = monthly({ ...DEFAULT_VOLUME, webhooks: 1_000_000, leads: 0, conversions: 0 });
    const wru = line(lines, 'DynamoDB', 'write request units');
    expect(wru?.quantity).toBe(1_000_000 * (MEASURED.ingest.writeUnits + MEASURED.webhookWorker.writeUnits));
    expect(wru?.usd).toBeCloseTo(((wru?.quantity ?? 0) / 1e6) * PRICES.dynamodb.perMillionWriteUnits, 6);
    expect(line(lines, 'API Gateway', 'REST requests')?.usd).toBeCloseTo(3.5, 6);
  });

  it('grows the variable parts with volume and keeps the fixed ones', () => {
    const small = monthly({ ...DEFAULT_VOLUME, webhooks: 1_000_000 });
    const large = monthly({ ...DEFAULT_VOLUME, webhooks: 10_000_000 });
    expect(byService(large).DynamoDB).toBeGreaterThan(5 * (byService(small).DynamoDB ?? 0));
    expect(byService(large).Synthetics).toBe(byService(small).Synthetics);
    expect(total(large)).toBeGreaterThan(total(small));
    expect(Object.keys(byService(small)).sort()).toEqual(
      [
        'API Gateway',
        'CloudWatch',
        'DynamoDB',
        'KMS',
        'Lambda',
        'SQS',
        'Secrets Manager',
        'Synthetics',
        'WAF',
      ].sort(),
    );
  });

  it('prices what the stack holds: alarm metrics, composites, dashboards, keys, secrets, rules, canary runs', () => {
    const lines = monthly({ ...DEFAULT_VOLUME, webhooks: 0, leads: 0, conversions: 0 });
    expect(line(lines, 'CloudWatch', 'metric alarms')?.usd).toBeCloseTo(
      4 * PRICES.cloudwatch.alarmPerMonth,
      6,
    );
    expect(line(lines, 'CloudWatch', 'composite alarms')?.usd).toBeCloseTo(0.5, 6);
    expect(line(lines, 'CloudWatch', 'dashboards')?.usd).toBeCloseTo(3, 6);
    expect(line(lines, 'CloudWatch', 'custom metrics')?.usd).toBeCloseTo(3, 6);
    expect(line(lines, 'KMS', 'customer managed keys')?.usd).toBe(1);
    expect(line(lines, 'Secrets Manager', 'secrets')?.usd).toBeCloseTo(1.2, 6);
    expect(line(lines, 'WAF', 'web ACL and rules')?.usd).toBe(5 + 2);
    expect(line(lines, 'Synthetics', 'canary runs')?.usd).toBeCloseTo(8640 * 0.0012, 6);
    expect(fixedCost(FIXED)).toBeCloseTo(total(lines), 6);
    // Logs at steady state: a month's logs kept for the retention's months.
    const traffic = monthly({ ...DEFAULT_VOLUME, webhooks: 1_000_000 });
    const ingested = line(traffic, 'CloudWatch', 'logs ingested')?.quantity ?? 0;
    expect(line(traffic, 'CloudWatch', 'logs stored (90 d, access 90 d)')?.quantity).toBeCloseTo(
      ingested * 3,
      9,
    );
  });
});

describe('the floor of a webhook', () => {
  it('itemises what a paid order costs at the least: a request, an inspection, invocations, messages, three writes, logs', () => {
    const floor = floorPerMillionWebhooks();
    expect(floor.map((l) => `${l.service}: ${l.quantity}`)).toEqual([
      'API Gateway: 1000000',
      'WAF: 1000000',
      'Lambda: 1100000',
      'SQS: 2400000',
      'DynamoDB: 3000000',
      `CloudWatch: ${(1e6 * (MEASURED.accessLogBytes + 1.1 * MEASURED.lambdaPlatformLogBytes)) / 1024 ** 3}`,
    ]);
    expect(floor[0]?.usd).toBe(PRICES.apiGateway.restPerMillion);
    expect(floor[4]?.usd).toBeCloseTo(3 * PRICES.dynamodb.perMillionWriteUnits, 9);
  });

  it("sets the product's variable cost per million webhooks beside it: above it, and without the fixed part", () => {
    const variable = variablePerMillionWebhooks(FIXED);
    const none = { ...DEFAULT_VOLUME, webhooks: 0, leads: 0, conversions: 0 };
    expect(variable).toBeCloseTo(total(monthly({ ...none, webhooks: 1e6 })) - fixedCost(FIXED), 9);
    expect(variable).toBeGreaterThan(total(floorPerMillionWebhooks()));
    // The same whatever the stack's fixed part.
    expect(variablePerMillionWebhooks({ ...FIXED, alarms: 200, alarmMetrics: 400 })).toBeCloseTo(variable, 9);
  });
});

describe('fixed resources from a template', () => {
  const template: CfnTemplate = {
    Resources: {
      Key: { Type: 'AWS::KMS::Key' },
      A1: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'Errors' } },
      A2: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          Metrics: [
            { Id: 'e', Expression: 'm1/m2' },
            { Id: 'm1', MetricStat: {} },
            { Id: 'm2', MetricStat: {} },
          ],
        },
      },
      C: { Type: 'AWS::CloudWatch::CompositeAlarm' },
      S1: { Type: 'AWS::SecretsManager::Secret' },
      Acl: { Type: 'AWS::WAFv2::WebACL', Properties: { Rules: [{}, {}, {}] } },
      Canary: {
        Type: 'AWS::Synthetics::Canary',
        Properties: { Schedule: { Expression: 'rate(5 minutes)' } },
      },
      L1: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } },
      L2: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 365 } },
      L3: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 14 } },
      F: { Type: 'AWS::Lambda::Function', Properties: { LoggingConfig: { LogGroup: { Ref: 'L3' } } } },
      T: { Type: 'AWS::DynamoDB::Table' },
      M1: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: { EventSourceArn: { 'Fn::GetAtt': ['Q1', 'Arn'] } },
      },
      M2: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: { EventSourceArn: { 'Fn::GetAtt': ['Q1', 'Arn'] } },
      },
      M3: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: { EventSourceArn: { 'Fn::GetAtt': ['Q2', 'Arn'] } },
      },
    },
  };

  it('counts what is billed: alarm metrics, rules, canary runs, the longest retentions, consumed queues', () => {
    expect(fixedFromTemplate(template)).toEqual({
      alarms: 2,
      alarmMetrics: 3,
      compositeAlarms: 1,
      dashboards: 0,
      kmsKeys: 1,
      secrets: 1,
      webAcls: 1,
      wafRules: 3,
      canaries: 1,
      canaryRunsPerMonth: 8640,
      logRetentionDays: 14,
      accessLogRetentionDays: 365,
      tables: 1,
      queuesWithConsumers: 2,
      customMetrics: customMetricCount(),
    });
  });

  it('prices a log group without retention as kept for ten years', () => {
    const forever: CfnTemplate = { Resources: { L: { Type: 'AWS::Logs::LogGroup', Properties: {} } } };
    expect(fixedFromTemplate(forever).accessLogRetentionDays).toBe(3650);
  });

  it('reads rate schedules, and refuses what it cannot price', () => {
    expect(runsPerMonth('rate(1 minute)')).toBe(43_200);
    expect(runsPerMonth('rate(2 hours)')).toBe(360);
    expect(runsPerMonth('rate(1 day)')).toBe(30);
    expect(runsPerMonth('rate(0 minutes)')).toBe(0);
    expect(() => runsPerMonth('cron(0 * * * ? *)')).toThrow('Cannot price the schedule');
  });

  it('counts every dimension combination of the metric catalogue', () => {
    // ApiRequests alone has route_group × status_class combinations.
    expect(customMetricCount()).toBeGreaterThanOrEqual(11 * 4);
  });

  it('reads counts with k and M, and refuses anything else with the usage', () => {
    expect(parseCount('10M')).toBe(10_000_000);
    expect(parseCount('250k')).toBe(250_000);
    expect(parseCount('1000')).toBe(1000);
    expect(() => parseCount('lots')).toThrow('not a count');
    const out: string[] = [];
    const stages: string[] = [];
    const fixedOf = (stage: string) => {
      stages.push(stage);
      return FIXED;
    };
    expect(costCommand(['--webhooks', 'lots'], (t) => out.push(t), fixedOf)).toBe(2);
    expect(costCommand(['--nope'], (t) => out.push(t), fixedOf)).toBe(2);
    expect(costCommand(['--stage', 'qa'], (t) => out.push(t), fixedOf)).toBe(2);
    expect(out.join('\n')).toContain('Usage: npm run cost');
    expect(
      costCommand(['--webhooks', '10M', '--leads', '1M', '--conversions', '1M'], (t) => out.push(t), fixedOf),
    ).toBe(0);
    expect(out.at(-1)).toContain('per service:');
    expect(out.at(-1)).toContain('the synthesized prod stack: 2 metric alarms (4 metrics)');
    expect(costCommand(['--webhooks', '1M', '--stage', 'dev', '--json'], (t) => out.push(t), fixedOf)).toBe(
      0,
    );
    const json = JSON.parse(out.at(-1) as string);
    expect(json.volume.webhooks).toBe(1_000_000);
    expect(json.fixed).toEqual(FIXED);
    expect(stages).toEqual(['prod', 'dev']);
  });
});

describe('DynamoDB item size', () => {
  it('follows the published rules for strings, numbers, booleans, lists and maps', () => {
    expect(attributeValueSize({ S: 'abc' })).toBe(3);
    expect(attributeValueSize({ S: 'é' })).toBe(2);
    expect(attributeValueSize({ N: '123456' })).toBe(4);
    expect(attributeValueSize({ BOOL: true })).toBe(1);
    expect(attributeValueSize({ L: [{ S: 'a' }, { S: 'b' }] })).toBe(3 + 2 + 2);
    expect(attributeValueSize({ M: { k: { S: 'v' } } })).toBe(3 + 1 + 1 + 1);
    expect(itemSize({ pk: { S: 'TENANT#1' }, count: { N: '7' } })).toBe(2 + 8 + 5 + 2);
    expect(itemSize({ name: 'abc' } as never)).toBe(4 + 3);
  });
});
