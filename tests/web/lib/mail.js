// The SMTP maildir of the stack: every stored message, decoded enough to
// read the links (quoted-printable or 8bit bodies, RFC 2047 subjects).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

function decodeWords(s) {
  return s.replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=\s*/g, (_, cs, enc, text) => {
    if (enc.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8');
    const bytes = text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (m, h) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  });
}

function decodeQP(s) {
  const soft = s.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(soft[i], 'latin1'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function splitHead(text) {
  const sep = text.search(/\r?\n\r?\n/);
  const head = (sep < 0 ? text : text.slice(0, sep)).replace(/\r?\n[ \t]+/g, ' ');
  const bodyRaw = sep < 0 ? '' : text.slice(sep).replace(/^\r?\n\r?\n/, '');
  const headers = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, bodyRaw };
}

function decodeBody(headers, bodyRaw) {
  const cte = (headers['content-transfer-encoding'] || '8bit').toLowerCase();
  let body;
  if (cte === 'quoted-printable') body = decodeQP(bodyRaw);
  else if (cte === 'base64') body = Buffer.from(bodyRaw, 'base64').toString('utf8');
  else body = Buffer.from(bodyRaw, 'latin1').toString('utf8');
  return body.replace(/\r\n/g, '\n');
}

/** A stored message: headers, subject, body (the text/plain part) and html
 * (the text/html part of a multipart/alternative message, or ''). */
export function parseMail(raw) {
  const text = raw.toString('latin1');
  const { headers, bodyRaw } = splitHead(text);
  let body = '';
  let html = '';
  const ctype = headers['content-type'] || 'text/plain';
  const b = /^multipart\//i.test(ctype) && /boundary="?([^";]+)"?/i.exec(ctype);
  if (b) {
    const parts = bodyRaw.split(`--${b[1]}`).slice(1);
    for (const part of parts) {
      if (part.startsWith('--')) break;
      const p = splitHead(part.replace(/^\r?\n/, '').replace(/\r?\n$/, ''));
      const t = (p.headers['content-type'] || 'text/plain').toLowerCase();
      if (t.startsWith('text/plain') && !body) body = decodeBody(p.headers, p.bodyRaw);
      else if (t.startsWith('text/html') && !html) html = decodeBody(p.headers, p.bodyRaw);
    }
  } else {
    body = decodeBody(headers, bodyRaw);
  }
  return {
    to: headers.to || '',
    rcpt: headers['x-rcptto'] || '',
    subject: decodeWords(headers.subject || ''),
    body,
    html,
    headers,
  };
}

export function readMails(maildir) {
  const files = [];
  for (const sub of ['new', 'cur']) {
    let names = [];
    try {
      names = readdirSync(join(maildir, sub));
    } catch {
      continue;
    }
    for (const n of names) {
      const p = join(maildir, sub, n);
      files.push({ p, t: statSync(p).mtimeMs, n });
    }
  }
  files.sort((a, b) => a.t - b.t || a.n.localeCompare(b.n));
  return files.map(({ p }) => ({ file: p, ...parseMail(readFileSync(p)) }));
}

/** The first mail matching pred, waiting up to timeoutMs. skip: mails already
 * seen (a Set of file names) are ignored. */
export async function waitForMail(maildir, pred, { timeoutMs = 15000, skip = new Set() } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = readMails(maildir);
    const m = all.find((x) => !skip.has(x.file) && pred(x));
    if (m) return m;
    if (Date.now() > deadline) {
      throw new Error(`no matching mail within ${timeoutMs} ms; mails: ${JSON.stringify(all.map((x) => [x.to, x.subject]))}`);
    }
    await sleep(100);
  }
}

/** The first link of a mail whose path starts with pathPrefix. */
export function linkIn(mail, pathPrefix) {
  const re = /https?:\/\/[^\s<>"')]+/g;
  for (const m of mail.body.matchAll(re)) {
    const u = new URL(m[0]);
    if (u.pathname.startsWith(pathPrefix)) return u;
  }
  throw new Error(`no link to ${pathPrefix} in mail "${mail.subject}":\n${mail.body}`);
}
