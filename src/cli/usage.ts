// A mistake on the command line (exit code 2), as opposed to a failure while logging in (1).
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
