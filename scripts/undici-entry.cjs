'use strict';
// What the CLI's bundle of undici holds: the three things tsbuild uses of it, Agent, request
// and setGlobalDispatcher (registry/http.ts, registry/client.ts, registry/external.ts,
// cache/gha/client.ts). undici's package entry also
// loads fetch, WebSocket, EventSource, cookies, the mock agents, caches and interceptors:
// about twice the code, ~20 ms more at the first registry request of every build. Using
// anything else of undici in the sources needs it added here (the e2e tests run this bundle).
const Agent = require('undici/lib/dispatcher/agent');
const Dispatcher = require('undici/lib/dispatcher/dispatcher');
const api = require('undici/lib/api');
const { getGlobalDispatcher, setGlobalDispatcher } = require('undici/lib/global');
const { InvalidArgumentError } = require('undici/lib/core/errors');

// As undici's entry does: the API methods (request, stream, …) on every dispatcher.
Object.assign(Dispatcher.prototype, api);

/** undici's top-level request(url, opts): the dispatcher's request with origin and path from the URL. */
function request(url, opts) {
  if (opts == null) opts = {};
  if (typeof opts !== 'object') throw new InvalidArgumentError('invalid opts');
  if (opts.agent) throw new InvalidArgumentError('unsupported opts.agent. Did you mean opts.client?');
  let target = new URL(url);
  if (opts.path != null) {
    if (typeof opts.path !== 'string') throw new InvalidArgumentError('invalid opts.path');
    target = new URL(target.origin + (opts.path.startsWith('/') ? opts.path : `/${opts.path}`));
  }
  const { dispatcher = getGlobalDispatcher() } = opts;
  return api.request.call(dispatcher, {
    ...opts,
    origin: target.origin,
    path: target.search ? `${target.pathname}${target.search}` : target.pathname,
    method: opts.method || (opts.body ? 'PUT' : 'GET'),
  });
}

module.exports = { Agent, request, setGlobalDispatcher };
