// The claudeBridge.* settings turned into the bridge's configuration object
// (README "Configuration"): sent as initializationOptions and as
// settings.claudeBridge in workspace/didChangeConfiguration.

export interface BridgeAuthOptions {
  mode?: string;
  keyFile?: string;
  keyCommand?: string;
}

export interface BridgeOptions {
  claudePath?: string;
  model?: string;
  permissionMode?: string;
  allowedTools?: string[];
  disallowedTools?: string[];
  maxConcurrentTasks?: number;
  followUpIdleSeconds?: number;
  maxIdleProcesses?: number;
  logLevel?: string;
  auth: BridgeAuthOptions;
}

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

function int(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : undefined;
}

/**
 * Builds the configuration object. Empty settings are left out so the
 * bridge's own defaults apply; `auth` is always an object.
 */
export function bridgeOptions(get: SettingGetter): BridgeOptions {
  const o: BridgeOptions = {
    claudePath: str(get('claudePath')),
    model: str(get('model')),
    permissionMode: str(get('permissionMode')),
    allowedTools: strList(get('allowedTools')),
    disallowedTools: strList(get('disallowedTools')),
    maxConcurrentTasks: int(get('maxConcurrentTasks')),
    followUpIdleSeconds: int(get('followUpIdleSeconds')),
    maxIdleProcesses: int(get('maxIdleProcesses')),
    logLevel: str(get('logLevel')),
    auth: {
      mode: str(get('auth.mode')),
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
