/**
 * The one place that chooses the TensorFlow.js backend. Neural kinds (mlp) call `ensureTfBackend()` before
 * they create a tensor. The WebAssembly backend (SIMD, single-threaded in Node) is required because it is
 * fast enough and, single-threaded, gives the same float results run after run; the pure-JS cpu backend is
 * 10–50× slower, so falling back to it is never silent: a caller opts in with `{ allowCpu: true }`.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

/** Options for {@link ensureTfBackend}. */
export interface TfBackendOptions {
  /**
   * When the wasm backend cannot start, use the slow pure-JS cpu backend instead of throwing.
   * Default false. Results on cpu agree with wasm only to float32 rounding, not bit for bit.
   */
  allowCpu?: boolean;
}

let wasmInit: Promise<boolean> | undefined;
/** Set once a caller accepted the cpu backend; later plain calls (e.g. from a model's fit) then keep it. */
let cpuAccepted = false;

function isActive(name: string): boolean {
  return tf.engine().backendName === name && tf.findBackend(name) != null;
}

async function startWasm(): Promise<boolean> {
  try {
    return (await tf.setBackend('wasm')) && isActive('wasm');
  } catch {
    return false;
  }
}

/**
 * Makes the wasm backend the active TensorFlow.js backend, once per process (later calls are cheap and
 * concurrent calls share one initialisation). When wasm cannot start and some call in this process passed
 * `allowCpu: true`, the cpu backend is used from then on, also for later calls without the option.
 *
 * @throws Error when the wasm backend cannot be initialised and the cpu backend was not accepted.
 */
export async function ensureTfBackend(options: TfBackendOptions = {}): Promise<void> {
  if (isActive('wasm')) return;
  if (options.allowCpu) cpuAccepted = true;
  wasmInit ??= startWasm();
  if (await wasmInit) {
    // Someone may have switched backends since: switching back to an initialised backend is cheap.
    if (!isActive('wasm')) await tf.setBackend('wasm');
    return;
  }
  if (cpuAccepted) {
    if (!isActive('cpu') && !(await tf.setBackend('cpu'))) {
      throw new Error('tf backend: neither the wasm nor the cpu TensorFlow.js backend could be initialised');
    }
    return;
  }
  // Do not cache a failure nobody accepted: a later call may succeed (e.g. after the wasm path was fixed).
  wasmInit = undefined;
  throw new Error(
    'tf backend: the TensorFlow.js wasm backend (@tensorflow/tfjs-backend-wasm) could not be initialised; ' +
      'check that its .wasm files are installed next to its dist/ scripts, or call ' +
      'ensureTfBackend({ allowCpu: true }) to accept the much slower cpu backend',
  );
}
