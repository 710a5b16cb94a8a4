/**
 * Reading DynamoDB tables whole in tests: a scan or a query returns at most 1 MB a page, so a test
 * that proves what a table holds (or no longer holds) reads every page. With the document client
 * the items come unmarshalled; with the low-level client, as attribute values.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand as LowLevelQueryCommand,
  type QueryCommandInput as LowLevelQueryInput,
  ScanCommand as LowLevelScanCommand,
  type ScanCommandInput as LowLevelScanInput,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';

type Key = Record<string, unknown>;
type RawItem = Record<string, AttributeValue>;

/** Reads page after page from where the last one stopped, until none is left. */
async function everyPage<Item>(
  read: (start: Key | undefined) => Promise<{ Items?: Item[]; LastEvaluatedKey?: Key }>,
): Promise<Item[]> {
  const items: Item[] = [];
  let start: Key | undefined;
  do {
    const page = await read(start);
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Every item a scan returns, over all its pages. */
export function scanAll(client: DynamoDBDocumentClient, input: ScanCommandInput): Promise<Key[]>;
export function scanAll(client: DynamoDBClient, input: LowLevelScanInput): Promise<RawItem[]>;
export function scanAll(
  client: DynamoDBDocumentClient | DynamoDBClient,
  input: ScanCommandInput | LowLevelScanInput,
): Promise<Key[] | RawItem[]> {
  if (client instanceof DynamoDBDocumentClient)
    return everyPage((start) => client.send(new ScanCommand({ ...input, ExclusiveStartKey: start })));
  return everyPage((start) =>
    client.send(
      new LowLevelScanCommand({ ...(input as LowLevelScanInput), ExclusiveStartKey: start as RawItem }),
    ),
  );
}

/** Every item a query returns, over all its pages. */
export function queryAll(client: DynamoDBDocumentClient, input: QueryCommandInput): Promise<Key[]>;
export function queryAll(client: DynamoDBClient, input: LowLevelQueryInput): Promise<RawItem[]>;
export function queryAll(
  client: DynamoDBDocumentClient | DynamoDBClient,
  input: QueryCommandInput | LowLevelQueryInput,
): Promise<Key[] | RawItem[]> {
  if (client instanceof DynamoDBDocumentClient)
    return everyPage((start) => client.send(new QueryCommand({ ...input, ExclusiveStartKey: start })));
  return everyPage((start) =>
    client.send(
      new LowLevelQueryCommand({ ...(input as LowLevelQueryInput), ExclusiveStartKey: start as RawItem }),
    ),
  );
}

/** Every item of a table, in key order: to compare tables before and after. */
export async function tableInKeyOrder(dynamo: DynamoDBClient, table: string): Promise<RawItem[]> {
  const items = await scanAll(dynamo, { TableName: table });
  return items.sort((a, b) => JSON.stringify([a.pk, a.sk]).localeCompare(JSON.stringify([b.pk, b.sk])));
}
