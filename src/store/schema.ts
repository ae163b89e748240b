/**
 * The tables of DESIGN.md, in one place: the CDK construct and the local setup both build from here so they
 * never drift apart.
 */
import type { CreateTableCommandInput, Projection } from '@aws-sdk/client-dynamodb';
import type { AuditRow } from '../ses/row.js';

export const DEFAULT_TABLE_NAME = 'ses-identity-audit';
export const PARTITION_KEY = 'identity';
export const SORT_KEY = 'eventKey';
export const TTL_ATTRIBUTE = 'expiresAt';

/** What a global secondary index holds besides its keys and the table's keys. */
export type IndexProjection = { type: 'ALL' } | { type: 'KEYS_ONLY' } | { type: 'INCLUDE'; attributes: readonly string[] };

export interface IndexSpec {
  name: string;
  partitionKey: string;
  sortKey: string;
  projection: IndexProjection;
  /** Only rows that carry the partition key attribute are in the index (DynamoDB's sparse index). */
  sparse: boolean;
}

/**
 * What the views read through byActor and byEventName show and filter on, besides the keys every index holds
 * (`identity`, `eventKey` and its own key): `history --actor/--event` prints TIME, VERIFIED (the ledger's
 * word on `sourceObject`), IDENTITY, ACTION, RESULT, WHO (whoOf: the userIdentity attributes), ACCOUNT, REGION,
 * ACTOR and SOURCE IP, and filters on `principalArn` (one role session) and `eventName`. Projected so that
 * each view, and the console's, is one Query; everything else (the documents, the user agent) stays in the
 * table, where `--json` reads it (docs/cost.md). test/unit/projection.test.ts checks this list against the
 * view code.
 */
export const INDEX_VIEW_ATTRIBUTES = [
  'eventName',
  'actor',
  'errorCode',
  'actorType',
  'principalArn',
  'principalId',
  'userName',
  'invokedBy',
  'accountId',
  'awsRegion',
  'sourceIPAddress',
  'sourceObject',
] as const satisfies readonly (keyof AuditRow)[];

/** The view attributes an index does not already hold as a key: its NonKeyAttributes. */
function viewOf(ownKey: string): IndexProjection {
  return { type: 'INCLUDE', attributes: INDEX_VIEW_ATTRIBUTES.filter((a) => a !== ownKey) };
}

/**
 * The two older indexes project only their views' attributes (DESIGN.md leaves it to cost): an index entry
 * then stays under 1 KB, one write unit, where a whole row is often two. bySeverity keeps every attribute:
 * it holds only rows with findings, and `findings --json` prints them as stored.
 */
export const INDEXES = {
  byActor: { name: 'byActor', partitionKey: 'actor', sortKey: SORT_KEY, projection: viewOf('actor'), sparse: false },
  byEventName: { name: 'byEventName', partitionKey: 'eventName', sortKey: SORT_KEY, projection: viewOf('eventName'), sparse: false },
  bySeverity: { name: 'bySeverity', partitionKey: 'severity', sortKey: SORT_KEY, projection: { type: 'ALL' }, sparse: true },
} as const satisfies Record<string, IndexSpec>;

export const INDEX_LIST: IndexSpec[] = Object.values(INDEXES);

/** Every key attribute (table and indexes) is a string. */
export const KEY_ATTRIBUTES: string[] = [
  ...new Set([PARTITION_KEY, SORT_KEY, ...INDEX_LIST.flatMap((i) => [i.partitionKey, i.sortKey])]),
];

/** Whether an index entry holds the whole row (else the table has attributes the index lacks). */
export function projectsAll(index: IndexSpec): boolean {
  return index.projection.type === 'ALL';
}

export function projectionInput(p: IndexProjection): Projection {
  if (p.type === 'INCLUDE') return { ProjectionType: 'INCLUDE', NonKeyAttributes: [...p.attributes] };
  return { ProjectionType: p.type };
}

/** CreateTable input for the SDK (local servers, tests). The CDK construct maps the same constants. */
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
      Projection: projectionInput(i.projection),
    })),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The ledger (DESIGN.md, "Trust"): every log file and digest ingested, never rows.

export const DEFAULT_LEDGER_TABLE_NAME = 'ses-audit-ledger';
export const LEDGER_PARTITION_KEY = 'pk';
export const LEDGER_SORT_KEY = 'sk';

/** CreateTable input for the ledger: string keys, no indexes (entries are grouped by delivery day). */
export function createLedgerTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: LEDGER_PARTITION_KEY, AttributeType: 'S' },
      { AttributeName: LEDGER_SORT_KEY, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: LEDGER_PARTITION_KEY, KeyType: 'HASH' },
      { AttributeName: LEDGER_SORT_KEY, KeyType: 'RANGE' },
    ],
  };
}
