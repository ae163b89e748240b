/**
 * Embedded S3 (s3rver) and DynamoDB (dynalite) servers, in this process on free ports, for `ses-audit local`
 * and the integration tests: no AWS account, no Docker, no Java.
 */
import crypto from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import type S3rver from 's3rver';
import { ConfigError, reasonOf } from '../errors.js';

export type { S3Event, S3EventRecord };

/** s3rver checks SigV4 signatures against this fixed key pair. */
export const LOCAL_ACCESS_KEY_ID = 'S3RVER';
export const LOCAL_SECRET_ACCESS_KEY = 'S3RVER';
export const LOCAL_REGION = 'us-east-1';

export interface LocalAwsOptions {
  /** s3rver's data directory; kept on stop(). Default: a fresh temp directory, removed on stop(). */
  s3Dir?: string;
  /** Buckets to create before the servers accept requests. */
  bucket?: string[];
  /** Quiet logging (default true): s3rver logs every request otherwise. */
  silent?: boolean;
}

export type ObjectCreatedListener = (event: S3Event) => void | Promise<void>;

export interface LocalAws {
  s3Endpoint: string;
  dynamodbEndpoint: string;
  /** s3rver's data directory (objects are plain files under BUCKET/). */
  s3Dir: string;
  /**
   * The variables that point the SDK (and every ses-audit command) at these servers: AWS_ENDPOINT_URL_S3,
   * AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.
   */
  env: Record<string, string>;
  /**
   * Calls `listener` with an S3 notification (as S3 would send to Lambda: one record, key URL-encoded) for
   * every object created from now on, after the upload has returned, as S3 does. Returns an unsubscribe
   * function. A listener's failure never reaches the uploader; see drainNotifications().
   */
  onObjectCreated(listener: ObjectCreatedListener): () => void;
  /**
   * Resolves once every notification delivered so far has been handled (listeners' promises settled).
   * Rejects with an AggregateError of the listener failures since the previous drain, if any.
   */
  drainNotifications(): Promise<void>;
  /** Stops both servers and removes the temp directory. Idempotent; leaves no handle open. */
  stop(): Promise<void>;
}

/**
 * s3rver builds ListObjects continuation tokens with single DES, which OpenSSL 3 (Node 17+) no longer
 * offers, so any listing longer than one page fails with a 500. Triple DES with the key repeated three
 * times is the same cipher: map the one algorithm name s3rver asks for, leave everything else alone.
 */
let desPatched = false;
function patchS3rverPagination(): void {
  if (desPatched) return;
  desPatched = true;
  const { createCipheriv, createDecipheriv } = crypto;
  // s3rver hands its DES key over as a Buffer (its own code, not a type the crypto API promises).
  const triple = (key: crypto.CipherKey): Buffer => Buffer.concat([key as Buffer, key as Buffer, key as Buffer]);
  Object.assign(crypto, {
    createCipheriv: (alg: string, key: crypto.CipherKey, iv: crypto.BinaryLike | null, ...rest: unknown[]) =>
      alg === 'des' ? createCipheriv('des-ede3-cbc', triple(key), iv) : (createCipheriv as (...a: unknown[]) => unknown)(alg, key, iv, ...rest),
    createDecipheriv: (alg: string, key: crypto.CipherKey, iv: crypto.BinaryLike | null, ...rest: unknown[]) =>
      alg === 'des' ? createDecipheriv('des-ede3-cbc', triple(key), iv) : (createDecipheriv as (...a: unknown[]) => unknown)(alg, key, iv, ...rest),
  });
}

