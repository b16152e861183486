/**
 * The default `role_session_name`: `aws-vault-USER-UNIXTIME`, so CloudTrail
 * readers can tell who assumed the role and when (the Go aws-vault uses a
 * bare timestamp). Only the characters AWS allows, at most 64.
 */
export function defaultRoleSessionName(env: NodeJS.ProcessEnv, now = Date.now()): string {
  let user = env.USER ?? env.USERNAME ?? env.LOGNAME;
  if (user === undefined || user === '') {
    try {
      user = process.getBuiltinModule('node:os').userInfo().username; // loaded only here
    } catch {
      user = 'user';
    }
  }
  const time = String(Math.floor(now / 1000));
  const safeUser = user
    .replace(/[^\w+=,.@-]/g, '_')
    .slice(0, 64 - 'aws-vault--'.length - time.length);
  return `aws-vault-${safeUser}-${time}`;
}
