// The claudeBridge.* settings turned into the bridge's configuration object
// (README "Configuration"): sent as initializationOptions and as
// settings.claudeBridge in workspace/didChangeConfiguration.

import { AuthConfiguration, AuthMode, Configuration, LogLevel, PermissionMode, ReviewMode } from './lspExt';

/** The configuration the extension sends: `auth` is always an object. */
export type BridgeOptions = Configuration & { auth: AuthConfiguration };

/** Reads one setting under `claudeBridge.` (e.g. 'model', 'auth.mode'). */
export type SettingGetter = (key: string) => unknown;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function strList(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => x.trim());
  return out.length > 0 ? out : undefined;
}

/**
 * A setting with a fixed set of values, passed on as it is: package.json
 * lists the values for the settings editor, and the bridge refuses another
 * one with a message that names it.
 */
function choice<T extends string>(v: unknown): T | undefined {
  return str(v) as T | undefined;
}

function int(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : undefined;
}

function bool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}

/**
 * Builds the configuration object. Empty settings are left out so the
 * bridge's own defaults apply; `auth` is always an object.
 */
export function bridgeOptions(get: SettingGetter): BridgeOptions {
  const o: BridgeOptions = {
    claudePath: str(get('claudePath')),
    model: str(get('model')),
    permissionMode: choice<PermissionMode>(get('permissionMode')),
    allowedTools: strList(get('allowedTools')),
    disallowedTools: strList(get('disallowedTools')),
    maxConcurrentTasks: int(get('maxConcurrentTasks')),
    followUpIdleSeconds: int(get('followUpIdleSeconds')),
    maxIdleProcesses: int(get('maxIdleProcesses')),
    prewarm: bool(get('prewarm')),
    review: choice<ReviewMode>(get('review')),
    logLevel: choice<LogLevel>(get('logLevel')),
    auth: {
      mode: choice<AuthMode>(get('auth.mode')),
      keyFile: str(get('auth.keyFile')),
      keyCommand: str(get('auth.keyCommand')),
    },
  };
  return prune(o as unknown as Record<string, unknown>) as unknown as BridgeOptions;
}

function prune(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) ? prune(v as Record<string, unknown>) : v;
  }
  return out;
}
