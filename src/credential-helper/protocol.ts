// The docker credential helper protocol's I/O (docker/docker-credential-helpers): the verb in
// argv[1], the request on stdin, the answer or the error message on stdout, exit 1 on any error.
// Synchronous fd I/O only: process.stdin/stdout would load the stream machinery on every call.
import { readFileSync, writeSync } from 'node:fs';

export const NAME = 'docker-credential-vault';
/** package.json's version (a unit test keeps them equal; importing the JSON would bundle it all). */
export const VERSION = '0.1.0';
/** docker and Nomad go on anonymously only on exactly this text (docker: not Nomad). */
export const NOT_FOUND = 'credentials not found in native keychain';
export const MISSING_SERVER_URL = 'no credentials server URL';
export const USAGE = `Usage: ${NAME} <get|store|erase|list|version|doctor>`;

/** What a `get` answers. */
export interface Credentials {
  ServerURL: string;
  Username: string;
  Secret: string;
}

function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (err) {
      // A non-blocking pipe that is full: try again.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}

export const stdout = (text: string): void => writeAll(1, text);
export const stderr = (text: string): void => writeAll(2, text);

/** The whole of stdin. A non-blocking stdin (EAGAIN) is read the asynchronous way. */
export async function readInput(): Promise<string> {
  try {
    return readFileSync(0, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EOF') return '';
    if (code !== 'EAGAIN') throw err;
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
}

export function answer(c: Credentials): void {
  stdout(`${JSON.stringify(c)}\n`);
}

/**
 * An error: docker and skopeo show stdout, Nomad shows stderr, so both carry the message. The
 * not-found answer is the exception: its text must stand alone on stdout.
 */
export function fail(message: string): number {
  stdout(`${message}\n`);
  stderr(`${NAME}: ${message}\n`);
  return 1;
}

export function notFound(note?: string): number {
  stdout(`${NOT_FOUND}\n`);
  if (note) stderr(`${NAME}: ${note}\n`);
  return 1;
}
