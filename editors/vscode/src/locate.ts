// Finding the claude-bridge executable: the setting, else PATH, else ~/go/bin.
// Pure apart from the injected file check, so it is unit-tested without VS Code.

import * as path from 'path';

export const INSTALL_COMMAND = 'go install github.com/claude-bridge/claude-bridge/cmd/claude-bridge@latest';

export interface LocateEnv {
  /** The `claudeBridge.path` setting ('' when unset). */
  setting: string;
  /** process.env.PATH */
  pathVar: string | undefined;
  /** The user's home directory. */
  home: string;
  /** GOBIN and GOPATH, where `go install` puts binaries when they are set. */
  gobin?: string;
  gopath?: string;
  platform: NodeJS.Platform;
  /** true when p is an existing executable file. */
  isExecutable: (p: string) => boolean;
}

export type LocateResult =
  | { found: true; path: string; source: 'setting' | 'PATH' | 'go bin' }
  | { found: false; looked: string[]; settingInvalid: boolean };

function expandHome(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/') || p.startsWith('~\\')) return path.join(home, p.slice(2));
  return p;
}

export function locateBridge(env: LocateEnv): LocateResult {
  const exe = env.platform === 'win32' ? 'claude-bridge.exe' : 'claude-bridge';
  const looked: string[] = [];
  const setting = env.setting.trim();
  if (setting !== '') {
    const p = expandHome(setting, env.home);
    if (env.isExecutable(p)) return { found: true, path: p, source: 'setting' };
    // A setting that points nowhere is a mistake worth reporting as such,
    // not something to paper over with a binary found elsewhere.
    return { found: false, looked: [`claudeBridge.path = ${setting}`], settingInvalid: true };
  }
  const sep = env.platform === 'win32' ? ';' : ':';
  for (const dir of (env.pathVar ?? '').split(sep)) {
    if (dir === '') continue;
    const p = path.join(dir, exe);
    if (env.isExecutable(p)) return { found: true, path: p, source: 'PATH' };
  }
  looked.push('PATH');
  const goDirs: string[] = [];
  if (env.gobin) goDirs.push(env.gobin);
  if (env.gopath) for (const g of env.gopath.split(sep)) if (g) goDirs.push(path.join(g, 'bin'));
  goDirs.push(path.join(env.home, 'go', 'bin'));
  for (const dir of [...new Set(goDirs)]) {
    const p = path.join(dir, exe);
    if (env.isExecutable(p)) return { found: true, path: p, source: 'go bin' };
    looked.push(dir);
  }
  return { found: false, looked, settingInvalid: false };
}

/** The notification text for a bridge that could not be found. */
export function notFoundMessage(r: { looked: string[]; settingInvalid: boolean }): string {
  if (r.settingInvalid) {
    return `Claude Bridge: ${r.looked[0]} is not an executable file. Fix the setting, or clear it to use claude-bridge from PATH or ~/go/bin. Install: ${INSTALL_COMMAND}`;
  }
  return `Claude Bridge: claude-bridge was not found (looked in ${r.looked.join(', ')}). Install it: \`${INSTALL_COMMAND}\`, or \`make build\` in a clone and set claudeBridge.path.`;
}
