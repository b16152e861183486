// Types for the part of scripts/secretService.mjs that the tests import.

/** Writes a private session bus configuration in `dir` (no on-demand services); returns its path. */
export function writePrivateBusConfig(dir: string): string;
