/**
 * Deploying the library: `TFUNCTION LOAD REPLACE CONFIG <json> <code>`, then asking the loaded library for its
 * version. The library validates the config itself, so a document it rejects fails the load with its message
 * ("Failed loading library: invalid write-behind config: writers[0].table: ..."), which becomes a
 * LibraryLoadError. A REPLACE keeps the capture streams, the meta hashes and the batcher's read positions.
 */
import { ErrorReply } from '@redis/client';
import { ConfigError, DeployError, LibraryLoadError } from '../shared/errors.js';
import { LibraryFunction } from '../shared/protocol.js';
import { redactUrl } from '../shared/redact-url.js';
import { clusterPrimaryUrls } from './cluster-primaries.js';
import { libraryCodeFor } from './library-code.js';
import { ownerPermissionProblems } from './owner-permissions.js';
import { withRedis, type RedisSession } from './redis-session.js';

export interface DeployLibraryOptions {
  redisUrl: string;
  /** The configuration document (usually validated by loadConfigFile); its `name` names the library. */
  config: { readonly name?: unknown } & Readonly<Record<string, unknown>>;
  /** Library code; defaults to the bundle built into this package. */
  code?: string;
}

export interface DeployedLibrary {
  name: string;
  /** The version the library reports; null when it has no `version` function (not one of ours). */
  version: string | null;
}

export interface DeployResult extends DeployedLibrary {
  version: string;
  /** Shards found with this version loaded: 1 on a single Redis, every primary on a cluster. */
  shards: number;
}

export async function deployLibrary(options: DeployLibraryOptions): Promise<DeployResult> {
  const name = options.config.name;
  if (typeof name !== 'string') throw new ConfigError('config.name must be a string: it names the library');
  const code = options.code === undefined ? libraryCodeFor(name) : libraryCodeFor(name, options.code);
  return withRedis(options.redisUrl, async (client) => {
    const refused = await ownerPermissionProblems(client, writersOf(options.config));
    if (refused.length > 0) {
      throw new DeployError(`library ${name} not loaded: its triggers would run as the deploying user, who may not do what a capture does: ${refused.join('; ')}`, {
        context: { library: name, redisUrl: redactUrl(options.redisUrl), suggestion: "deploy as a user with access to the mapped hashes, the library's keys (~wb:*) and the acknowledgement streams (~{<keysPrefix>:*), e.g. %RW~* for those patterns" },
      });
    }
    try {
      await client.sendCommand(['TFUNCTION', 'LOAD', 'REPLACE', 'CONFIG', JSON.stringify(options.config), code]);
    } catch (cause) {
      if (cause instanceof ErrorReply) {
        throw new LibraryLoadError(cause.message, { cause, context: { library: name, redisUrl: redactUrl(options.redisUrl) } });
      }
      throw new DeployError(`TFUNCTION LOAD of library ${name} failed`, { cause, context: { library: name, redisUrl: redactUrl(options.redisUrl) } });
    }
    const version = await libraryVersion(client, name);
    if (version === null) throw new DeployError(`library ${name} loaded, but TFCALL ${name}.${LibraryFunction.version} did not answer`, { context: { library: name } });
    const primaries = await clusterPrimaryUrls(client, options.redisUrl);
    if (primaries === null) return { name, version, shards: 1 };
    await checkEveryShard(primaries, name, version);
    return { name, version, shards: primaries.length };
  });
}

/** The writers of a config document, as far as the permission probe needs them (the library validates the rest). */
function writersOf(config: DeployLibraryOptions['config']): Array<{ name: string; keysPrefix: string }> {
  const writers = Array.isArray(config['writers']) ? (config['writers'] as unknown[]) : [];
  return writers.flatMap((w) => {
    const { name, keysPrefix } = (w ?? {}) as Record<string, unknown>;
    return typeof name === 'string' && typeof keysPrefix === 'string' ? [{ name, keysPrefix }] : [];
  });
}

/** A cluster: the load must have reached every primary (each answers `version` with this version). */
async function checkEveryShard(primaries: readonly string[], name: string, version: string): Promise<void> {
  const found = await Promise.all(primaries.map((url) => withRedis(url, (shard) => libraryVersion(shard, name))));
  const missing = primaries.filter((_, i) => found[i] !== version).map((url, i) => `${redactUrl(url)} (${found[i] ?? 'no library'})`);
  if (missing.length > 0) {
    throw new DeployError(
      `library ${name} ${version} loaded, but not on every shard of the cluster: ${missing.join(', ')}; on Redis Stack send REDISGEARS_2.REFRESHCLUSTER to every shard, then deploy again`,
      { context: { library: name } },
    );
  }
}

/** The library named `name` as deployed, or null when Redis holds no library of that name. */
export async function fetchDeployedLibrary(redisUrl: string, name: string): Promise<DeployedLibrary | null> {
  return withRedis(redisUrl, async (client) => {
    const listed = await client.sendCommand(['TFUNCTION', 'LIST', 'LIBRARY', name]);
    if (!Array.isArray(listed) || listed.length === 0) return null;
    return { name, version: await libraryVersion(client, name) };
  });
}

/** `TFCALL <name>.version 0`, or null when the library has no such function. */
async function libraryVersion(client: RedisSession, name: string): Promise<string | null> {
  try {
    const reply = await client.sendCommand(['TFCALL', `${name}.${LibraryFunction.version}`, '0']);
    return typeof reply === 'string' ? reply : String(reply);
  } catch (cause) {
    if (cause instanceof ErrorReply && /Unknown (function|library)/i.test(cause.message)) return null;
    throw new DeployError(`TFCALL ${name}.${LibraryFunction.version} failed`, { cause, context: { library: name } });
  }
}
