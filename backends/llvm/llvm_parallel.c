/*
 * llvm_parallel.c — loop.for {parallel=1}: the body becomes a function
 * that a thread pool can call on any sub-range of the iterations.
 *
 * For the K-th outermost parallel loop of the module (docs/ir.md):
 *
 *   void <name>_par<K>(void *arg, int64_t lo, int64_t hi)      internal
 *     loads the fields of the struct at arg and calls
 *   void <name>_par<K>_body(ws, dims, buffers..., values..., lo, hi)
 *     iterations lo..hi-1 (counted from 0: iv = start + t * step), the
 *     loop's ops translated as in _main.  Pointer parameters are noalias
 *     like _main's, so once it is inlined into the wrapper LLVM still
 *     knows the buffers do not overlap (inlining turns noalias parameters
 *     into scoped alias metadata) and vectorizes the same loops.
 *
 * In _main, the loop becomes: the struct (an alloca in the entry block, so
 * a parallel loop inside a serial one does not grow the stack), the trip
 * count n, and
 *   ctx->parallel_for ? ctx->parallel_for(ctx->parallel_user, n, par, &arg)
 *                     : par(&arg, 0, n)
 *
 * What the body uses from outside: LLVM constants (arith.const, weights)
 * are used as they are; the function's buffer arguments, the workspace
 * and dims (and the pointer to external weights, --weights=external) are
 * passed; a mem.alloc or mem.view defined outside is rebuilt
 * inside from its root (workspace + offset, or the viewed buffer), so
 * every pointer the body sees derives from a noalias parameter exactly as
 * in _main; other scalars and vectors are passed by value (a scalable
 * vector, which a struct cannot hold, through a slot of its own).
 * Parallel loops nested in a parallel body run serially (em_for).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llvm_int.h"
#include "tcc/runtime.h"

typedef struct Outline {
  Em *e;
  bool *inside;      /* by value id: defined within the loop */
  bool *listed;      /* by value id: already collected */
  IrValue **pass;    /* values passed: function args, then scalars/vectors */
  int num_pass;
  IrValue **derived; /* buffers rebuilt in the body, operands first */
  int num_derived;
} Outline;

static void mark_inside(IrOp *op, void *user) {
  Outline *o = user;
  for (int i = 0; i < op->num_results; i++) o->inside[op->results[i]->id] = true;
  for (int r = 0; r < op->num_regions; r++)
    for (int i = 0; i < op->regions[r]->num_args; i++)
      o->inside[op->regions[r]->args[i]->id] = true;
}

/* Records v, a value the body uses, by the way it reaches the body. */
static void add_free(Outline *o, IrValue *v) {
  if (!v || o->inside[v->id] || o->listed[v->id]) return;
  o->listed[v->id] = true;
  if (em_is_blob_weight(o->e, v)) return; /* through the weights pointer */
  if (LLVMIsConstant(em_val(o->e, v))) return; /* constants, weights */
  IrOp *def = v->def;
  /* a shared function's parameter (llvm_share.c) is passed as it is */
  bool param = o->e->shared_param && o->e->shared_param[v->id];
  if (v->type.kind == IR_TYPE_BUFFER && def && !param &&
      (def->kind == IR_OP_VIEW || def->kind == IR_OP_ALLOC)) {
    if (def->kind == IR_OP_VIEW) add_free(o, def->operands[0]);
    o->derived[o->num_derived++] = v;
    return;
  }
  o->pass[o->num_pass++] = v;
}

static void collect(IrOp *op, void *user) {
  for (int i = 0; i < op->num_operands; i++) add_free(user, op->operands[i]);
}

/* How a passed value sits in the struct: by value, or (scalable vector)
 * through a pointer to its own slot. */
static bool by_slot(const IrValue *v) {
  return v->type.kind == IR_TYPE_VECTOR && v->type.scalable;
}

static LLVMTypeRef param_type(Em *e, const IrValue *v) {
  if (v->type.kind == IR_TYPE_BUFFER || v->type.kind == IR_TYPE_TENSOR) return e->ptr;
  return em_type(e, &v->type);
}

static void add_enum(Em *e, LLVMValueRef fn, unsigned idx, const char *k, uint64_t v) {
  unsigned kind = LLVMGetEnumAttributeKindForName(k, strlen(k));
  IR_ASSERT(kind != 0);
  LLVMAddAttributeAtIndex(fn, idx, LLVMCreateEnumAttribute(e->c, kind, v));
}

