/**
 * Minimal types for s3rver 3.7 (it ships none): only the parts src/local/servers.ts uses.
 */
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';
  import type { Server } from 'node:http';

  namespace S3rver {
    interface Options {
      address?: string;
      port?: number;
      silent?: boolean;
      directory?: string;
      resetOnClose?: boolean;
      allowMismatchedSignatures?: boolean;
      vhostBuckets?: boolean;
      configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
    }

    /** What s3rver emits on 'event': S3-notification-shaped, but see servers.ts for where it differs. */
    interface RawEvent {
      Records: {
        eventVersion: string;
        eventSource: string;
        awsRegion: string;
        eventTime: string;
        eventName: string;
        userIdentity: { principalId: string };
        requestParameters: { sourceIPAddress: string };
        responseElements: { 'x-amz-request-id': string; 'x-amz-id-2': string };
        s3: {
          s3SchemaVersion: string;
          configurationId: string;
          bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
          object: { key: string; size?: number; eTag?: string; sequencer: string };
        };
      }[];
    }
  }

  /** Really a Koa app (an EventEmitter); only the members used here are declared. */
  class S3rver {
    constructor(options?: S3rver.Options);
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    httpServer?: Server;
    /** winston logger; its exception handlers are unhooked on close. */
    logger: { close(): void };
    on(event: 'event', listener: (event: S3rver.RawEvent) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    removeAllListeners(event?: string): this;
  }

  export = S3rver;
}
