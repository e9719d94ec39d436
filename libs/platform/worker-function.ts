import { extname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { UnavailableError } from './errors';

export interface WorkerFunctionOptions {
  /**
   * Absolute path of the module that exports the function: a compiled `.js` (dist/, run with
   * `-r ./scripts/register-dist.js`, which the thread inherits) or a `.ts` source (jest), which
   * the thread loads through `@swc-node/register` (tsconfig.json's paths included).
   */
  readonly module: string;
  /** The export to call: a function of one argument, synchronous or returning a promise. */
  readonly exportName: string;
  /** Names the thread in errors and in `--inspect` (e.g. `timeline prepare`). */
  readonly name: string;
}

interface Pending {
  readonly resolve: (value: never) => void;
  readonly reject: (error: Error) => void;
}

type Reply = { id: number; result: unknown } | { id: number; error: { message: string; stack?: string } };

/**
 * The thread's own code: load the module (through the TypeScript loader when it is a source),
 * then answer each call in turn. Answers are structured clones (plain data, bigints and dates
 * included); a thrown error comes back as its message and stack.
 */
const BOOTSTRAP = `
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.loader) require(workerData.loader);
const fn = require(workerData.module)[workerData.exportName];
if (typeof fn !== 'function') throw new Error(workerData.module + ' exports no function ' + workerData.exportName);
parentPort.on('message', ({ id, argument }) => {
  Promise.resolve()
    .then(() => fn(argument))
    .then(
      (result) => parentPort.postMessage({ id, result }),
      (error) => parentPort.postMessage({ id, error: { message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined } }),
    );
});
`;

/**
 * One exported function of a module, called in a worker thread of its own: CPU work that needs
 * nothing but its argument (reading a batch of events as contracts, say) done beside the event
 * loop instead of on it. Calls are answered in order, one at a time. The thread starts at the
 * first call and again at the first call after it died or was closed; a call under way when it
 * dies is rejected with an UnavailableError (retried like any unavailable dependency). The thread
 * does not keep the process alive.
 */
export class WorkerFunction<A, R> {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(private readonly options: WorkerFunctionOptions) {}

  /**
   * Starts the thread now, if it is not running, so that the first call does not wait for the
   * module to load (hundreds of milliseconds for a module that imports much).
   */
  start(): void {
    this.worker ??= this.startWorker();
  }

  call(argument: A): Promise<R> {
    const worker = this.worker ?? this.startWorker();
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: never) => void, reject });
      try {
        worker.postMessage({ id, argument });
      } catch (error) {
        // Not cloneable (a function, a symbol): this call fails, the thread goes on.
        this.pending.delete(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Ends the thread; calls under way are rejected. The next call starts a new one. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.detach(worker, new UnavailableError(`${this.options.name} thread closed`));
    await worker.terminate();
  }

  private startWorker(): Worker {
    const { module, exportName, name } = this.options;
    const loader = extname(module) === '.ts' ? require.resolve('@swc-node/register') : undefined;
    const worker = new Worker(BOOTSTRAP, { eval: true, name, workerData: { module, exportName, loader } });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const call = this.pending.get(reply.id);
      if (!call) return;
      this.pending.delete(reply.id);
      if ('error' in reply) {
        const error = new Error(`${name}: ${reply.error.message}`);
        if (reply.error.stack) error.stack = `${error.message}\n(in the ${name} thread) ${reply.error.stack}`;
        call.reject(error);
      } else {
        call.resolve(reply.result as never);
      }
    });
    worker.on('error', (error) =>
      this.detach(worker, new UnavailableError(`${name} thread failed: ${error.message}`, error)),
    );
    worker.on('exit', (code) =>
      this.detach(worker, new UnavailableError(`${name} thread exited (code ${code})`)),
    );
    this.worker = worker;
    return worker;
  }

  /** The thread is gone (or going): its calls under way fail, and the next call starts another. */
  private detach(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const call of pending) call.reject(error);
  }
}
