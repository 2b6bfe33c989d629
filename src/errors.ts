/**
 * The one error model outside the spec text. Three kinds of failure reach the user:
 *  - spec diagnostics (src/dsl/diagnostics.ts, TFX1001–TFX3999): located in the .tfx file, collected, exit 1;
 *  - user errors (this catalogue, TFX4001–TFX8999): weights, inputs, devices, limits, files; thrown as TfxError,
 *    printed as `tfx CMD: error TFXnnnn: message` (one line, indented details may follow), exit 1;
 *  - misuse (UsageError): bad flags or arguments, one line naming the problem and 'tfx CMD --help', exit 2.
 * Anything else is an internal error: a tfx bug, exit 70, stack trace only under TFX_DEBUG=1.
 * docs/errors.md lists every code; test/errors-catalogue.test.ts keeps the two in step.
 */

export const USER_ERRORS = {
  // weights and tensor files
  TFX4001: 'malformed tensor file',
  TFX4002: 'weights do not match the spec',
  TFX4003: 'cannot initialize weights',
  TFX4004: 'non-finite weights',
  // inputs
  TFX5001: 'inputs do not match the entry',
  TFX5002: 'cannot make example inputs',
  TFX5003: 'empty dimension',
  TFX5004: 'entry cannot be differentiated',
  TFX5005: 'sizes out of bounds for the spec',
  // devices
  TFX6001: 'WebGPU unavailable',
  TFX6002: 'GPU device error',
  TFX6003: 'CUDA unavailable',
  TFX6004: 'CUDA driver error',
  TFX6005: 'CUDA CPU emulation failed',
  TFX6006: 'the device rejected a kernel',
  TFX6007: 'no kernel for this op on the device yet',
  // limits
  TFX7001: 'file too large',
  TFX7002: 'input too large',
  TFX7003: 'buffer exceeds a device limit',
  TFX7004: 'JSON nested too deeply',
  TFX7005: 'kernel exceeds a device limit',
  // files
  TFX8001: 'cannot read file',
  TFX8002: 'refusing to write over a special file or link',
  TFX8003: 'cannot write output',
  // packages
  TFX8101: 'optional package not installed',
} as const;
export type UserCode = keyof typeof USER_ERRORS;

/** A coded user error: the message says what is wrong and, where it can, what to do; exit 1. */
export class TfxError extends Error {
  override name = 'TfxError';
  constructor(readonly code: UserCode, message: string) {
    super(message);
  }
}

/** Command-line misuse (a missing or bad flag or argument): one line plus usage, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** `error TFXnnnn: message` for a user error; undefined for anything that is not one. */
export function formatUserError(e: unknown): string | undefined {
  return e instanceof TfxError ? `error ${e.code}: ${e.message}` : undefined;
}

/** Warnings share the catalogue (e.g. TFX4004 non-finite weights) and never change the exit status. */
export function warn(code: UserCode, message: string): void {
  process.stderr.write(`tfx: warning ${code}: ${message}\n`);
}

export const EXIT = { ok: 0, user: 1, misuse: 2, internal: 70 } as const;
