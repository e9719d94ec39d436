import { PassThrough } from 'node:stream';
import { projectionCommand, ProjectionUsageError } from './projection-command';

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
  ])('%j', async (argv) => {
    await expect(projectionCommand(argv, io)).rejects.toBeInstanceOf(ProjectionUsageError);
  });
});
