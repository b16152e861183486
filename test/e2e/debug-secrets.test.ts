import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnvLines, startExecWorld, type ExecWorld } from './_exec.ts';

/** Every process's argv right now, as one string per process. */
function allCmdlines(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      out.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

describe('secrets stay out of --debug output and argv', () => {
  let w: ExecWorld;

  beforeAll(async () => {
    w = await startExecWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  for (const server of [false, true]) {
    it(`exec ${server ? '--ecs-server ' : ''}with MFA and a role`, async () => {
      const profile = server ? 'srv' : 'plain';
      const user = await w.addUser(profile, { mfa: true });
      const role = w.fake.createRole(`role-${profile}`);
      const codeFile = join(w.home.home, `code-${profile}`);
      const code = w.fake.mfaCode(user.userName);
      writeFileSync(codeFile, `${code}\n`);
      const envFile = join(w.home.home, `env-${profile}`);
      w.home.writeConfig(`[profile ${profile}]
mfa_serial = ${user.mfaSerial}
mfa_process = cat ${codeFile}

[profile ${profile}-role]
source_profile = ${profile}
role_arn = ${role.arn}
mfa_serial = ${user.mfaSerial}
mfa_process = cat ${codeFile}
`);
      // The child fetches from the server when there is one, so its keys are known too.
      const childScript = server
        ? `/usr/bin/env node -e "fetch(process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI,{headers:{authorization:process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN}}).then(r=>r.json()).then(j=>require('fs').writeFileSync('${envFile}','AWS_SECRET_ACCESS_KEY='+j.SecretAccessKey+'\\nAWS_SESSION_TOKEN='+j.Token+'\\n'))"; sleep 1`
        : `env > ${envFile}; sleep 1`;
      const seen = new Set<string>();
      let running = true;
      const sampler = (async () => {
        while (running) {
          for (const line of allCmdlines()) seen.add(line);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const args = [
        '--debug',
        'exec',
        ...(server ? ['--ecs-server'] : []),
        `${profile}-role`,
        '--',
        'sh',
        '-c',
        childScript,
      ];
      const result = await w.run(args, { timeout: 30_000 });
      running = false;
      await sampler;
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toContain('[debug]');
      // How each profile of the chain resolved (README: config troubleshooting).
      expect(result.stderr).toContain(
        `profile ${profile}-role: read from [profile ${profile}-role]`,
      );
      expect(result.stderr).toContain(`profile ${profile}: read from [profile ${profile}]`);
      const childEnv = parseEnvLines(readFileSync(envFile, 'utf8'));
      const secrets = [
        user.secretAccessKey,
        childEnv.AWS_SECRET_ACCESS_KEY as string,
        childEnv.AWS_SESSION_TOKEN as string,
        code,
        'test passphrase',
      ];
      for (const secret of secrets) {
        expect(secret.length).toBeGreaterThan(5);
        expect(result.stderr).not.toContain(secret);
        expect(result.stdout).not.toContain(secret);
        // Word boundaries: a 6-digit code can occur inside a pid or timestamp by chance.
        const pattern = new RegExp(`(^|[^0-9A-Za-z+/])${escapeRegExp(secret)}($|[^0-9A-Za-z+/=])`);
        for (const cmdline of seen) expect(pattern.test(cmdline), cmdline).toBe(false);
      }
      expect(seen.size).toBeGreaterThan(3);
    });
  }
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
