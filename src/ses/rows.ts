/** A parsed CloudTrail record to its audit rows: one per identity it touched. Pure. */
import { createHash } from 'node:crypto';
import { jsonText } from '../json-text.js';
import { actorOf } from './actor.js';
import { findingsOf } from './findings.js';
import { asObject, str } from '../json.js';
import { identityKeys } from './identity.js';
import type { CloudTrailRecord } from './record.js';
import { SES_EVENT_SOURCE } from './record.js';
import type { AuditRow } from './row.js';
// Every key attribute is clamped to the smaller (sort key) limit, so rows print as they are stored.
import { clampKey } from './key-limits.js';

export interface RowContext {
  sourceObject: string;
  ingestedAt: string;
  /** Epoch seconds, when a retention period is set. */
  expiresAt?: number;
  /** Epoch seconds for rows of read-only calls, when their own retention period is set. */
  readOnlyExpiresAt?: number;
}

export type RecordResult =
  | { kind: 'rows'; rows: AuditRow[]; eventKey: string; eventTime: number }
  | { kind: 'not-ses' }
  | { kind: 'bad'; reason: string };

export function recordToRows(value: unknown, ctx: RowContext): RecordResult {
  const record = asObject(value) as CloudTrailRecord | undefined;
  if (!record) return { kind: 'bad', reason: 'not a JSON object' };
  if (record.eventSource !== SES_EVENT_SOURCE) return { kind: 'not-ses' };
  const eventTime = str(record.eventTime);
  if (!eventTime) return { kind: 'bad', reason: 'SES event without eventTime' };
  const time = Date.parse(eventTime);
  if (Number.isNaN(time)) return { kind: 'bad', reason: `SES event with an invalid eventTime ${JSON.stringify(eventTime).slice(0, 60)}` };

  // A record without an eventID still needs a key that a replay reproduces: hash its content.
  const eventID = clampKey(str(record.eventID) ?? `sha256-${createHash('sha256').update(jsonText(record) ?? '').digest('hex').slice(0, 32)}`);
  const eventKey = clampKey(`${new Date(Math.floor(time / 1000) * 1000).toISOString().slice(0, 19)}Z#${eventID}`);
  const who = actorOf(record.userIdentity);
  const keys = identityKeys(record);
  const identities = keys.map((k) => clampKey(k.key));

  const base: Omit<AuditRow, 'identity' | 'identityKind' | 'sourceObject' | 'ingestedAt'> = {
    eventKey,
    actor: clampKey(who.actor),
    eventName: clampKey(str(record.eventName) ?? 'unknown'),
    identities,
    eventTime,
    eventID,
    eventSource: SES_EVENT_SOURCE,
  };
  const opt = base as Partial<AuditRow>;
  setStr(opt, 'eventCategory', record.eventCategory);
  if (typeof record.readOnly === 'boolean') opt.readOnly = record.readOnly;
  setStr(opt, 'errorCode', record.errorCode);
  setStr(opt, 'errorMessage', record.errorMessage);
  setStr(opt, 'awsRegion', record.awsRegion);
  setStr(opt, 'accountId', record.recipientAccountId);
  if (who.actorType !== undefined) opt.actorType = who.actorType;
  if (who.principalArn !== undefined) opt.principalArn = who.principalArn;
  if (who.principalId !== undefined) opt.principalId = who.principalId;
  if (who.accessKeyId !== undefined) opt.accessKeyId = who.accessKeyId;
  if (who.userName !== undefined) opt.userName = who.userName;
  if (who.sessionIssuerArn !== undefined) opt.sessionIssuerArn = who.sessionIssuerArn;
  if (who.invokedBy !== undefined) opt.invokedBy = who.invokedBy;
  if (who.mfaAuthenticated !== undefined) opt.mfaAuthenticated = who.mfaAuthenticated;
  setStr(opt, 'sourceIPAddress', record.sourceIPAddress);
  setStr(opt, 'userAgent', record.userAgent);
  setStr(opt, 'requestID', record.requestID);
  if (record.requestParameters != null) opt.requestParameters = record.requestParameters;
  if (record.responseElements != null) opt.responseElements = record.responseElements;
  if (record.additionalEventData != null) opt.additionalEventData = record.additionalEventData;
  opt.sourceObject = ctx.sourceObject;
  opt.ingestedAt = ctx.ingestedAt;
  const { findings, severity } = findingsOf(record);
  if (findings.length > 0) {
    opt.findings = findings;
    opt.severity = severity;
  }
  const expiresAt = record.readOnly === true && ctx.readOnlyExpiresAt !== undefined ? ctx.readOnlyExpiresAt : ctx.expiresAt;
  if (expiresAt !== undefined) opt.expiresAt = expiresAt;

  const rows = keys.map((k, i): AuditRow => ({ identity: identities[i], identityKind: k.kind, ...base }) as AuditRow);
  return { kind: 'rows', rows, eventKey, eventTime: time };
}

function setStr<K extends keyof AuditRow>(row: Partial<AuditRow>, name: K, value: unknown): void {
  if (typeof value === 'string' && value !== '') (row as Record<string, unknown>)[name] = value;
}
