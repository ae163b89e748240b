/**
 * The indexes hold what their views print (DESIGN.md: the older indexes' projections are a cost decision, but
 * `history --actor/--event` and `findings` answer from one Query each). The attributes each view reads are
 * found by running the view code on rows that record every attribute read, for every kind of caller, so a
 * column added later without its attribute in the projection fails here.
 */
import { describe, expect, it } from 'vitest';
import { formatHistory } from '../../src/cli/commands/history.js';
import { formatFindings } from '../../src/cli/commands/findings.js';
import { buildQuery } from '../../src/store/history.js';
import { INDEXES, INDEX_LIST, PARTITION_KEY, SORT_KEY, type IndexSpec } from '../../src/store/schema.js';
import type { AuditRow } from '../../src/ses/row.js';
import type { FileTrust } from '../../src/trust.js';

const FULL: AuditRow = {
  identity: 'example.com',
  eventKey: '2026-11-20T10:15:00Z#e1',
  actor: 'arn:aws:iam::111122223333:role/Admin',
  eventName: 'DeleteIdentity',
  identityKind: 'domain',
  identities: ['example.com'],
  eventTime: '2026-11-20T10:15:00Z',
  eventID: 'e1',
  eventSource: 'ses.amazonaws.com',
  errorCode: 'AccessDenied',
  awsRegion: 'us-east-1',
  accountId: '111122223333',
  actorType: 'AssumedRole',
  principalArn: 'arn:aws:sts::111122223333:assumed-role/Admin/alice',
  principalId: 'AROAEXAMPLE:alice',
  userName: 'alice',
  invokedBy: 'ses.amazonaws.com',
  sourceIPAddress: '192.0.2.1',
  sourceObject: 's3://trail/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/x.json.gz',
  ingestedAt: '2026-11-20T10:20:00Z',
  findings: ['identity-deleted'],
  severity: 'high',
};

/** Rows for every caller type, with and without the optional attributes (so fallbacks are taken too). */
function variants(): AuditRow[] {
  const types = ['AssumedRole', 'IAMUser', 'FederatedUser', 'Root', 'AWSService', 'AWSAccount', 'Unknown'];
  const bare: AuditRow = { ...FULL };
  for (const k of ['errorCode', 'awsRegion', 'accountId', 'principalArn', 'principalId', 'userName', 'invokedBy', 'sourceIPAddress'] as const) delete bare[k];
  return types.flatMap((actorType) => [{ ...FULL, actorType }, { ...bare, actorType }]);
}

/** The attribute names `view` reads from rows. */
function readBy(view: (rows: AuditRow[]) => unknown): Set<string> {
  const read = new Set<string>();
  const rows = variants().map(
    (row) =>
      new Proxy(row, {
        get(target, name, receiver) {
          if (typeof name === 'string') read.add(name);
          return Reflect.get(target, name, receiver);
        },
      }),
  );
  view(rows);
  return read;
}

/** What an index entry holds: the table's keys, the index's keys and its projection (every attribute for ALL). */
function holds(index: IndexSpec, attribute: string): boolean {
  if ([PARTITION_KEY, SORT_KEY, index.partitionKey, index.sortKey].includes(attribute)) return true;
  if (index.projection.type === 'ALL') return true;
  return index.projection.type === 'INCLUDE' && index.projection.attributes.includes(attribute);
}

/** Attributes a query's filter names. */
function filtered(q: Parameters<typeof buildQuery>[1]): string[] {
  const names = buildQuery('t', q).ExpressionAttributeNames ?? {};
  return Object.entries(names)
    .filter(([k]) => k.startsWith('#f'))
    .map(([, v]) => v);
}

describe('index projections', () => {
  const marks = new Map<string, FileTrust>([[FULL.sourceObject, 'attested']]);
  const historyView = readBy((rows) => formatHistory(rows, { withIdentity: true, width: 80, marks }));
  const historyWide = readBy((rows) => formatHistory(rows, { withIdentity: true, marks }));
  const findingsView = readBy((rows) => formatFindings(rows));

  it('the history view reads these attributes, found by running its code', () => {
    // A hand-written list, so a change in either direction is seen.
    expect([...new Set([...historyView, ...historyWide])].sort()).toEqual(
      ['accountId', 'actor', 'actorType', 'awsRegion', 'errorCode', 'eventKey', 'eventName', 'identity', 'invokedBy', 'principalArn', 'principalId', 'sourceIPAddress', 'sourceObject', 'userName'].sort(),
    );
  });

  it.each([
    ['byActor', INDEXES.byActor, { actor: FULL.actor, eventName: 'X', principalArn: 'arn:aws:sts::1:assumed-role/A/s' }],
    ['byEventName', INDEXES.byEventName, { eventName: 'X' }],
  ] as const)('%s holds everything history --actor/--event prints and filters on', (_name, index, q) => {
    for (const a of [...historyView, ...historyWide, ...filtered(q)]) expect(holds(index, a), a).toBe(true);
  });

  it('bySeverity holds everything findings prints', () => {
    for (const a of findingsView) expect(holds(INDEXES.bySeverity, a), a).toBe(true);
  });

  it("has the chosen projections: the views' attributes in the older indexes, every attribute in bySeverity", () => {
    const view = ['errorCode', 'actorType', 'principalArn', 'principalId', 'userName', 'invokedBy', 'accountId', 'awsRegion', 'sourceIPAddress', 'sourceObject'];
    expect(INDEXES.byActor.projection).toEqual({ type: 'INCLUDE', attributes: ['eventName', ...view] });
    expect(INDEXES.byEventName.projection).toEqual({ type: 'INCLUDE', attributes: ['actor', ...view] });
    expect(INDEXES.bySeverity.projection).toEqual({ type: 'ALL' });
  });

  it('never lists a key the index holds anyway, and stays within 100 projected attributes per table', () => {
    let total = 0;
    for (const index of INDEX_LIST) {
      if (index.projection.type !== 'INCLUDE') continue;
      const own = [PARTITION_KEY, SORT_KEY, index.partitionKey, index.sortKey];
      expect(index.projection.attributes.filter((a) => own.includes(a)), index.name).toEqual([]);
      expect(new Set(index.projection.attributes).size).toBe(index.projection.attributes.length);
      total += index.projection.attributes.length;
    }
    expect(total).toBeLessThanOrEqual(100);
  });
});
