import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import type { RouteDefinition } from '../../contract/routes';
import type { StageSettings } from '../../contract/stages';
import { logRetention, removalPolicyFor } from './support';

/**
 * Requests per client IP in any 5-minute window before the firewall blocks the address. Sized
 * well above what the API itself allows (docs/api.md, Rate limits: 100 per hour per IP on public routes, 1,000
 * per hour per tenant and per webhook source), so only floods meet it, and they cost no Lambda
 * invocation and no DynamoDB write. Webhook senders deliver for many shops from few addresses:
 * their paths get a higher limit.
 */
export const FIREWALL_RATE_LIMITS = { api: 2_000, webhooks: 10_000 } as const;
/** The window of both rate-based rules. */
export const FIREWALL_RATE_WINDOW_SECONDS = 300;
/**
 * How much of a body the firewall inspects (API Gateway's default is 16 KB; 64 KB is the most it
 * can be raised to). API bodies above it are blocked; webhook bodies may be larger (a Shopify order
 * with many lines is) and are bounded by the ingest function instead (250 KiB, 413).
 */
export const FIREWALL_BODY_INSPECTION_LIMIT = 'KB_64';
export const FIREWALL_MAX_API_BODY_BYTES = 64 * 1024;

/** The fixed leading part of each webhook route (up to its first path parameter). */
export function webhookPathPrefixes(routes: readonly RouteDefinition[]): string[] {
  return [
    ...new Set(routes.filter((r) => r.auth === 'signature').map((r) => r.path.split('{')[0] as string)),
  ];
}

/** Matches requests to a webhook route; the stage name may precede the path, so `CONTAINS`. */
function webhookPaths(routes: readonly RouteDefinition[]): wafv2.CfnWebACL.StatementProperty {
  const matches = webhookPathPrefixes(routes).map(
    (prefix): wafv2.CfnWebACL.StatementProperty => ({
      byteMatchStatement: {
        fieldToMatch: { uriPath: {} },
        positionalConstraint: 'CONTAINS',
        searchString: prefix,
        textTransformations: [{ priority: 0, type: 'NONE' }],
      },
    }),
  );
  if (matches.length === 0) throw new Error('the route table has no webhook route');
  return matches.length === 1
    ? (matches[0] as wafv2.CfnWebACL.StatementProperty)
    : { orStatement: { statements: matches } };
}

const not = (statement: wafv2.CfnWebACL.StatementProperty): wafv2.CfnWebACL.StatementProperty => ({
  notStatement: { statement },
});

const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
  cloudWatchMetricsEnabled: true,
  metricName,
  sampledRequestsEnabled: true,
});

function managedGroup(
  priority: number,
  name: string,
  options: { countRules?: string[]; scopeDown?: wafv2.CfnWebACL.StatementProperty } = {},
): wafv2.CfnWebACL.RuleProperty {
  return {
    name: `AWS-${name}`,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name,
        ...(options.countRules?.length
          ? {
              ruleActionOverrides: options.countRules.map((rule) => ({
                name: rule,
                actionToUse: { count: {} },
              })),
            }
          : {}),
        ...(options.scopeDown ? { scopeDownStatement: options.scopeDown } : {}),
      },
    },
    visibilityConfig: visibility(name),
  };
}

function rateRule(
  priority: number,
  name: string,
  limit: number,
  scopeDown: wafv2.CfnWebACL.StatementProperty,
): wafv2.CfnWebACL.RuleProperty {
  return {
    name,
    priority,
    action: { block: {} },
    statement: {
      rateBasedStatement: {
        aggregateKeyType: 'IP',
        limit,
        evaluationWindowSec: FIREWALL_RATE_WINDOW_SECONDS,
        scopeDownStatement: scopeDown,
      },
    },
    visibilityConfig: visibility(name),
  };
}

