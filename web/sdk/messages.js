// Messages between members over the signalling link (docs/protocol.md, sendMessage):
// the simple path, bounded by the server (4096 bytes, 10 a second in bursts of 20).
import { ErrorCode } from './errors.js';
import { ParleyError } from './parley-error.js';

/** The most bytes of UTF-8 one message may carry. */
export const MAX_MESSAGE_BYTES = 4096;

/** Sends `data` to the channel, or to `toUserId` alone; see Engine.sendMessage. */
export async function sendMessage(engine, data, toUserId) {
  if (!engine.channel) throw new ParleyError(ErrorCode.NOT_IN_CHANNEL, 'not in a channel');
  if (typeof data !== 'string') throw new ParleyError(ErrorCode.INVALID_FIELD, 'a message is a string');
  if (new TextEncoder().encode(data).length > MAX_MESSAGE_BYTES) {
    throw new ParleyError(ErrorCode.MESSAGE_TOO_LARGE, `a message is at most ${MAX_MESSAGE_BYTES} bytes of UTF-8`);
  }
  const fields = { data };
  if (toUserId !== undefined && toUserId !== null && toUserId !== '') {
    if (typeof toUserId !== 'string') throw new ParleyError(ErrorCode.INVALID_FIELD, 'toUserId is a user id string');
    fields.toUserId = toUserId;
  }
  await engine.request('sendMessage', fields);
}
