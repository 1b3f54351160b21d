// What a join sends to prove who the user is: an access token, or the classic AuthInfo
// fields (docs/token.md). The server verifies; this only shapes and pre-checks.
import { ErrorCode } from './errors.js';
import { ParleyError } from './parley-error.js';

/** Whether `token` has the shape of an access token (a JWT: three dot-separated parts). */
export function isAccessToken(token) {
  return typeof token === 'string' && token.split('.').length === 3;
}

/** The credential fields of a join request: { token } for a bare access token, or
 * { auth } for an AuthInfo object (an access token in auth.token, or a classic token
 * with every field). Throws ParleyError 0x01030101 for an incomplete classic AuthInfo,
 * before any network I/O. */
export function joinCredentials(auth) {
  if (typeof auth === 'string') return { token: auth };
  if (auth && isAccessToken(auth.token)) {
    // An access token (JWT) names and signs app, channel, user and expiry itself: the
    // other AuthInfo fields may be empty, and the server checks those given against it.
    return {
      auth: {
        appId: auth.appId || '', channelId: auth.channelId || '', userId: auth.userId || '',
        nonce: auth.nonce || '', timestamp: Number(auth.timestamp) || 0, token: auth.token,
      },
    };
  }
  const a = {
    appId: auth.appId, channelId: auth.channelId, userId: auth.userId, nonce: auth.nonce || '',
    timestamp: Number(auth.timestamp), token: auth.token,
  };
  // The SDK checks before any network I/O (0x01030101), as the native SDK does.
  if (!a.appId || !a.channelId || !a.userId || !a.token || !(a.timestamp > 0)) {
    throw new ParleyError(ErrorCode.INVALID_AUTH_INFO, 'AuthInfo has an empty field or timestamp <= 0');
  }
  return { auth: a };
}
