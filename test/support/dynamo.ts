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

/**
 * Every item of a scan or a query, with the command of the client it is given: the document
 * client's, or the low-level client's.
 */
function readAll(
  client: DynamoDBDocumentClient | DynamoDBClient,
  input: object,
  documentCommand: new (input: never) => unknown,
  lowLevelCommand: new (input: never) => unknown,
): Promise<Key[] | RawItem[]> {
  const Command = client instanceof DynamoDBDocumentClient ? documentCommand : lowLevelCommand;
  const send = client.send.bind(client) as (
    command: unknown,
  ) => Promise<{ Items?: Key[]; LastEvaluatedKey?: Key }>;
  return everyPage((start) => send(new Command({ ...input, ExclusiveStartKey: start } as never)));
}

/** Every item a scan returns, over all its pages. */
export function scanAll(client: DynamoDBDocumentClient, input: ScanCommandInput): Promise<Key[]>;
export function scanAll(client: DynamoDBClient, input: LowLevelScanInput): Promise<RawItem[]>;
export function scanAll(
  client: DynamoDBDocumentClient | DynamoDBClient,
  input: ScanCommandInput | LowLevelScanInput,
): Promise<Key[] | RawItem[]> {
  return readAll(client, input, ScanCommand, LowLevelScanCommand);
}

/** Every item a query returns, over all its pages. */
export function queryAll(client: DynamoDBDocumentClient, input: QueryCommandInput): Promise<Key[]>;
export function queryAll(client: DynamoDBClient, input: LowLevelQueryInput): Promise<RawItem[]>;
export function queryAll(
  client: DynamoDBDocumentClient | DynamoDBClient,
  input: QueryCommandInput | LowLevelQueryInput,
): Promise<Key[] | RawItem[]> {
  return readAll(client, input, QueryCommand, LowLevelQueryCommand);
}

/** Every item of a table, in key order: to compare tables before and after. */
export async function tableInKeyOrder(dynamo: DynamoDBClient, table: string): Promise<RawItem[]> {
  const items = await scanAll(dynamo, { TableName: table });
  return items.sort((a, b) => JSON.stringify([a.pk, a.sk]).localeCompare(JSON.stringify([b.pk, b.sk])));
}