/* The pointers every body takes first: workspace, dims, and the external
 * weights' when the function outlined from has one. */
static int num_fixed(const Em *e) { return e->wbase ? 3 : 2; }

/* The body function: ws, dims [, weights], passed values, lo, hi. */
static LLVMValueRef make_body_fn(Em *e, Outline *o, const char *name) {
  int nf = num_fixed(e), np = nf + o->num_pass + 2;
  LLVMTypeRef *ps = malloc(sizeof *ps * (size_t)np);
  for (int i = 0; i < nf; i++) ps[i] = e->ptr;
  for (int i = 0; i < o->num_pass; i++) ps[nf + i] = param_type(e, o->pass[i]);
  ps[np - 2] = ps[np - 1] = e->i64;
  LLVMValueRef fn = LLVMAddFunction(
      e->mod, name, LLVMFunctionType(LLVMVoidTypeInContext(e->c), ps, (unsigned)np, 0));
  free(ps);
  LLVMSetLinkage(fn, LLVMInternalLinkage);
  add_enum(e, fn, LLVMAttributeFunctionIndex, "alwaysinline", 0);
  for (int i = 0; i < nf + o->num_pass; i++) {
    if (LLVMTypeOf(LLVMGetParam(fn, (unsigned)i)) != e->ptr) continue;
    add_enum(e, fn, (unsigned)i + 1, "noalias", 0);
    add_enum(e, fn, (unsigned)i + 1, "nocapture", 0);
  }
  add_enum(e, fn, 1, "align", TCC_WORKSPACE_ALIGN);
  if (nf == 3) add_enum(e, fn, 3, "align", TCC_WEIGHTS_ALIGN);
  return fn;
}

/* The wrapper par(arg, lo, hi): loads the struct and calls body. */
static LLVMValueRef make_wrapper(Em *e, Outline *o, LLVMTypeRef st, LLVMValueRef body,
                                 const char *name) {
  LLVMTypeRef ps[3] = {e->ptr, e->i64, e->i64};
  LLVMValueRef fn = LLVMAddFunction(
      e->mod, name, LLVMFunctionType(LLVMVoidTypeInContext(e->c), ps, 3, 0));
  LLVMSetLinkage(fn, LLVMInternalLinkage);
  LLVMPositionBuilderAtEnd(e->b, LLVMAppendBasicBlockInContext(e->c, fn, "entry"));
  int nf = num_fixed(e), np = nf + o->num_pass + 2;
  LLVMValueRef *args = malloc(sizeof *args * (size_t)np);
  LLVMValueRef arg = LLVMGetParam(fn, 0);
  for (int i = 0; i < nf + o->num_pass; i++) {
    IrValue *v = i >= nf ? o->pass[i - nf] : NULL;
    LLVMTypeRef ft = v && !by_slot(v) ? param_type(e, v) : e->ptr;
    LLVMValueRef x = LLVMBuildLoad2(e->b, ft, LLVMBuildStructGEP2(e->b, st, arg, (unsigned)i, ""), "");
    if (v && by_slot(v)) x = LLVMBuildLoad2(e->b, param_type(e, v), x, "");
    args[i] = x;
  }
  args[np - 2] = LLVMGetParam(fn, 1);
  args[np - 1] = LLVMGetParam(fn, 2);
  LLVMBuildCall2(e->b, LLVMGlobalGetValueType(body), body, args, (unsigned)np, "");
  LLVMBuildRetVoid(e->b);
  free(args);
  return fn;
}

