import { Match } from 'aws-cdk-lib/assertions';
import { backupRetention } from '../../contract/backups';
import { DEFAULT_RATE_LIMITS } from '../../contract/rate-limits';
import { ROUTES } from '../../contract/routes';
import { STAGE_SETTINGS, type Stage } from '../../contract/stages';
import {
  FIREWALL_MAX_API_BODY_BYTES,
  FIREWALL_RATE_LIMITS,
  webhookPathPrefixes,
} from '../../infra/constructs/firewall';
import { logicalId, properties, resources, stagesBuiltOnce } from './build';

const stagesUnderTest: Stage[] = ['dev', 'prod'];
const get = stagesBuiltOnce(stagesUnderTest);

type Json = Record<string, unknown>;

/** A managed rule group rule's group statement. */
function groupOf(rule: Json | undefined): Json {
  if (!rule) throw new Error('no such rule');
  return (rule.Statement as Json).ManagedRuleGroupStatement as Json;
}

/** The web ACL's rules by name. */
function rulesOf(stage: Stage): Record<string, Json> {
  const { stack, template } = get(stage);
  const acl = properties(template, stack.getLogicalId(stack.firewall.webAcl));
  return Object.fromEntries((acl.Rules as Json[]).map((rule) => [rule.Name as string, rule]));
}

/** Evaluates a byte-match / or / not statement on a URI path, as WAF would. */
function matches(statement: Json, uriPath: string): boolean {
  if (statement.NotStatement) return !matches((statement.NotStatement as Json).Statement as Json, uriPath);
  if (statement.OrStatement)
    return ((statement.OrStatement as Json).Statements as Json[]).some((s) => matches(s, uriPath));
  const byte = statement.ByteMatchStatement as Json | undefined;
  if (byte?.PositionalConstraint !== 'CONTAINS') throw new Error('unexpected statement');
  return uriPath.includes((byte as Json).SearchString as string);
}

const WEBHOOK_URIS = [
  '/prod/api/v1/shopify/webhook',
  '/prod/api/v1/woocommerce/webhook',
  '/prod/api/v1/ghl/webhook/whk_0123456789abcdef',
  '/prod/api/v1/billing/webhooks/stripe',
];
const API_URIS = [
  '/prod/api/v1/leads',
  '/prod/api/v1/gdpr/subjects',
  '/prod/health',
  '/prod/api/v1/auth/token',
];

