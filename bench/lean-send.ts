/**
 * A prototype, for the writer suite only: BatchWriteItem without the SDK's command machinery, to price what
 * owning such a path would save. The items the writer builds are already DynamoDB's wire format, so the call
 * is JSON.stringify, a SigV4 signature (@smithy/signature-v4 with the client's own hash, credentials and
 * region), the client's own HTTP handler, and JSON.parse of the answer. What it leaves out is what a product
 * version would have to own: endpoint resolution for real AWS, error shapes, retries of the HTTP layer, user
 * agent, clock skew correction.
 */
import type { BatchWriteItemCommandInput, BatchWriteItemCommandOutput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
// The SDK's own copies (dependencies of @aws-sdk/client-dynamodb, not of this package): the prototype signs
// exactly as the SDK does.
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';

/** A `send` for BatchWriteItem only, on the client's configuration. */
export function leanBatchWrite(client: DynamoDBClient): (input: BatchWriteItemCommandInput, abortSignal?: AbortSignal) => Promise<BatchWriteItemCommandOutput> {
  const config = client.config;
  const signer = new SignatureV4({ service: 'dynamodb', region: config.region, credentials: config.credentials, sha256: config.sha256 });
  return async (input, abortSignal) => {
    const endpoint = await config.endpoint?.();
    if (!endpoint) throw new Error('the lean prototype needs an explicit endpoint (AWS_ENDPOINT_URL_DYNAMODB)');
    const body = JSON.stringify(input);
    const request: HttpRequest = {
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port,
      path: endpoint.path || '/',
      query: {},
      headers: {
        host: endpoint.port ? `${endpoint.hostname}:${endpoint.port}` : endpoint.hostname,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.BatchWriteItem',
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    };
    const signed = await signer.sign(request);
    const { response } = await config.requestHandler.handle(signed, { abortSignal });
    const chunks: Buffer[] = [];
    // The node HTTP handler's response body is the IncomingMessage.
    for await (const c of response.body as AsyncIterable<Buffer>) chunks.push(c);
    const text = Buffer.concat(chunks).toString('utf8');
    // DynamoDB's JSON answer.
    const out = JSON.parse(text) as BatchWriteItemCommandOutput & { __type?: string; message?: string };
    if (response.statusCode !== 200) {
      const err = new Error(out.message ?? text);
      err.name = out.__type?.split('#').pop() ?? `HTTP ${response.statusCode}`;
      throw err;
    }
    return { ...out, $metadata: { httpStatusCode: response.statusCode } };
  };
}
