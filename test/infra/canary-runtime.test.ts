import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { CANARY_HANDLER, CANARY_SOURCE_DIR } from '../../infra/constructs/canary';
import { buildStack, resources } from './build';

/**
 * When a Synthetics runtime stops being one AWS creates canaries on. AWS deprecates a Synthetics
 * runtime when any of its components leaves support, its Lambda Node.js base included, so a
 * runtime's deprecation is the earlier of the date in the Synthetics table and its base's date.
 *
 * Synthetics deprecation dates, from "CloudWatch Synthetics runtime deprecation dates":
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Runtime_Support_Policy.html
 */
const SYNTHETICS_DEPRECATED: Readonly<Record<string, string>> = {
  'syn-nodejs-puppeteer-7.0': '2026-01-22',
  'syn-nodejs-puppeteer-6.2': '2026-01-22',
  'syn-nodejs-puppeteer-5.2': '2026-01-22',
  'syn-nodejs-puppeteer-6.1': '2024-03-08',
  'syn-nodejs-puppeteer-6.0': '2024-03-08',
  'syn-nodejs-puppeteer-5.1': '2024-03-08',
  'syn-nodejs-puppeteer-5.0': '2024-03-08',
  'syn-nodejs-puppeteer-4.0': '2024-03-08',
  'syn-nodejs-puppeteer-3.9': '2024-01-08',
  'syn-nodejs-puppeteer-3.8': '2024-01-08',
  'syn-nodejs-puppeteer-3.7': '2024-01-08',
  'syn-nodejs-puppeteer-3.6': '2024-01-08',
  'syn-nodejs-puppeteer-3.5': '2024-01-08',
  'syn-nodejs-puppeteer-3.4': '2022-11-13',
  'syn-nodejs-puppeteer-3.3': '2022-11-13',
  'syn-nodejs-puppeteer-3.2': '2022-11-13',
  'syn-nodejs-puppeteer-3.1': '2022-11-13',
  'syn-nodejs-puppeteer-3.0': '2022-11-13',
  'syn-nodejs-2.2': '2021-05-28',
  'syn-nodejs-2.1': '2021-05-28',
  'syn-nodejs-2.0': '2021-05-28',
  'syn-1.0': '2021-05-28',
};

/**
 * The Lambda Node.js base of each Node.js and Puppeteer runtime still listed as supported
 * ("Major dependencies"):
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Library_nodejs_puppeteer.html
 */
const LAMBDA_BASE: Readonly<Record<string, string>> = {
  'syn-nodejs-puppeteer-15.0': 'nodejs22.x',
  'syn-nodejs-puppeteer-14.0': 'nodejs22.x',
  'syn-nodejs-puppeteer-13.1': 'nodejs22.x',
  'syn-nodejs-puppeteer-13.0': 'nodejs22.x',
  'syn-nodejs-puppeteer-12.0': 'nodejs22.x',
  'syn-nodejs-puppeteer-11.0': 'nodejs20.x',
  'syn-nodejs-puppeteer-10.0': 'nodejs20.x',
  'syn-nodejs-puppeteer-9.1': 'nodejs20.x',
  'syn-nodejs-puppeteer-9.0': 'nodejs20.x',
  'syn-nodejs-puppeteer-8.0': 'nodejs20.x',
};

/**
 * Deprecation of each Lambda Node.js runtime, from "Supported runtimes" / "Deprecated runtimes":
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
 */
const LAMBDA_DEPRECATED: Readonly<Record<string, string>> = {
  'nodejs20.x': '2026-04-30',
  'nodejs22.x': '2027-04-30',
  'nodejs24.x': '2028-04-30',
};

/** The day these tables were read; the test also checks today, so time alone can fail it. */
const TABLES_AS_OF = '2026-12-07';

/** The day a runtime is deprecated (YYYY-MM-DD), or undefined when no date is known. */
function deprecatedOn(runtime: string): string | undefined {
  const base = LAMBDA_BASE[runtime];
  const dates = [
    SYNTHETICS_DEPRECATED[runtime],
    base === undefined ? undefined : LAMBDA_DEPRECATED[base],
  ].filter((date): date is string => date !== undefined);
  return dates.sort()[0];
}

const isKnown = (runtime: string) => runtime in SYNTHETICS_DEPRECATED || runtime in LAMBDA_BASE;
const isDeprecatedAsOf = (runtime: string, day: string) => {
  const date = deprecatedOn(runtime);
  return date !== undefined && date <= day;
};

describe('the uptime canary runtime', () => {
  const { stack } = buildStack('prod');
  const canaries = Object.values(resources(Template.fromStack(stack), 'AWS::Synthetics::Canary'));
  const runtime = String(canaries[0]?.Properties?.RuntimeVersion);
  const today = new Date().toISOString().slice(0, 10);

  test('the stack has one canary, on a runtime the tables know', () => {
    expect(canaries).toHaveLength(1);
    expect(isKnown(runtime)).toBe(true);
  });

  test('is not deprecated as of the tables, nor as of today', () => {
    expect({ runtime, deprecated: isDeprecatedAsOf(runtime, TABLES_AS_OF) }).toEqual({
      runtime,
      deprecated: false,
    });
    expect({ runtime, deprecated: isDeprecatedAsOf(runtime, today) }).toEqual({ runtime, deprecated: false });
  });

  test('the rule sees a runtime deprecated by its Synthetics date or by its Node.js base', () => {
    // The runtime the canary used before: its Node.js 20 base left Lambda support.
    expect(deprecatedOn('syn-nodejs-puppeteer-9.1')).toBe('2026-04-30');
    expect(isDeprecatedAsOf('syn-nodejs-puppeteer-9.1', TABLES_AS_OF)).toBe(true);
    expect(isDeprecatedAsOf('syn-nodejs-puppeteer-7.0', TABLES_AS_OF)).toBe(true);
    expect(isDeprecatedAsOf('syn-nodejs-puppeteer-15.0', '2027-04-29')).toBe(false);
    expect(isDeprecatedAsOf('syn-nodejs-puppeteer-15.0', '2027-04-30')).toBe(true);
    expect(isKnown('syn-nodejs-puppeteer-99.0')).toBe(false);
  });

  test('the script uses none of the namespaces runtimes from 13.1 on replace', () => {
    // syn-nodejs-puppeteer-13.1 and later: Synthetics → @aws/synthetics-puppeteer, SyntheticsLogger →
    // @aws/synthetics-logger, and so on (same page as LAMBDA_BASE).
    const script = readFileSync(
      path.join(CANARY_SOURCE_DIR, 'nodejs', 'node_modules', `${CANARY_HANDLER.split('.')[0]}.js`),
      'utf8',
    );
    const required = [...script.matchAll(/require\(\s*'([^']+)'\s*\)/g)].map((match) => match[1]);
    expect(required.length).toBeGreaterThan(0);
    for (const name of required) {
      expect(name).toMatch(/^(node:|@aws-sdk\/|@aws\/synthetics-)/);
    }
  });
});
