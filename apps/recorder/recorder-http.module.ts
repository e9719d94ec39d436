import { Module, type OnApplicationShutdown, type Type } from '@nestjs/common';
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
    ],
  })
  class RecorderHttpModule implements OnApplicationShutdown {
    async onApplicationShutdown(): Promise<void> {
      await onShutdown();
    }
  }
  return RecorderHttpModule;
}
