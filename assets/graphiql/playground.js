// Switchboard playground bootstrap: mounts GraphiQL (UMD globals React,
// ReactDOM, GraphiQL) against this server. Kept out of index.html so the page
// works under a Content-Security-Policy without 'unsafe-inline' scripts.
(function () {
  'use strict';

  var origin = window.location.origin;
  var wsOrigin = origin.replace(/^http/, 'ws'); // http -> ws, https -> wss

  var defaultQuery = [
    '# Welcome to the Switchboard GraphQL playground.',
    '#',
    '# 1. Run `Login` below with your username and',
    '#    password (no account yet? use `register`).',
    '# 2. Put the `accessToken` from the response in',
    '#    the Headers tab below, as:',
    '#',
    '#    {"Authorization": "Bearer <accessToken>"}',
    '#',
    '# 3. Now run `Me`, or any query, mutation or',
    '#    subscription. Subscriptions (`callLogged`)',
    '#    go over WebSocket at /graphql/ws and send',
    '#    the same header when they connect.',
    '#',
    '# Tokens are short-lived: on UNAUTHENTICATED, run',
    '# `refresh(refreshToken: "...")` and paste the new',
    '# accessToken. The Docs panel (top-left icon)',
    '# documents every type and field.',
    '',
    'mutation Login {',
    '  login(username: "alice", password: "your-password") {',
    '    accessToken',
    '    refreshToken',
    '    expiresIn',
    '    user { id username }',
    '  }',
    '}',
    '',
    'query Me {',
    '  me { id username email isStaff }',
    '}',
    ''
  ].join('\n');

  var baseFetcher = GraphiQL.createFetcher({
    url: origin + '/graphql',
    subscriptionUrl: wsOrigin + '/graphql/ws'
  });

  // GraphiQL passes the parsed Headers tab as `opts.headers` to every
  // operation; for subscriptions it also becomes the graphql-transport-ws
  // connection_init payload. Lower-casing the names keeps HTTP unchanged
  // (header names are case-insensitive) and yields the documented payload
  // `{"authorization": "Bearer …"}` whatever case the user typed.
  function fetcher(params, opts) {
    if (opts && opts.headers && typeof opts.headers === 'object') {
      var headers = {};
      Object.keys(opts.headers).forEach(function (name) {
        headers[name.toLowerCase()] = opts.headers[name];
      });
      opts = Object.assign({}, opts, { headers: headers });
    }
    return baseFetcher(params, opts);
  }

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      isHeadersEditorEnabled: true,
      // Tokens stay out of localStorage unless the user opts in.
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: 'headers'
    })
  );
})();