/**
 * The firewall rules, in order:
 * 1. per-IP rate limits (API paths and webhook paths apart), blocking floods before anything else;
 * 2. Amazon's IP reputation list;
 * 3. the anonymous-IP list, with `HostingProviderIPList` only counted: Shopify, WooCommerce hosts,
 *    GoHighLevel and Stripe send from cloud hosting providers;
 * 4. known bad inputs (Log4j, Java deserialisation, ...) on every path;
 * 5. the common rule set on every path but the webhooks', with `SizeRestrictions_BODY` (which
 *    blocks every body over 8 KB) only counted: rule 6 bounds bodies instead. Webhook bodies are
 *    signed by their sender and verified on the raw bytes before anything reads them;
 * 6. API bodies (not webhooks) larger than the inspection limit are blocked.
 */
export function firewallRules(routes: readonly RouteDefinition[]): wafv2.CfnWebACL.RuleProperty[] {
  const webhooks = webhookPaths(routes);
  return [
    rateRule(0, 'RateLimitPerIp', FIREWALL_RATE_LIMITS.api, not(webhooks)),
    rateRule(1, 'RateLimitPerIpWebhooks', FIREWALL_RATE_LIMITS.webhooks, webhooks),
    managedGroup(2, 'AWSManagedRulesAmazonIpReputationList'),
    managedGroup(3, 'AWSManagedRulesAnonymousIpList', { countRules: ['HostingProviderIPList'] }),
    managedGroup(4, 'AWSManagedRulesKnownBadInputsRuleSet'),
    managedGroup(5, 'AWSManagedRulesCommonRuleSet', {
      countRules: ['SizeRestrictions_BODY'],
      scopeDown: not(webhooks),
    }),
    {
      name: 'ApiBodySize',
      priority: 6,
      action: { block: {} },
      statement: {
        andStatement: {
          statements: [
            not(webhooks),
            {
              sizeConstraintStatement: {
                fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
                comparisonOperator: 'GT',
                size: FIREWALL_MAX_API_BODY_BYTES,
                textTransformations: [{ priority: 0, type: 'NONE' }],
              },
            },
          ],
        },
      },
      visibilityConfig: visibility('ApiBodySize'),
    },
  ];
}

export interface FirewallProps {
  readonly settings: StageSettings;
  readonly stage: apigateway.Stage;
  readonly routes: readonly RouteDefinition[];
}

/**
 * AWS WAF in front of the API stage: the web ACL, its association, and logging of blocked and
 * counted requests to CloudWatch Logs with credentials and the raw URI redacted (a GoHighLevel
 * webhook URL holds the tenant's token; the access log records the route template instead).
 */
export class Firewall extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FirewallProps) {
    super(scope, id);
    const { settings } = props;
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: `adsengineer-${settings.stage}-api`,
      description: `AdsEngineer ${settings.stage}: managed rules, per-IP rate limits and body size in front of the API`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      associationConfig: {
        requestBody: { API_GATEWAY: { defaultSizeInspectionLimit: FIREWALL_BODY_INSPECTION_LIMIT } },
      },
      rules: firewallRules(props.routes),
      visibilityConfig: visibility(`adsengineer-${settings.stage}-api`),
    });

    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });

    // WAF delivers only to log groups named aws-waf-logs-*, and wants the ARN without ':*'.
    const logGroupName = `aws-waf-logs-adsengineer-${settings.stage}`;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName,
      // Access logs: kept for security investigations (stages.ts).
      retention: logRetention(settings, 'access'),
      removalPolicy: removalPolicyFor(settings),
    });
    const logging = new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      redactedFields: [
        { singleHeader: { Name: 'authorization' } },
        { singleHeader: { Name: 'cookie' } },
        { uriPath: {} },
        { queryString: {} },
      ],
      // Allowed requests are in the access log already; the firewall's log keeps its decisions.
      loggingFilter: {
        DefaultBehavior: 'DROP',
        Filters: [
          {
            Behavior: 'KEEP',
            Requirement: 'MEETS_ANY',
            Conditions: [{ ActionCondition: { Action: 'BLOCK' } }, { ActionCondition: { Action: 'COUNT' } }],
          },
        ],
      },
    });
    logging.node.addDependency(this.logGroup);
  }
}
