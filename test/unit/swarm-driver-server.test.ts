// The Swarm driver's plugin server on a unix socket, spoken to as the daemon does (POST, JSON):
// routes, status codes, the owner-only socket, a stale socket replaced but a live one or a file
// left alone, and a close that lets a request in flight finish and removes only its own socket.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VdlError } from '../../src/core/errors.js';
import type { SecretAnswer, SecretRequest } from '../../src/swarm-driver/protocol.js';
import { servePlugin } from '../../src/swarm-driver/server.js';

const dir = mkdtempSync(join(tmpdir(), 'vdl-plugin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const socketPath = () => join(dir, 'plugins', `p${++n}.sock`);

function call(
  socket: string,
  path: string,
  body = '{}',
  method = 'POST',
): Promise<{ status: number; type: string; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method }, (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type']),
          json: JSON.parse(text),
        }),
      );
    });
    req.on('error', reject);
    // A refused body (413) closes the connection while the rest is still being written.
    req.on('socket', (s) => s.on('error', () => {}));
    req.end(method === 'POST' ? body : undefined);
  });
}

const answer = (a: SecretAnswer) => async (_: SecretRequest) => a;

describe('the plugin server', () => {
  it('answers the routes as go-plugins-helpers does', async () => {
    const seen: SecretRequest[] = [];
    const socket = socketPath();
    const server = await servePlugin(socket, async (r) => {
      seen.push(r);
      return r.SecretName === 'bad'
        ? { Err: 'no such secret' }
        : { Value: 'dg==', DoNotReuse: true };
    });
    try {
      expect(await call(socket, '/Plugin.Activate')).toEqual({
        status: 200,
        type: 'application/vnd.docker.plugins.v1.1+json',
        json: { Implements: ['secretprovider'] },
      });
      const ok = await call(socket, '/SecretProvider.GetSecret', '{"SecretName":"s","TaskID":"t"}');
      expect([ok.status, ok.json]).toEqual([200, { Value: 'dg==', DoNotReuse: true }]);
      expect(seen).toEqual([{ SecretName: 's', TaskID: 't' }]);
      const err = await call(socket, '/SecretProvider.GetSecret', '{"SecretName":"bad"}');
      expect([err.status, err.json]).toEqual([500, { Err: 'no such secret' }]);
      // An empty body is an empty request.
      expect((await call(socket, '/SecretProvider.GetSecret', '')).status).toBe(200);
      expect(
        await call(socket, '/SecretProvider.GetSecret', '{"SecretLabels":{"a":1}}'),
      ).toMatchObject({
        status: 400,
        json: { Err: 'SecretLabels must map names to strings.' },
      });
      expect(await call(socket, '/SecretProvider.GetSecret', 'not json')).toMatchObject({
        status: 400,
        json: { Err: 'The request body is not JSON.' },
      });
      expect(await call(socket, '/NetworkDriver.GetCapabilities')).toMatchObject({
        status: 404,
        json: {
          Err: 'This plugin implements secretprovider only, not /NetworkDriver.GetCapabilities.',
        },
      });
      expect((await call(socket, '/Plugin.Activate', '', 'GET')).status).toBe(405);
      const big = await call(socket, '/SecretProvider.GetSecret', 'x'.repeat(1024 * 1024 + 1));
      expect(big.status).toBe(413);
      expect(seen).toHaveLength(3);
    } finally {
      await server.close(1000);
    }
  });

  it('answers 500 naming the failure when getSecret throws', async () => {
    const socket = socketPath();
    const server = await servePlugin(socket, async () => {
      throw new Error('boom');
    });
    try {
      expect(await call(socket, '/SecretProvider.GetSecret')).toMatchObject({
        status: 500,
        json: { Err: 'Internal error in the driver: boom' },
      });
    } finally {
      await server.close(1000);
    }
  });

  it('makes the socket owner-only, and removes it on close', async () => {
    const socket = socketPath();
    const server = await servePlugin(socket, answer({ Value: '' }));
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    await server.close(1000);
    expect(() => statSync(socket)).toThrow(/ENOENT/);
  });

  it('refuses a live socket and a file that is not a socket, naming driver.socket', async () => {
    const socket = socketPath();
    const first = await servePlugin(socket, answer({ Value: 'MQ==' }));
    try {
      const live = await servePlugin(socket, answer({})).catch((e: unknown) => e);
      expect(live).toBeInstanceOf(VdlError);
      expect((live as VdlError).message).toBe(
        `Another process already serves ${socket} (driver.socket).`,
      );
      expect((await call(socket, '/SecretProvider.GetSecret')).json).toEqual({ Value: 'MQ==' });
    } finally {
      await first.close(1000);
    }
    const file = socketPath();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, 'not a socket');
    const notSocket = await servePlugin(file, answer({})).catch((e: unknown) => e);
    expect((notSocket as VdlError).message).toBe(
      `${file} (driver.socket) exists and is not a socket.`,
    );
  });

  it('replaces the socket a killed driver left behind', async () => {
    const socket = socketPath();
    mkdirSync(dirname(socket), { recursive: true });
    // A process that listens, then dies by SIGKILL: its socket file stays, and nothing answers.
    const child = spawn(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`,
    ]);
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(statSync(socket).isSocket()).toBe(true);
    const server = await servePlugin(socket, answer({ Value: 'Mg==' }));
    try {
      expect((await call(socket, '/SecretProvider.GetSecret')).json).toEqual({ Value: 'Mg==' });
    } finally {
      await server.close(1000);
    }
  });

  it('leaves the socket of a newer driver that took the path over', async () => {
    const socket = socketPath();
    const old = await servePlugin(socket, answer({ Value: 'b2xk' }));
    rmSync(socket);
    const newer = await servePlugin(socket, answer({ Value: 'bmV3' }));
    try {
      await old.close(1000);
      expect((await call(socket, '/SecretProvider.GetSecret')).json).toEqual({ Value: 'bmV3' });
    } finally {
      await newer.close(1000);
    }
  });

  it('lets a request in flight finish on close, within the grace time', async () => {
    const socket = socketPath();
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    let arrived: () => void = () => {};
    const inside = new Promise<void>((r) => {
      arrived = r;
    });
    const server = await servePlugin(socket, async () => {
      arrived();
      await held;
      return { Value: 'ZG9uZQ==' };
    });
    const pending = call(socket, '/SecretProvider.GetSecret');
    await inside;
    const closing = server.close(5000);
    release();
    expect((await pending).json).toEqual({ Value: 'ZG9uZQ==' });
    await closing;
  });
});
