/** Replaced by esbuild with the package version at build time. */
declare const __AWS_VAULT_VERSION__: string;