/* Fills body: for t in [lo, hi): iv = start + t * step; the loop's ops. */
static bool fill_body(Em *e, Outline *o, IrOp *op, LLVMValueRef fn) {
  IrBlock *blk = op->regions[0];
  int64_t step = ir_attr_int(op, "step", 1);
  int nf = num_fixed(e);
  e->fn = fn;
  e->workspace = LLVMGetParam(fn, 0);
  e->dims = LLVMGetParam(fn, 1);
  if (nf == 3) e->wbase = LLVMGetParam(fn, 2);
  LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(e->c, fn, "entry");
  LLVMPositionBuilderAtEnd(e->b, entry);
  for (int i = 0; i < o->num_pass; i++)
    em_set(e, o->pass[i], LLVMGetParam(fn, (unsigned)(nf + i)));
  for (int i = 0; i < o->num_derived; i++) {
    IrValue *v = o->derived[i];
    if (v->def->kind == IR_OP_VIEW) {
      em_set(e, v, em_val(e, v->def->operands[0]));
    } else {
      LLVMValueRef off = LLVMConstInt(e->i64, (unsigned long long)ir_attr_int(v->def, "offset", 0), 1);
      em_set(e, v, LLVMBuildInBoundsGEP2(e->b, e->i8, e->workspace, &off, 1, ""));
    }
  }
  unsigned np = LLVMCountParams(fn);
  LLVMValueRef lo = LLVMGetParam(fn, np - 2), hi = LLVMGetParam(fn, np - 1);
  LLVMValueRef start = em_val(e, op->operands[0]);
  LLVMBasicBlockRef hdr = LLVMAppendBasicBlockInContext(e->c, fn, "loop");
  LLVMBasicBlockRef bb = LLVMAppendBasicBlockInContext(e->c, fn, "body");
  LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(e->c, fn, "exit");
  LLVMBuildBr(e->b, hdr);
  LLVMPositionBuilderAtEnd(e->b, hdr);
  LLVMValueRef t = LLVMBuildPhi(e->b, e->i64, "");
  LLVMAddIncoming(t, &lo, &entry, 1);
  LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, t, hi, ""), bb, exit);
  LLVMPositionBuilderAtEnd(e->b, bb);
  LLVMValueRef iv = LLVMBuildNSWMul(e->b, t, LLVMConstInt(e->i64, (unsigned long long)step, 1), "");
  em_set(e, blk->args[0], LLVMBuildNSWAdd(e->b, start, iv, ""));
  IrOp *y;
  if (!em_block(e, blk, &y)) return false;
  LLVMBasicBlockRef latch = LLVMAppendBasicBlockInContext(e->c, fn, "latch");
  LLVMBuildBr(e->b, latch);
  LLVMPositionBuilderAtEnd(e->b, latch);
  LLVMValueRef next = LLVMBuildNSWAdd(e->b, t, LLVMConstInt(e->i64, 1, 0), "");
  LLVMAddIncoming(t, &next, &latch, 1);
  LLVMBuildBr(e->b, hdr);
  LLVMPositionBuilderAtEnd(e->b, exit);
  LLVMBuildRetVoid(e->b);
  return true;
}

/* In _main: the struct, n, and the call through ctx->parallel_for. */
static void emit_call(Em *e, Outline *o, IrOp *op, LLVMTypeRef st, LLVMValueRef wrapper) {
  /* Allocas at the top of the entry block: one per loop, not per run of it. */
  LLVMBuilderRef ab = em_entry_builder(e);
  LLVMValueRef arg = LLVMBuildAlloca(ab, st, "par_arg");
  int nf = num_fixed(e);
  LLVMValueRef fixed[3] = {e->workspace, e->dims, e->wbase};
  for (int i = 0; i < nf + o->num_pass; i++) {
    IrValue *v = i >= nf ? o->pass[i - nf] : NULL;
    LLVMValueRef x = v ? em_val(e, v) : fixed[i];
    if (v && by_slot(v)) {
      LLVMValueRef slot = LLVMBuildAlloca(ab, param_type(e, v), "par_slot");
      LLVMBuildStore(e->b, x, slot);
      x = slot;
    }
    LLVMBuildStore(e->b, x, LLVMBuildStructGEP2(e->b, st, arg, (unsigned)i, ""));
  }

  /* n = lo < hi ? (hi - lo - 1) / step + 1 : 0 */
  LLVMValueRef lo = em_val(e, op->operands[0]), hi = em_val(e, op->operands[1]);
  LLVMValueRef one = LLVMConstInt(e->i64, 1, 0);
  LLVMValueRef step = LLVMConstInt(e->i64, (unsigned long long)ir_attr_int(op, "step", 1), 1);
  LLVMValueRef span = LLVMBuildSub(e->b, LLVMBuildSub(e->b, hi, lo, ""), one, "");
  LLVMValueRef n = LLVMBuildAdd(e->b, LLVMBuildSDiv(e->b, span, step, ""), one, "");
  n = LLVMBuildSelect(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, lo, hi, ""), n,
                      LLVMConstInt(e->i64, 0, 0), "n");

  LLVMBasicBlockRef thr = LLVMAppendBasicBlockInContext(e->c, e->fn, "par_threads");
  LLVMBasicBlockRef ser = LLVMAppendBasicBlockInContext(e->c, e->fn, "par_serial");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(e->c, e->fn, "par_done");
  LLVMBuildCondBr(e->b, LLVMBuildIsNull(e->b, e->pfor, ""), ser, thr);
  LLVMPositionBuilderAtEnd(e->b, thr);
  LLVMTypeRef pt[4] = {e->ptr, e->i64, e->ptr, e->ptr};
  LLVMTypeRef pft = LLVMFunctionType(LLVMVoidTypeInContext(e->c), pt, 4, 0);
  LLVMValueRef pargs[4] = {e->puser, n, wrapper, arg};
  LLVMBuildCall2(e->b, pft, e->pfor, pargs, 4, "");
  LLVMBuildBr(e->b, done);
  LLVMPositionBuilderAtEnd(e->b, ser);
  LLVMValueRef sargs[3] = {arg, LLVMConstInt(e->i64, 0, 0), n};
  LLVMBuildCall2(e->b, LLVMGlobalGetValueType(wrapper), wrapper, sargs, 3, "");
  LLVMBuildBr(e->b, done);
  LLVMPositionBuilderAtEnd(e->b, done);
}

