// `docker-credential-vault --help`: what docker never asks for, but a person setting it up does.
import { CONFIG_ENV, DEFAULT_CONFIG_FILE } from '../core/host-config-path.js';
import { NAME } from './protocol.js';

export const HELP = `Usage: ${NAME} <get|list|store|erase|version|doctor>

A Docker credential helper backed by Vault: docker, buildx and skopeo run it for every registry
named in credHelpers of their config.json ("credHelpers": {"<host[:port]>": "vault"}), and it
answers with a short-lived credential leased from Vault, cached until shortly before it ends.

  get       the credential for the server address on stdin (JSON on stdout)
  list      the registries with a credential in hand
  store     refused: credentials come from Vault, not from docker login
  erase     revoke the credential for the server address on stdin
  doctor    check the configuration, the cache directory, docker's credHelpers keys, the
            Vault login and each registry's path (docs/doctor.md)
  version   the version (also --version)
  --help    this text

Configuration: $${CONFIG_ENV}, else ~/.config/vault-docker-login/config.yml when it exists, else
${DEFAULT_CONFIG_FILE}. See docs/credential-helper.md.
`;
