// api.js — the console's calls to convoseal's API, on the page's own origin,
// with HTTP Basic auth from credentials held in memory only.

/** An API refusal: status, Twilio code and its plain message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** A location download that failed. status 403 means expired or refused. */
export class DownloadError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'DownloadError';
    this.status = status;
  }
}

function basic(sid, token) {
  const bytes = new TextEncoder().encode(`${sid}:${token}`);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return 'Basic ' + btoa(bin);
}

/**
 * Reports whether a signed location is past its expiry, read from its own
 * query: X-Convoseal-Expires (Unix seconds) or S3's X-Amz-Date plus
 * X-Amz-Expires. A link without them is not known to be expired.
 */
export function linkExpired(locationURL, nowMs) {
  let q;
  try {
    q = new URL(locationURL, 'http://x.invalid').searchParams;
  } catch {
    return false;
  }
  const own = q.get('X-Convoseal-Expires');
  if (own && /^\d+$/.test(own)) return nowMs >= Number(own) * 1000;
  const date = q.get('X-Amz-Date');
  const ttl = q.get('X-Amz-Expires');
  const m = date && /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  if (!m || !ttl || !/^\d+$/.test(ttl)) return false;
  const signed = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return nowMs >= signed + Number(ttl) * 1000;
}

/** Reads a Twilio error body, or describes the status. */
async function errorFrom(resp) {
  let code = 0;
  let message = `The server answered ${resp.status} ${resp.statusText}`.trim();
  try {
    const body = await resp.json();
    if (body && typeof body.message === 'string') {
      message = body.message;
      code = body.code || 0;
    }
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(resp.status, code, message);
}

/** Keeps a URL the API returned on the page's origin: its path and query. */
export function samePath(url) {
  const u = new URL(url, location.origin);
  return u.pathname + u.search;
}

export class Api {
  #auth;

  constructor(accountSid, authToken) {
    this.accountSid = accountSid;
    this.#auth = basic(accountSid, authToken);
  }

  /** Sends one request; params go in the query (GET, DELETE) or a form body (POST). */
  async request(method, path, params = {}) {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) v.forEach((x) => form.append(k, String(x)));
      else form.append(k, String(v));
    }
    let url = path;
    const init = { method, headers: { Authorization: this.#auth, Accept: 'application/json' }, credentials: 'omit', cache: 'no-store' };
    if (method === 'POST') {
      init.body = form;
    } else if ([...form.keys()].length > 0) {
      url += (url.includes('?') ? '&' : '?') + form.toString();
    }
    let resp;
    try {
      resp = await fetch(url, init);
    } catch {
      throw new ApiError(0, 0, 'The server could not be reached. Check your connection and try again.');
    }
    if (!resp.ok) throw await errorFrom(resp);
    if (resp.status === 204) return null;
    return resp.json();
  }

  get(path, params) { return this.request('GET', path, params); }
  post(path, params) { return this.request('POST', path, params); }
  delete(path) { return this.request('DELETE', path); }

  /** One page of a list: {items, next} where next is the next page's path or null. */
  async page(path, key, params) {
    const body = await this.get(path, params);
    const next = body.meta && body.meta.next_page_url ? samePath(body.meta.next_page_url) : null;
    return { items: body[key] || [], next };
  }

  /** Every item of a list, following next_page_url (at most max items). */
  async all(path, key, params = {}, max = 5000) {
    const out = [];
    let p = await this.page(path, key, { PageSize: 100, ...params });
    out.push(...p.items);
    while (p.next && out.length < max) {
      p = await this.page(p.next, key);
      out.push(...p.items);
    }
    return out;
  }

  /** Fetches with auth and returns the body as a Blob (a server-sealed recording). */
  async blob(path) {
    let resp;
    try {
      resp = await fetch(path, { headers: { Authorization: this.#auth }, credentials: 'omit', cache: 'no-store' });
    } catch {
      throw new ApiError(0, 0, 'The server could not be reached. Check your connection and try again.');
    }
    if (!resp.ok) throw await errorFrom(resp);
    return resp.blob();
  }
}

/**
 * Downloads a signed location: a plain GET without credentials. Returns
 * {body, key, iv, matdesc}.
 */
export async function download(locationURL) {
  let resp;
  try {
    resp = await fetch(locationURL, { credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' });
  } catch {
    // A blob store may refuse an expired link without CORS headers, which
    // hides the 403 from the page: tell expiry from the link itself.
    if (linkExpired(locationURL, Date.now())) throw new DownloadError(403, 'the link has expired');
    throw new DownloadError(0, 'the network failed, or the blob store does not let this page read it (an S3 bucket needs CORS rules for this origin: see docs/console.md)');
  }
  if (!resp.ok) throw new DownloadError(resp.status, `the download answered ${resp.status}`);
  const h = resp.headers;
  return {
    body: new Uint8Array(await resp.arrayBuffer()),
    key: h.get('x-amz-meta-x-amz-key'),
    iv: h.get('x-amz-meta-x-amz-iv'),
    matdesc: h.get('x-amz-meta-x-amz-matdesc'),
  };
}
