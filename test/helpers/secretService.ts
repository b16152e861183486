/**
 * Whether the real Secret Service (started by scripts/test.mjs) is there.
 * Run through `npm test`, it always is; a test that needs it and finds it
 * missing fails, unless AWS_VAULT_TEST_NO_SECRET_SERVICE=1 says to skip.
 */
export function secretServiceAvailable(): boolean {
  if (process.env.AWS_VAULT_TEST_SECRET_SERVICE === '1') return true;
  if (process.env.AWS_VAULT_TEST_NO_SECRET_SERVICE === '1') return false;
  throw new Error(
    'no Secret Service for the tests: run them with `npm test -- <paths>` (scripts/test.mjs starts gnome-keyring), or set AWS_VAULT_TEST_NO_SECRET_SERVICE=1 to skip these tests',
  );
}

/** A key prefix no other test uses: the Secret Service is shared by the whole run. */
export function uniquePrefix(label: string): string {
  return `test-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
