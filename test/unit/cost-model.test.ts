import { costCommand, parseCount } from '../../bench/cost/cli';
import { MEASURED } from '../../bench/cost/measured';
import { byService, DEFAULT_VOLUME, monthlyCost, total } from '../../bench/cost/model';
import { PRICES } from '../../bench/cost/prices';
import { attributeValueSize, itemSize } from '../../bench/support/dynamo-units';

const line = (lines: ReturnType<typeof monthlyCost>, service: string, item: string) =>
  lines.find((l) => l.service === service && l.item === item);

describe('cost model', () => {
  it('prices DynamoDB units as measured per webhook, conversion and lead', () => {
    const lines = monthlyCost({ ...DEFAULT_VOLUME, webhooks: 1_000_000, leads: 0, conversions: 0 });
    const wru = line(lines, 'DynamoDB', 'write request units');
    expect(wru?.quantity).toBe(1_000_000 * (MEASURED.ingest.writeUnits + MEASURED.webhookWorker.writeUnits));
    expect(wru?.usd).toBeCloseTo(((wru?.quantity ?? 0) / 1e6) * PRICES.dynamodb.perMillionWriteUnits, 6);
    expect(line(lines, 'API Gateway', 'REST requests')?.usd).toBeCloseTo(3.5, 6);
  });

  it('grows the variable parts with volume and keeps the fixed ones', () => {
    const small = monthlyCost({ ...DEFAULT_VOLUME, webhooks: 1_000_000 });
    const large = monthlyCost({ ...DEFAULT_VOLUME, webhooks: 10_000_000 });
    expect(byService(large).DynamoDB).toBeGreaterThan(5 * (byService(small).DynamoDB ?? 0));
    expect(byService(large).Synthetics).toBe(byService(small).Synthetics);
    expect(total(large)).toBeGreaterThan(total(small));
    expect(Object.keys(byService(small)).sort()).toEqual(
      ['API Gateway', 'CloudWatch', 'DynamoDB', 'KMS', 'Lambda', 'SQS', 'Synthetics', 'WAF'].sort(),
    );
  });

  it('reads counts with k and M, and refuses anything else with the usage', () => {
    expect(parseCount('10M')).toBe(10_000_000);
    expect(parseCount('250k')).toBe(250_000);
    expect(parseCount('1000')).toBe(1000);
    expect(() => parseCount('lots')).toThrow('not a count');
    const out: string[] = [];
    expect(costCommand(['--webhooks', 'lots'], (t) => out.push(t))).toBe(2);
    expect(costCommand(['--nope'], (t) => out.push(t))).toBe(2);
    expect(out.join('\n')).toContain('Usage: npm run cost');
    expect(
      costCommand(['--webhooks', '10M', '--leads', '1M', '--conversions', '1M'], (t) => out.push(t)),
    ).toBe(0);
    expect(out.at(-1)).toContain('per service:');
    expect(costCommand(['--webhooks', '1M', '--json'], (t) => out.push(t))).toBe(0);
    expect(JSON.parse(out.at(-1) as string).volume.webhooks).toBe(1_000_000);
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
