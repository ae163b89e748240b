import type { S3BatchResult, SQSBatchResponse } from 'aws-lambda';
import type { S3ObjectRef } from '../trail/object.js';

export type TriggerKind = 's3' | 'sqs' | 'sns' | 'eventbridge' | 'batch-operations';

/**
 * The unit whose success or failure is reported back as one item: an S3 or SNS record, an SQS message,
 * an EventBridge event, a Batch Operations task.
 *
 * How to run a plan: for each unit without `error`, process every object in `objects` (there may be
 * none: the unit was a test event or a notice that is not about a new object) and put one `UnitResult`
 * under `unit.id`. `respond` treats a unit with `error` as failed whatever the map says, a unit with no
 * objects as done, and a unit with objects but no result as failed ("not processed": time ran out).
 * Objects are not filtered by key here: the processor decides which keys are CloudTrail log files
 * (`classifyKey`), the same way for every trigger and for the CLI.
 */
export interface WorkUnit {
  /** Unique within the plan (SQS messageId, Batch Operations taskId, `Records[2]`, EventBridge id). */
  id: string;
  objects: S3ObjectRef[];
  /** Why some or all of the unit is ignored, e.g. `s3:TestEvent ignored`: for the logs. */
  note?: string;
  /** Set when the unit cannot be run at all (a body that is not JSON, a record missing its key): it fails. */
  error?: Error;
}

export type UnitResult = { ok: true; summary?: string } | { ok: false; error: unknown };

interface PlanOf<K extends TriggerKind, R> {
  kind: K;
  units: WorkUnit[];
  /**
   * What the handler returns to the service, from the result of each unit (keyed by `WorkUnit.id`).
   * Throws (S3, SNS, EventBridge) when a unit failed, so Lambda retries the event and then hands it to
   * the on-failure destination; SQS and Batch Operations report per item instead and never throw.
   */
  respond(results: ReadonlyMap<string, UnitResult>): R;
}

/** How to run one invocation: its units, and the answer its service expects (typed per trigger). */
export type Plan =
  | PlanOf<'s3' | 'sns' | 'eventbridge', InvocationSummary>
  | PlanOf<'sqs', SQSBatchResponse>
  | (PlanOf<'batch-operations', S3BatchResult> & {
      /** S3 Batch Operations schema 2.0 `job.userArguments`, passed on as given. */
      userArguments?: Record<string, string>;
    });

/** What the handler returns: whatever the plan's `respond` gives for its trigger. */
export type HandlerResult = ReturnType<Plan['respond']>;

/** What an S3, SNS or EventBridge invocation returns when every unit succeeded. */
export interface InvocationSummary {
  trigger: TriggerKind;
  units: number;
  objects: number;
  /** Units with nothing to read (test events, deletions, ...). */
  ignored: number;
  notes: string[];
  /** `summary` of each successful unit that had one. */
  summaries: string[];
}
