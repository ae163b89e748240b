/**
 * The CLI's one way of telling a user what went wrong: one line, `error: [INPUT: ]REASON`, where REASON says
 * what to do for the failures a user can fix (no region, no or expired credentials, a missing table, an
 * endpoint that cannot be reached) instead of the SDK's own text. With SES_AUDIT_DEBUG=1 the stack (and its
 * causes) follow the line.
 */
import { InputError, oneLine, reasonOf } from '../errors.js';
import type { CliIO } from './io.js';

type Env = Record<string, string | undefined>;

/** The command line itself is wrong: exit status 2, with a pointer to the command's help. */
export class UsageError extends InputError {}

/** Fields the SDK and Node put on errors; read defensively, they may be absent. */
interface ErrorFields {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  cause?: unknown;
}

function fields(err: unknown): ErrorFields {
  return typeof err === 'object' && err !== null ? err : {};
}

/** The error and its causes, outermost first (our errors wrap the SDK's). */
function chain(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e: unknown = err; e !== undefined && e !== null && out.length < 8; e = fields(e).cause) out.push(e);
  return out;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Where a service's requests go, for messages about reaching it. */
function endpointOf(env: Env, service: 'S3' | 'DYNAMODB'): string {
  return env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL || 'its regional endpoint';
}

/** The network error's code says it best; Node reports a refused dual-stack connect as an AggregateError. */
function networkCode(err: unknown): string | undefined {
  const first: unknown = err instanceof AggregateError && err.errors.length ? err.errors[0] : err;
  const code = fields(first).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  if (fields(err).name === 'TimeoutError') return 'timed out';
  return undefined;
}

/** Region and credential problems, the same for every service. */
function credentialProblem(err: unknown, env: Env): string | undefined {
  const { name, message } = fields(err);
  const text = typeof message === 'string' ? message : '';
  const profile = env.AWS_PROFILE;
  if (name === 'Error' && /^Region is missing/.test(text)) {
    return 'no AWS region: pass --region REGION or set AWS_REGION (or give the profile a region)';
  }
  if (name === 'CredentialsProviderError' || name === 'TokenProviderError') {
    if (/expired|refresh/i.test(text)) {
      return `the AWS sign-in has expired: run aws sso login${profile ? ` --profile ${profile}` : ''} (or refresh the credentials) and try again`;
    }
    if (profile) return `no AWS credentials for profile "${profile}": check ~/.aws/config, or run aws sso login --profile ${profile}`;
    return 'no AWS credentials: pass --profile NAME, set AWS_PROFILE, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
  }
  if (name === 'ExpiredTokenException' || name === 'ExpiredToken') {
    return `the AWS credentials have expired: refresh them${profile ? ` (aws sso login --profile ${profile})` : ''} and try again`;
  }
  if (name === 'UnrecognizedClientException' || name === 'InvalidAccessKeyId' || name === 'InvalidClientTokenId') {
    return `AWS does not recognize the access key (${String(name)}): check AWS_ACCESS_KEY_ID or the profile`;
  }
  if (name === 'SignatureDoesNotMatch' || name === 'InvalidSignatureException') {
    return `AWS rejected the request signature (${String(name)}): check AWS_SECRET_ACCESS_KEY or the profile`;
  }
  return undefined;
}

/**
 * One line for the DynamoDB failures a user can act on: a missing table, an endpoint that cannot be
 * reached, a missing index. Undefined for anything else.
 */
export function dynamoProblem(err: unknown, tableName: string, env: Env): string | undefined {
  const { name, message } = fields(err);
  if (name === 'ResourceNotFoundException') return `table ${tableName} not found${env.TABLE_NAME ? '' : ' (set TABLE_NAME)'}`;
  const code = networkCode(err);
  if (code) return `cannot reach DynamoDB at ${endpointOf(env, 'DYNAMODB')}: ${code}`;
  if (name === 'ValidationException' && typeof message === 'string' && /index/i.test(message)) {
    return `table ${tableName}: ${oneLine(message)}`;
  }
  return undefined;
}

/** What went wrong, in one line, with what to do about it where there is something to do. */
export function explain(err: unknown, env: Env, o: { tableName?: string; service?: 'S3' | 'DYNAMODB' } = {}): string {
  for (const e of chain(err)) {
    const problem = credentialProblem(e, env) ?? (o.tableName !== undefined ? dynamoProblem(e, o.tableName, env) : undefined);
    if (problem) return problem;
    const code = o.service && networkCode(e);
    if (code && o.service) return `cannot reach ${o.service === 'S3' ? 'S3' : 'DynamoDB'} at ${endpointOf(env, o.service)}: ${code}`;
  }
  return reasonOf(err);
}

/** The stack and its causes, for SES_AUDIT_DEBUG=1. */
function stackOf(err: unknown): string {
  return chain(err)
    .map((e, i) => `${i ? 'caused by: ' : ''}${e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e)}`)
    .join('\n');
}

/** Whether SES_AUDIT_DEBUG asks for stacks. */
export function debugging(env: Env): boolean {
  const v = env.SES_AUDIT_DEBUG?.trim().toLowerCase();
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

/**
 * Prints `error: [INPUT: ]REASON` (REASON as `explain` gives it, or as given), and the stack under it when
 * SES_AUDIT_DEBUG is on.
 */
export function printError(io: CliIO, err: unknown, o: { input?: string; reason?: string } = {}): void {
  const reason = o.reason ?? explain(err, io.env);
  io.stderr.write(`error: ${o.input !== undefined ? `${o.input}: ` : ''}${reason}\n`);
  if (debugging(io.env)) io.stderr.write(`${stackOf(err)}\n`);
}
