import { logLevel } from 'kafkajs';
import { kafkaLogCreator } from './kafka';
import { createLogger } from './logging';

function kafkajsLine(level: logLevel, error: string) {
  return {
    namespace: 'Connection',
    level,
    label: 'ERROR',
    log: {
      message: 'Response GroupCoordinator(key: 10, version: 2)',
      timestamp: '2026-01-01T00:00:00Z',
      logger: 'kafkajs',
      error,
    },
  };
}

describe('kafkajs logs through pino', () => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger(
    { LOG_LEVEL: 'log', LOG_FORMAT: 'json' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const log = kafkaLogCreator(logger)(logLevel.ERROR);

  beforeEach(() => lines.splice(0));

  it.each([
    "The coordinator is loading and hence can't process requests for this group",
    'The group coordinator is not available',
    'This is not the correct coordinator for this group',
    'There is no leader for this topic-partition as we are in the middle of a leadership election',
  ])('logs a retriable protocol error at info, not error: %s', (error) => {
    log(kafkajsLine(logLevel.ERROR, error));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 30,
        context: 'kafkajs',
        namespace: 'Connection',
        retriable: true,
        error,
      }),
    ]);
  });

  it('keeps any other kafkajs error an error', () => {
    log(kafkajsLine(logLevel.ERROR, 'Topic authorization failed'));
    expect(lines).toEqual([expect.objectContaining({ level: 50, context: 'kafkajs' })]);
    expect(lines[0]).not.toHaveProperty('retriable');
  });
});
