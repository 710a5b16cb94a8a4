import { Arn, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';
/** The GitHub environments that deploy; the production one has required reviewers. */
export const DEPLOY_ENVIRONMENTS = ['staging', 'production'] as const;

export interface GitHubDeployAccessProps extends StackProps {
  /**
   * The repository as GitHub writes it in the token's `sub` claim: `org/repo`, or for repositories
   * with immutable subject claims `org@<org id>/repo@<repo id>`.
   */
  readonly repository: string;
  /** An account has one GitHub OIDC provider: pass its ARN when it already exists. */
  readonly existingProviderArn?: string;
  /** The CDK bootstrap qualifier (default `hnb659fds`). */
  readonly bootstrapQualifier?: string;
}

/**
 * What the deploy pipeline needs in an account, deployed once by an administrator: the GitHub
 * OIDC identity provider and a role that only the repository's deploy environments can assume
 * (no long-lived keys), and that may do one thing: assume the CDK bootstrap roles, which carry
 * the deploy permissions CloudFormation uses.
 */
export class GitHubDeployAccessStack extends Stack {
  readonly role: iam.Role;
  readonly provider: iam.IOidcProvider;

  constructor(scope: Construct, id: string, props: GitHubDeployAccessProps) {
    super(scope, id, {
      description:
        'AdsEngineer: GitHub Actions OIDC provider and deploy role (assumes the CDK bootstrap roles only)',
      ...props,
    });
    if (!/^[\w.-]+(@\d+)?\/[\w.-]+(@\d+)?$/.test(props.repository)) {
      throw new Error(
        `githubRepository must look like org/repo (or org@id/repo@id), not ${props.repository}`,
      );
    }
    this.provider = props.existingProviderArn
      ? iam.OidcProviderNative.fromOidcProviderArn(this, 'GitHubOidc', props.existingProviderArn)
      : new iam.OidcProviderNative(this, 'GitHubOidc', {
          url: `https://${GITHUB_OIDC_HOST}`,
          clientIds: ['sts.amazonaws.com'],
        });

    this.role = new iam.Role(this, 'DeployRole', {
      description: 'Assumed by the AdsEngineer deploy workflow through GitHub OIDC',
      maxSessionDuration: Duration.hours(1),
      assumedBy: new iam.WebIdentityPrincipal(this.provider.oidcProviderArn, {
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: 'sts.amazonaws.com',
          [`${GITHUB_OIDC_HOST}:sub`]: DEPLOY_ENVIRONMENTS.map(
            (environment) => `repo:${props.repository}:environment:${environment}`,
          ),
        },
      }),
    });
    const qualifier = props.bootstrapQualifier ?? 'hnb659fds';
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeCdkBootstrapRoles',
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map((kind) =>
          Arn.format(
            {
              service: 'iam',
              region: '',
              resource: 'role',
              resourceName: `cdk-${qualifier}-${kind}-role-${this.account}-${this.region}`,
            },
            this,
          ),
        ),
      }),
    );
    new CfnOutput(this, 'DeployRoleArn', {
      value: this.role.roleArn,
      description:
        'Set as the AWS_DEPLOY_ROLE_ARN variable of the staging and production GitHub environments',
    });
  }
}