bool em_parallel_for(Em *e, IrOp *op) {
  IrBlock *blk = op->regions[0];
  if (op->num_operands != 2 || op->num_results != 0 || blk->num_args != 1 ||
      ir_attr_int(op, "step", 1) <= 0)
    return em_fail(op, "internal error: malformed parallel loop.for");
  /* Each value is listed at most once: arrays by value count suffice. */
  size_t ids = (size_t)e->m->next_value_id + 1;
  Outline o = {.e = e, .inside = calloc(ids, 1), .listed = calloc(ids, 1),
               .pass = malloc(sizeof(IrValue *) * ids), .derived = malloc(sizeof(IrValue *) * ids)};
  mark_inside(op, &o);
  ir_walk(blk, mark_inside, &o);
  add_free(&o, op->operands[0]);
  ir_walk(blk, collect, &o);

  /* The struct: workspace, dims [, weights], then the passed values. */
  int nfix = num_fixed(e), nf = nfix + o.num_pass;
  LLVMTypeRef *fields = malloc(sizeof *fields * (size_t)nf);
  for (int i = 0; i < nfix; i++) fields[i] = e->ptr;
  for (int i = 0; i < o.num_pass; i++)
    fields[nfix + i] = by_slot(o.pass[i]) ? e->ptr : param_type(e, o.pass[i]);
  LLVMTypeRef st = LLVMStructTypeInContext(e->c, fields, (unsigned)nf, 0);
  free(fields);

  /* Saved: what the body function overwrites. */
  LLVMValueRef *saved = malloc(sizeof *saved * (size_t)(o.num_pass + o.num_derived + 1));
  for (int i = 0; i < o.num_pass; i++) saved[i] = em_val(e, o.pass[i]);
  for (int i = 0; i < o.num_derived; i++) saved[o.num_pass + i] = em_val(e, o.derived[i]);
  LLVMValueRef fn = e->fn, ws = e->workspace, dims = e->dims, wbase = e->wbase;
  LLVMBasicBlockRef here = LLVMGetInsertBlock(e->b);

  int k = e->num_parallel++;
  char name[256]; /* not the module's arena: units are emitted on several threads */
  snprintf(name, sizeof name, "%s_par%d_body", e->m->name, k);
  LLVMValueRef body = make_body_fn(e, &o, name);
  snprintf(name, sizeof name, "%s_par%d", e->m->name, k);
  LLVMValueRef wrapper = make_wrapper(e, &o, st, body, name);
  e->in_parallel = true;
  bool ok = fill_body(e, &o, op, body);
  e->in_parallel = false;

  e->fn = fn;
  e->workspace = ws;
  e->dims = dims;
  e->wbase = wbase;
  for (int i = 0; i < o.num_pass; i++) em_set(e, o.pass[i], saved[i]);
  for (int i = 0; i < o.num_derived; i++) em_set(e, o.derived[i], saved[o.num_pass + i]);
  LLVMPositionBuilderAtEnd(e->b, here);
  if (ok) emit_call(e, &o, op, st, wrapper);
  free(saved);
  free(o.inside);
  free(o.listed);
  free(o.pass);
  free(o.derived);
  return ok;
}
