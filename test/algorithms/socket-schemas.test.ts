import {
  compiledSchemaUsage,
  MAX_COMPILED_SCHEMA_CHARS,
  MAX_COMPILED_VERSIONS,
  schemaMismatch,
  schemaProblem,
  SocketSchemaError,
} from '../../lambda/algorithms/socket-schemas';

describe('socket schemas', () => {
  test('two versions may use the same $id for different schemas, each checked by its own', () => {
    const numbers = { $id: 'https://example.org/settings.json', type: 'number' };
    const words = { $id: 'https://example.org/settings.json', type: 'string' };
    for (let round = 0; round < 2; round++) {
      expect(schemaMismatch('a/1', numbers, 1)).toBeUndefined();
      expect(schemaMismatch('a/1', numbers, 'x')).toBe('value must be number');
      expect(schemaMismatch('b/1', words, 'x')).toBeUndefined();
      expect(schemaMismatch('b/1', words, 1)).toBe('value must be string');
    }
  });

  test('a schema that does not compile is named as such, at registration and when checking', () => {
    expect(schemaProblem({ type: 'no-such-type' })).toMatch(/^schema is invalid: data\/type must be/);
    expect(schemaProblem({ type: 'number' })).toBeUndefined();
    expect(() => schemaMismatch('c/1', { type: 'no-such-type' }, 1)).toThrow(SocketSchemaError);
  });

  test('the compiled versions kept stay within their count, however many are checked', () => {
    for (let i = 0; i < MAX_COMPILED_VERSIONS + 50; i++) {
      expect(schemaMismatch(`many/${i}`, { type: 'integer', minimum: i }, i)).toBeUndefined();
    }
    expect(compiledSchemaUsage().versions).toBe(MAX_COMPILED_VERSIONS);
  });

  test('the compiled versions kept stay within their schema text, however large the schemas', () => {
    const large = (i: number) => ({ type: 'string', description: `${i}`.padEnd(300 * 1024, 'd') });
    for (let i = 0; i < 12; i++) expect(schemaMismatch(`large/${i}`, large(i), 'x')).toBeUndefined();
    const usage = compiledSchemaUsage();
    expect(usage.schemaChars).toBeLessThanOrEqual(MAX_COMPILED_SCHEMA_CHARS);
    expect(usage.schemaChars).toBeGreaterThan(5 * 300 * 1024);
    // The one just used is kept and still checks values.
    expect(schemaMismatch('large/11', large(11), 1)).toBe('value must be string');
  });
});
