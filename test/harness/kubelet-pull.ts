// What the kubelet does with its providers' credentials: hands them to the container runtime for
// this one pull, trying each in turn until one authenticates, else pulling anonymously. Here the
// runtime is the real Docker daemon; each credential reaches it as the docker CLI sends one, from a
// config directory made for that pull and removed after it.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDockerConfig } from './daemon.js';
import type { Kubelet, Pod } from './kubelet.js';
import type { CommandResult, DockerDaemon } from './types.js';

export async function kubeletPull(
  k: Kubelet,
  daemon: DockerDaemon,
  image: string,
  scratch: string,
  pod?: Pod,
): Promise<CommandResult & { credentials: number }> {
  const creds = await k.credentialsFor(image, pod);
  const host = image.split('/')[0] ?? '';
  let last: CommandResult | undefined;
  for (const c of creds.length ? creds : [undefined]) {
    const cfg = await mkdtemp(join(scratch, 'kubelet-pull-'));
    try {
      await writeDockerConfig(
        cfg,
        c ? { [host]: { username: c.username, secret: c.password } } : {},
      );
      last = await daemon.pull(image, cfg);
    } finally {
      await rm(cfg, { recursive: true, force: true });
    }
    if (last.code === 0) break;
  }
  return { ...(last as CommandResult), credentials: creds.length };
}
