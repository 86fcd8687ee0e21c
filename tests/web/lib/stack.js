// Starts tests/web/stack.py (the integration harness's MariaDB, SMTP,
// portaild with the real modules, nginx serving web/) for one test file, and
// the helpers that act on it: SQL, portailctl, mails.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readMails, waitForMail } from './mail.js';

const run = promisify(execFile);
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where screenshots, stack logs and mails go: $PORTAIL_WEB_ARTIFACTS (set by
 * script/test to its run directory), or a new temporary directory. */
export const ARTIFACTS = (() => {
  const dir = process.env.PORTAIL_WEB_ARTIFACTS || mkdtempSync(join(tmpdir(), 'portail-web-'));
  mkdirSync(dir, { recursive: true });
  return dir;
})();

function buildDir() {
  if (process.env.PORTAIL_BUILD) return resolve(process.env.PORTAIL_BUILD);
  const root = process.env.PORTAIL_BUILD_ROOT ? resolve(process.env.PORTAIL_BUILD_ROOT) : join(REPO, 'build');
  return join(root, 'normal');
}

export class WebStack {
  /** brand: settings merged into the config's brand group (a State
   * service, say); the stack then serves a web root of its own, so that
   * its brand's fragments do not reach the other stacks. server: settings
   * merged into the config's server group (its nginx follows them too). */
  constructor(name, { brand = null, settings = null, server = null } = {}) {
    this.name = name;
    this.brand = brand;
    // settings: {module: {setting: value}} over the harness's (own web root too).
    this.settings = settings;
    this.server = server;
    this.dir = join(ARTIFACTS, `stack-${name}`);
    this.proc = null;
    this.info = null;
  }

  async start(timeoutMs = 180000) {
    execFileSync(join(REPO, 'script', 'web-build'), { stdio: ['ignore', 'ignore', 'inherit'] });
    mkdirSync(this.dir, { recursive: true });
    const err = createWriteStream(join(ARTIFACTS, `stack-${this.name}.stderr`));
    this.proc = spawn('/usr/bin/python3', [join(REPO, 'tests', 'web', 'stack.py'), this.dir], {
      env: { ...process.env, PORTAIL_BUILD: buildDir(), ...(this.brand ? { PORTAIL_WEB_BRAND: JSON.stringify(this.brand) } : {}),
        ...(this.settings ? { PORTAIL_WEB_SETTINGS: JSON.stringify(this.settings) } : {}),
        ...(this.server ? { PORTAIL_WEB_SERVER: JSON.stringify(this.server) } : {}) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stderr.pipe(err);
    this.exited = new Promise((res) => this.proc.once('exit', (code, sig) => res(code ?? sig)));
    this.info = await new Promise((res, rej) => {
      let buf = '';
      const timer = setTimeout(() => rej(new Error(`stack.py gave no address in ${timeoutMs} ms`)), timeoutMs);
      this.proc.stdout.on('data', (d) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          try {
            res(JSON.parse(buf.slice(0, nl)));
          } catch (e) {
            rej(e);
          }
        }
      });
      this.exited.then((code) => {
        clearTimeout(timer);
        rej(new Error(`stack.py exited (${code}) before starting; see ${join(ARTIFACTS, `stack-${this.name}.stderr`)}`));
      });
    });
    this.baseUrl = this.info.base_url;
    return this;
  }

  /** Stops the stack (SIGTERM, then the harness stops every process). */
  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return this.proc?.exitCode;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 90000);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  /** Stops the stack; fails when a started stack did not stop cleanly
   * (sanitizer report, portaild's exit status). */
  async stopAndCheck() {
    const started = this.info !== null;
    const code = await this.stop();
    if (started && code !== 0) {
      throw new Error(`the stack did not stop cleanly (${code}); see ${join(ARTIFACTS, `stack-${this.name}.stderr`)}`);
    }
  }

  /** True when the module's routes are there (listed by /api/v1/health). */
  has(module) {
    return !(this.info.missing_modules || []).includes(module);
  }

  /** Why a flow needing these modules cannot run, or null. */
  missing(...modules) {
    const m = modules.filter((x) => !this.has(x));
    return m.length ? `module(s) ${m.join(', ')} not loadable yet (being written): the flow needs their routes` : null;
  }

  url(path) {
    return new URL(path, this.baseUrl).toString();
  }

  async sql(query) {
    const { stdout } = await run('mariadb', ['--no-defaults', '-S', this.info.mysql_socket, '-uroot',
      '--batch', '--skip-column-names', '--raw', 'portail', '-e', query]);
    return stdout.split('\n').filter(Boolean).map((l) => l.split('\t').map((c) => (c === 'NULL' ? null : c)));
  }

  async portailctl(...args) {
    return run(this.info.portailctl, ['--config', this.info.config, ...args], { timeout: 60000 });
  }

  mails() {
    return readMails(this.info.maildir);
  }

  waitForMail(pred, opts) {
    return waitForMail(this.info.maildir, pred, opts);
  }

  /** Inserts an insured person (no account); returns it. */
  async newInsured({ birthDate = '1984-05-17', first = 'Camille', last = 'Durand', sex = 1, nir, email } = {}) {
    const { newNir } = await import('./nir.js');
    const n = nir || newNir(birthDate, sex);
    const mail = email || `assure-${n}@example.fr`;
    const q = (s) => `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    // Postcode and IBAN on file: what registration asks (issue 14).
    await this.sql(`INSERT INTO insured (nir, sex, last_name, first_name, birth_date, email, fund, postal_code, iban)
      VALUES (${q(n)}, ${sex}, ${q(last)}, ${q(first)}, ${q(birthDate)}, ${q(mail)}, 'CPAM de Paris', '75015', 'FR7630006000011234567890189')`);
    return { nir: n, email: mail, birthDate, first, last, postalCode: '75015', ibanEnd: '7890189' };
  }
}
