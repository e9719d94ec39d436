import { PassThrough } from 'node:stream';
import { formatBroadKeys, projectionCommand, ProjectionUsageError } from './projection-command';

const io = { env: {}, stdout: new PassThrough(), stderr: new PassThrough() };

describe('npm run projection -- … refuses what it cannot do before it connects', () => {
  it.each([
    [[]],
    [['rebuild']],
    [['rebuild', 'identity']],
    [['rebuild', 'constructor']],
    [['drop-old', 'timeline', 'analysis']],
    [['rebuild', 'timeline', '--grace-seconds', '-1']],
    [['rebuild', 'timeline', '--unknown']],
    [['status', 'timeline']],
    [['identity-keys', 'timeline']],
    [['identity-keys', '--limit', '0']],
    [['identity-keys', '--limit', 'many']],
  ])('%j', async (argv) => {
    await expect(projectionCommand(argv, io)).rejects.toBeInstanceOf(ProjectionUsageError);
  });
});

describe('npm run projection -- identity-keys', () => {
  it('lists the keys too broad to compare on, most held first, and says how many there are', () => {
    const report = formatBroadKeys(
      {
        total: 3,
        keys: [
          { kind: 'block:dob', key: 'block:dob:2015-01-01', holders: 812 },
          { kind: 'id:nhs', key: 'id:nhs:*******234', holders: 640 },
        ],
      },
      500,
    );
    expect(report).toBe(
      '3 identity keys held by more than 500 records: too broad to find match candidates by (decision 026); the 2 most held:\n' +
        '  block:dob:2015-01-01  812 records\n' +
        '  id:nhs:*******234     640 records\n',
    );
  });

  it('says so when there is none', () => {
    expect(formatBroadKeys({ total: 0, keys: [] }, 500)).toBe(
      'no identity key is held by more than 500 records\n',
    );
  });
});
