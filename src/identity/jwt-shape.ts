// A token handed over as text (a variable, a file): checked for shape without ever showing it.
import { VdlError } from '../core/errors.js';

const JWT = /^[\w-]+\.[\w-]+\.[\w-]*$/;

export function jwtFrom(value: string | undefined, where: string, hint: string): string {
  const token = value?.trim();
  if (!token)
    throw new VdlError('identity', `No identity token: ${where} is empty or not set.`, hint);
  if (!JWT.test(token))
    throw new VdlError(
      'identity',
      `${where} does not hold a JWT (three base64url parts joined by ".").`,
      hint,
    );
  return token;
}
