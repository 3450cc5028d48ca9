/** A coded error: `code` is stable and machine-readable, `message` is for people. */
export class OsteoError extends Error {
  constructor(
    public readonly code: string,
    message: string,
    public readonly httpStatus = 500,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OsteoError';
  }
}

/** An expected "cannot assess this study" outcome, carrying the reason shown to users. */
export class NotAssessable extends OsteoError {
  constructor(reason: string) {
    super('not-assessable', reason, 422);
    this.name = 'NotAssessable';
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
