// Runs the local AWS-compatible endpoint in its own process, for `npm run
// demo`, `npm run bench` and tests that drive it over HTTP:
//
//   node test/fakes/cli.ts --user alice --mfa --role admin --role ops:mfa --sso 111122223333:Admin
//
// prints one JSON line {url, controlToken, accountId, user, roles} and runs
// until killed. The user's secret key and TOTP seed are in that line: it is a
// test fixture, so read it from a pipe, never log it.
import { parseArgs } from 'node:util';
import { startFakeAws } from './fakeAws.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    account: { type: 'string' },
    user: { type: 'string' },
    mfa: { type: 'boolean', default: false },
    role: { type: 'string', multiple: true, default: [] },
    sso: { type: 'string', multiple: true, default: [] },
    'allow-reused-mfa-codes': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`usage: node test/fakes/cli.ts [--port N] [--account ID] [--user NAME [--mfa]]
       [--role NAME[:mfa] ...] [--sso ACCOUNT_ID:ROLE_NAME ...] [--allow-reused-mfa-codes]
Prints {"url","controlToken","accountId","user","roles"} as one JSON line, then serves until killed.
Control routes (Authorization: Bearer <controlToken>): GET /__fake/calls, POST /__fake/advance
{"seconds"}, /__fake/approve {"userCode"}, /__fake/deny, /__fake/fail-next, /__fake/users,
/__fake/roles, /__fake/sso-assign, /__fake/reset, GET /__fake/mfa-code?user=NAME.`);
  process.exit(0);
}

const fake = await startFakeAws({
  port: values.port ? Number(values.port) : undefined,
  accountId: values.account,
});
fake.world.rejectReusedMfaCodes = !values['allow-reused-mfa-codes'];
const user = values.user ? fake.createUser(values.user, { mfa: values.mfa }) : undefined;
const roles = values.role.map((spec) => {
  const [name, flag] = spec.split(':');
  return fake.createRole(name!, { requireMfa: flag === 'mfa', maxSessionDuration: 43200 });
});
for (const spec of values.sso) {
  const [accountId, roleName] = spec.split(':');
  fake.ssoAssign(accountId!, roleName ?? 'Admin');
}

process.stdout.write(
  JSON.stringify({
    url: fake.url,
    controlToken: fake.controlToken,
    accountId: fake.accountId,
    user,
    roles,
  }) + '\n',
);

function stop(): void {
  void fake.close().then(() => process.exit(0));
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
