// The provider's arguments, as the `args` of its CredentialProviderConfig entry: `--config FILE`.
import { parseArgs } from 'node:util';
import { VdlError } from '../core/errors.js';

export function configFlag(argv: string[]): string | undefined {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { config: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
    return values.config;
  } catch (err) {
    throw new VdlError(
      'config',
      `Bad arguments: ${(err as Error).message}`,
      "The only argument is --config FILE (args: [--config, /etc/vault-docker-login/config.yml] in the kubelet's CredentialProviderConfig).",
    );
  }
}
