import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  type IndexDefinition,
  TABLES,
  type TableDefinition,
  type TableId,
  tableDefinition,
} from '../../contract/resources';
import type { StageSettings } from '../../contract/stages';
import { pascal, Registry, removalPolicyFor } from './support';

export interface DataProps {
  readonly settings: StageSettings;
  readonly key: kms.IKey;
}

const stringKey = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });

/** The index's projection as declared (every attribute unless it says keys only). */
export function projectionType(index: IndexDefinition): dynamodb.ProjectionType {
  return index.projection === 'KEYS_ONLY' ? dynamodb.ProjectionType.KEYS_ONLY : dynamodb.ProjectionType.ALL;
}

/**
 * One DynamoDB table per entry of the shared table list. The classic Table construct rather than
 * TableV2: TableV2 with a customer-managed key cannot synthesize in a region-agnostic stack.
 */
export class Data extends Construct {
  readonly tables = new Registry<TableId, dynamodb.Table>('table');

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);
    for (const table of TABLES) this.tables.set(table.id, this.createTable(table, props));
  }

  private createTable(definition: TableDefinition, props: DataProps): dynamodb.Table {
    const table = new dynamodb.Table(this, pascal(definition.id), {
      partitionKey: stringKey(definition.partitionKey),
      ...(definition.sortKey ? { sortKey: stringKey(definition.sortKey) } : {}),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.settings.protectData,
      removalPolicy: removalPolicyFor(props.settings),
      ...(definition.ttlAttribute ? { timeToLiveAttribute: definition.ttlAttribute } : {}),
    });
    for (const index of definition.indexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: stringKey(index.partitionKey),
        ...(index.sortKey ? { sortKey: stringKey(index.sortKey) } : {}),
        projectionType: projectionType(index),
      });
    }
    return table;
  }

  /** The table ARN and each of its index ARNs, listed one by one (no `index/*`). */
  arnsOf(id: TableId): string[] {
    const table = this.tables.get(id);
    const { indexes } = tableDefinition(id);
    return [table.tableArn, ...indexes.map((index) => `${table.tableArn}/index/${index.name}`)];
  }
}