describe.each(stagesUnderTest)('AWS WAF in front of the API in %s', (stage) => {
  test('one regional web ACL, allowing by default, associated with the API stage', () => {
    const { stack, template } = get(stage);
    template.resourceCountIs('AWS::WAFv2::WebACL', 1);
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      AssociationConfig: { RequestBody: { API_GATEWAY: { DefaultSizeInspectionLimit: 'KB_64' } } },
    });
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    const [association] = Object.values(resources(template, 'AWS::WAFv2::WebACLAssociation'));
    expect(association?.Properties?.WebACLArn).toEqual({
      'Fn::GetAtt': [stack.getLogicalId(stack.firewall.webAcl), 'Arn'],
    });
    expect(JSON.stringify(association?.Properties?.ResourceArn)).toContain(
      logicalId(stack, stack.api.restApi),
    );
    expect(JSON.stringify(association?.Properties?.ResourceArn)).toContain(
      JSON.stringify({ Ref: logicalId(stack, stack.api.stage) }),
    );
  });

  test('the managed rule groups: IP reputation, anonymous IPs, known bad inputs, common rule set', () => {
    const rules = rulesOf(stage);
    const groups = Object.values(rules)
      .map((r) => ((r.Statement as Json).ManagedRuleGroupStatement as Json | undefined)?.Name)
      .filter(Boolean);
    expect(groups).toEqual([
      'AWSManagedRulesAmazonIpReputationList',
      'AWSManagedRulesAnonymousIpList',
      'AWSManagedRulesKnownBadInputsRuleSet',
      'AWSManagedRulesCommonRuleSet',
    ]);
    for (const rule of Object.values(rules)) {
      if ((rule.Statement as Json).ManagedRuleGroupStatement)
        expect(rule.OverrideAction).toEqual({ None: {} });
      expect(rule.VisibilityConfig).toMatchObject({
        CloudWatchMetricsEnabled: true,
        SampledRequestsEnabled: true,
      });
    }
  });

  test('webhook senders pass: hosting-provider IPs only counted, the common rule set not on webhook paths, its 8 KB body rule only counted', () => {
    const rules = rulesOf(stage);
    const anonymous = groupOf(rules['AWS-AWSManagedRulesAnonymousIpList']);
    expect(anonymous.RuleActionOverrides).toEqual([
      { Name: 'HostingProviderIPList', ActionToUse: { Count: {} } },
    ]);
    const common = groupOf(rules['AWS-AWSManagedRulesCommonRuleSet']);
    expect(common.RuleActionOverrides).toEqual([
      { Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } },
    ]);
    const scope = common.ScopeDownStatement as Json;
    for (const uri of WEBHOOK_URIS) expect(matches(scope, uri)).toBe(false);
    for (const uri of API_URIS) expect(matches(scope, uri)).toBe(true);
    expect(webhookPathPrefixes(ROUTES).length).toBe(ROUTES.filter((r) => r.auth === 'signature').length);
  });

  test('per-IP rate-based rules block floods, sized above the API limits', () => {
    const rules = rulesOf(stage);
    const api = rules.RateLimitPerIp as Json;
    const webhooks = rules.RateLimitPerIpWebhooks as Json;
    expect(api.Priority).toBe(0);
    for (const [rule, limit, uris] of [
      [api, FIREWALL_RATE_LIMITS.api, API_URIS],
      [webhooks, FIREWALL_RATE_LIMITS.webhooks, WEBHOOK_URIS],
    ] as const) {
      expect(rule.Action).toEqual({ Block: {} });
      const statement = (rule.Statement as Json).RateBasedStatement as Json;
      expect(statement).toMatchObject({ AggregateKeyType: 'IP', Limit: limit, EvaluationWindowSec: 300 });
      for (const uri of uris) expect(matches(statement.ScopeDownStatement as Json, uri)).toBe(true);
    }
    // Per 5 minutes, above an hour's worth of any single API limit.
    const perHour = Math.max(...Object.values(DEFAULT_RATE_LIMITS));
    expect(FIREWALL_RATE_LIMITS.api).toBeGreaterThan(perHour);
    expect(FIREWALL_RATE_LIMITS.webhooks).toBeGreaterThan(FIREWALL_RATE_LIMITS.api);
  });

  test('API bodies above the inspection limit are blocked; webhook bodies are bounded by the ingest function', () => {
    const rule = rulesOf(stage).ApiBodySize as Json;
    expect(rule.Action).toEqual({ Block: {} });
    const [scope, size] = ((rule.Statement as Json).AndStatement as Json).Statements as Json[];
    expect(size?.SizeConstraintStatement).toMatchObject({
      FieldToMatch: { Body: { OversizeHandling: 'MATCH' } },
      ComparisonOperator: 'GT',
      Size: FIREWALL_MAX_API_BODY_BYTES,
    });
    for (const uri of WEBHOOK_URIS) expect(matches(scope as Json, uri)).toBe(false);
    for (const uri of API_URIS) expect(matches(scope as Json, uri)).toBe(true);
  });

  test('logs blocked and counted requests to CloudWatch with Authorization, cookies, URI and query redacted', () => {
    const { stack, template } = get(stage);
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: `aws-waf-logs-adsengineer-${stage}`,
      RetentionInDays: STAGE_SETTINGS[stage].accessLogRetentionDays,
    });
    template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      ResourceArn: { 'Fn::GetAtt': [stack.getLogicalId(stack.firewall.webAcl), 'Arn'] },
      LogDestinationConfigs: [
        {
          'Fn::Join': [
            '',
            Match.arrayWith([Match.stringLikeRegexp(`:log-group:aws-waf-logs-adsengineer-${stage}$`)]),
          ],
        },
      ],
      RedactedFields: [
        { SingleHeader: { Name: 'authorization' } },
        { SingleHeader: { Name: 'cookie' } },
        { UriPath: {} },
        { QueryString: {} },
      ],
      LoggingFilter: Match.objectLike({ DefaultBehavior: 'DROP' }),
    });
  });
});

describe.each(stagesUnderTest)('backups under S3 Object Lock in %s', (stage) => {
  test('the backup bucket locks every version for its retention, then expires it', () => {
    const { stack, template } = get(stage);
    const retention = backupRetention(STAGE_SETTINGS[stage]);
    const bucket = properties(template, logicalId(stack, stack.storage.backupBucket));
    expect(bucket.ObjectLockEnabled).toBe(true);
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: retention.mode, Days: retention.days } },
    });
    expect(retention.mode).toBe(stage === 'prod' ? 'COMPLIANCE' : 'GOVERNANCE');
    const rules = (bucket.LifecycleConfiguration as { Rules: Json[] }).Rules;
    expect(rules).toEqual([
      expect.objectContaining({
        ExpirationInDays: retention.days + 1,
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
        Status: 'Enabled',
      }),
    ]);
  });
});