export async function startLocalAws(opts: LocalAwsOptions = {}): Promise<LocalAws> {
  patchS3rverPagination();
  // Loaded here, not at module load: every other command of the CLI shares its bundle and must not pay
  // for two servers (~27 MiB and ~230 ms) it never starts.
  const [{ default: S3rverServer }, { default: dynalite }] = await Promise.all([import('s3rver'), import('dynalite')]).catch(
    (err: unknown) => {
      // Optional dependencies: an install with --omit=optional (the function and the construct need neither).
      throw new ConfigError(`the local servers are not installed (s3rver and dynalite are optional dependencies: npm install s3rver dynalite): ${reasonOf(err)}`);
    },
  );
  const silent = opts.silent ?? true;
  const ownDir = opts.s3Dir === undefined;
  const s3Dir = opts.s3Dir ?? (await mkdtemp(join(tmpdir(), 'ses-audit-s3-')));

  let s3: S3rver | undefined;
  let dynamo: Server | undefined;
  const cleanup = async (): Promise<void> => {
    await Promise.allSettled([s3 && closeS3rver(s3), dynamo && closeServer(dynamo)]);
    if (ownDir) await rm(s3Dir, { recursive: true, force: true });
  };

  const listeners = new Set<ObjectCreatedListener>();
  const inFlight = new Set<Promise<void>>();
  let failures: unknown[] = [];

  try {
    s3 = new S3rverServer({
      address: '127.0.0.1',
      port: 0,
      silent,
      directory: s3Dir,
      // Path-style only: a local endpoint has no bucket subdomains.
      vhostBuckets: false,
      configureBuckets: (opts.bucket ?? []).map((name) => ({ name })),
    });
    s3.on('event', (raw) => {
      for (const record of raw.Records) {
        if (!record.eventName.startsWith('ObjectCreated:')) continue;
        const event: S3Event = { Records: [toAwsRecord(record)] };
        // S3 notifies asynchronously, after the PUT has answered; a listener must not fail the upload.
        for (const listener of listeners) {
          const delivery = new Promise<void>((resolve) => setImmediate(resolve))
            .then(() => listener(event))
            .catch((err: unknown) => {
              failures.push(err);
            })
            .finally(() => inFlight.delete(delivery));
          inFlight.add(delivery);
        }
      }
    });
    const s3Address = await s3.run();

    dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const dynamoServer = dynamo;
    await new Promise<void>((resolve, reject) => {
      dynamoServer.once('error', reject);
      dynamoServer.listen(0, '127.0.0.1', () => {
        dynamoServer.off('error', reject);
        resolve();
      });
    });
    const dynamoAddress = dynamo.address();
    if (dynamoAddress === null || typeof dynamoAddress === 'string') throw new Error('dynalite is not listening on a TCP port');

    const s3Endpoint = `http://127.0.0.1:${s3Address.port}`;
    const dynamodbEndpoint = `http://127.0.0.1:${dynamoAddress.port}`;

    const drainNotifications = async (): Promise<void> => {
      // A listener may upload more objects; keep waiting until nothing is left.
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      const failed = failures;
      failures = [];
      if (failed.length > 0) {
        throw new AggregateError(failed, `${failed.length} object-created listener call(s) failed`);
      }
    };

    let stopping: Promise<void> | undefined;
    return {
      s3Endpoint,
      dynamodbEndpoint,
      s3Dir,
      env: {
        AWS_ENDPOINT_URL_S3: s3Endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
        AWS_REGION: LOCAL_REGION,
        AWS_ACCESS_KEY_ID: LOCAL_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: LOCAL_SECRET_ACCESS_KEY,
      },
      onObjectCreated(listener) {
        listeners.add(listener);
        return () => {
          listeners.delete(listener);
        };
      },
      drainNotifications,
      stop() {
        stopping ??= (async () => {
          listeners.clear();
          // Let running listeners finish before their servers go away under them; their errors are moot now.
          while (inFlight.size > 0) await Promise.all([...inFlight]);
          failures = [];
          await cleanup();
        })();
        return stopping;
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * s3rver's event is close to, but not quite, what S3 sends: it carries the key decoded (S3 sends it
 * URL-encoded, spaces as `+`, and consumers decode it), a malformed bucket ARN (`arn:aws:s3: : :b`) and no
 * eTag for copies.
 */
function toAwsRecord(raw: S3rver.RawEvent['Records'][number]): S3EventRecord {
  return {
    ...raw,
    s3: {
      ...raw.s3,
      bucket: { ...raw.s3.bucket, arn: `arn:aws:s3:::${raw.s3.bucket.name}` },
      object: {
        ...raw.s3.object,
        key: encodeNotificationKey(raw.s3.object.key),
        size: raw.s3.object.size ?? 0,
        eTag: raw.s3.object.eTag ?? '',
      },
    },
  };
}

/** The key as S3 notifications carry it: form-URL-encoded (space as `+`), with `/` left alone. */
export function encodeNotificationKey(key: string): string {
  return key
    .split('/')
    .map((part) => encodeURIComponent(part).replace(/%20/g, '+'))
    .join('/');
}

async function closeS3rver(s3: S3rver): Promise<void> {
  const server = s3.httpServer;
  if (!server) {
    // Never listened: only the winston logger is open.
    s3.logger.close();
    return;
  }
  await closeServer(server);
}

/**
 * close() waits for keep-alive sockets held by SDK clients that were never destroyed; closing every
 * connection makes stop() prompt and leaves nothing that keeps the process alive.
 */
function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (!server.listening) return resolve();
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}
