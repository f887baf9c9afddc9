// Switchboard playground bootstrap: mounts GraphiQL (UMD globals React,
// ReactDOM, GraphiQL) against this server, and runs the sign-in bar above it.
// Kept out of index.html so the page works under a Content-Security-Policy
// without 'unsafe-inline' scripts.
(function () {
  'use strict';

  var origin = window.location.origin;
  var wsOrigin = origin.replace(/^http/, 'ws'); // http -> ws, https -> wss

  // ---- The session: tokens from the form, or from a login/register/refresh run in the editor.

  // sessionStorage, not localStorage: the tokens survive a reload but belong to this tab
  // and end with it, so a copied profile or a later user of the machine finds no live
  // refresh token. (Duplicating the tab copies them; whichever tab refreshes second then
  // presents a rotated token, which ends the session in both: sign in again.)
  var STORAGE_KEY = 'switchboard.playground.session';
  // Renew at 80% of the access token's life: early enough for a slow network or a
  // throttled background timer, late enough not to churn sessions.
  var RENEW_AT = 0.8;
  var RETRY_MS = 5000;

  var AUTH_FIELDS = 'accessToken refreshToken expiresIn user { username }';
  var LOGIN = 'mutation PlaygroundLogin($username: String!, $password: String!) {' +
    ' login(username: $username, password: $password) { ' + AUTH_FIELDS + ' } }';
  var REGISTER = 'mutation PlaygroundRegister($input: RegisterInput!) {' +
    ' register(input: $input) { ' + AUTH_FIELDS + ' } }';
  var REFRESH = 'mutation PlaygroundRefresh($refreshToken: String!) {' +
    ' refresh(refreshToken: $refreshToken) { ' + AUTH_FIELDS + ' } }';
  var LOGOUT = 'mutation PlaygroundLogout($refreshToken: String!) { logout(refreshToken: $refreshToken) }';
  var WHO_AM_I = 'query PlaygroundMe { me { username } }';

  // { accessToken, refreshToken, expiresIn (s), receivedAt (ms), username } or null.
  var session = load();
  var renewal = null; // the timer that renews the session
  var refreshing = null; // the one refresh in flight: two would present the same token twice

  function load() {
    try {
      var stored = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY));
      return stored && typeof stored.accessToken === 'string' ? stored : null;
    } catch (error) {
      return null;
    }
  }

  function save() {
    try {
      if (session) window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
      else window.sessionStorage.removeItem(STORAGE_KEY);
    } catch (error) {
      // Storage switched off: the session lives in this page only.
    }
  }

  // One GraphQL request of the playground's own, straight to /graphql (not through GraphiQL).
  function post(query, variables, accessToken) {
    var headers = { 'content-type': 'application/json' };
    if (accessToken) headers.authorization = 'Bearer ' + accessToken;
    return window
      .fetch(origin + '/graphql', {
        method: 'POST',
        headers: headers,
        body: JSON.stringify({ query: query, variables: variables })
      })
      .then(function (response) {
        return response.json().catch(function () {
          return { errors: [{ message: 'the server answered HTTP ' + response.status }] };
        });
      });
  }

  function firstError(result) {
    var error = result && result.errors && result.errors[0];
    return {
      message: (error && error.message) || 'something went wrong',
      code: error && error.extensions && error.extensions.code
    };
  }

  // How long an access token lives: `expiresIn` when the payload has it, else the
  // token's own exp - iat (relative, so the two clocks need not agree).
  function lifetimeOf(payload) {
    if (typeof payload.expiresIn === 'number' && payload.expiresIn > 0) return payload.expiresIn;
    try {
      var part = payload.accessToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      var claims = JSON.parse(window.atob(part));
      if (claims.exp > claims.iat) return claims.exp - claims.iat;
    } catch (error) {
      // Not a JWT we can read: assume a short life.
    }
    return 60;
  }

  function renewsAt(current) {
    return current.receivedAt + current.expiresIn * 1000 * RENEW_AT;
  }

  // Takes the tokens of an AuthPayload as the session.
  function adopt(payload, username) {
    session = {
      accessToken: payload.accessToken,
      refreshToken: typeof payload.refreshToken === 'string' ? payload.refreshToken : null,
      expiresIn: lifetimeOf(payload),
      receivedAt: Date.now(),
      username: (payload.user && payload.user.username) || username || null
    };
    save();
    schedule();
    render();
    if (!session.username) lookUpUsername(session);
  }

  // A login run in the editor may not have selected `user { username }`.
  function lookUpUsername(current) {
    post(WHO_AM_I, null, current.accessToken).then(function (result) {
      if (session === current && result.data && result.data.me) {
        session.username = result.data.me.username;
        save();
        render();
      }
    }, function () {});
  }

  function schedule() {
    window.clearTimeout(renewal);
    renewal = null;
    if (session) renewal = window.setTimeout(refresh, Math.max(0, renewsAt(session) - Date.now()));
  }

  function forget() {
    window.clearTimeout(renewal);
    renewal = null;
    session = null;
    save();
  }

  // Ends the session on this page with a message saying why.
  function end(why) {
    forget();
    render();
    say(why, true);
  }

  // Trades the refresh token for a new session (rotating it); resolves to the access
  // token to use, or null once signed out.
  function refresh() {
    if (refreshing) return refreshing;
    var started = session;
    if (!started) return Promise.resolve(null);
    if (!started.refreshToken) {
      end('Your access token expired and the login that made it kept no refresh token: sign in again.');
      return Promise.resolve(null);
    }
    refreshing = post(REFRESH, { refreshToken: started.refreshToken })
      .then(
        function (result) {
          if (session !== started) return session && session.accessToken; // signed out meanwhile
          if (result.data && result.data.refresh) {
            adopt(result.data.refresh, started.username);
            say('');
            return session.accessToken;
          }
          var error = firstError(result);
          if (error.code === 'RATE_LIMITED' || error.code === 'INTERNAL_SERVER_ERROR') {
            retryLater('Could not renew your session (' + error.message + ')');
            return started.accessToken;
          }
          end('Your session ended (' + error.message + '): sign in again.');
          return null;
        },
        function () {
          if (session === started) retryLater('Could not reach the server to renew your session');
          return session && session.accessToken;
        }
      )
      .then(function (token) {
        refreshing = null;
        return token;
      });
    return refreshing;
  }

  function retryLater(what) {
    say(what + '; trying again in ' + RETRY_MS / 1000 + ' s.', true);
    window.clearTimeout(renewal);
    renewal = window.setTimeout(refresh, RETRY_MS);
  }

  // The access token to send now, renewed first when it is due.
  function freshAccessToken() {
    if (!session) return Promise.resolve(null);
    if (Date.now() >= renewsAt(session)) return refresh();
    return Promise.resolve(session.accessToken);
  }

  // Reads the tokens of a login, register or refresh the user ran in the editor
  // (aliases included): whatever top-level field returned an access token.
  function capture(result) {
    var data = result && result.data;
    if (!data || typeof data !== 'object') return;
    Object.keys(data).forEach(function (field) {
      var value = data[field];
      if (value && typeof value === 'object' && typeof value.accessToken === 'string') adopt(value, null);
    });
  }

  function signOut() {
    var ended = session;
    forget();
    render();
    say('Signed out.');
    if (ended && ended.refreshToken) post(LOGOUT, { refreshToken: ended.refreshToken }).catch(function () {});
  }

  // ---- The sign-in bar (static HTML in index.html).

  var form = document.getElementById('sign-in');
  var usernameInput = document.getElementById('sign-in-username');
  var passwordInput = document.getElementById('sign-in-password');
  var signInButton = document.getElementById('sign-in-button');
  var registerButton = document.getElementById('register-button');
  var signedIn = document.getElementById('signed-in');
  var signedInUsername = document.getElementById('signed-in-username');
  var message = document.getElementById('session-message');

  function render() {
    form.hidden = !!session;
    signedIn.hidden = !session;
    signedInUsername.textContent = session ? session.username || '…' : '';
  }

  // Shown in the bar; never a token.
  function say(text, isError) {
    message.textContent = text || '';
    message.classList.toggle('is-error', !!isError);
  }

  function signInWith(kind) {
    var username = usernameInput.value.trim();
    var password = passwordInput.value;
    var request =
      kind === 'login'
        ? post(LOGIN, { username: username, password: password })
        : post(REGISTER, { input: { username: username, password: password } });
    signInButton.disabled = registerButton.disabled = true;
    say(kind === 'login' ? 'Signing in…' : 'Registering…');
    request
      .then(
        function (result) {
          var payload = result.data && result.data[kind];
          if (!payload) return say(firstError(result).message, true);
          passwordInput.value = '';
          adopt(payload, username);
          say('');
        },
        function () {
          say('Could not reach the server.', true);
        }
      )
      .then(function () {
        signInButton.disabled = registerButton.disabled = false;
      });
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault(); // no navigation: the page's policy allows no form target
    signInWith('login');
  });
  registerButton.addEventListener('click', function () {
    if (form.reportValidity()) signInWith('register');
  });
  document.getElementById('sign-out-button').addEventListener('click', signOut);

  render();
  schedule(); // a session kept from before a reload renews at once if it is due

  // ---- GraphiQL, with the session's token on every request.

  // Every HTTP request GraphiQL makes goes through here: a request that carried the
  // session's token and was refused (a token dead before its time, say after the laptop
  // slept) is sent once more after a refresh; a JSON answer is read for tokens.
  function sessionFetch(url, init) {
    return window.fetch(url, init).then(function (response) {
      var sent = init && init.headers && init.headers.authorization;
      if (response.status !== 401 || !session || sent !== 'Bearer ' + session.accessToken) {
        return read(response);
      }
      return refresh().then(function (token) {
        if (!token) return response;
        var headers = Object.assign({}, init.headers, { authorization: 'Bearer ' + token });
        return window.fetch(url, Object.assign({}, init, { headers: headers })).then(read);
      });
    });
  }

  function read(response) {
    if (/json/.test(response.headers.get('content-type') || '')) {
      response.clone().json().then(capture, function () {});
    }
    return response;
  }

  var baseFetcher = GraphiQL.createFetcher({
    url: origin + '/graphql',
    subscriptionUrl: wsOrigin + '/graphql/ws',
    fetch: sessionFetch
  });

  // GraphiQL passes the parsed Headers tab as `opts.headers` to every operation; for
  // subscriptions it becomes the graphql-transport-ws connection_init payload, on a
  // client made for that subscription (so each one sends the token current when it
  // starts). Lower-casing the names keeps HTTP unchanged (header names are
  // case-insensitive) and yields the documented payload `{"authorization": "Bearer …"}`
  // whatever case the user typed. An Authorization of the user's own wins over the session.
  function fetcher(params, opts) {
    var headers = {};
    var given = opts && opts.headers && typeof opts.headers === 'object' ? opts.headers : {};
    Object.keys(given).forEach(function (name) {
      headers[name.toLowerCase()] = given[name];
    });
    if ('authorization' in headers || !session) {
      return baseFetcher(params, Object.assign({}, opts, { headers: headers }));
    }
    if (isSubscription(params, opts)) return renewingSubscription(params, opts, headers);
    return freshAccessToken().then(function (token) {
      if (token) headers.authorization = 'Bearer ' + token;
      return baseFetcher(params, Object.assign({}, opts, { headers: headers }));
    });
  }

  function isSubscription(params, opts) {
    var definitions = (opts && opts.documentAST && opts.documentAST.definitions) || [];
    var operations = definitions.filter(function (definition) {
      return (
        definition.kind === 'OperationDefinition' &&
        (!params.operationName || (definition.name && definition.name.value === params.operationName))
      );
    });
    return operations.length === 1 && operations[0].operation === 'subscription';
  }

  // The server completes a subscription when the token it started with expires. If the
  // session renewed meanwhile, the subscription starts again with the current token, so
  // it runs as long as the session does (events recorded in the moment between the two
  // are missed; resume with `after:` a cursor where that matters).
  async function* renewingSubscription(params, opts, given) {
    var token = await freshAccessToken();
    for (;;) {
      var headers = Object.assign({}, given);
      if (token) headers.authorization = 'Bearer ' + token;
      yield* await baseFetcher(params, Object.assign({}, opts, { headers: headers }));
      if (!token || !session || session.accessToken === token) return;
      token = await freshAccessToken();
    }
  }

  var defaultQuery = [
    '# Welcome to the Switchboard GraphQL playground.',
    '#',
    '# 1. Sign in with the form above. No account yet?',
    '#    Type a username and a password and press',
    '#    Register. From then on the playground sends',
    '#    your token with every query, mutation and',
    '#    subscription, and renews it before it expires.',
    '# 2. Run an operation below with the run button, or',
    '#    write your own: Ctrl-Space completes, and the',
    '#    Docs panel (top-left icon) documents every field.',
    '#',
    '# An Authorization header of your own in the Headers',
    '# tab, {"Authorization": "Bearer <accessToken>"},',
    '# wins over the signed-in session.',
    '',
    'mutation TakeANumber {',
    '  createVirtualNumber(input: {phoneNumber: "+1 (201) 555-0123", friendlyName: "Sales"}) {',
    '    id',
    '    phoneNumber',
    '    countryCode',
    '  }',
    '}',
    '',
    'query MyNumbers {',
    '  myVirtualNumbers(first: 10) {',
    '    totalCount',
    '    nodes { id phoneNumber friendlyName isActive }',
    '  }',
    '}',
    ''
  ].join('\n');

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      isHeadersEditorEnabled: true,
      // Headers stay out of localStorage unless the user opts in.
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: 'headers'
    })
  );
})();
