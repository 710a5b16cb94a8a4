#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseStage } from '../contract/stages';
import { domainSettingsFrom } from '../infra/constructs/custom-domain';
import { GitHubDeployAccessStack } from '../infra/deploy/github-deploy-access';
import { AdsEngineerStack } from '../infra/stack';

/**
 * The CDK app: `cdk synth|deploy -c stage=<dev|staging|prod>`. Optional context:
 * `domainName` + `hostedZoneId` + `hostedZoneName` (custom domain), `githubRepository` (the deploy
 * role stack), `pagerDutyUrl`, `warningWebhookUrl`, `slackWorkspaceId` + `slackChannelId` (AWS
 * Chatbot), `runbookBaseUrl`, `platformOrgId`, `apiTracing=true`, `cognito=true`
 * (create a user pool) or `cognitoUserPoolId` (use one), `cognitoClientIds`, `cognitoDomainPrefix`.
 */
const app = new App();
const stage = parseStage(app.node.tryGetContext('stage'));
const context = (name: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(name);
  return typeof value === 'string' && value !== '' ? value : undefined;
};

const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
const pagerDutyUrl = context('pagerDutyUrl');
const warningWebhookUrl = context('warningWebhookUrl');
const platformOrgId = context('platformOrgId');

const domain = domainSettingsFrom(context);

const googleAdsUploadApi = context('googleAdsUploadApi');
if (
  googleAdsUploadApi !== undefined &&
  googleAdsUploadApi !== 'data_manager' &&
  googleAdsUploadApi !== 'google_ads_api'
) {
  throw new Error(`-c googleAdsUploadApi must be data_manager or google_ads_api, not ${googleAdsUploadApi}`);
}

new AdsEngineerStack(app, `AdsEngineer-${stage}`, {
  ...(domain ? { domain } : {}),
  stage,
  ...(account || region ? { env: { ...(account ? { account } : {}), ...(region ? { region } : {}) } } : {}),
  ...(pagerDutyUrl ? { pagerDutyUrl } : {}),
  ...(warningWebhookUrl ? { warningWebhookUrl } : {}),
  ...(platformOrgId ? { platformOrgId } : {}),
  ...(context('slackWorkspaceId') ? { slackWorkspaceId: context('slackWorkspaceId') } : {}),
  ...(context('slackChannelId') ? { slackChannelId: context('slackChannelId') } : {}),
  ...(context('runbookBaseUrl') ? { runbookBaseUrl: context('runbookBaseUrl') } : {}),
  ...(context('ghlWebhookPublicKey') ? { ghlWebhookPublicKey: context('ghlWebhookPublicKey') } : {}),
  ...(googleAdsUploadApi ? { googleAdsUploadApi } : {}),
  apiTracing: context('apiTracing') === 'true',
  cognito: context('cognito') === 'true' || app.node.tryGetContext('cognito') === true,
  ...(context('cognitoUserPoolId') ? { cognitoUserPoolId: context('cognitoUserPoolId') } : {}),
  ...(context('cognitoClientIds')
    ? { cognitoClientIds: (context('cognitoClientIds') ?? '').split(',') }
    : {}),
  ...(context('cognitoDomainPrefix') ? { cognitoDomainPrefix: context('cognitoDomainPrefix') } : {}),
});

// Once per account, by an administrator: `cdk deploy AdsEngineer-GitHubDeploy -c githubRepository=org/repo`.
const githubRepository = context('githubRepository');
if (githubRepository) {
  const existingProviderArn = context('githubOidcProviderArn');
  new GitHubDeployAccessStack(app, 'AdsEngineer-GitHubDeploy', {
    repository: githubRepository,
    ...(existingProviderArn ? { existingProviderArn } : {}),
    ...(account || region ? { env: { ...(account ? { account } : {}), ...(region ? { region } : {}) } } : {}),
  });
}

// cdk-nag 3.x is a policy-validation plugin: an unacknowledged finding fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
