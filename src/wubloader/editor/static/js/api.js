// The only module that speaks HTTP: page configuration, API URLs, and errors that carry the server's reason.

export class ApiError extends Error {
  /** status 0 = the request never got an answer (network failure). */
  constructor(status, reason, url) {
    super(status ? `${status}: ${reason}` : reason);
    this.status = status;
    this.reason = reason;
    this.url = url;
  }
}

let configPromise = null;

/** The page configuration served by the editor's host ({restreamer, thrimshim, authentication, oidc_*}). */
export function loadConfig() {
  configPromise ??= requestJson('/editor/config.json');
  return configPromise;
}

/** Absolute-or-relative URL of a restreamer route with query parameters (arrays repeat the key). */
export function restreamerUrl(config, path, params = {}) {
  return config.restreamer + path + queryString(params);
}

export function thrimshimUrl(config, path, params = {}) {
  return config.thrimshim + '/thrimshim' + path + queryString(params);
}

export function queryString(params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== null && item !== undefined) query.append(key, item);
    }
  }
  const text = query.toString();
  return text ? `?${text}` : '';
}

/** fetch() that throws ApiError with the server's plain-text reason on any non-2xx answer. */
export async function request(url, options = {}) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    throw new ApiError(0, `Network error (${error.message}) fetching ${url}`, url);
  }
  if (!response.ok) {
    const body = (await response.text()).trim();
    throw new ApiError(response.status, body || response.statusText || 'no reason given', url);
  }
  return response;
}

/** The parsed JSON body, or null for an empty one (thrimshim answers 201 with no body). */
export async function requestJson(url, options = {}) {
  const text = await (await request(url, options)).text();
  return text ? JSON.parse(text) : null;
}

/** POST a JSON body (with extra headers, e.g. the bearer token); resolves to the parsed answer or null. */
export function postJson(url, body, headers = {}) {
  return requestJson(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}
