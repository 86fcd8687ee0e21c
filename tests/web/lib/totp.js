// RFC 6238 TOTP (RFC 4226 HOTP, HMAC-SHA1, 6 digits, 30 s) with node:crypto,
// to answer the code pages from the secret shown on the enrolment page.
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Decode(text) {
  const s = text.replace(/[\s=-]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of s) {
    const i = ALPHABET.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function hotp(key, counter, digits = 6) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(bin % 10 ** digits).padStart(digits, '0');
}

export const stepNow = (period = 30) => Math.floor(Date.now() / 1000 / period);

export function totp(secretBase32, step = stepNow()) {
  return hotp(base32Decode(secretBase32), step);
}

/** Codes for one secret, never the same step twice (the server accepts
 * each step once, within ±1 step): the next unused step, waiting only when
 * it would be more than one step ahead. */
export class TotpDevice {
  constructor(secretBase32) {
    this.secret = secretBase32;
    this.last = -Infinity;
  }

  async code() {
    let step = Math.max(stepNow(), this.last + 1);
    while (step > stepNow() + 1) {
      const msLeft = 30000 - (Date.now() % 30000);
      await sleep(msLeft + 200);
      step = Math.max(stepNow(), this.last + 1);
    }
    this.last = step;
    return totp(this.secret, step);
  }
}
