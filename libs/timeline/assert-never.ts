/** Compile-time exhaustiveness: a switch that reaches this has missed a case. */
export function assertNever(value: never): never {
  throw new Error(`unhandled case ${JSON.stringify(value)}`);
}
