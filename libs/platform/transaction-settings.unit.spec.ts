import { beginStatement } from './postgres';

describe('beginStatement', () => {
  it('is a plain BEGIN without settings', () => {
    expect(beginStatement()).toBe('BEGIN');
    expect(beginStatement({})).toBe('BEGIN');
  });

  it('sets each setting for the transaction only, in the same query', () => {
    expect(beginStatement({ jit: 'off', random_page_cost: '1.1' })).toBe(
      "BEGIN; SET LOCAL jit = 'off'; SET LOCAL random_page_cost = '1.1'",
    );
  });

  it('refuses a name or value that is not a plain word, naming it', () => {
    expect(() => beginStatement({ 'jit; DROP TABLE events': 'off' })).toThrow(
      'transaction setting name "jit; DROP TABLE events" must be a plain word',
    );
    expect(() => beginStatement({ jit: "off'; DROP TABLE events; --" })).toThrow(
      'transaction setting jit value',
    );
    expect(() => beginStatement({ work_mem: '' })).toThrow('must be a plain word');
  });
});
