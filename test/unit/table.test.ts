import { describe, expect, it } from 'vitest';
import { formatHistory } from '../../src/cli/commands/history.js';
import { shellQuote, shortArn } from '../../src/cli/format.js';
import { displayWidth, fitWidth, printable, renderTable, tableWidth, type Column } from '../../src/cli/table.js';
import type { AuditRow } from '../../src/ses/row.js';

describe('displayWidth and fitWidth', () => {
  it('count CJK and emoji as two columns, combining marks as none', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('日本語')).toBe(6);
    expect(displayWidth('📧')).toBe(2);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('👩‍💻')).toBe(2);
  });

  it('cut at the end or in the middle, by columns, never inside a character', () => {
    expect(fitWidth('abcdef', 6)).toBe('abcdef');
    expect(fitWidth('abcdef', 4)).toBe('abc…');
    expect(fitWidth('日本語テキスト', 5)).toBe('日本…');
    expect(displayWidth(fitWidth('日本語テキスト', 5))).toBeLessThanOrEqual(5);
    expect(fitWidth('role/AWSReservedSSO_Admin_0123', 15, 'middle')).toBe('role/AW…in_0123');
    expect(fitWidth('👩‍💻👩‍💻👩‍💻', 4)).toBe('👩‍💻…');
    expect(fitWidth('abc', 1)).toBe('…');
    expect(fitWidth('abc', 0)).toBe('');
  });

  it('printable escapes controls and bidi overrides', () => {
    expect(printable('a\u001b[2Jb\u202ec\td')).toBe('a\\u001b[2Jb\\u202ec\\u0009d');
  });
});

describe('renderTable', () => {
  type Row = { a: string; b: string; c: string };
  const cols: Column<Row>[] = [
    { header: 'A', value: (r) => r.a },
    { header: 'B', value: (r) => r.b, soft: 6, min: 3 },
    { header: 'C', value: (r) => r.c, drop: 1 },
  ];
  const rows = [{ a: 'αβ', b: '日本語日本語', c: 'third' }, { a: 'x', b: 'y', c: 'z' }];

  it('aligns by display width and leaves no trailing spaces', () => {
    expect(renderTable(cols, rows)).toBe('A   B             C\nαβ  日本語日本語  third\nx   y             z\n');
  });

  it('drops a column before cutting the others, then cuts to soft widths, then to the minimum', () => {
    expect(renderTable(cols, rows, 17)).toBe('A   B\nαβ  日本語日本語\nx   y\n');
    // B cut to 6 columns; 日本… takes 5 (a third wide character would not fit).
    expect(renderTable(cols, rows, 10)).toBe('A   B\nαβ  日本…\nx   y\n');
    // Too narrow even at the minimum: the minimum is kept (the terminal wraps).
    expect(renderTable(cols, rows, 6)).toBe('A   B\nαβ  日…\nx   y\n');
  });
});

