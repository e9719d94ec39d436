export * from './errors';
export * from './config';
export * from './postgres';
export * from './kafka';
export * from './http';
export * from './paths';
