/**
 * The writer's DynamoDB client goes without the SDK's logging middleware (it copies every request for a
 * logger nobody configured); the other clients keep the SDK's defaults.
 */
import { describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SDK_LOGGER_MIDDLEWARE, makeDynamoClient } from '../../src/aws.js';

const env = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' };
// identify() gives 'NAME - STEP' or 'NAME (a.k.a. ...) - STEP'.
const names = (c: DynamoDBClient) => c.middlewareStack.identify().map((s) => s.split(' ')[0]);

describe('DynamoDB clients', () => {
  it('the SDK still registers its logger under the name the writer removes', () => {
    // If the SDK renamed it, removal would silently do nothing: this fails first.
    const plain = new DynamoDBClient({ region: 'us-east-1' });
    expect(names(plain)).toContain(SDK_LOGGER_MIDDLEWARE);
    expect(plain.middlewareStack.remove(SDK_LOGGER_MIDDLEWARE)).toBe(true);
  });

  it("the writer's client has no logging middleware, and keeps signing, retries and (de)serialization", () => {
    const writer = makeDynamoClient(env, { forWriter: true });
    expect(names(writer)).not.toContain(SDK_LOGGER_MIDDLEWARE);
    for (const kept of ['serializerMiddleware', 'retryMiddleware', 'httpSigningMiddleware', 'deserializerMiddleware']) {
      expect(names(writer)).toContain(kept);
    }
  });

  it('other clients keep it', () => {
    expect(names(makeDynamoClient(env))).toContain(SDK_LOGGER_MIDDLEWARE);
  });
});
