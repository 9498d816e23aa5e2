/// <reference types="node" />
// Types of the `imds` package (the addon's own types are generated into ../index.d.ts).

import { Client, Settings } from '../index'
import type { Credentials as CoreCredentials, Diagnostic, Action, ResolvedBoolean, ResolvedNumber, ResolvedString } from '../index'

export { Client, Settings }
export type { CoreCredentials, Diagnostic, Action, ResolvedBoolean, ResolvedNumber, ResolvedString }

/** Where a setting's value came from, in increasing precedence. */
export type SettingSource = 'default' | 'profile' | 'env' | 'code'

/** Every `code` an imds error can carry: the core's `ErrorKind::as_str()`. */
export type ImdsErrorCode =
  | 'disabled'
  | 'invalid_setting'
  | 'config_file'
  | 'invalid_state'
  | 'invalid_argument'
  | 'connect_failed'
  | 'timeout'
  | 'io'
  | 'connection_closed'
  | 'malformed_response'
  | 'response_too_large'
  | 'http_status'
  | 'invalid_token'
  | 'v1_fallback_blocked'
  | 'no_role'
  | 'invalid_role_name'
  | 'role_unstable'
  | 'invalid_instance_profile'
  | 'credentials_rejected'
  | 'malformed_credentials'
  | 'unsupported'

/** What imds functions reject or throw with: `message` is the core's sentence (never a secret). */
export interface ImdsError extends Error {
  code: ImdsErrorCode
}

/**
 * What a `fromInstanceMetadata` provider rejects with: an `ImdsError` that also keeps the AWS
 * SDK's `CredentialsProviderError` contract, so that credential chains (`chain()` of
 * `@smithy/property-provider`, the SDK's default chain) go on to their next provider when IMDS
 * cannot give credentials (unreachable, disabled, no role, an error answer, bad data) and stop
 * for an invalid setting or config file.
 */
export interface ImdsProviderError extends ImdsError {
  name: 'CredentialsProviderError'
  /** True: try the next provider of the chain; false: a configuration error, stop the chain. */
  tryNextLink: boolean
}

/** Receives diagnostics: `debug` for each request and status, `info`, and `warn` (fallbacks, extended expirations). */
export interface Logger {
  debug?(message: string): void
  info?(message: string): void
  warn?(message: string): void
}

/**
 * Settings in camelCase, mirroring the core's settings (and the `AWS_*` variables); they win over
 * the environment, which wins over the config file. Text is parsed by the core exactly as the same
 * value in the environment would be.
 */
export interface SettingOptions {
  /** Disable IMDS (`AWS_EC2_METADATA_DISABLED`). */
  disabled?: boolean | string
  /** Refuse the IMDSv1 fallback (`AWS_EC2_METADATA_V1_DISABLED`). */
  v1Disabled?: boolean | string
  /** Same as `v1Disabled`, as the AWS SDKs spell it. */
  ec2MetadataV1Disabled?: boolean | string
  /** The IMDS endpoint URL, e.g. `http://127.0.0.1:1338` (`AWS_EC2_METADATA_SERVICE_ENDPOINT`). */
  endpoint?: string
  /** `IPv4` or `IPv6` (`AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE`). */
  endpointMode?: 'IPv4' | 'IPv6' | string
  /** Connect and read timeout in seconds, e.g. `1` or `0.5` (`AWS_METADATA_SERVICE_TIMEOUT`). */
  timeout?: number | string
  /** Attempts per request (`AWS_METADATA_SERVICE_NUM_ATTEMPTS`). */
  attempts?: number | string
  /** Skip role discovery and use this role (`AWS_EC2_INSTANCE_PROFILE_NAME`). */
  instanceProfileName?: string
  /** IMDSv2 token TTL in seconds (default 21600). */
  tokenTtl?: number | string
  /** `legacy` (default) or `extended` (with `accountId`). */
  credentialsApi?: 'legacy' | 'extended' | string
  /** Refresh credentials this many seconds before they expire (default 300). */
  refreshWindow?: number | string
}

export interface Options extends SettingOptions {
  /**
   * Where diagnostics go (`debug`: requests and statuses; `warn`: fallbacks, and once per
   * provider an error answer from IMDS); none by default.
   */
  logger?: Logger
  /** The environment to read instead of `process.env`. */
  env?: Record<string, string | undefined>
  /** The wall clock, in milliseconds since the epoch (default `Date.now`); for tests and simulations. */
  clock?: () => number
}

/** Credentials in the shape of the AWS SDK for JavaScript v3 (`AwsCredentialIdentity`). */
export interface Credentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
  expiration: Date
  accountId?: string
}

/** A credential provider, usable as `credentials` in any AWS SDK v3 client. */
export interface CredentialProvider {
  /** Fresh credentials; rejects with an `ImdsProviderError`. */
  (): Promise<Credentials>
  /**
   * Closes the connection this provider kept between fetches, if no other client took it (it
   * never holds the process open, and closes itself after a few idle seconds); the cached
   * credentials stay. The next fetch connects anew or takes an idle connection.
   */
  close(): void
}

/**
 * A provider of the instance role's credentials: memoized, refreshed `refreshWindow` seconds
 * before expiration, one fetch shared by concurrent callers. Rejects with an `ImdsProviderError`
 * (whose `tryNextLink` lets a credential chain go on when IMDS has no credentials to give); when
 * IMDS answered with an error, `logger.warn` hears of it once per provider.
 */
export declare function fromInstanceMetadata(options?: Options): CredentialProvider

/** Reads a metadata path (`placement/region`, `instance-id`, or an absolute `/latest/...`) as text. */
export declare function get(path: string, options?: Options): Promise<string>

/** Resolves settings for `options` (code), the environment and the config file. Throws an `ImdsError`. */
export declare function loadSettings(options?: Options): Settings

/**
 * Runs the operation started on `client` over `node:net` until the core says `done`; rejects
 * with the core's error. `onStep` is called whenever the loop yields (to drain diagnostics).
 * Unless the core asked to close it, the connection is kept for `client`'s next operation, and
 * while idle any client asked to connect to the same endpoint takes it instead of connecting (as
 * Node's keep-alive agent shares its sockets): unref'd while idle (it never keeps the process
 * alive), at most 16 idle in the process, and closed after 5 idle seconds.
 */
export declare function drive(client: Client, onStep?: () => void): Promise<void>

/**
 * Closes the connection `drive` keeps for `client` between operations: now when it is idle, else
 * when the running operation ends. (`client.reset()` and `client.cancel()` close it too.)
 */
export declare function closeConnection(client: Client): void

/** Every error `code` the core defines, in its frozen order. */
export declare function errorCodes(): ImdsErrorCode[]

/** The version of the core. */
export declare function version(): string

