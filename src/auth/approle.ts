// AppRole: role_id plus a secret_id from a file. When the file holds a response-wrapping token,
// it is unwrapped once and the secret_id kept (the Keeper), so a later login needs no new token.
// No lock: processes that race to unwrap let Vault pick the one; the others read what it keeps.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { VaultHttpError, VdlError } from '../core/errors.js';
import { mountRefusal } from '../core/explain.js';
import type { SettingNames } from '../core/setting-names.js';
import { type AuthMethod, expiry, type Keeper } from './method.js';
import { unwrapOnce, WrappingError } from './unwrap.js';

export interface AppRoleSettings {
  mount: string;
  namespace?: string;
  /** The role_id inline, or the file holding it. */
  roleId?: string;
  roleIdFile?: string;
  secretIdFile: string;
  /** The file holds a wrapping token around the secret_id (`-wrap-ttl` on secret-id creation). */
  wrapped: boolean;
  /** The role's name, to check the wrapping token's creation path exactly; else any role's. */
  roleName?: string;
  /** How the entry point names its settings in messages. */
  names?: SettingNames;
}

/** A one-line value from a file; `key` names the setting, `hint` what belongs there. */
async function readValue(path: string, key: string, hint: string): Promise<string> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new VdlError(
      'config',
      `Cannot read ${path} (${key}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`,
      hint,
    );
  }
  const value = text.trim();
  if (!value) throw new VdlError('config', `${path} (${key}) is empty.`, hint);
  return value;
}

/** How long a process that unwrapped may take to keep the secret_id (it writes right after). */
const KEPT_WAIT_MS = 2000;

/** The kept value for `key`, waiting briefly for the process that unwrapped it to write it. */
async function keptSoon(keeper: Keeper, key: string): Promise<string | undefined> {
  const until = Date.now() + KEPT_WAIT_MS;
  for (;;) {
    const v = keeper.get(key);
    if (v || Date.now() >= until) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function appRole(s: AppRoleSettings, keeper: Keeper): AuthMethod {
  return {
    describe: `AppRole on auth/${s.mount}`,
    async login(vault, now) {
      const roleId =
        s.roleId ??
        (await readValue(
          s.roleIdFile ?? '',
          'auth.role_id_file',
          'Write the role_id there (vault read auth/<mount>/role/<name>/role-id).',
        ));
      const fileValue = await readValue(
        s.secretIdFile,
        'auth.secret_id_file',
        'Deliver the secret_id (or its wrapping token) there, readable by this user only.',
      );
      let secretId = fileValue;
      if (s.wrapped) {
        // The same wrapping token is unwrapped once; its secret_id is remembered under its hash.
        const key = `approle-secret-id:${createHash('sha256').update(fileValue).digest('hex')}`;
        const kept = keeper.get(key);
        if (kept) secretId = kept;
        else {
          const path = new RegExp(
            `^auth/${literal(s.mount)}/role/${s.roleName ? literal(s.roleName) : '[^/]+'}/secret-id$`,
          );
          const data = await unwrapOnce(
            vault,
            fileValue,
            path,
            'the AppRole secret_id',
            s.namespace,
          ).catch(async (err: unknown) => {
            // Used already: by another process of ours (a second configuration file, a
            // concurrent run) if it keeps the secret_id now; only if none does is it an alarm.
            const theirs = err instanceof WrappingError ? await keptSoon(keeper, key) : undefined;
            if (theirs) return { secret_id: theirs };
            throw err;
          });
          if (typeof data.secret_id !== 'string' || !data.secret_id)
            throw new VdlError(
              'wrapping',
              'The unwrapped answer has no secret_id.',
              'Wrap the output of vault write -wrap-ttl=... auth/<mount>/role/<name>/secret-id.',
            );
          secretId = data.secret_id;
          keeper.set(key, secretId);
        }
      }
      const auth = await vault
        .login(s.mount, { role_id: roleId, secret_id: secretId }, s.namespace)
        .catch((err: unknown) => {
          // A wrong role_id or secret_id is a 400; a bare 403 means no AppRole method answers there.
          if (!(err instanceof VaultHttpError) || err.status !== 403) throw err;
          const ctx = { url: vault.opts.url, authMount: s.mount, authNamespace: s.namespace };
          throw mountRefusal(err, { ...ctx, names: s.names }, 'AppRole');
        });
      return { token: auth.token, revocable: true, expiresAt: expiry(now, auth.leaseDuration) };
    },
  };
}
