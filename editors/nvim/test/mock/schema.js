// Validates what the mock bridge and the plugin send each other against the protocol's
// JSON Schema (editors/protocol.schema.json, with ajv in strict mode:
// editors/protocol-validate.cjs; test/run.sh installs ajv with the VS Code extension's
// devDependencies). A message that does not validate is a violation: appended to
// $MOCK_SCHEMA_ERRORS, which run.sh reports as the spec's failure. The mock thus speaks
// today's protocol, and the plugin's arguments, settings and answers are held to it.
'use strict';
const fs = require('fs');
const path = require('path');
// Definitions compiled when first used: the mock starts as fast as a bridge (a spec
// waits for a slow one); the VS Code protocol suite compiles them all.
const protocol = require(path.resolve(__dirname, '../../../protocol-validate.cjs')).load({ eager: false });

const errorsFile = process.env.MOCK_SCHEMA_ERRORS;
function violation(what, errors, value) {
  const text = `${what}: ${errors} in ${JSON.stringify(value).slice(0, 400)}`;
  if (errorsFile) fs.appendFileSync(errorsFile, text + '\n');
  process.stderr.write('schema violation: ' + text + '\n');
}
function check(what, parts, value) {
  const errors = protocol.check(parts, value);
  if (errors !== null) violation(what, errors, value);
}

const commandOf = new Map(); // id of an executeCommand the plugin sent -> command
const requestOf = new Map(); // id of a request the mock sent -> method

// received checks a message from the plugin.
function received(msg) {
  const p = msg.params;
  switch (msg.method) {
    case 'initialize':
      if (p && p.initializationOptions !== undefined && p.initializationOptions !== null) {
        check('initializationOptions', ['$defs', 'Configuration'], p.initializationOptions);
      }
      return;
    case 'workspace/didChangeConfiguration':
      if (p && p.settings && p.settings.claudeBridge !== undefined && p.settings.claudeBridge !== null) {
        check('settings.claudeBridge', ['$defs', 'Configuration'], p.settings.claudeBridge);
      }
      return;
    case 'workspace/executeCommand': {
      const def = p && protocol.command(p.command);
      if (!def) return violation('workspace/executeCommand', 'the command is not one of the schema', p);
      commandOf.set(JSON.stringify(msg.id), p.command);
      // The command as the schema describes it: {arguments, result}; the result is
      // checked when the mock replies.
      const value = p.arguments === undefined ? {} : { arguments: p.arguments };
      const parts = ['$defs', 'commands', '$defs', p.command, 'properties', 'arguments'];
      if (p.arguments !== undefined) check(p.command + ' arguments', parts, p.arguments);
      else if ((def.required || []).includes('arguments')) check(p.command, ['$defs', 'commands', '$defs', p.command], value);
      return;
    }
  }
  if (msg.method === undefined && msg.id !== undefined && msg.error === undefined) {
    const method = requestOf.get(JSON.stringify(msg.id));
    if (method && protocol.request(method)) {
      check(method + ' reply', ['$defs', 'requests', '$defs', method, 'properties', 'result'], msg.result);
    }
  }
}

// sent checks a message of the mock's.
function sent(msg) {
  if (msg.method === 'claude/event' && msg.params && protocol.eventDef(msg.params.kind)) {
    check('claude/event ' + msg.params.kind, ['$defs', protocol.eventDef(msg.params.kind)], msg.params);
  } else if (msg.method !== undefined && msg.id === undefined && protocol.notification(msg.method)) {
    check(msg.method, ['$defs', 'notifications', '$defs', msg.method, 'properties', 'params'], msg.params);
  } else if (msg.method !== undefined && msg.id !== undefined) {
    requestOf.set(JSON.stringify(msg.id), msg.method);
    if (protocol.request(msg.method)) {
      check(msg.method, ['$defs', 'requests', '$defs', msg.method, 'properties', 'params'], msg.params);
    }
  } else if (msg.method === undefined && msg.result !== undefined) {
    const cmd = commandOf.get(JSON.stringify(msg.id));
    if (cmd) check(cmd + ' reply', ['$defs', 'commands', '$defs', cmd, 'properties', 'result'], msg.result);
  }
}

module.exports = { received, sent };
