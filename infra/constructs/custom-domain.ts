import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';

/** Deploy context `domainName`, `hostedZoneId`, `hostedZoneName`: all three, or none. */
export interface DomainSettings {
  readonly domainName: string;
  readonly hostedZoneId: string;
  readonly hostedZoneName: string;
}

/** The domain settings from deploy context; a partial set is a mistake, refused by name. */
export function domainSettingsFrom(get: (name: string) => string | undefined): DomainSettings | undefined {
  const names = ['domainName', 'hostedZoneId', 'hostedZoneName'] as const;
  const values = names.map((name) => get(name));
  if (values.every((v) => v === undefined)) return undefined;
  const missing = names.filter((_, i) => values[i] === undefined);
  if (missing.length) {
    throw new Error(
      `A custom domain needs domainName, hostedZoneId and hostedZoneName; missing ${missing.join(', ')}`,
    );
  }
  const [name, hostedZoneId, hostedZoneName] = values as [string, string, string];
  const domainName = name.toLowerCase();
  const zone = hostedZoneName.replace(/\.$/, '').toLowerCase();
  if (domainName !== zone && !domainName.endsWith(`.${zone}`)) {
    throw new Error(`domainName ${domainName} is not inside the hosted zone ${zone}`);
  }
  return { domainName, hostedZoneId, hostedZoneName: zone };
}

export interface CustomDomainProps extends DomainSettings {
  readonly restApi: apigateway.RestApi;
}

/**
 * The API on the company's own domain: an ACM certificate validated through DNS in the hosted
 * zone, a regional API Gateway domain with an enhanced TLS policy (TLS 1.3 and 1.2 with forward
 * secrecy only, strict SNI matching), the stage mapped at the root, IPv4 and IPv6 alias records,
 * and the default execute-api endpoint switched off so the domain is the only way in.
 */
export class CustomDomain extends Construct {
  readonly certificate: acm.Certificate;
  readonly domain: apigateway.DomainName;
  readonly url: string;

  constructor(scope: Construct, id: string, props: CustomDomainProps) {
    super(scope, id);
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: props.hostedZoneId,
      zoneName: props.hostedZoneName,
    });
    this.certificate = new acm.Certificate(this, 'Certificate', {
      domainName: props.domainName,
      validation: acm.CertificateValidation.fromDns(zone),
    });
    this.domain = new apigateway.DomainName(this, 'Domain', {
      domainName: props.domainName,
      certificate: this.certificate,
      endpointType: apigateway.EndpointType.REGIONAL,
      securityPolicy: apigateway.SecurityPolicy.TLS13_1_2_PFS_PQ_2025_09,
      endpointAccessMode: apigateway.EndpointAccessMode.STRICT,
      mapping: props.restApi,
    });
    const target = route53.RecordTarget.fromAlias(new targets.ApiGatewayDomain(this.domain));
    new route53.ARecord(this, 'AliasA', { zone, recordName: props.domainName, target });
    new route53.AaaaRecord(this, 'AliasAaaa', { zone, recordName: props.domainName, target });
    (props.restApi.node.defaultChild as apigateway.CfnRestApi).disableExecuteApiEndpoint = true;
    this.url = `https://${props.domainName}`;
  }
}
