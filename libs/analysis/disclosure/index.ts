export { controlResult } from './control';
export type { ControlledResult } from './control';
export { checkDifferencing, differsByFewerThanThreshold } from './differencing';
export { DisclosureRefusedError } from './refusal';
export type { DisclosureRefusalRule } from './refusal';
export { requiredValues } from './protection';
