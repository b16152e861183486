import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src/config/duration.ts';
import { ConfigError } from '../../../src/config/errors.ts';

describe('parseDuration', () => {
  it.each([
    ['12h', 43200],
    ['43200s', 43200],
    ['90m', 5400],
    ['1h30m', 5400],
    ['1h30m15s', 5415],
    ['1.5h', 5400],
    ['.5m', 30],
    ['1500ms', 1],
    ['2000000us', 2],
    ['3000000\u00b5s', 3], // micro sign, as Go accepts
    ['4000000\u03bcs', 4], // Greek mu
    ['0', 0],
    ['+2m', 120],
    [' 15m ', 900],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDuration(text, 'X')).toBe(seconds);
  });

  it.each(['soon', '3600', '', 'h', '1d', '-1h', '1h-30m', '1 h', '1hour'])(
    'refuses %j with a clear error',
    (text) => {
      expect(() => parseDuration(text, 'AWS_MIN_TTL')).toThrow(ConfigError);
      expect(() => parseDuration(text, 'AWS_MIN_TTL')).toThrow(
        `AWS_MIN_TTL: ${JSON.stringify(text)} is not a duration (use e.g. 1h, 90m or 3600s)`,
      );
    },
  );

  it('accepts bare seconds only when asked', () => {
    expect(parseDuration('3600', 'duration_seconds', { bareSeconds: true })).toBe(3600);
    expect(parseDuration('2h', 'duration_seconds', { bareSeconds: true })).toBe(7200);
    expect(() => parseDuration('soon', 'duration_seconds', { bareSeconds: true })).toThrow(
      'duration_seconds: "soon" is not a duration (use e.g. 3600 or 1h)',
    );
  });

  it('puts the location in front of the message', () => {
    expect(() =>
      parseDuration('soon', 'duration_seconds', {
        bareSeconds: true,
        location: { file: '/h/.aws/config', line: 12, profile: 'prod' },
      }),
    ).toThrow(
      '/h/.aws/config:12: profile prod: duration_seconds: "soon" is not a duration (use e.g. 3600 or 1h)',
    );
  });
});

describe('formatDuration', () => {
  it('prints like Go', () => {
    expect(formatDuration(3600)).toBe('1h0m0s');
    expect(formatDuration(57 * 60 + 3)).toBe('57m3s');
    expect(formatDuration(9)).toBe('9s');
    expect(formatDuration(-4)).toBe('0s');
  });
});
