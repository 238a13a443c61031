// `vault-credential-provider --help` and `--version`, answered before stdin is read: the kubelet
// never passes them, so a person running it by hand is not left waiting for a request.
import { CONFIG_ENV, DEFAULT_CONFIG_FILE } from '../core/host-config-path.js';
import { packageVersion } from '../core/version.js';

const HELP = `Usage: vault-credential-provider [--config FILE] < CredentialProviderRequest
       vault-credential-provider doctor [--config FILE]

The kubelet's exec credential provider (credentialprovider.kubelet.k8s.io/v1) backed by Vault:
the kubelet writes one CredentialProviderRequest (JSON) on stdin; the provider answers with a
CredentialProviderResponse holding a short-lived registry credential leased from Vault, or exits
1 with one line on stderr.

  --config FILE  the configuration file (default: $${CONFIG_ENV}, else ${DEFAULT_CONFIG_FILE}),
                 as args: [--config, FILE] in the kubelet's CredentialProviderConfig
  doctor         check the configuration, the state directory, the Vault login and each
                 registry's path, then exit (docs/doctor.md)
  --help         this text
  --version      the version

See docs/kubelet-provider.md.
`;

/** The text `--help` or `--version` asks for, or undefined for a kubelet's run. */
export function infoText(argv: string[]): string | undefined {
  if (argv.includes('--help') || argv.includes('-h')) return HELP;
  if (argv.includes('--version'))
    return `vault-credential-provider (vault-docker-login) ${packageVersion()}\n`;
  return undefined;
}
