// The registry client's public surface: what the puller and the CLI import.
export { RegistryClient, clientImageSource, registrySource, type FetchedManifest, type RegistryOptions } from './client.js';
export { credentialsFor, dockerConfigCredentials, dockerConfigPath, normalizeRegistryKey, type Credentials, type CredentialsEnv, type FoundCredentials } from './credentials.js';
export { parseWwwAuthenticate, type Challenge } from './www-authenticate.js';
