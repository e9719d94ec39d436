import { Module, type OnApplicationShutdown, type Type } from '@nestjs/common';
import { ReadinessChecks, UnavailableError } from '@throughline/platform';
import { DeadLetterRedriver, PostgresDeadLetters, Recorder } from '@throughline/recording';
import { RecorderController } from './recorder.controller';

/**
 * The recorder's HTTP face over a recorder and a dead-letter table built outside Nest.
 * `onShutdown` runs when the app closes (close() or a signal), so the consumer stops and
 * the pools close whichever way the process goes down.
 */
export function recorderHttpModule(
  recorder: Recorder,
  deadLetters: PostgresDeadLetters,
  redriver: DeadLetterRedriver,
  onShutdown: () => Promise<void>,
): Type<unknown> {
  @Module({
    controllers: [RecorderController],
    providers: [
      { provide: Recorder, useValue: recorder },
      { provide: PostgresDeadLetters, useValue: deadLetters },
      { provide: DeadLetterRedriver, useValue: redriver },
      {
        provide: ReadinessChecks,
        useValue: new ReadinessChecks([
          {
            // Running while consuming, or retrying a failing batch within RECORDER_MAX_RETRY_MS.
            name: 'consumer',
            probe: () => {
              const state = recorder.currentState();
              if (!recorder.isRunning()) return Promise.reject(new UnavailableError(`consumer ${state}`));
              return Promise.resolve({ state, groupId: recorder.groupId });
            },
          },
          {
            name: 'database',
            probe: async () => {
              if (!(await deadLetters.ping())) throw new UnavailableError('database unreachable');
              return {};
            },
          },
        ]),
      },
    ],
  })
  class RecorderHttpModule implements OnApplicationShutdown {
    async onApplicationShutdown(): Promise<void> {
      await onShutdown();
    }
  }
  return RecorderHttpModule;
}
