/**
 * The command line as a user meets it: one parser and one error path for every command, --version, "did you
 * mean", explained AWS failures, SES_AUDIT_DEBUG, and a closed stdout.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { awsEnv } from '../../src/cli/command.js';
import { explain } from '../../src/cli/explain.js';
import { endOnClosedPipe } from '../../src/cli/io.js';
import { VERSION } from '../../src/cli/main.js';
import { SourceError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import pkg from '../../package.json' with { type: 'json' };

const AWS_COMMANDS = ['process', 'invoke', 'history', 'backfill'];
const ALL_COMMANDS = [...AWS_COMMANDS, 'local'];

describe('ses-audit', () => {
  it('--version prints the package version', async () => {
    expect(VERSION).toBe(pkg.version);
    for (const flag of ['--version', '-V']) expect(await runCli([flag])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('without a command: the help on stderr, exit 2; --help and help: stdout, exit 0', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^Usage: ses-audit \[options\] \[command\]/);
    for (const args of [['--help'], ['help']]) {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      for (const name of ALL_COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    }
    expect((await runCli(['help', 'history'])).stdout).toMatch(/^Usage: ses-audit history IDENTITY/);
  });

  it('an unknown command is a usage error, with a suggestion when one is close', async () => {
    expect(await runCli(['nosuchcmd'])).toEqual({ code: 2, stdout: '', stderr: "error: unknown command 'nosuchcmd' (ses-audit --help)\n" });
    expect((await runCli(['histroy', 'example.com'])).stderr).toBe("error: unknown command 'histroy'; did you mean history? (ses-audit --help)\n");
    expect((await runCli(['backfil'])).stderr).toBe("error: unknown command 'backfil'; did you mean backfill? (ses-audit --help)\n");
  });

  it.each(ALL_COMMANDS)('%s: --help exits 0; an unknown option exits 2 pointing at its help', async (name) => {
    const help = await runCli([name, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`^Usage: ses-audit ${name} `));
    expect(help.stdout).toContain('-h, --help');
    expect(help.stdout.includes('--region <region>')).toBe(AWS_COMMANDS.includes(name));
    expect(help.stdout.includes('--profile <name>')).toBe(AWS_COMMANDS.includes(name));
    const bad = await runCli([name, '--bogus']);
    expect(bad).toEqual({ code: 2, stdout: '', stderr: `error: unknown option '--bogus' (ses-audit ${name} --help)\n` });
  });

  it.each([
    ['process', ['--dry-run', '--concurrency', '0', 'x.json'], '--concurrency "0": expected a whole number from 1 to 256'],
    ['process', ['--dry-run', '--max-bytes', '1k', 'x.json'], '--max-bytes "1k": expected a whole number from 1024 to 1099511627776'],
    ['invoke', ['--timeout', '0', 'e.json'], '--timeout "0": expected a duration from 1 s to 900 s'],
    ['invoke', ['--timeout', 'soon', 'e.json'], '--timeout "soon": expected a duration like 90s, 15m, 2h or 1d'],
    ['history', ['x.example', '--limit', 'abc'], '--limit "abc": expected a whole number from 1 to 1000000'],
    ['history', ['x.example', '--until', 'someday'], '--until "someday": expected a date (2026-11-20), an ISO time (2026-11-20T10:15:00Z), today, yesterday, or an age (2h, 7d)'],
    ['backfill', ['s3://b', '--concurrency', 'abc'], '--concurrency "abc": expected a whole number from 1 to 64'],
    ['backfill', ['s3://b', '--since', '2026-02-30'], '--since "2026-02-30": no such date'],
    ['backfill', ['s3://b', '--progress-interval', '-1'], '--progress-interval "-1": expected a duration like 90s, 15m, 2h or 1d'],
    ['backfill', ['b/prefix'], 'b/prefix: not an s3://BUCKET/PREFIX'],
    ['local', ['--top', '0'], '--top "0": expected a whole number from 1 to 100'],
    ['invoke', [], "missing required argument 'event'"],
    ['backfill', ['s3://a', 's3://b'], "too many arguments for 'backfill'. Expected 1 argument but got 2."],
    ['invoke', ['--timeout'], "option '--timeout <duration>' argument missing"],
  ])('%s %j: usage error, exit 2, one line', async (name, args, reason) => {
    expect(await runCli([name, ...args])).toEqual({ code: 2, stdout: '', stderr: `error: ${reason} (ses-audit ${name} --help)\n` });
  });

  it('a failure is one line, exit 1; SES_AUDIT_DEBUG=1 adds the stack behind it', async () => {
    const plain = await runCli(['invoke', '/nonexistent/event.json']);
    expect(plain).toEqual({ code: 1, stdout: '', stderr: 'error: /nonexistent/event.json: no such file\n' });
    const debug = await runCli(['invoke', '/nonexistent/event.json'], { SES_AUDIT_DEBUG: '1' });
    expect(debug.code).toBe(1);
    const lines = debug.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('error: /nonexistent/event.json: no such file');
    expect(lines[1]).toMatch(/^InputError: \/nonexistent\/event.json: no such file$/);
    expect(lines.some((l) => /^\s+at /.test(l))).toBe(true);
    expect(debug.stderr).toContain("caused by: Error: ENOENT: no such file or directory, open '/nonexistent/event.json'");
    expect((await runCli(['invoke', '/nonexistent/event.json'], { SES_AUDIT_DEBUG: '0' })).stderr).toBe(plain.stderr);
  });
});

describe('AWS failures, explained', () => {
  it('a missing region, before any request', async () => {
    // The SDK also looks in this process's environment and ~/.aws/config: neither may name a region here.
    const saved = { ...process.env };
    for (const k of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete process.env[k];
    process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
    try {
      const r = await runCli(['history', 'example.com'], { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1' });
      expect(r).toEqual({ code: 1, stdout: '', stderr: 'error: no AWS region: pass --region REGION or set AWS_REGION (or give the profile a region)\n' });
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  it.each([
    [{ name: 'CredentialsProviderError', message: 'Could not load credentials from any providers' }, {}, 'no AWS credentials: pass --profile NAME, set AWS_PROFILE, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'],
    [{ name: 'CredentialsProviderError', message: 'Could not load credentials from any providers' }, { AWS_PROFILE: 'audit' }, 'no AWS credentials for profile "audit": check ~/.aws/config, or run aws sso login --profile audit'],
    [{ name: 'TokenProviderError', message: 'The SSO session associated with this profile has expired or is otherwise invalid.' }, { AWS_PROFILE: 'audit' }, 'the AWS sign-in has expired: run aws sso login --profile audit (or refresh the credentials) and try again'],
    [{ name: 'ExpiredTokenException', message: 'The security token included in the request is expired' }, {}, 'the AWS credentials have expired: refresh them and try again'],
    [{ name: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' }, {}, 'AWS does not recognize the access key (UnrecognizedClientException): check AWS_ACCESS_KEY_ID or the profile'],
    [{ name: 'ResourceNotFoundException', message: 'Requested resource not found' }, {}, 'table audit not found (set TABLE_NAME)'],
  ])('%j', (fields, env, line) => {
    const err = Object.assign(new Error(fields.message), { name: fields.name });
    expect(explain(err, env, { tableName: 'audit' })).toBe(line);
    // Wrapped in our own errors (an S3 read), the cause is still explained.
    if (fields.name !== 'ResourceNotFoundException') expect(explain(new SourceError('S3 read failed: x', { cause: err }), env)).toBe(line);
  });

  it('an endpoint that cannot be reached names it', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(explain(err, { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1' }, { service: 'S3' })).toBe('cannot reach S3 at http://127.0.0.1:1: ECONNREFUSED');
    expect(explain(new AggregateError([err]), {}, { tableName: 't' })).toBe('cannot reach DynamoDB at its regional endpoint: ECONNREFUSED');
  });

  it('--region and --profile reach the SDK; an explicit --profile wins over access keys in the environment', () => {
    const env = { AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't', AWS_REGION: 'us-east-1', OTHER: '1' };
    expect(awsEnv(env, {})).toEqual(env);
    expect(awsEnv(env, { region: 'eu-west-1' })).toEqual({ ...env, AWS_REGION: 'eu-west-1' });
    expect(awsEnv(env, { profile: 'audit' })).toEqual({ AWS_REGION: 'us-east-1', OTHER: '1', AWS_PROFILE: 'audit' });
  });
});

describe('a closed stdout', () => {
  it('EPIPE ends quietly with 0; any other stream error is reported with 1', () => {
    const ended: number[] = [];
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let said = '';
    stderr.on('data', (c: Buffer) => (said += c.toString()));
    endOnClosedPipe(stdout, (code) => ended.push(code), stderr);
    stdout.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    expect(ended).toEqual([0]);
    stdout.emit('error', Object.assign(new Error('bad file descriptor'), { code: 'EBADF' }));
    expect(ended).toEqual([0, 1]);
    expect(said).toBe('error: cannot write output: EBADF\n');
  });
});
