import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { UnavailableError } from './errors';
import { WorkerFunction } from './worker-function';

/** Real worker threads, loading a TypeScript module through @swc-node/register (as the timeline's prepare does under jest). */
const MODULE = join(__dirname, 'fixtures', 'worker-functions.ts');
const threads: WorkerFunction<unknown, unknown>[] = [];

function thread<A, R>(exportName: string): WorkerFunction<A, R> {
  const made = new WorkerFunction<A, R>({ module: MODULE, exportName, name: `test ${exportName}` });
  threads.push(made as WorkerFunction<unknown, unknown>);
  return made;
}

afterEach(async () => {
  await Promise.all(threads.splice(0).map((made) => made.close()));
});

describe('WorkerFunction', () => {
  it('calls the function in a thread and answers with a structured clone (bigints and dates kept)', async () => {
    const echo = thread<object, object>('echo');
    const at = new Date('2024-06-01T10:00:00Z');
    await expect(echo.call({ position: 41n, at, text: 'ä\tb' })).resolves.toEqual({
      position: 42n,
      at,
      text: 'ä\tb',
      seenDate: true,
    });
  }, 30_000);

  it('answers calls in order, a promise-returning function included', async () => {
    const later = thread<number, number>('later');
    await expect(Promise.all([1, 2, 3].map((value) => later.call(value)))).resolves.toEqual([2, 4, 6]);
  }, 30_000);

  it('rejects a call whose function throws, with its message, and goes on answering', async () => {
    const refuse = thread<string, never>('refuse');
    await expect(refuse.call('first')).rejects.toThrow('test refuse: refused: first');
    await expect(refuse.call('second')).rejects.toThrow('refused: second');
  }, 30_000);

  it('rejects a call under way when the thread dies as unavailable, and starts another for the next call', async () => {
    const die = thread<number, never>('die');
    const error = await die.call(3).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toBe('test die thread exited (code 3)');
    await expect(die.call(4)).rejects.toThrow('exited (code 4)');
  }, 30_000);

  it('rejects calls under way when closed; the next call starts a new thread', async () => {
    const hang = thread<void, never>('hang');
    const rejected = expect(hang.call()).rejects.toThrow('test hang thread closed');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await hang.close();
    await rejected;
    const echo = thread<object, { text: string }>('echo');
    await echo.close(); // never started: nothing to end
    await expect(echo.call({ position: 1n, at: new Date(), text: 'again' })).resolves.toMatchObject({
      text: 'again',
    });
  }, 30_000);

  it('rejects an argument that cannot be cloned without ending the thread', async () => {
    const echo = thread<object, { text: string }>('echo');
    await expect(echo.call({ position: 1n, at: new Date(), text: 'x', f: () => 1 })).rejects.toThrow(
      /could not be cloned/,
    );
    await expect(echo.call({ position: 1n, at: new Date(), text: 'still here' })).resolves.toMatchObject({
      text: 'still here',
    });
  }, 30_000);

  it('starts its thread before the first call when asked, once', async () => {
    const which = thread<void, number>('whichThread');
    which.start();
    which.start();
    const first = await which.call();
    expect(first).not.toBe(threadId);
    await expect(which.call()).resolves.toBe(first);
    await which.close();
    which.start();
    await expect(which.call()).resolves.not.toBe(first);
  }, 30_000);

  it('fails the call when the module has no such function', async () => {
    const missing = thread<void, never>('notAFunction');
    await expect(missing.call()).rejects.toThrow(/exports no function notAFunction/);
  }, 30_000);
});
