/** Building blocks shared by the API's schemas (JSON Schema draft 4 subset, as API Gateway accepts). */

export type JsonSchema = Record<string, unknown>;

export const uuid = {
  type: 'string',
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
};

export const timestamp = {
  type: 'string',
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$',
};

/** Printable text: no control characters. */
export const printable = (maxLength: number) => ({
  type: 'string',
  minLength: 1,
  maxLength,
  pattern: '^[^\\u0000-\\u001f\\u007f]+$',
});

export const MAX_PART_NUMBER = 10_000;
