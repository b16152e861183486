import { describe, expect, it } from 'vitest';
import { rfc3339 } from '../../../src/credentials/rfc3339.ts';

describe('rfc3339', () => {
  it('is toISOString() to the second, for any time of any day', () => {
    // Hand-built, so check it against the standard library across the edges:
    // single-digit fields, year and month ends, leap days, fractions dropped.
    const times = [
      Date.UTC(2024, 0, 2, 3, 4, 5),
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(2026, 11, 31, 0, 0, 0),
      Date.UTC(1999, 9, 10, 10, 10, 10, 500),
      0,
    ];
    for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 7_777_777) times.push(t);
    for (const t of times) {
      const date = new Date(t);
      expect(rfc3339(date)).toBe(date.toISOString().replace(/\.\d{3}Z$/, 'Z'));
    }
    expect(rfc3339(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))).toBe('2024-01-02T03:04:05Z');
  });
});
