/**
 * processTrail on valid documents that push JSON to its limits (deep nesting, no eventID) and on bad
 * records: every valid record gives its row, stored exactly (as a map, or as JSON text when DynamoDB cannot
 * hold the map), and a bad record's error is one line that quotes none of the record.
 */
import { describe, expect, it } from 'vitest';
import { processTrail } from '../../src/pipeline.js';
import type { AuditRow } from '../../src/ses/row.js';
import { encodeRow } from '../../src/store/marshal.js';
import { jsonText } from '../../src/json-text.js';
import { InputError } from '../../src/errors.js';

const CONFIG = { maxUncompressedBytes: 1 << 30, maxRecordBytes: 1 << 20 };

function sesRecordText(id: string | undefined, requestParameters: string): string {
  return (
    `{"eventVersion":"1.08","eventSource":"ses.amazonaws.com","eventName":"PutIdentityPolicy",` +
    `"eventTime":"2026-11-20T10:15:30Z",${id === undefined ? '' : `"eventID":"${id}",`}"recipientAccountId":"111122223333",` +
    `"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/carol"},"requestParameters":${requestParameters}}`
  );
}

async function rowsOf(doc: string, chunk = 1 << 20): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  const bytes = Buffer.from(doc);
  await processTrail(
    (async function* () {
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
    })(),
    { config: CONFIG, sourceObject: 'test', now: () => new Date('2026-11-20T11:00:00Z'), sink: (r) => void rows.push(...r) },
  );
  return rows;
}

describe('deeply nested records', () => {
  // 10,000 levels inside requestParameters, well under 1 MiB: valid JSON that JSON.stringify cannot write back.
  const depth = 10_000;
  const deepText = `{"identity":"example.com","policy":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;

  it('gives its row, printable as JSON Lines', async () => {
    const doc = `{"Records":[${sesRecordText('e1', deepText)}]}`;
    expect(Buffer.byteLength(doc)).toBeLessThan(1 << 20);
    const rows = await rowsOf(doc);
    expect(rows.map((r) => [r.identity, r.eventID])).toEqual([['example.com', 'e1']]);
    expect(() => JSON.stringify(rows[0])).toThrow(RangeError); // what made the dry run die
    const line = jsonText(rows[0]);
    expect(line).toContain(`"requestParameters":${deepText}`);
  });

  it('is stored as its exact JSON text, not "[object Object]", and not marked truncated', async () => {
    const [row] = await rowsOf(`{"Records":[${sesRecordText('e1', deepText)}]}`);
    const enc = encodeRow(row);
    // The text as written in the document (the document was compact): built here by hand, not by the code.
    expect(enc.item.requestParameters).toEqual({ S: deepText });
    expect(enc.jsonFallbacks).toBe(1);
    expect(enc.truncated).toBe(false);
    expect(enc.item.truncated).toBeUndefined();
  });

  it('without an eventID still gets a key that a replay reproduces', async () => {
    const doc = `{"Records":[${sesRecordText(undefined, deepText)}]}`;
    const [a] = await rowsOf(doc);
    const [b] = await rowsOf(doc, 4096);
    expect(a.eventID).toMatch(/^sha256-[0-9a-f]{32}$/);
    expect(b.eventID).toBe(a.eventID);
    expect(a.eventKey).toBe(`2026-11-20T10:15:30Z#${a.eventID}`);
  });
});

describe('a bad record', () => {
  const secret = 'do-not-log-me';
  const good = (id: string) => sesRecordText(id, '{"identity":"example.com"}');
  // An SES record that is not valid JSON (the scanner only balances brackets and strings).
  const bad = `{"eventSource":"ses.amazonaws.com","eventName":"x",\n"secret":"${secret}",\n"n": tru }`;

  it('fails the file with one line that quotes none of the record', async () => {
    const err = await processTrail(
      (async function* () {
        yield Buffer.from(`{"Records":[${good('e1')},${bad}]}`);
      })(),
      { config: CONFIG, sourceObject: 'test', sink: () => undefined },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    const reason = (err as InputError).reason;
    expect(reason).toMatch(/^invalid JSON in record 1: /);
    expect(reason).not.toContain('\n');
    expect(reason).not.toContain(secret);
    expect(reason).not.toContain('tru');
  });

  it('still hands on the rows of the valid records read before it, in the same chunk', async () => {
    const rows: AuditRow[] = [];
    await expect(
      processTrail(
        (async function* () {
          yield Buffer.from(`{"Records":[${good('e1')},${good('e2')},${bad},${good('e3')}]}`);
        })(),
        { config: CONFIG, sourceObject: 'test', sink: (r) => void rows.push(...r) },
      ),
    ).rejects.toThrow(/^invalid JSON in record 2/);
    expect(rows.map((r) => r.eventID)).toEqual(['e1', 'e2']);
  });
});

describe('escaped text', () => {
  it('a record whose event source is written with \\u escapes gives its rows', async () => {
    const rec = sesRecordText('e9', '{"identity":"example.com"}').replace('"ses.amazonaws.com"', '"\\u0073es\\u002eamazonaws.com"');
    expect(JSON.parse(rec).eventSource).toBe('ses.amazonaws.com');
    const rows = await rowsOf(`{"Records":[{"eventSource":"s3.amazonaws.com"},${rec}]}`);
    expect(rows.map((r) => [r.identity, r.eventID, r.eventSource])).toEqual([['example.com', 'e9', 'ses.amazonaws.com']]);
  });
});
