/**
 * Undo steps registered as resources are made, run last-in first-out. Every step runs even
 * if an earlier one fails; the failures are returned so the run can exit non-zero.
 */
export class Teardown {
  private readonly steps: { readonly name: string; readonly run: () => Promise<unknown> }[] = [];
  private running: Promise<string[]> | undefined;

  add(name: string, run: () => Promise<unknown>): void {
    this.steps.push({ name, run });
  }

  /** Idempotent: a signal and the normal path share one teardown. */
  runAll(): Promise<string[]> {
    this.running ??= (async () => {
      const failures: string[] = [];
      for (const step of this.steps.reverse()) {
        try {
          await step.run();
        } catch (error) {
          failures.push(`${step.name}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      return failures;
    })();
    return this.running;
  }
}
