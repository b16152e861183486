import { describe, expect, it } from 'vitest';
import { shownCommand } from '../../../src/credentials/runShellCommand.ts';

describe('shownCommand', () => {
  it('shows the program only, so a token on the command line stays out of messages', () => {
    expect(shownCommand('get-creds --token s3cr3t-T0KEN')).toBe('get-creds …');
    expect(shownCommand('  aws-vault export --format=json p  ')).toBe('aws-vault …');
    expect(shownCommand('yes')).toBe('yes');
    expect(shownCommand('"/opt/My Tools/creds" --key=abc')).toBe('/opt/My Tools/creds …');
    expect(shownCommand("'/opt/x y/creds'")).toBe('/opt/x y/creds');
    expect(shownCommand('env TOKEN=abc creds')).toBe('env …');
  });
});
