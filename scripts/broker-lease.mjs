// The broker as a script that may have started it holds it: ensure it, stop it at the end only if
// this script started it, and on Ctrl-C or SIGTERM end the running child first, then the broker.
import { ensureBroker } from '../infra/kafka.mjs';

/** @param {string} label the prefix of this script's messages, e.g. 'test' */
export function brokerLease(label) {
  /** Settles once the broker is ensured (or failed to start); a signal waits for it. */
  let ready = Promise.resolve(null);
  let stopped = null;
  let stopping = false;
  let child = null;

  /** Idempotent: the signal handler and the normal path share one stop. */
  function stopIfOurs() {
    stopped ??= ready.then(async (broker) => {
      if (!broker?.startedHere) return;
      try {
        await broker.stop();
      } catch (error) {
        process.stderr.write(`[${label}] could not stop the broker: ${error.message}\n`);
      }
    });
    return stopped;
  }

  function onSignal(signal) {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n[${label}] ${signal}: stopping\n`);
    child?.kill(signal);
    // The broker runs in its own process group, so the terminal's Ctrl-C did not reach it.
    void stopIfOurs().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  }

  return {
    /** true once a signal arrived: the caller should start nothing more. */
    get stopping() {
      return stopping;
    },
    /** The child process a signal should reach (null when none runs). */
    set child(process_) {
      child = process_;
    },
    handleSignals() {
      process.on('SIGINT', () => onSignal('SIGINT'));
      process.on('SIGTERM', () => onSignal('SIGTERM'));
    },
    /** Ensures the broker (reusing one already reachable at KAFKA_BROKERS); rejects when none can run. */
    ensure(options) {
      const ensuring = ensureBroker(options);
      ready = ensuring.catch(() => null);
      return ensuring;
    },
    stopIfOurs,
  };
}
