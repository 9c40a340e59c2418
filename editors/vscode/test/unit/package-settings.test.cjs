// The extension's declared settings: a repository's .vscode/settings.json
// must not choose a program that runs, a command that runs with the user's
// key, or where the key comes from (issue 9). VS Code reads a `machine`
// setting from the user's (or the remote machine's) settings only.

'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const { test } = require('node:test');

const pkg = require(path.join(__dirname, '..', '..', 'package.json'));
const settings = pkg.contributes.configuration.properties;

// Settings that name a program, a command or a key source.
const userOnly = [
  'claudeBridge.path', // the bridge that runs
  'claudeBridge.claudePath', // the claude that runs
  'claudeBridge.auth.mode', // inherit hands claude the environment's key
  'claudeBridge.auth.keyFile',
  'claudeBridge.auth.keyCommand',
];

test('settings that name a program, a command or a key source are machine settings', () => {
  for (const key of userOnly) {
    assert.ok(settings[key], `${key} is declared`);
    assert.equal(settings[key].scope, 'machine', `${key} scope`);
  }
  // Every other setting that is a path or a command would be one of these:
  // nothing else may mention one.
  for (const [key, s] of Object.entries(settings)) {
    if (userOnly.includes(key)) continue;
    assert.doesNotMatch(`${key} ${s.markdownDescription || ''}`, /\b(path|command|executable|key ?file)\b/i, `${key} looks like a program or a key source`);
  }
});

test('the extension declares that it needs a trusted workspace', () => {
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, false);
  assert.match(pkg.capabilities.untrustedWorkspaces.description, /\.claude\/settings\.json/);
});
