/**
 * Reading rows through an index that projects only some attributes: the table view takes the index entries
 * as they are; `whole` (for --json) reads each row again from the table, with GetItem (the read-only policy
 * allows it, not BatchGetItem), in the index's order, keeping an entry whose row is gone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDBClient, GetItemCommand, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { queryFindings, queryHistory, readFrom } from '../../src/store/history.js';
import type { AuditRow } from '../../src/ses/row.js';

const mock = mockClient(DynamoDBClient);
afterEach(() => mock.reset());
const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

const entry = (i: number): Record<string, AttributeValue> => ({
  identity: { S: `id${i}.example` },
  eventKey: { S: `2026-11-20T10:00:0${i}Z#e${i}` },
  eventName: { S: 'DeleteIdentity' },
  actor: { S: 'arn:aws:iam::111122223333:user/carol' },
});
const stored = (i: number): Record<string, AttributeValue> => ({ ...entry(i), userAgent: { S: `agent ${i}` }, requestParameters: { M: { identity: { S: `id${i}.example` } } } });

async function all(gen: AsyncGenerator<AuditRow>): Promise<AuditRow[]> {
  const out: AuditRow[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

describe('rows through a partial index', () => {
  it('reads from the index its first key names', () => {
    expect(readFrom({ identity: 'x', actor: 'a' })).toEqual({});
    expect(readFrom({ actor: 'a', eventName: 'E' })?.index?.name).toBe('byActor');
    expect(readFrom({ eventName: 'E' })?.index?.name).toBe('byEventName');
    expect(readFrom({ severity: 'high' })?.index?.name).toBe('bySeverity');
    expect(readFrom({})).toBeUndefined();
  });

  it('without whole: the index entries as they are, no GetItem', async () => {
    mock.on(QueryCommand).resolves({ Items: [entry(3), entry(2)] });
    const rows = await all(queryHistory(client, 't', { eventName: 'DeleteIdentity' }));
    expect(rows.map((r) => r.identity)).toEqual(['id3.example', 'id2.example']);
    expect(rows[0]).not.toHaveProperty('userAgent');
    expect(mock.commandCalls(GetItemCommand)).toHaveLength(0);
  });

  it('whole: one GetItem per entry by the table key, rows in the index order, a vanished row kept as the index had it', async () => {
    mock.on(QueryCommand).resolves({ Items: [entry(4), entry(3), entry(2), entry(1)] });
    // Answers arrive out of order; the row of entry 2 has expired meanwhile.
    mock.on(GetItemCommand).callsFake(async (input: { Key: Record<string, AttributeValue> }) => {
      const i = Number(input.Key.identity.S?.slice(2, 3));
      await new Promise((r) => setTimeout(r, (5 - i) * 5));
      return i === 2 ? {} : { Item: stored(i) };
    });
    const rows = await all(queryHistory(client, 'audit', { eventName: 'DeleteIdentity', whole: true }));
    expect(rows.map((r) => [r.identity, r.userAgent])).toEqual([
      ['id4.example', 'agent 4'],
      ['id3.example', 'agent 3'],
      ['id2.example', undefined],
      ['id1.example', 'agent 1'],
    ]);
    expect(mock.commandCalls(GetItemCommand).map((c) => c.args[0].input)).toEqual(
      [4, 3, 2, 1].map((i) => ({ TableName: 'audit', Key: { identity: { S: `id${i}.example` }, eventKey: { S: `2026-11-20T10:00:0${i}Z#e${i}` } } })),
    );
  });

  it('whole: only the rows the limit lets through are read again', async () => {
    mock.on(QueryCommand).resolves({ Items: [entry(4), entry(3), entry(2)] });
    mock.on(GetItemCommand).callsFake(async (input: { Key: Record<string, AttributeValue> }) => ({ Item: stored(Number(input.Key.identity.S?.slice(2, 3))) }));
    const rows = await all(queryHistory(client, 'audit', { actor: 'arn:aws:iam::111122223333:user/carol', eventName: 'DeleteIdentity', whole: true, limit: 2 }));
    expect(rows).toHaveLength(2);
    expect(mock.commandCalls(GetItemCommand)).toHaveLength(2);
  });

  it('whole through the table or an index that holds every attribute reads nothing again', async () => {
    mock.on(QueryCommand).resolves({ Items: [stored(1)] });
    await all(queryHistory(client, 'audit', { identity: 'id1.example', whole: true }));
    await all(queryFindings(client, 'audit', { threshold: 'high', whole: true }));
    expect(mock.commandCalls(GetItemCommand)).toHaveLength(0);
  });

  it('a failing GetItem fails the read', async () => {
    mock.on(QueryCommand).resolves({ Items: [entry(1)] });
    mock.on(GetItemCommand).rejects(Object.assign(new Error('User is not authorized to perform: dynamodb:GetItem'), { name: 'AccessDeniedException' }));
    await expect(all(queryHistory(client, 'audit', { eventName: 'DeleteIdentity', whole: true }))).rejects.toThrow(/dynamodb:GetItem/);
  });
});
