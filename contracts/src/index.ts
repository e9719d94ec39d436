export * from './identifiers';
export * from './common';
export * from './health';
export * from './education';
export * from './social-care';
export * from './outcomes';
export * from './catalogue';
export * from './validate';
