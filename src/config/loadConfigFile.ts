// `loadConfigFile` lives beside the `ConfigFile` it returns; this module is
// the name callers import it by (one exported function per file, by name).
export { ConfigFile, configFilePath, loadConfigFile, quoteName } from './configFile.ts';
export type { SectionValues } from './configFile.ts';
