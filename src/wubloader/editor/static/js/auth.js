// Sign-in: an editor token pasted once and kept in this browser, or an OpenID Connect ID token when
// thrimshim has an issuer. Without authentication (local use) nothing is asked.

const STORAGE_KEY = 'wubloader-token';

export function storedToken() {
  return localStorage.getItem(STORAGE_KEY);
}

function storeToken(token) {
  if (token) localStorage.setItem(STORAGE_KEY, token);
  else localStorage.removeItem(STORAGE_KEY);
}

/** Headers for a write: the bearer token if signed in. */
export function authHeaders() {
  const token = storedToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** Take an ID token returned in the URL fragment by the OIDC issuer (implicit flow), if any. */
function takeOidcRedirect() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('id_token');
  if (!token) return;
  if (params.get('state') !== sessionStorage.getItem('wubloader-oidc-state')) return;
  storeToken(token);
  history.replaceState(null, '', location.pathname + location.search);
}

async function startOidc(config) {
  const discovery = await (await fetch(`${config.oidc_issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)).json();
  const state = crypto.randomUUID();
  sessionStorage.setItem('wubloader-oidc-state', state);
  const query = new URLSearchParams({
    response_type: 'id_token', client_id: config.oidc_client_id, scope: 'openid email',
    redirect_uri: location.origin + location.pathname + location.search, state, nonce: crypto.randomUUID(),
  });
  location.assign(`${discovery.authorization_endpoint}?${query}`);
}

function el(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** Fill `container` with the sign-in controls this server needs (nothing when auth is off). */
export function buildSignIn(container, config, onError) {
  if (!config.authentication) {
    container.replaceChildren(el('span', { className: 'muted', textContent: 'No sign-in needed (authentication is off)' }));
    return;
  }
  takeOidcRedirect();
  const render = () => {
    if (storedToken()) {
      const out = el('button', { type: 'button', textContent: 'Sign out', id: 'sign-out' });
      out.addEventListener('click', () => { storeToken(null); render(); });
      container.replaceChildren(el('span', { textContent: 'Signed in ' }), out);
      return;
    }
    const input = el('input', { type: 'password', id: 'token-input', autocomplete: 'off', placeholder: 'editor token' });
    const save = el('button', { type: 'button', textContent: 'Sign in', id: 'sign-in' });
    save.addEventListener('click', () => { storeToken(input.value.trim()); render(); });
    const parts = [el('label', {}, ['Token ', input]), save];
    if (config.oidc_issuer) {
      const oidc = el('button', { type: 'button', textContent: 'Sign in with your identity provider', id: 'oidc-sign-in' });
      oidc.addEventListener('click', () => startOidc(config).catch((e) => onError(`Sign-in failed: ${e.message}`)));
      parts.push(oidc);
    }
    container.replaceChildren(...parts);
  };
  render();
}
