/**
 * The table of DESIGN.md, in one place: the CDK stack and the local setup both build from here so they
 * never drift apart.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const DEFAULT_TABLE_NAME = 'ses-identity-audit';
export const PARTITION_KEY = 'identity';
export const SORT_KEY = 'eventKey';
export const TTL_ATTRIBUTE = 'expiresAt';

export interface IndexSpec {
  name: string;
  partitionKey: string;
  sortKey: string;
}

export const INDEXES = {
  byActor: { name: 'byActor', partitionKey: 'actor', sortKey: SORT_KEY },
  byEventName: { name: 'byEventName', partitionKey: 'eventName', sortKey: SORT_KEY },
} as const satisfies Record<string, IndexSpec>;

export const INDEX_LIST: IndexSpec[] = Object.values(INDEXES);

/** Every key attribute (table and indexes) is a string. */
export const KEY_ATTRIBUTES: string[] = [
  ...new Set([PARTITION_KEY, SORT_KEY, ...INDEX_LIST.flatMap((i) => [i.partitionKey, i.sortKey])]),
];

/** CreateTable input for the SDK (local servers, tests). The CDK stack maps the same constants. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: KEY_ATTRIBUTES.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
      { AttributeName: SORT_KEY, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: INDEX_LIST.map((i) => ({
      IndexName: i.name,
      KeySchema: [
        { AttributeName: i.partitionKey, KeyType: 'HASH' },
        { AttributeName: i.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}
