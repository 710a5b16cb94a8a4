import { Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { COGNITO_RESOURCE_SERVER_ID, ROLES } from '../../contract/routes';
import type { StageSettings } from '../../contract/stages';
import { removalPolicyFor } from './support';

export interface IdentityProps {
  readonly settings: StageSettings;
  /** Prefix of the pool's hosted domain (token endpoint); globally unique. */
  readonly domainPrefix?: string;
}

/**
 * An optional Cognito user pool whose access tokens the API accepts besides its own HS256
 * tokens. Users belong to groups `org:<tenant>` and `role:<role>`, and the API takes tenant and
 * role from those groups only. The `adsengineer-api` resource server's scopes grant no role (a
 * caller may ask for any scope its app client allows): machine clients, which have no groups,
 * use API keys.
 */
export class Identity extends Construct {
  readonly userPool: cognito.UserPool;
  readonly resourceServer: cognito.UserPoolResourceServer;
  readonly domain: cognito.UserPoolDomain;

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);
    const { settings } = props;
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: `adsengineer-${settings.stage}`,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
      },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      // Plus: threat protection, and access-token customisation for machine-to-machine clients.
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: settings.protectData,
      removalPolicy: removalPolicyFor(settings),
    });
    this.resourceServer = this.userPool.addResourceServer('ResourceServer', {
      identifier: COGNITO_RESOURCE_SERVER_ID,
      userPoolResourceServerName: 'AdsEngineer API',
      scopes: ROLES.map(
        (role) => new cognito.ResourceServerScope({ scopeName: role, scopeDescription: `Act as ${role}` }),
      ),
    });
    this.domain = this.userPool.addDomain('Domain', {
      cognitoDomain: {
        domainPrefix: props.domainPrefix ?? `adsengineer-${settings.stage}-${Stack.of(this).account}`,
      },
    });
  }
}
