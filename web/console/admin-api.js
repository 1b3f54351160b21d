// The admin API as the console calls it (docs/protocol.md, "Admin API"): one request
// with the operator's key, and AdminError carrying the catalog code and advice of a
// refusal (words from the generated /sdk/errors.js).
import { lookup, toHex } from '/sdk/errors.js';

/** A failed admin call: `code` is a catalog code when the server sent one. */
export class AdminError extends Error {
  constructor(status, body, fallback) {
    const code = body && Number.isInteger(body.code) ? body.code : null;
    super((body && typeof body.message === 'string' && body.message) || fallback || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    const entry = code === null ? undefined : lookup(code);
    this.hex = code === null ? '' : toHex(code);
    this.codeName = entry ? entry.name : '';
    this.description = entry ? entry.description : '';
    this.advice = entry && entry.adviceEn && entry.adviceEn !== '-' ? entry.adviceEn : '';
  }
}

/** Sends one admin request with `key`; resolves with the JSON body, rejects with AdminError. */
export async function adminRequest(key, method, path, body) {
  const headers = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch (e) {
    throw new AdminError(0, null, `no answer from the server (${e.message})`);
  }
  let data = null;
  try { data = await res.json(); } catch { /* not JSON: handled below */ }
  if (!res.ok) throw new AdminError(res.status, data);
  if (data === null) throw new AdminError(res.status, null, 'the server sent something that is not JSON');
  return data;
}
