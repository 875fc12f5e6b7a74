// Loaded into each library's isolate by isolated-vm's NativeModule (InitForContext): takes over two things
// isolated-vm does for every isolate, so that library code only ever runs inside a timed call.
//
// - Promise rejections. isolated-vm records a promise rejected with no handler, and after the call, outside its
//   timer, on the runtime's main thread, copies the rejection's reason, reading its `message` and `stack` (getters,
//   proxy traps, toString of library code): a reason whose getter never returns wedged the runtime for good.
//   `track(handler)` replaces isolated-vm's callback: V8 reports each rejection without a handler (event 0) and
//   each handler added to such a promise later (event 1) to `handler(event, promise, reason)`, a function of the
//   guest, which reports what stays unhandled from inside the call.
// - Microtasks. V8 runs them (policy kAuto) when a call returns; isolated-vm runs a checkpoint again after it.
//   `track` makes the policy explicit and `checkpoint()` runs them where the guest asks: inside the timed call.
//
// And one thing isolated-vm does not do: count the time of host callbacks against the lock timeout. Its timer
// pauses while the thread runs the host's isolate, where library code's Redis calls run; the host checks the
// wall clock around each such call instead (sandbox.ts), and past the deadline tells the guest, which calls
// `terminate()`: V8 terminates the isolate's execution at its next interrupt check, as RedisGears' timeout
// thread does (the guest runs into a loop right after, so the check comes at once). V8 clears the termination
// once it has left every JavaScript frame of the isolate: the next call runs normally.
#include <v8.h>

using v8::Context;
using v8::Function;
using v8::FunctionCallbackInfo;
using v8::FunctionTemplate;
using v8::HandleScope;
using v8::Integer;
using v8::Isolate;
using v8::Local;
using v8::MicrotasksPolicy;
using v8::Object;
using v8::Private;
using v8::Promise;
using v8::PromiseRejectMessage;
using v8::String;
using v8::TryCatch;
using v8::Value;

namespace {

// Where the handler is kept: a private symbol on the context's global, which no script can read.
Local<Private> HandlerKey(Isolate* isolate) {
  return Private::ForApi(isolate, String::NewFromUtf8Literal(isolate, "redis-writebehind:rejection-handler"));
}

void OnPromiseReject(PromiseRejectMessage message) {
  Local<Promise> promise = message.GetPromise();
  Isolate* isolate = promise->GetIsolate();
  if (isolate->IsExecutionTerminating()) return;
  HandleScope scope(isolate);
  Local<Context> context;
  if (!promise->GetCreationContext().ToLocal(&context)) return;
  Local<Value> handler;
  if (!context->Global()->GetPrivate(context, HandlerKey(isolate)).ToLocal(&handler) || !handler->IsFunction()) return;
  Local<Value> reason = message.GetValue();
  if (reason.IsEmpty()) reason = v8::Undefined(isolate);
  Local<Value> argv[] = {Integer::New(isolate, message.GetEvent()), promise, reason};
  // The guest's handler does not throw; a termination of the call it runs in surfaces there, not here.
  TryCatch try_catch(isolate);
  (void)handler.As<Function>()->Call(context, v8::Undefined(isolate), 3, argv).IsEmpty();
}

void Track(const FunctionCallbackInfo<Value>& info) {
  Isolate* isolate = info.GetIsolate();
  Local<Context> context = isolate->GetCurrentContext();
  if (info.Length() < 1 || !info[0]->IsFunction()) {
    isolate->ThrowException(v8::Exception::TypeError(String::NewFromUtf8Literal(isolate, "track(handler) needs a function")));
    return;
  }
  if (context->Global()->SetPrivate(context, HandlerKey(isolate), info[0]).IsNothing()) return;
  isolate->SetMicrotasksPolicy(MicrotasksPolicy::kExplicit);
  isolate->SetPromiseRejectCallback(OnPromiseReject);
}

void Checkpoint(const FunctionCallbackInfo<Value>& info) {
  info.GetIsolate()->PerformMicrotaskCheckpoint();
}

void Terminate(const FunctionCallbackInfo<Value>& info) {
  info.GetIsolate()->TerminateExecution();
}

bool Export(Isolate* isolate, Local<Context> context, Local<Object> target, const char* name, v8::FunctionCallback callback) {
  Local<Function> function;
  if (!FunctionTemplate::New(isolate, callback)->GetFunction(context).ToLocal(&function)) return false;
  return target->Set(context, String::NewFromUtf8(isolate, name).ToLocalChecked(), function).FromMaybe(false);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) void InitForContext(Isolate* isolate, Local<Context> context, Local<Object> target) {
  if (!Export(isolate, context, target, "track", Track)) return;
  if (!Export(isolate, context, target, "checkpoint", Checkpoint)) return;
  Export(isolate, context, target, "terminate", Terminate);
}
