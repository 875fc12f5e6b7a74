/**
 * Promise rejections of library code that nobody handled, tracked inside the isolate (native/isolate-hooks
 * hands V8's reports to `#onReport`) and reported by the outermost dispatch after its microtasks ran: the reason
 * is turned into text here, under the call's lock timeout, however hostile its getters or toString are.
 *
 * Plain arrays and index loops only: library code may have replaced any prototype method by the time V8 calls.
 */
import { RejectEvent, type HostChannel, type IsolateHooks } from './protocol.js';
import { stringForm } from './types.js';

export class UnhandledRejections {
  readonly #hooks: IsolateHooks;
  readonly #host: HostChannel;
  #promises: Promise<unknown>[] = [];
  #reasons: unknown[] = [];

  constructor(hooks: IsolateHooks, host: HostChannel) {
    this.#hooks = hooks;
    this.#host = host;
    hooks.track((event, promise, reason) => this.#onReport(event, promise, reason));
  }

  /**
   * Runs the microtasks the call left, then reports what is still rejected without a handler, until neither is
   * left: making a reason's text runs library code, which may queue microtasks and reject promises in turn.
   */
  settle(): void {
    this.#hooks.checkpoint();
    while (this.#promises.length > 0) {
      // Taken off before its text is made: a reason whose getter the timeout terminated is not read again.
      const reason = this.#reasons[0];
      this.#remove(0);
      this.#host.rejected(stringForm(reason));
      this.#hooks.checkpoint();
    }
  }

  #onReport(event: number, promise: Promise<unknown>, reason: unknown): void {
    if (event === RejectEvent.WITHOUT_HANDLER) {
      this.#promises[this.#promises.length] = promise;
      this.#reasons[this.#reasons.length] = reason;
    } else if (event === RejectEvent.HANDLER_ADDED) {
      for (let i = 0; i < this.#promises.length; i++) {
        if (this.#promises[i] === promise) {
          this.#remove(i);
          return;
        }
      }
    }
  }

  #remove(index: number): void {
    const promises: Promise<unknown>[] = [];
    const reasons: unknown[] = [];
    for (let i = 0; i < this.#promises.length; i++) {
      if (i === index) continue;
      promises[promises.length] = this.#promises[i]!;
      reasons[reasons.length] = this.#reasons[i];
    }
    this.#promises = promises;
    this.#reasons = reasons;
  }
}
