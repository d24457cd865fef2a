/**
 * Registers the project's own kernels on the wasm backend so that training
 * works there (tfjs-backend-wasm ships no Conv2DBackpropFilter and a slow
 * Conv2DBackpropInput). Call after the wasm backend is registered and before
 * training; idempotent.
 */
export function registerWasmKernels(): void {
  // Filled in by the kernels work (issue 4).
}
