import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TableId } from '../../lib/definitions/resources';
import { documentClient } from './aws';
import { tableName } from './config';

/**
 * Base of the DynamoDB repositories: the client and the table are resolved on first use, so
 * building a repository does no I/O and needs no setting, and tests may pass their own.
 */
export abstract class DynamoRepository {
  protected constructor(
    private readonly tableId: TableId,
    private readonly clientOverride?: DynamoDBDocumentClient,
    private readonly tableOverride?: string,
  ) {}

  protected get client(): DynamoDBDocumentClient {
    return this.clientOverride ?? documentClient();
  }

  protected get table(): string {
    return this.tableOverride ?? tableName(this.tableId);
  }
}
