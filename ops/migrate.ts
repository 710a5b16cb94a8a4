import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conversionIdsOfLead } from '../functions/shared/features/conversions/rules/plan';
import { documentClient } from '../functions/shared/platform/aws/clients';
import { tableName } from '../functions/shared/platform/config/resources';
import { inPool } from '../functions/shared/platform/pool';
import { scanPages } from './scan';

/** What recording the conversions of leads on their leads did. */
export interface LeadConversionsMigration {
  /** Conversion items read. */
  scanned: number;
  /** Conversions recorded on their lead by this run. */
  recorded: number;
  /** Conversions found from their lead already: their id derives from it, or it lists them. */
  derivable: number;
  /** Conversions whose lead is no longer held (erased or expired): nothing to record. */
  leadGone: number;
}

export interface MigrationOptions {
  client?: DynamoDBDocumentClient;
  /** Physical table names; by default from the environment (LEADS_TABLE, CONVERSIONS_TABLE). */
  tables?: { leads?: string; conversions?: string };
  progress?: (line: string) => void;
  /** Items read per page (DynamoDB's own limit by default). */
  pageSize?: number;
}

/**
 * Records on each lead the ids of its conversions that cannot be derived from the lead: those of
 * orders that became conversions while ids were derived from the lead and the order together.
 * Erasure and the subject export find a lead's conversions by the ids they can have, no longer
 * through an index of conversions by lead, so these must be on the lead.
 *
 * Safe to run at any time, on a live stage, and to interrupt: it only adds an id a lead does not
 * list yet (a rerun records what is left, and changes nothing else), and each write moves the
 * lead's version on, so a capture that read the lead before writes it again from a fresh read.
 */
export async function migrateLeadConversions(
  options: MigrationOptions = {},
): Promise<LeadConversionsMigration> {
  const client = options.client ?? documentClient();
  const leadsTable = options.tables?.leads ?? tableName('leads');
  const conversionsTable = options.tables?.conversions ?? tableName('conversions');
  const progress = options.progress ?? (() => {});
  const result: LeadConversionsMigration = { scanned: 0, recorded: 0, derivable: 0, leadGone: 0 };
  const pages = scanPages(client, {
    TableName: conversionsTable,
    FilterExpression: 'begins_with(sk, :conversion) AND attribute_exists(lead_id)',
    ProjectionExpression: 'pk, sk, id, lead_id',
    ExpressionAttributeValues: { ':conversion': 'CONV#' },
    ...(options.pageSize ? { Limit: options.pageSize } : {}),
  });
  for await (const page of pages) {
    result.scanned += page.Items?.length ?? 0;
    const outcomes = await inPool(page.Items ?? [], 8, async (item) => {
      const id = item.id as string;
      const leadId = item.lead_id as string;
      if (conversionIdsOfLead({ id: leadId }).includes(id)) return 'derivable' as const;
      try {
        await client.send(
          new UpdateCommand({
            TableName: leadsTable,
            Key: { pk: item.pk, sk: `LEAD#${leadId}` },
            UpdateExpression:
              'SET conversion_ids = list_append(if_not_exists(conversion_ids, :none), :id), version = version + :one',
            ConditionExpression:
              'attribute_exists(pk) AND (attribute_not_exists(conversion_ids) OR NOT contains(conversion_ids, :idText))',
            ExpressionAttributeValues: { ':none': [], ':id': [id], ':idText': id, ':one': 1 },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return 'recorded' as const;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // The lead lists it already (an earlier run), or is gone.
        return error.Item ? ('derivable' as const) : ('gone' as const);
      }
    });
    for (const outcome of outcomes) {
      if (outcome === 'recorded') result.recorded += 1;
      else if (outcome === 'derivable') result.derivable += 1;
      else result.leadGone += 1;
    }
    progress(
      `  ${result.scanned} conversion(s) of leads read: ${result.recorded} recorded on their lead, ${result.derivable} derivable, ${result.leadGone} without a lead${page.LastEvaluatedKey ? ' ...' : ''}`,
    );
  }
  return result;
}
