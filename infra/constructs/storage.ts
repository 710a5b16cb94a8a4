import { Duration, Tags } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { backupRetention } from '../../contract/backups';
import { SECRET_SETTING_TAG, SECRET_STAGE_TAG, type SecretSetting } from '../../contract/settings';
import type { StageSettings } from '../../contract/stages';
import type { FunctionSecret } from './access';
import { pascal, removalPolicyFor, type StageSecretProps, stageSecret } from './support';

export interface StorageProps {
  readonly settings: StageSettings;
  readonly key: kms.IKey;
}

/**
 * The secrets the functions read: what each holds, the setting operator tools know it by, and why
 * no rotation function rotates it.
 */
const SECRETS: Readonly<
  Record<FunctionSecret, Pick<StageSecretProps, 'holds' | 'notRotated'> & { setting: SecretSetting }>
> = {
  jwtSecret: {
    setting: 'jwt-secret',
    holds: 'HS256 signing secret for API tokens (JWT_SECRET)',
    notRotated:
      'JWT_SECRET rotation is operator-driven with a kid-based two-secret window (tokens name their secret in the kid header); a scheduled single-value rotation Lambda would invalidate every issued token at once.',
  },
  emailHashKey: {
    setting: 'email-hash-key',
    holds: 'key of the keyed email hash that indexes leads and the audit trail',
    notRotated:
      'The email hash key is the index key of every stored lead and audit record: rotating it would orphan them, so it is never rotated automatically; a rotation is a re-indexing migration.',
  },
  // Generated until an operator stores the endpoint's signing secret from the Stripe dashboard:
  // until then no Stripe delivery verifies (fail closed).
  stripeWebhookSecret: {
    setting: 'stripe-webhook-secret',
    holds: 'Stripe webhook endpoint signing secret (whsec_...), set by an operator',
    notRotated:
      'Stripe issues and rolls the endpoint signing secret in its dashboard; AWS cannot rotate it, an operator copies the new value in.',
  },
  // Generated until an operator stores the secret key (sk_live_...) from the Stripe dashboard:
  // until then Stripe refuses the calls (401) and the billing portal answers an error.
  stripeApiKey: {
    setting: 'stripe-api-key',
    holds: 'Stripe secret API key (sk_...), set by an operator',
    notRotated:
      'Stripe issues and rolls secret API keys in its dashboard; AWS cannot rotate them, an operator copies the new key in.',
  },
  // Generated until an operator stores the platform's Google Ads developer token (Google Ads API
  // Center): retractions (uploadConversionAdjustments) and GOOGLE_ADS_UPLOAD_API=google_ads_api
  // need it; Data Manager uploads do not.
  googleAdsDeveloperToken: {
    setting: 'google-ads-developer-token',
    holds: 'Google Ads API developer token, set by an operator',
    notRotated:
      'Google issues developer tokens in the Google Ads API Center; AWS cannot rotate them, an operator copies a reset token in.',
  },
};

/** The encrypted backup bucket (with its access-log bucket) and the secrets the functions read. */
export class Storage extends Construct {
  readonly backupBucket: s3.Bucket;
  readonly accessLogBucket: s3.Bucket;
  readonly jwtSecret: secretsmanager.Secret;
  readonly emailHashKey: secretsmanager.Secret;
  readonly stripeWebhookSecret: secretsmanager.Secret;
  readonly stripeApiKey: secretsmanager.Secret;
  readonly googleAdsDeveloperToken: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const removalPolicy = removalPolicyFor(props.settings);

    // S3 server access logging cannot deliver to a bucket encrypted with SSE-KMS: SSE-S3 here.
    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // S3 server access logs are access logs: kept as long as the API's (stages.ts).
      lifecycleRules: [{ expiration: Duration.days(props.settings.accessLogRetentionDays) }],
      removalPolicy,
    });

    // Object Lock keeps every backup version for its retention: whoever can write the bucket
    // cannot delete or overwrite one (compliance mode where data is protected; governance in dev,
    // so a dev stack can be torn down). After the retention the lifecycle removes them, so an
    // erased person's data does not outlive it in a backup.
    const retention = backupRetention(props.settings);
    this.backupBucket = new s3.Bucket(this, 'Backups', {
      objectLockEnabled: true,
      objectLockDefaultRetention:
        retention.mode === 'COMPLIANCE'
          ? s3.ObjectLockRetention.compliance(Duration.days(retention.days))
          : s3.ObjectLockRetention.governance(Duration.days(retention.days)),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'backups/',
      // A backup worker cut off mid-upload leaves parts behind; they are dropped after a day.
      lifecycleRules: [
        {
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          expiration: Duration.days(retention.days + 1),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
      removalPolicy,
    });

    const secret = (name: FunctionSecret) => {
      const created = stageSecret(this, pascal(name), {
        settings: props.settings,
        key: props.key,
        ...SECRETS[name],
      });
      // Operator tools (config check) find each secret of the stage by these tags.
      Tags.of(created).add(SECRET_STAGE_TAG, props.settings.stage);
      Tags.of(created).add(SECRET_SETTING_TAG, SECRETS[name].setting);
      return created;
    };
    this.jwtSecret = secret('jwtSecret');
    this.emailHashKey = secret('emailHashKey');
    this.stripeWebhookSecret = secret('stripeWebhookSecret');
    this.stripeApiKey = secret('stripeApiKey');
    this.googleAdsDeveloperToken = secret('googleAdsDeveloperToken');
  }
}
