import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TABLES, type TableDefinition, type TableId, tableDefinition } from '../definitions/resources';
import type { StageSettings } from '../definitions/stages';
import { pascal, Registry, removalPolicyFor } from './support';

export interface DataProps {
  readonly settings: StageSettings;
  readonly key: kms.IKey;
}

const stringKey = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });

/** One DynamoDB table per entry of the shared table list. */
export class Data extends Construct {
  readonly tables = new Registry<TableId, dynamodb.TableV2>('table');

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);
    for (const table of TABLES) this.tables.set(table.id, this.createTable(table, props));
  }

  private createTable(table: TableDefinition, props: DataProps): dynamodb.TableV2 {
    return new dynamodb.TableV2(this, pascal(table.id), {
      partitionKey: stringKey(table.partitionKey),
      ...(table.sortKey ? { sortKey: stringKey(table.sortKey) } : {}),
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(props.key),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.settings.protectData,
      removalPolicy: removalPolicyFor(props.settings),
      ...(table.ttlAttribute ? { timeToLiveAttribute: table.ttlAttribute } : {}),
      globalSecondaryIndexes: table.indexes.map((index) => ({
        indexName: index.name,
        partitionKey: stringKey(index.partitionKey),
        ...(index.sortKey ? { sortKey: stringKey(index.sortKey) } : {}),
        projectionType: dynamodb.ProjectionType.ALL,
      })),
    });
  }

  /** The table ARN and each of its index ARNs, listed one by one (no `index/*`). */
  arnsOf(id: TableId): string[] {
    const table = this.tables.get(id);
    const { indexes } = tableDefinition(id);
    return [table.tableArn, ...indexes.map((index) => `${table.tableArn}/index/${index.name}`)];
  }
}