describe('shortArn and shellQuote', () => {
  it('within its own account an ARN is its resource, without an IAM path', () => {
    expect(shortArn('arn:aws:iam::111122223333:role/admin-role', '111122223333')).toBe('role/admin-role');
    expect(shortArn('arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-west-2/AWSReservedSSO_A_1', '111122223333')).toBe('role/AWSReservedSSO_A_1');
    expect(shortArn('arn:aws:iam::444455556666:user/ops/bob', '111122223333')).toBe('444455556666:user/bob');
    expect(shortArn('arn:aws:sts::111122223333:assumed-role/r/s', '111122223333')).toBe('assumed-role/r/s');
    expect(shortArn('arn:aws:iam::111122223333:root', '111122223333')).toBe('root');
    expect(shortArn('ses.amazonaws.com', '111122223333')).toBe('ses.amazonaws.com');
  });

  it('shellQuote quotes what a shell would split or expand', () => {
    expect(shellQuote('example.com')).toBe('example.com');
    expect(shellQuote('my trail/')).toBe("'my trail/'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });
});

describe('tableWidth', () => {
  it('the terminal, else COLUMNS, else no limit', () => {
    expect(tableWidth(120, { COLUMNS: '80' })).toBe(120);
    expect(tableWidth(undefined, { COLUMNS: '80' })).toBe(80);
    expect(tableWidth(undefined, { COLUMNS: 'wide' })).toBeUndefined();
    expect(tableWidth(undefined, {})).toBeUndefined();
  });
});

describe('formatHistory', () => {
  const base = {
    eventKey: '2026-11-20T10:28:20Z#e1',
    identityKind: 'domain',
    identities: ['example.com'],
    eventTime: '2026-11-20T10:28:20Z',
    eventID: 'e1',
    eventSource: 'ses.amazonaws.com',
    sourceObject: 's3://b/k',
    ingestedAt: '2026-11-20T10:30:00Z',
    accountId: '111122223333',
    awsRegion: 'ap-southeast-2',
    sourceIPAddress: '203.0.113.10',
  } as const;
  const rows: AuditRow[] = [
    {
      ...base,
      identities: ['example.com'],
      identity: 'example.com',
      eventName: 'GetIdentityVerificationAttributes',
      actor: 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_1b74cd717d471234',
      actorType: 'AssumedRole',
      principalArn: 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_1b74cd717d471234/alice@corp.example',
    },
    {
      ...base,
      identities: ['example.com'],
      identity: 'example.com',
      eventName: 'DeleteIdentity',
      errorCode: 'AccessDenied',
      actor: 'arn:aws:iam::111122223333:user/山田',
      actorType: 'IAMUser',
      userName: '山田',
      userAgent: 'x',
    },
  ];

  it('at 80 columns keeps TIME, ACTION, RESULT and WHO, aligned by display width, the longest action cut', () => {
    const lines = formatHistory(rows, { withIdentity: false, width: 80 }).trimEnd().split('\n');
    expect(lines).toEqual([
      'TIME                  ACTION                    RESULT        WHO',
      '2026-11-20T10:28:20Z  GetIdentityVerification…  ok            alice@corp.example',
      '2026-11-20T10:28:20Z  DeleteIdentity            AccessDenied  山田',
    ]);
    for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(80);
    // With room, nothing is cut.
    expect(formatHistory(rows, { withIdentity: false, width: 100 }).split('\n')[1]).toContain('GetIdentityVerificationAttributes  ok');
  });

  it('wider terminals get ACCOUNT, REGION, then the shortened ACTOR and SOURCE IP', () => {
    const at110 = formatHistory(rows, { withIdentity: false, width: 110 }).split('\n')[0];
    // REGION is dropped (ACTOR and SOURCE IP before it) rather than cutting an action.
    expect(at110).toBe('TIME                  ACTION                             RESULT        WHO                 ACCOUNT');
    expect(displayWidth(at110)).toBeLessThanOrEqual(110);
    const at160 = formatHistory(rows, { withIdentity: false, width: 160 }).split('\n');
    expect(at160[0]).toMatch(/REGION\s+ACTOR\s+SOURCE IP$/);
    // The ACTOR shortened to role/NAME, cut in the middle to keep both ends.
    expect(at160[1]).toContain('  role/AWSRese…cd717d471234  203.0.113.10');
    const at200 = formatHistory(rows, { withIdentity: false, width: 200 }).split('\n');
    expect(at200[1]).toContain('  role/AWSReservedSSO_AdministratorAccess_1b74cd717d471234  203.0.113.10');
    expect(at160[2]).toContain('  user/山田');
  });

  it('without a width (a pipe) every column is there, in full', () => {
    const lines = formatHistory(rows, { withIdentity: true }).split('\n');
    expect(lines[0]).toMatch(/^TIME\s+IDENTITY\s+ACTION\s+RESULT\s+WHO\s+ACCOUNT\s+REGION\s+ACTOR\s+SOURCE IP$/);
    expect(lines[1]).toContain('arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_1b74cd717d471234');
  });

  it('escapes control characters from the logs', () => {
    const sneaky: AuditRow = { ...rows[1], errorCode: 'Denied\u001b[31m', userName: 'a\u202eb' };
    const text = formatHistory([sneaky], { withIdentity: false });
    expect(text).not.toMatch(/[\u001b\u202e]/);
    expect(text).toContain('Denied\\u001b[31m');
  });
});
