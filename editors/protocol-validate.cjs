// Validation against the protocol's JSON Schema (editors/protocol.schema.json) with ajv
// (draft 2020-12, strict mode: the schema loads in it), shared by the editors' suites:
// the Neovim mock bridge validates what it and the plugin send each other, and the
// VS Code protocol suite what the real bridge sends. ajv is a devDependency of the
// VS Code extension (editors/vscode/node_modules).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const SCHEMA = path.join(__dirname, 'protocol.schema.json');
const AJV = path.join(__dirname, 'vscode', 'node_modules', 'ajv', 'dist', '2020');

/**
 * Loads the schema in ajv's strict mode, every definition compiled (a schema strict mode
 * does not understand throws here), or, with eager false, each when first used (a
 * process that must start quickly: the Neovim mock bridge). Returns:
 *   schema, defs
 *   check(pointerParts, value) → null, or the errors as text
 *   eventDef(kind) → the name of the event definition of a kind (undefined if none)
 *   command(name), notification(method), request(method) → the definitions of the
 *     schema's groups ($defs/commands/$defs/<name>, …), or undefined
 */
function load({ ajvPath = process.env.CB_AJV || AJV, eager = true } = {}) {
  const Ajv2020 = require(ajvPath).default;
  const schema = JSON.parse(fs.readFileSync(SCHEMA, 'utf8'));
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addSchema(schema);
  const ptr = (parts) => schema.$id + '#/' + parts.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
  const validators = new Map();
  const validator = (parts) => {
    const key = ptr(parts);
    if (!validators.has(key)) {
      const v = ajv.getSchema(key);
      if (!v) throw new Error('protocol schema: no definition at ' + key);
      validators.set(key, v);
    }
    return validators.get(key);
  };
  const defs = schema.$defs;
  if (eager) {
    for (const name of Object.keys(defs)) validator(['$defs', name]);
    for (const group of ['commands', 'notifications', 'requests']) {
      for (const name of Object.keys(defs[group].$defs)) validator(['$defs', group, '$defs', name]);
    }
  }
  const events = new Map();
  for (const alt of defs.BridgeEvent.oneOf) {
    const name = alt.$ref.replace('#/$defs/', '');
    events.set(defs[name].properties.kind.const, name);
  }
  return {
    schema,
    defs,
    check(parts, value) {
      const v = validator(parts);
      return v(value) ? null : ajv.errorsText(v.errors);
    },
    eventDef: (kind) => events.get(kind),
    command: (name) => defs.commands.$defs[name],
    notification: (method) => defs.notifications.$defs[method],
    request: (method) => defs.requests.$defs[method],
  };
}

module.exports = { load, SCHEMA };
