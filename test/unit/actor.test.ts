/**
 * Who made a call, from userIdentity blocks shaped exactly as CloudTrail logs them (AWS CloudTrail User Guide,
 * "CloudTrail userIdentity element"), and from the real records in ../shared/samples when present.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { actorOf, actorQueryOf, whoOf } from '../../src/ses/actor.js';
import { SAMPLES_DIR } from '../helpers/samples.js';

const ACCT = '111122223333';
const who = (userIdentity: unknown) => whoOf(actorOf(userIdentity));

describe('whoOf(actorOf(userIdentity))', () => {
  it('a role session: the session name', () => {
    expect(
      who({
        type: 'AssumedRole',
        principalId: 'AROAIDPPEZS35WEXAMPLE:deploy-bot',
        arn: `arn:aws:sts::${ACCT}:assumed-role/deploy-role/deploy-bot`,
        accountId: ACCT,
        accessKeyId: 'ASIAIOSFODNN7EXAMPLE',
        sessionContext: {
          sessionIssuer: { type: 'Role', principalId: 'AROAIDPPEZS35WEXAMPLE', arn: `arn:aws:iam::${ACCT}:role/deploy-role`, accountId: ACCT, userName: 'deploy-role' },
          webIdFederationData: {},
          attributes: { creationDate: '2026-11-20T09:00:00Z', mfaAuthenticated: 'false' },
        },
      }),
    ).toBe('deploy-bot');
  });

  it('an IAM Identity Center user: the sign-in that is the session name (regional role path too)', () => {
    const role = 'AWSReservedSSO_AdministratorAccess_1b74cd717d471234';
    expect(
      who({
        type: 'AssumedRole',
        principalId: 'AROAEXAMPLEROLEID1234:alice@corp.example',
        arn: `arn:aws:sts::${ACCT}:assumed-role/${role}/alice@corp.example`,
        accountId: ACCT,
        accessKeyId: 'ASIAEXAMPLEKEY123456',
        sessionContext: {
          sessionIssuer: {
            type: 'Role',
            principalId: 'AROAEXAMPLEROLEID1234',
            arn: `arn:aws:iam::${ACCT}:role/aws-reserved/sso.amazonaws.com/us-east-2/${role}`,
            accountId: ACCT,
            userName: role,
          },
          attributes: { creationDate: '2026-11-20T09:00:00Z', mfaAuthenticated: 'false' },
        },
      }),
    ).toBe('alice@corp.example');
  });

  it('a role session without an ARN: the session part of the principal ID', () => {
    expect(who({ type: 'AssumedRole', principalId: 'AROAIDPPEZS35WEXAMPLE:i-0abc123def4567890', accountId: ACCT })).toBe('i-0abc123def4567890');
  });

  it('an IAM user: the user name', () => {
    expect(
      who({
        type: 'IAMUser',
        principalId: 'AIDAJ45Q7YFFAREXAMPLE',
        arn: `arn:aws:iam::${ACCT}:user/ops/Alice`,
        accountId: ACCT,
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        userName: 'Alice',
      }),
    ).toBe('Alice');
    // Without userName (some services leave it out): the last segment of the ARN.
    expect(who({ type: 'IAMUser', principalId: 'AIDAJ45Q7YFFAREXAMPLE', arn: `arn:aws:iam::${ACCT}:user/ops/Bob`, accountId: ACCT })).toBe('Bob');
  });

  it('the root user: root', () => {
    expect(who({ type: 'Root', principalId: ACCT, arn: `arn:aws:iam::${ACCT}:root`, accountId: ACCT, accessKeyId: 'ASIAEXAMPLE' })).toBe('root');
  });

  it('an AWS service: the service', () => {
    expect(who({ type: 'AWSService', invokedBy: 'ses.amazonaws.com' })).toBe('ses.amazonaws.com');
  });

  it('a federated user (GetFederationToken): the name it was given', () => {
    expect(
      who({
        type: 'FederatedUser',
        principalId: `${ACCT}:partner-portal`,
        arn: `arn:aws:sts::${ACCT}:federated-user/partner-portal`,
        accountId: ACCT,
        accessKeyId: 'ASIAEXAMPLEFEDERATED',
        sessionContext: {
          sessionIssuer: { type: 'IAMUser', principalId: 'AIDAEXAMPLEISSUER', arn: `arn:aws:iam::${ACCT}:user/broker`, accountId: ACCT, userName: 'broker' },
          attributes: { creationDate: '2026-11-20T09:00:00Z', mfaAuthenticated: 'false' },
        },
      }),
    ).toBe('partner-portal');
  });

  it('another account (AWSAccount): the session of its principal ID, else the principal ID', () => {
    expect(who({ type: 'AWSAccount', principalId: 'AROAEXAMPLEOTHER:their-session', accountId: '444455556666' })).toBe('their-session');
    expect(who({ type: 'AWSAccount', principalId: 'AIDAJ45Q7YFFAREXAMPLE', accountId: '444455556666' })).toBe('AIDAJ45Q7YFFAREXAMPLE');
  });

  it('no userIdentity (some data events): unknown', () => {
    expect(who(undefined)).toBe('unknown');
    expect(who({ type: 'IdentityCenterUser', userName: 'carol', principalId: 'x' })).toBe('carol');
  });
});

const SAMPLES = SAMPLES_DIR;
const haveSamples = existsSync(SAMPLES);
if (!haveSamples) console.warn(`note: ${SAMPLES} is absent: the real-record checks of actor.test.ts are skipped`);

describe('whoOf on real records (../shared/samples)', () => {
  const records = (file: string): Array<{ record?: Record<string, unknown> } & Record<string, unknown>> =>
    JSON.parse(readFileSync(join(SAMPLES, file), 'utf8'));
  const whoOfEvent = (file: string, eventName: string) => {
    const entry = records(file).map((x) => x.record ?? x).find((r) => r.eventName === eventName);
    return who(entry?.userIdentity);
  };

  it.skipIf(!haveSamples)('names the session, the user, root', () => {
    expect(whoOfEvent('public-ses-records.json', 'GetAccountSendingEnabled')).toBe('bobson.dugnutt');
    // This published record names user/mkmiller in its ARN and userName jbrown: the logged userName wins.
    expect(whoOfEvent('public-ses-records.json', 'GetIdentityMailFromDomainAttributes')).toBe('jbrown');
    expect(whoOfEvent('public-ses-records.json', 'SetIdentityDkimEnabled')).toBe('root');
    expect(whoOfEvent('real-ses-records.json', 'PutAccountDetails')).toBe('TrailDiscover');
  });
});

describe('actorQueryOf', () => {
  it('a session ARN: the role (Identity Center paths first for its roles) and the session to narrow to', () => {
    const q = actorQueryOf(`arn:aws:sts::${ACCT}:assumed-role/AWSReservedSSO_Admin_0123/alice@corp.example`);
    expect(q.principalArn).toBe(`arn:aws:sts::${ACCT}:assumed-role/AWSReservedSSO_Admin_0123/alice@corp.example`);
    expect(q.actors[0]).toBe(`arn:aws:iam::${ACCT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123`);
    expect(q.actors).toContain(`arn:aws:iam::${ACCT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123`);
    expect(q.actors.at(-1)).toBe(`arn:aws:iam::${ACCT}:role/AWSReservedSSO_Admin_0123`);
  });

  it('an ordinary role session: the role without a path', () => {
    expect(actorQueryOf(`arn:aws:sts::${ACCT}:assumed-role/deploy-role/ci`)).toEqual({
      actors: [`arn:aws:iam::${ACCT}:role/deploy-role`],
      principalArn: `arn:aws:sts::${ACCT}:assumed-role/deploy-role/ci`,
    });
    expect(actorQueryOf(`arn:aws-us-gov:sts::${ACCT}:assumed-role/r/s`).actors).toEqual([`arn:aws-us-gov:iam::${ACCT}:role/r`]);
  });

  it('a role ARN with a path, a user, root, a service: as they are', () => {
    for (const arn of [
      `arn:aws:iam::${ACCT}:role/team/mail/deployer`,
      `arn:aws:iam::${ACCT}:user/ops/alice`,
      `arn:aws:iam::${ACCT}:root`,
      `arn:aws:sts::${ACCT}:federated-user/partner`,
      'ses.amazonaws.com',
    ]) {
      expect(actorQueryOf(arn)).toEqual({ actors: [arn] });
    }
  });

  it('a role ARN without a path: the same candidates as its session ARN, without a session to narrow to', () => {
    expect(actorQueryOf(`arn:aws:iam::${ACCT}:role/deploy-role`)).toStrictEqual({ actors: [`arn:aws:iam::${ACCT}:role/deploy-role`] });
    const sso = actorQueryOf(`arn:aws-cn:iam::${ACCT}:role/AWSReservedSSO_Admin_0123`);
    expect(sso).toStrictEqual({
      actors: [
        `arn:aws-cn:iam::${ACCT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123`,
        `arn:aws-cn:iam::${ACCT}:role/aws-reserved/sso.amazonaws.com/cn-north-1/AWSReservedSSO_Admin_0123`,
        `arn:aws-cn:iam::${ACCT}:role/aws-reserved/sso.amazonaws.com/cn-northwest-1/AWSReservedSSO_Admin_0123`,
        `arn:aws-cn:iam::${ACCT}:role/AWSReservedSSO_Admin_0123`,
      ],
    });
  });

  it('only whole ARNs of 12-digit accounts are read as role or session ARNs', () => {
    for (const arn of [
      `xarn:aws:iam::${ACCT}:role/deploy-role`,
      `arn:aws:iam::${ACCT}:role/deploy-role/`,
      `arn:aws:iam::1111:role/deploy-role`,
      `arn:aws:iam::${ACCT}:role/`,
      `xarn:aws:sts::${ACCT}:assumed-role/r/s`,
      `arn:aws:sts::${ACCT}:assumed-role/r`,
    ]) {
      expect(actorQueryOf(arn)).toStrictEqual({ actors: [arn] });
    }
  });
});
