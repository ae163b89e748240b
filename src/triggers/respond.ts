/** Turning the result of each unit into what each service expects back. */
import { SesAuditError, isRetryable, oneLine, reasonOf } from '../errors.js';
import { s3Uri } from '../trail/object.js';
import type { S3BatchResult, S3BatchResultResultCode, SQSBatchResponse } from 'aws-lambda';
import type { InvocationSummary, TriggerKind, UnitResult, WorkUnit } from './types.js';

export type UnitOutcome =
  | { status: 'ok'; summary?: string }
  | { status: 'ignored' }
  | { status: 'failed'; error: unknown };

/** Stands in for a unit that has objects but no result: the invocation ended before it was done. */
export class NotProcessedError extends SesAuditError {
  constructor() {
    super('not processed (the invocation ended before this unit finished)', { retryable: true });
  }
}

export function outcomeOf(unit: WorkUnit, results: ReadonlyMap<string, UnitResult>): UnitOutcome {
  if (unit.error) return { status: 'failed', error: unit.error };
  const r = results.get(unit.id);
  if (r && !r.ok) return { status: 'failed', error: r.error };
  if (unit.objects.length === 0) return { status: 'ignored' };
  if (!r) return { status: 'failed', error: new NotProcessedError() };
  return r.summary !== undefined ? { status: 'ok', summary: r.summary } : { status: 'ok' };
}

export interface UnitFailure {
  id: string;
  objects: string[];
  reason: string;
  retryable: boolean;
  error: unknown;
}

/**
 * Thrown by `respond` for S3, SNS and EventBridge invocations when a unit failed, so that Lambda's
 * asynchronous retries, then the on-failure destination, keep the event. Lists the failures in one line.
 */
export class InvocationFailedError extends SesAuditError {
  readonly failures: UnitFailure[];
  constructor(trigger: TriggerKind, total: number, failures: UnitFailure[]) {
    const shown = failures.slice(0, 3).map((f) => `${f.id}${f.objects.length ? ` (${f.objects.join(', ')})` : ''}: ${f.reason}`);
    const more = failures.length > shown.length ? `; and ${failures.length - shown.length} more` : '';
    super(truncate(`${trigger}: ${failures.length} of ${total} unit(s) failed: ${shown.join('; ')}${more}`, 2000), {
      retryable: failures.some((f) => f.retryable),
      cause: failures.length === 1 ? failures[0].error : new AggregateError(failures.map((f) => f.error)),
    });
    this.failures = failures;
  }
}

/** S3, SNS, EventBridge: a summary when every unit succeeded, else throw `InvocationFailedError`. */
export function summarizeOrThrow(
  trigger: TriggerKind,
  units: WorkUnit[],
  results: ReadonlyMap<string, UnitResult>,
): InvocationSummary {
  const failures: UnitFailure[] = [];
  const summaries: string[] = [];
  let ignored = 0;
  for (const unit of units) {
    const o = outcomeOf(unit, results);
    if (o.status === 'failed') {
      failures.push({
        id: unit.id,
        objects: unit.objects.map(s3Uri),
        reason: reasonOf(o.error),
        retryable: isRetryable(o.error),
        error: o.error,
      });
    } else if (o.status === 'ignored') {
      ignored++;
    } else if (o.summary !== undefined) {
      summaries.push(o.summary);
    }
  }
  if (failures.length > 0) throw new InvocationFailedError(trigger, units.length, failures);
  return {
    trigger,
    units: units.length,
    objects: units.reduce((n, u) => n + u.objects.length, 0),
    ignored,
    notes: units.filter((u) => u.note).map((u) => `${u.id}: ${u.note}`),
    summaries,
  };
}

/** SQS: report exactly the failed messages (`ReportBatchItemFailures`); the others are deleted. */
export function sqsResponse(
  units: WorkUnit[],
  messageIdOf: ReadonlyMap<string, string>,
  results: ReadonlyMap<string, UnitResult>,
): SQSBatchResponse {
  const failed = new Set<string>();
  for (const unit of units) {
    if (outcomeOf(unit, results).status === 'failed') failed.add(messageIdOf.get(unit.id) ?? unit.id);
  }
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
}

export const RESULT_STRING_MAX = 256;

/**
 * S3 Batch Operations: one result per task. Retryable errors are `TemporaryFailure` (S3 redrives the
 * task before the job ends); everything else, including a missing object and a corrupt file, is
 * `PermanentFailure`. The result string is one line of at most 256 characters (it lands in the CSV report).
 */
export function batchResponse(
  invocationSchemaVersion: string,
  invocationId: string,
  tasks: { taskId: string; unit: WorkUnit }[],
  results: ReadonlyMap<string, UnitResult>,
): S3BatchResult {
  return {
    invocationSchemaVersion,
    treatMissingKeysAs: 'PermanentFailure',
    invocationId,
    results: tasks.map(({ taskId, unit }) => {
      const o = outcomeOf(unit, results);
      let resultCode: S3BatchResultResultCode;
      let text: string;
      if (o.status === 'failed') {
        resultCode = isRetryable(o.error) ? 'TemporaryFailure' : 'PermanentFailure';
        text = reasonOf(o.error);
      } else {
        resultCode = 'Succeeded';
        text = o.status === 'ok' && o.summary !== undefined ? o.summary : o.status === 'ignored' ? unit.note ?? 'ignored' : 'ok';
      }
      return { taskId, resultCode, resultString: truncate(oneLine(text), RESULT_STRING_MAX) };
    }),
  };
}

export function truncate(text: string, max: number): string {
  const chars = Array.from(text); // by code point, so a cut never splits a surrogate pair
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
