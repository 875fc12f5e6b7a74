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
//
// And the library's compile, which RedisGears does before the lock clock starts (v8_backend.rs compile_library,
// then load_library runs the script under the lock): `compile(code, filename)` compiles the code as a classic
// script in the isolate and returns a function that runs it once, in the calling context, and returns its
// completion value; what the script throws is thrown to the guest that calls it, as from an eval. The host calls
// the guest's compile without a timeout (no library code runs in it) and the top level under the load's timeout,
// so the code is compiled once and its compile is not timed. (isolated-vm's Script would do the same, but what
// its run throws would be copied out of the isolate by isolated-vm, reading `message` and `stack` of library
// code's thrown objects, instead of coming to the guest.)
#include <v8.h>

using v8::Context;
using v8::External;
using v8::Global;
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
using v8::Script;
using v8::ScriptCompiler;
using v8::ScriptOrigin;
using v8::String;
using v8::TryCatch;
using v8::UnboundScript;
using v8::Value;
using v8::WeakCallbackInfo;
using v8::WeakCallbackType;

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

// A compiled library and the function that runs it; freed when the function is collected.
struct Compiled {
  Global<UnboundScript> script;
  Global<Function> run;
};

void RunCompiled(const FunctionCallbackInfo<Value>& info) {
  Isolate* isolate = info.GetIsolate();
  auto* compiled = static_cast<Compiled*>(info.Data().As<External>()->Value());
  if (compiled->script.IsEmpty()) {
    isolate->ThrowException(v8::Exception::Error(String::NewFromUtf8Literal(isolate, "the compiled script ran already")));
    return;
  }
  Local<Script> script = compiled->script.Get(isolate)->BindToCurrentContext();
  compiled->script.Reset();
  Local<Value> result;
  // On failure the exception is left pending: it propagates to the guest's caller.
  if (script->Run(isolate->GetCurrentContext()).ToLocal(&result)) info.GetReturnValue().Set(result);
}

void Compile(const FunctionCallbackInfo<Value>& info) {
  Isolate* isolate = info.GetIsolate();
  Local<Context> context = isolate->GetCurrentContext();
  if (info.Length() < 2 || !info[0]->IsString() || !info[1]->IsString()) {
    isolate->ThrowException(v8::Exception::TypeError(String::NewFromUtf8Literal(isolate, "compile(code, filename) needs two strings")));
    return;
  }
  ScriptOrigin origin(isolate, info[1]);
  ScriptCompiler::Source source(info[0].As<String>(), origin);
  Local<UnboundScript> unbound;
  // A SyntaxError is left pending: it propagates to the guest.
  if (!ScriptCompiler::CompileUnboundScript(isolate, &source).ToLocal(&unbound)) return;
  auto* compiled = new Compiled();
  compiled->script.Reset(isolate, unbound);
  Local<Function> run;
  if (!FunctionTemplate::New(isolate, RunCompiled, External::New(isolate, compiled))->GetFunction(context).ToLocal(&run)) {
    compiled->script.Reset();
    delete compiled;
    return;
  }
  compiled->run.Reset(isolate, run);
  compiled->run.SetWeak(
      compiled,
      [](const WeakCallbackInfo<Compiled>& data) {
        Compiled* done = data.GetParameter();
        done->run.Reset();
        done->script.Reset();
        delete done;
      },
      WeakCallbackType::kParameter);
  info.GetReturnValue().Set(run);
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
  if (!Export(isolate, context, target, "compile", Compile)) return;
  Export(isolate, context, target, "terminate", Terminate);
}
