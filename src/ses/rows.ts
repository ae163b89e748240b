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
  const record: CloudTrailRecord | undefined = asObject(value);
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

  const base: Omit<AuditRow, 'identity' | 'identityKind'> = {
    eventKey,
    actor: clampKey(who.actor),
    eventName: clampKey(str(record.eventName) ?? 'unknown'),
    identities,
    eventTime,
    eventID,
    eventSource: SES_EVENT_SOURCE,
    sourceObject: ctx.sourceObject,
    ingestedAt: ctx.ingestedAt,
  };
  // Optional attributes are absent, never undefined or null, when the record lacks them (DESIGN.md).
  const set = <K extends OptionalAttribute>(name: K, v: AuditRow[K] | undefined): void => {
    if (v !== undefined) base[name] = v;
  };
  set('eventCategory', str(record.eventCategory));
  set('readOnly', typeof record.readOnly === 'boolean' ? record.readOnly : undefined);
  set('errorCode', str(record.errorCode));
  set('errorMessage', str(record.errorMessage));
  set('awsRegion', str(record.awsRegion));
  set('accountId', str(record.recipientAccountId));
  set('actorType', who.actorType);
  set('principalArn', who.principalArn);
  set('principalId', who.principalId);
  set('accessKeyId', who.accessKeyId);
  set('userName', who.userName);
  set('sessionIssuerArn', who.sessionIssuerArn);
  set('invokedBy', who.invokedBy);
  set('mfaAuthenticated', who.mfaAuthenticated);
  set('sourceIPAddress', str(record.sourceIPAddress));
  set('userAgent', str(record.userAgent));
  set('requestID', str(record.requestID));
  // CloudTrail logs `"responseElements": null` for calls that return nothing: that is no attribute.
  set('requestParameters', record.requestParameters ?? undefined);
  set('responseElements', record.responseElements ?? undefined);
  set('additionalEventData', record.additionalEventData ?? undefined);
  const { findings, severity } = findingsOf(record);
  if (findings.length > 0) {
    set('findings', findings);
    set('severity', severity);
  }
  set('expiresAt', record.readOnly === true && ctx.readOnlyExpiresAt !== undefined ? ctx.readOnlyExpiresAt : ctx.expiresAt);

  const rows = keys.map((k, i): AuditRow => ({ identity: identities[i], identityKind: k.kind, ...base }));
  return { kind: 'rows', rows, eventKey, eventTime: time };
}

/** The attributes a row may lack. */
type OptionalAttribute = {
  [K in keyof AuditRow]-?: undefined extends AuditRow[K] ? K : never;
}[keyof AuditRow];
