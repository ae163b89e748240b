/**
 * How calls to AWS are retried by this project's own loops (the DynamoDB writer, the alert publisher):
 * a bounded number of attempts, exponential backoff with full jitter, and a margin before Lambda's
 * deadline inside which nothing new is sent or slept. The SDK's own retries are off for these clients
 * (maxAttempts: 1), so this is the only loop and its sleeps are ones the deadline check can see.
 */
export interface RetryPolicy {
  /** Calls per request, the first included. */
  maxAttempts: number;
  /** Backoff before retry n (1-based): random() * min(maxDelayMs, baseDelayMs * 2^(n-1)). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Fail rather than send or sleep when less than this is left. */
  timeMarginMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 10, baseDelayMs: 50, maxDelayMs: 5000, timeMarginMs: 3000 };

/** The full-jitter delay before retry `attempt` (the attempt that just failed, 1-based). */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  return random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
}
