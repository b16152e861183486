// Reading SDK errors of the SSO services without loading the SDK.

/**
 * The error name of an SDK failure (`AuthorizationPendingException`,
 * `UnauthorizedException`), or undefined for a non-service error.
 */
export function ssoErrorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { name?: unknown; Code?: unknown; error?: unknown };
  if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
  if (typeof e.Code === 'string') return e.Code;
  if (typeof e.error === 'string') return e.error;
  return undefined;
}

/** HTTP status of an SDK failure, when there was a response. */
export function ssoErrorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}
