/** The analysis context: the pseudonymised analysis model, measures, disclosure control and exports (issue 15). */
export * from './types';
