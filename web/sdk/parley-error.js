// The one error type of the browser SDK: a catalog code with its words (errors.js).
import { lookup, toHex } from './errors.js';

/**
 * An Error with a catalog code: `code`, `hex`, `description`, `advice`. Where the
 * contract's code covers several causes the server adds a Parley detail code
 * (`detail`, `detailHex`, `detailDescription`; e.g. 0x0F050001 token expired under
 * 0x05040002), and `advice` is the detail's, the more precise one.
 */
export class ParleyError extends Error {
  constructor(code, message, detail = 0) {
    const entry = lookup(code);
    super(message || (entry ? entry.description : `error ${toHex(code)}`));
    this.name = 'ParleyError';
    this.code = code;
    this.hex = toHex(code);
    this.description = entry ? entry.description : '';
    this.advice = entry ? entry.adviceEn : '';
    this.detail = detail || 0;
    if (detail) {
      const d = lookup(detail);
      this.detailHex = toHex(detail);
      this.detailDescription = d ? d.description : '';
      if (d && d.adviceEn && d.adviceEn !== '-') this.advice = d.adviceEn;
    }
  }
}
