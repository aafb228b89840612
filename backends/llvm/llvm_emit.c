/*
 * llvm_emit.c — the lowered main function of a module -> an LLVM module ->
 * an object file in memory.
 *
 * The object defines two functions and the weights, every name prefixed
 * with the module name so several models link into one program:
 *
 *   int32_t <name>_run(const tcc_ctx *ctx, const void *const inputs[],
 *                      void *const outputs[])                 external
 *     (a model with run-time dims: <name>_run_dims(ctx, int64_t dims[],
 *      inputs, outputs) instead, dims indexed by sym)
 *   i32 <name>_main(ptr in0.., ptr out0.., ptr workspace, ptr dims,
 *                   ptr parallel_for, ptr parallel_user)      internal
 *     (returns 0, or k + 1 when the k-th rt.check failed)
 *   <name>_seg<K>: segments of _main's body, <name>_shared<K>: loops of
 *     nodes of the same shape, called by each (llvm_share.c)    internal
 *   <name>_par<K>, <name>_par<K>_body: parallel loop bodies   internal
 *     (llvm_parallel.c)
 *   <name>_w_<weight>: constant i8 arrays, 64-aligned        internal
 *
 * _run checks its arguments through the runtime (tcc_rt_check), reads the
 * buffer pointers and ctx->workspace, and calls _main; a failed rt.check
 * makes _main return at once, and _run turns its number into the status
 * and the node reported through ctx->error (em_report).  _main's pointer
 * arguments are noalias: that is what lets LLVM vectorize the loops (the
 * caller promises outputs overlap nothing; docs/runtime.md).  _main is the
 * IR body translated op by op: loop.for and loop.while become
 * header/body/latch blocks with phis; memory ops address buffers row-major from their static dims;
 * everything that only computes values lives in llvm_ops.c.  The backend
 * never learns about tensor ops.
 *
 * Output is a pure function of the input: no pointers or counters in names,
 * no timestamps; every LLVM object is disposed before returning.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "llvm_int.h"
#include "tcc/runtime.h"
#include "timer.h"

#define WEIGHTS_LARGE_MODEL (1ull << 30) /* beyond 1 GiB: large code model */

/* ------------------------------------------------------------- helpers */
/* Units are emitted on several threads (em_units) that report into the
 * compiling thread's diagnostics: one at a time. */
static pthread_mutex_t diag_lock = PTHREAD_MUTEX_INITIALIZER;

bool em_fail(const IrOp *op, const char *fmt, ...) {
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&diag_lock);
  diag_at(DIAG_ERROR, op ? &op->loc : NULL, "%s", text);
  pthread_mutex_unlock(&diag_lock);
  return false;
}

LLVMTypeRef em_elem_type(Em *e, IrElem el) {
  switch (el) {
  case IR_F32: return LLVMFloatTypeInContext(e->c);
  case IR_F64: return LLVMDoubleTypeInContext(e->c);
  case IR_F16: return LLVMHalfTypeInContext(e->c);
  case IR_BF16: return LLVMBFloatTypeInContext(e->c);
  case IR_BOOL: return e->i1;
  default: return LLVMIntTypeInContext(e->c, 8 * (unsigned)ir_elem_size(el));
  }
}

LLVMTypeRef em_mem_elem_type(Em *e, IrElem el) {
  return el == IR_BOOL ? e->i8 : em_elem_type(e, el);
}

LLVMTypeRef em_type(Em *e, const IrType *t) {
  LLVMTypeRef el = em_elem_type(e, t->elem);
  if (t->kind != IR_TYPE_VECTOR) return el;
  return t->scalable ? LLVMScalableVectorType(el, (unsigned)t->lanes)
                     : LLVMVectorType(el, (unsigned)t->lanes);
}

bool em_is_blob_weight(const Em *e, const IrValue *v) {
  return e->ext_offset && e->ext_offset[v->id] != UINT64_MAX && !e->vals[v->id];
}

LLVMBuilderRef em_entry_builder(Em *e) {
  LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(e->fn);
  LLVMValueRef first = LLVMGetFirstInstruction(entry);
  if (first) LLVMPositionBuilderBefore(e->entry_b, first);
  else LLVMPositionBuilderAtEnd(e->entry_b, entry);
  return e->entry_b;
}

/* An external weight: its address, wbase + offset, so that it dominates
 * every use. */
static LLVMValueRef em_blob_weight(Em *e, const IrValue *v) {
  IR_ASSERT(e->wbase);
  LLVMValueRef off = LLVMConstInt(e->i64, e->ext_offset[v->id], 0);
  return LLVMBuildInBoundsGEP2(em_entry_builder(e), e->i8, e->wbase, &off, 1, "");
}

LLVMValueRef em_val(Em *e, const IrValue *v) {
  IR_ASSERT(v && v->id >= 0 && v->id < e->m->next_value_id);
  if (em_is_blob_weight(e, v)) return em_blob_weight(e, v);
  IR_ASSERT(e->vals[v->id]);
  return e->vals[v->id];
}

void em_set(Em *e, const IrValue *v, LLVMValueRef x) { e->vals[v->id] = x; }

LLVMValueRef em_intrinsic(Em *e, const char *name, LLVMTypeRef *over,
                          int n_over, LLVMValueRef *args, int n_args) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  IR_ASSERT(id != 0);
  LLVMValueRef f = LLVMGetIntrinsicDeclaration(e->mod, id, over, (size_t)n_over);
  LLVMTypeRef ft = LLVMIntrinsicGetType(e->c, id, over, (size_t)n_over);
  return LLVMBuildCall2(e->b, ft, f, args, (unsigned)n_args, "");
}

static LLVMValueRef i64c(Em *e, int64_t v) {
  return LLVMConstInt(e->i64, (unsigned long long)v, 1);
}

static void fn_attr(Em *e, LLVMValueRef fn, const char *k, const char *v) {
  LLVMAttributeRef a = LLVMCreateStringAttribute(e->c, k, (unsigned)strlen(k), v,
                                                 (unsigned)strlen(v));
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, a);
}

static void enum_attr(Em *e, LLVMValueRef fn, unsigned idx, const char *k,
                      uint64_t v) {
  unsigned kind = LLVMGetEnumAttributeKindForName(k, strlen(k));
  IR_ASSERT(kind != 0);
  LLVMAddAttributeAtIndex(fn, idx, LLVMCreateEnumAttribute(e->c, kind, v));
}

/* -------------------------------------------------------------- memory */
/* The run-time value of sym k: dims[k], loaded where it is used (the
 * pointer is noalias, so LLVM hoists the load out of loops). */
static LLVMValueRef em_dim_ptr(Em *e, int k) {
  LLVMValueRef i = i64c(e, k);
  return LLVMBuildInBoundsGEP2(e->b, e->i64, e->dims, &i, 1, "");
}

static LLVMValueRef em_dim(Em *e, IrDim d) {
  if (d.sym < 0) return i64c(e, d.size);
  LLVMValueRef v = LLVMBuildLoad2(e->b, e->i64, em_dim_ptr(e, d.sym), "");
  LLVMSetAlignment(v, 8);
  return v;
}

/* Address of buf[idx...] (row-major; a run-time dim multiplies the strides
 * to its left by its value).  inbounds: it lies inside buf, what a load or
 * store promises; else the GEP wraps (a prefetch's may lie past the end). */
static bool em_elem_addr(Em *e, IrOp *op, IrValue *buf, IrValue *const *idx,
                         int n_idx, bool inbounds, LLVMValueRef *out) {
  const IrType *t = &buf->type;
  if (n_idx != t->rank)
    return em_fail(op, "internal error: %d indices for a rank-%d buffer", n_idx,
                   t->rank);
  LLVMValueRef lin = NULL, dyn_stride = NULL;
  int64_t stride = 1;
  for (int i = t->rank - 1; i >= 0; i--) {
    LLVMValueRef x = em_val(e, idx[i]);
    if (stride != 1) x = LLVMBuildNSWMul(e->b, x, i64c(e, stride), "");
    if (dyn_stride) x = LLVMBuildNSWMul(e->b, x, dyn_stride, "");
    lin = lin ? LLVMBuildNSWAdd(e->b, lin, x, "") : x;
    if (t->dims[i].sym < 0) {
      stride *= t->dims[i].size;
    } else {
      LLVMValueRef d = em_dim(e, t->dims[i]);
      dyn_stride = dyn_stride ? LLVMBuildNSWMul(e->b, dyn_stride, d, "") : d;
    }
  }
  if (!lin) lin = i64c(e, 0);
  LLVMTypeRef et = em_mem_elem_type(e, t->elem);
  *out = inbounds ? LLVMBuildInBoundsGEP2(e->b, et, em_val(e, buf), &lin, 1, "")
                  : LLVMBuildGEP2(e->b, et, em_val(e, buf), &lin, 1, "");
  return true;
}

static bool em_addr(Em *e, IrOp *op, IrValue *buf, IrValue *const *idx,
                    int n_idx, LLVMValueRef *out) {
  return em_elem_addr(e, op, buf, idx, n_idx, true, out);
}

/* mem.load / mem.vload: bool is i8 in memory, i1 in registers. */
/* The constant mask of a {valid=n} access: lanes 0 .. n-1 on.  Constant,
 * so targets without masked moves get plain loads/stores of those lanes. */
static LLVMValueRef em_lane_mask(Em *e, int lanes, int valid) {
  LLVMValueRef *bits = malloc(sizeof *bits * (size_t)lanes);
  IR_ASSERT(bits);
  for (int l = 0; l < lanes; l++) bits[l] = LLVMConstInt(e->i1, l < valid, 0);
  LLVMValueRef mask = LLVMConstVector(bits, (unsigned)lanes);
  free(bits);
  return mask;
}

static bool em_load(Em *e, IrOp *op) {
  IrValue *buf = op->operands[0], *res = op->results[0];
  LLVMValueRef p;
  if (!em_addr(e, op, buf, op->operands + 1, op->num_operands - 1, &p))
    return false;
  IrType mt = res->type;
  LLVMTypeRef lt = em_type(e, &mt);
  if (mt.elem == IR_BOOL) {
    mt.elem = IR_U8;
    lt = em_type(e, &mt);
  }
  unsigned align = (unsigned)ir_elem_size(buf->type.elem);
  LLVMValueRef x;
  int valid = (int)ir_attr_int(op, "valid", 0);
  int stride = (int)ir_attr_int(op, "stride", 1);
  if (stride > 1) {
    /* the span from the first lane's element to the last valid one, then
     * every stride-th element of it: the span is one buffer's memory, and
     * the mask keeps the load inside it */
    int lanes = mt.lanes, last = valid ? valid - 1 : lanes - 1;
    IrType wt = mt;
    wt.lanes = lanes * stride;
    LLVMTypeRef wide = em_type(e, &wt);
    LLVMTypeRef over[2] = {wide, LLVMTypeOf(p)};
    LLVMValueRef args[4] = {p, LLVMConstInt(e->i32, align, 0),
                            em_lane_mask(e, wt.lanes, last * stride + 1), LLVMConstNull(wide)};
    LLVMValueRef span = em_intrinsic(e, "llvm.masked.load", over, 2, args, 4);
    LLVMValueRef *pick = malloc(sizeof *pick * (size_t)lanes);
    IR_ASSERT(pick);
    for (int l = 0; l < lanes; l++) pick[l] = LLVMConstInt(e->i32, (unsigned long long)(l * stride), 0);
    x = LLVMBuildShuffleVector(e->b, span, LLVMGetUndef(wide),
                               LLVMConstVector(pick, (unsigned)lanes), "");
    free(pick);
  } else if (valid) {
    LLVMTypeRef over[2] = {lt, LLVMTypeOf(p)};
    LLVMValueRef args[4] = {p, LLVMConstInt(e->i32, align, 0),
                            em_lane_mask(e, mt.lanes, valid), LLVMConstNull(lt)};
    x = em_intrinsic(e, "llvm.masked.load", over, 2, args, 4);
  } else {
    x = LLVMBuildLoad2(e->b, lt, p, "");
    LLVMSetAlignment(x, align);
  }
  if (res->type.elem == IR_BOOL)
    x = LLVMBuildICmp(e->b, LLVMIntNE, x, LLVMConstNull(lt), "");
  em_set(e, res, x);
  return true;
}

static bool em_store(Em *e, IrOp *op) {
  IrValue *v = op->operands[0], *buf = op->operands[1];
  LLVMValueRef p;
  if (!em_addr(e, op, buf, op->operands + 2, op->num_operands - 2, &p))
    return false;
  LLVMValueRef x = em_val(e, v);
  if (v->type.elem == IR_BOOL) {
    IrType mt = v->type;
    mt.elem = IR_U8;
    x = LLVMBuildZExt(e->b, x, em_type(e, &mt), "");
  }
  unsigned align = (unsigned)ir_elem_size(buf->type.elem);
  int valid = (int)ir_attr_int(op, "valid", 0);
  int stride = (int)ir_attr_int(op, "stride", 1);
  if (stride > 1) {
    /* lane l goes to lane l*stride of a wide vector, stored under a mask
     * of those lanes: the elements between keep their values */
    int lanes = v->type.lanes, n = valid ? valid : lanes;
    IrType wt = v->type;
    wt.lanes = lanes * stride;
    LLVMValueRef *pick = malloc(sizeof *pick * (size_t)wt.lanes);
    LLVMValueRef *bits = malloc(sizeof *bits * (size_t)wt.lanes);
    IR_ASSERT(pick && bits);
    for (int l = 0; l < wt.lanes; l++) {
      bool on = l % stride == 0 && l / stride < n;
      pick[l] = l % stride == 0 ? LLVMConstInt(e->i32, (unsigned long long)(l / stride), 0)
                                : LLVMGetUndef(e->i32);
      bits[l] = LLVMConstInt(e->i1, on, 0);
    }
    LLVMValueRef wide = LLVMBuildShuffleVector(e->b, x, LLVMGetUndef(LLVMTypeOf(x)),
                                               LLVMConstVector(pick, (unsigned)wt.lanes), "");
    LLVMValueRef mask = LLVMConstVector(bits, (unsigned)wt.lanes);
    free(pick);
    free(bits);
    LLVMTypeRef over[2] = {LLVMTypeOf(wide), LLVMTypeOf(p)};
    LLVMValueRef args[4] = {wide, p, LLVMConstInt(e->i32, align, 0), mask};
    em_intrinsic(e, "llvm.masked.store", over, 2, args, 4);
    return true;
  }
  if (valid) {
    LLVMTypeRef over[2] = {LLVMTypeOf(x), LLVMTypeOf(p)};
    LLVMValueRef args[4] = {x, p, LLVMConstInt(e->i32, align, 0),
                            em_lane_mask(e, v->type.lanes, valid)};
    em_intrinsic(e, "llvm.masked.store", over, 2, args, 4);
    return true;
  }
  LLVMValueRef st = LLVMBuildStore(e->b, x, p);
  LLVMSetAlignment(st, align);
  return true;
}

/* mem.prefetch: llvm.prefetch (read, keep in all cache levels, data) of an
 * address computed without `inbounds`: it may lie past the buffer, and a
 * prefetch never faults.  Targets without the instruction drop it. */
static bool em_prefetch(Em *e, IrOp *op) {
  IrValue *buf = op->operands[0];
  LLVMValueRef p;
  if (!em_elem_addr(e, op, buf, op->operands + 1, op->num_operands - 1, false, &p))
    return false;
  LLVMTypeRef over[1] = {LLVMTypeOf(p)};
  LLVMValueRef args[4] = {p, LLVMConstInt(e->i32, 0, 0), LLVMConstInt(e->i32, 3, 0),
                          LLVMConstInt(e->i32, 1, 0)};
  em_intrinsic(e, "llvm.prefetch", over, 1, args, 4);
  return true;
}

static bool em_alloc(Em *e, IrOp *op) {
  const IrAttr *a = ir_attr_get(op, "offset");
  uint64_t n = 0;
  if (!a || a->kind != IR_ATTR_INT || a->i < 0)
    return em_fail(op, "internal error: mem.alloc has no planned offset "
                       "(the memory plan did not run)");
  if (!ir_type_nbytes_bound(e->m, &op->results[0]->type, &n))
    return em_fail(op, "internal error: mem.alloc of unbounded size");
  if ((uint64_t)a->i + n > (uint64_t)e->m->main->workspace_size)
    return em_fail(op, "internal error: mem.alloc at offset %lld (%llu bytes) "
                       "lies outside the %lld-byte workspace", (long long)a->i,
                   (unsigned long long)n, (long long)e->m->main->workspace_size);
  LLVMValueRef off = i64c(e, a->i);
  em_set(e, op->results[0],
         LLVMBuildInBoundsGEP2(e->b, e->i8, e->workspace, &off, 1, ""));
  return true;
}

/* mem.copy: as many bytes as the source holds at its run-time dims. */
static bool em_copy(Em *e, IrOp *op) {
  const IrType *t = &op->operands[0]->type;
  unsigned al = (unsigned)ir_elem_size(t->elem);
  LLVMValueRef n = i64c(e, (int64_t)al);
  for (int i = 0; i < t->rank; i++)
    n = LLVMBuildNUWMul(e->b, n, em_dim(e, t->dims[i]), "");
  LLVMBuildMemCpy(e->b, em_val(e, op->operands[1]), al, em_val(e, op->operands[0]),
                  al, n);
  return true;
}

static bool em_dim_op(Em *e, IrOp *op) {
  int k = ir_sym_find(e->m, ir_attr_string(op, "sym", ""));
  if (k < 0) return em_fail(op, "internal error: unknown sym");
  if (op->kind == IR_OP_DIM_GET) {
    em_set(e, op->results[0], em_dim(e, (IrDim){0, k}));
    return true;
  }
  LLVMValueRef st = LLVMBuildStore(e->b, em_val(e, op->operands[0]), em_dim_ptr(e, k));
  LLVMSetAlignment(st, 8);
  return true;
}

/* rt.check: where the condition is false, _main returns the check's
 * number (k + 1); the op's node and status are _run's business. */
static bool em_check(Em *e, IrOp *op) {
  if (e->in_parallel)
    return em_fail(op, "internal error: rt.check inside a parallel loop");
  e->checks = realloc(e->checks, sizeof *e->checks * (size_t)(e->num_checks + 1));
  IR_ASSERT(e->checks);
  e->checks[e->num_checks++] = op;
  LLVMBasicBlockRef fail = LLVMAppendBasicBlockInContext(e->c, e->fn, "check_fail");
  LLVMBasicBlockRef cont = LLVMAppendBasicBlockInContext(e->c, e->fn, "check_ok");
  LLVMBuildCondBr(e->b, em_val(e, op->operands[0]), cont, fail);
  LLVMPositionBuilderAtEnd(e->b, fail);
  LLVMBuildRet(e->b, LLVMConstInt(e->i32, (unsigned long long)e->num_checks, 0));
  LLVMPositionBuilderAtEnd(e->b, cont);
  return true;
}

/* rt.mark: a call of the application's profiler, void
 * tcc_profile_mark(int32_t layer) (docs/runtime.md "Per-layer profile"). */
static bool em_mark(Em *e, IrOp *op) {
  LLVMTypeRef ft = LLVMFunctionType(LLVMVoidTypeInContext(e->c), &e->i32, 1, 0);
  LLVMValueRef fn = LLVMGetNamedFunction(e->mod, "tcc_profile_mark");
  if (!fn) fn = LLVMAddFunction(e->mod, "tcc_profile_mark", ft);
  LLVMValueRef layer = LLVMConstInt(e->i32, (unsigned long long)ir_attr_int(op, "layer", 0), 0);
  LLVMBuildCall2(e->b, ft, fn, &layer, 1, "");
  return true;
}

/* --------------------------------------------------------------- loops */
static bool em_op(Em *e, IrOp *op);

/* Translates the ops of blk; *yield gets its loop.yield, if any. */
bool em_block(Em *e, IrBlock *blk, IrOp **yield) {
  *yield = NULL;
  for (IrOp *op = blk->first; op; op = op->next) {
    if (op->kind == IR_OP_YIELD)
      *yield = op;
    else if (!em_op(e, op))
      return false;
  }
  return true;
}

/* loop.for: preheader -> header (phis, iv < hi) -> body ... -> latch
 * (iv += step) -> header; exit.  The results are the header's phis, which
 * hold the final values when the loop exits. */
static bool em_for(Em *e, IrOp *op) {
  IrBlock *body = op->regions[0];
  int n = op->num_operands - 2;
  int64_t step = ir_attr_int(op, "step", 1);
  if (step <= 0 || body->num_args != n + 1 || op->num_results != n)
    return em_fail(op, "internal error: malformed loop.for");
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(e->b);
  LLVMBasicBlockRef hdr = LLVMAppendBasicBlockInContext(e->c, e->fn, "loop");
  LLVMBasicBlockRef bb = LLVMAppendBasicBlockInContext(e->c, e->fn, "body");
  LLVMBuildBr(e->b, hdr);
  LLVMPositionBuilderAtEnd(e->b, hdr);
  LLVMValueRef *phis = malloc(sizeof *phis * (size_t)(n + 1));
  for (int i = 0; i <= n; i++) {
    phis[i] = LLVMBuildPhi(e->b, em_type(e, &body->args[i]->type), "");
    LLVMValueRef init = em_val(e, op->operands[i ? i + 1 : 0]);
    LLVMAddIncoming(phis[i], &init, &pre, 1);
    em_set(e, body->args[i], phis[i]);
  }
  LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(e->c, e->fn, "exit");
  LLVMValueRef cond = LLVMBuildICmp(e->b, LLVMIntSLT, phis[0],
                                    em_val(e, op->operands[1]), "");
  LLVMBuildCondBr(e->b, cond, bb, exit);
  LLVMPositionBuilderAtEnd(e->b, bb);
  IrOp *y;
  bool ok = em_block(e, body, &y);
  if (ok && (y ? y->num_operands : n) != n)
    ok = em_fail(y, "internal error: loop.yield count differs from the loop's");
  if (ok) {
    LLVMBasicBlockRef latch = LLVMAppendBasicBlockInContext(e->c, e->fn, "latch");
    LLVMBuildBr(e->b, latch);
    LLVMPositionBuilderAtEnd(e->b, latch);
    LLVMValueRef next = LLVMBuildNSWAdd(e->b, phis[0], i64c(e, step), "");
    LLVMBuildBr(e->b, hdr);
    LLVMAddIncoming(phis[0], &next, &latch, 1);
    for (int i = 0; i < n; i++) {
      LLVMValueRef v = y ? em_val(e, y->operands[i]) : phis[i + 1];
      LLVMAddIncoming(phis[i + 1], &v, &latch, 1);
      em_set(e, op->results[i], phis[i + 1]);
    }
    LLVMPositionBuilderAtEnd(e->b, exit);
  }
  free(phis);
  return ok;
}

/* loop.while: preheader -> header (phis for the condition and the
 * iteration values; branch on the condition) -> body ... -> latch (the
 * yielded condition and values flow back) -> header; exit.  The results are
 * the header's iteration phis, so a loop whose condition starts false gives
 * its inits. */
static bool em_while(Em *e, IrOp *op) {
  IrBlock *body = op->regions[0];
  int n = op->num_operands - 1;
  if (body->num_args != n || op->num_results != n)
    return em_fail(op, "internal error: malformed loop.while");
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(e->b);
  LLVMBasicBlockRef hdr = LLVMAppendBasicBlockInContext(e->c, e->fn, "while");
  LLVMBasicBlockRef bb = LLVMAppendBasicBlockInContext(e->c, e->fn, "body");
  LLVMBuildBr(e->b, hdr);
  LLVMPositionBuilderAtEnd(e->b, hdr);
  LLVMValueRef *phis = malloc(sizeof *phis * (size_t)(n + 1));
  for (int i = 0; i <= n; i++) {
    phis[i] = LLVMBuildPhi(e->b, em_type(e, &op->operands[i]->type), "");
    LLVMValueRef init = em_val(e, op->operands[i]);
    LLVMAddIncoming(phis[i], &init, &pre, 1);
    if (i) em_set(e, body->args[i - 1], phis[i]);
  }
  LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(e->c, e->fn, "exit");
  LLVMBuildCondBr(e->b, phis[0], bb, exit);
  LLVMPositionBuilderAtEnd(e->b, bb);
  IrOp *y;
  bool ok = em_block(e, body, &y);
  if (ok && (!y || y->num_operands != n + 1))
    ok = em_fail(y ? y : op, "internal error: loop.while needs a loop.yield of its condition "
                 "and %d values", n);
  if (ok) {
    LLVMBasicBlockRef latch = LLVMAppendBasicBlockInContext(e->c, e->fn, "latch");
    LLVMBuildBr(e->b, latch);
    LLVMPositionBuilderAtEnd(e->b, latch);
    LLVMBuildBr(e->b, hdr);
    for (int i = 0; i <= n; i++) {
      LLVMValueRef v = em_val(e, y->operands[i]);
      LLVMAddIncoming(phis[i], &v, &latch, 1);
      if (i) em_set(e, op->results[i - 1], phis[i]);
    }
    LLVMPositionBuilderAtEnd(e->b, exit);
  }
  free(phis);
  return ok;
}

static bool em_op(Em *e, IrOp *op) {
  bool handled = false;
  switch (op->kind) {
  case IR_OP_FOR:
    if (!e->in_parallel && ir_attr_int(op, "parallel", 0) == 1) return em_parallel_for(e, op);
    return em_for(e, op);
  case IR_OP_WHILE: return em_while(e, op);
  case IR_OP_ALLOC: return em_alloc(e, op);
  case IR_OP_VIEW:
    em_set(e, op->results[0], em_val(e, op->operands[0]));
    return true;
  case IR_OP_COPY: return em_copy(e, op);
  case IR_OP_DIM_GET:
  case IR_OP_DIM_SET: return em_dim_op(e, op);
  case IR_OP_CHECK: return em_check(e, op);
  case IR_OP_MARK: return em_mark(e, op);
  case IR_OP_LOAD:
  case IR_OP_VLOAD: return em_load(e, op);
  case IR_OP_STORE:
  case IR_OP_VSTORE: return em_store(e, op);
  case IR_OP_PREFETCH: return em_prefetch(e, op);
  default:
    if (!em_op_compute(e, op, &handled)) return false;
    if (handled) return true;
    return em_fail(op, "internal error: '%s' is not a loop-level op",
                   ir_op_info(op->kind)->name);
  }
}

/* ------------------------------------------------------------ functions */
static void em_common_attrs(Em *e, const TargetRow *row, LLVMValueRef fn,
                            const char *cpu, const char *features) {
  fn_attr(e, fn, "target-cpu", cpu);
  if (*features) fn_attr(e, fn, "target-features", features);
  enum_attr(e, fn, LLVMAttributeFunctionIndex, "nounwind", 0);
  if (row->fn_attrs) row->fn_attrs(row, e->c, fn, cpu, features);
}

/* The weights, one 64-aligned constant <name>_w_<weight> each: defined
 * here (define) or declared, for a unit module whose object is merged with
 * the one that defines them.  Internal in a module of its own; hidden
 * globals when objects are merged (local = false). */
static bool em_weights(Em *e, const TargetRow *row, bool define, bool local) {
  LLVMValueRef blob = NULL;
  for (int i = 0; i < e->m->num_weights; i++) {
    IrWeight *w = e->m->weights[i];
    if (!w->data && w->nbytes)
      return em_fail(NULL, "weight $%s has no data", w->name);
    if (e->ext_offset && e->ext_offset[w->value->id] != UINT64_MAX) continue;
    if (e->blob_offset && e->blob_offset[i] != UINT64_MAX) {
      if (!blob) { /* defined when the object is written (elf_attach_blob) */
        char blob_name[256];
        snprintf(blob_name, sizeof blob_name, "%s_weights", e->m->name);
        blob = LLVMAddGlobal(e->mod, LLVMArrayType2(e->i8, e->blob_size), blob_name);
        LLVMSetGlobalConstant(blob, 1);
        LLVMSetAlignment(blob, 64);
        LLVMSetVisibility(blob, LLVMHiddenVisibility); /* implies dso_local */
      }
      LLVMValueRef off = LLVMConstInt(e->i64, e->blob_offset[i], 0);
      em_set(e, w->value, LLVMConstInBoundsGEP2(e->i8, blob, &off, 1));
      continue;
    }
    char name[512];
    snprintf(name, sizeof name, "%s_w_%s", e->m->name, w->name);
    bool w_define = define, w_local = local;
    if (!local && w->nbytes <= WEIGHT_FOLDABLE_BYTES) {
      /* a copy in each unit, under a name apart from the shared ones */
      w_define = w_local = true;
      snprintf(name, sizeof name, "%s_k_%s", e->m->name, w->name);
    }
    LLVMValueRef g;
    if (w_define) {
      LLVMValueRef init = LLVMConstStringInContext2(
          e->c, w->data ? w->data : "", (size_t)w->nbytes, 1);
      g = LLVMAddGlobal(e->mod, LLVMTypeOf(init), name);
      LLVMSetInitializer(g, init);
      if (row->weight_section) LLVMSetSection(g, row->weight_section);
    } else {
      g = LLVMAddGlobal(e->mod, LLVMArrayType2(e->i8, w->nbytes), name);
    }
    LLVMSetGlobalConstant(g, 1);
    LLVMSetAlignment(g, 64);
    if (w_local) {
      LLVMSetLinkage(g, LLVMInternalLinkage);
    } else {
      LLVMSetVisibility(g, LLVMHiddenVisibility); /* implies dso_local */
    }
    em_set(e, w->value, g);
  }
  return true;
}

/* ------------------------------------------------------------ segments */
/* _main's top-level ops are cut into segments, each an internal noinline
 * function of _main's signature, so that LLVM's work per function stays
 * bounded and the compile time grows linearly with the graph (one function
 * holding a 10,000-node model took minutes).  A cut falls only between
 * nodes and only where nothing computed earlier at the top level is used
 * later except buffers and constants, which a segment rebuilds in its
 * entry block (mem.alloc: workspace + offset, mem.view, arith.const): so
 * every pointer still derives from a noalias parameter and LLVM sees the
 * same aliasing as in one function. */
#define SEGMENT_MIN_OPS 400 /* IR ops (nested ones counted) before a cut */

static bool remat_kind(IrOpKind k) {
  return k == IR_OP_ALLOC || k == IR_OP_VIEW || k == IR_OP_CONST;
}

typedef struct SegScan {
  IrBlock *top;
  int *pos;       /* by value id: index of the defining top-level op, or -1 */
  int *reach;     /* by top-level index: last top-level index using its values */
  int index;      /* the top-level op being scanned */
  int count;      /* ops scanned (nested included) */
  int checks;     /* rt.check ops among them */
} SegScan;

static void seg_uses(IrOp *op, void *user) {
  SegScan *s = user;
  s->count++;
  s->checks += op->kind == IR_OP_CHECK;
  for (int i = 0; i < op->num_operands; i++) {
    IrValue *v = op->operands[i];
    if (!v || !v->def || v->def->parent != s->top || remat_kind(v->def->kind)) continue;
    int d = s->pos[v->id];
    if (d >= 0 && d < s->index && s->reach[d] < s->index) s->reach[d] = s->index;
  }
}

/* The plan: the top-level ops in order, the index where each segment
 * starts, and by value id the top-level index of its defining op. */
typedef struct SegPlan {
  IrOp **ops;
  int num_ops;
  int *starts;      /* num_segments + 1 entries, the last num_ops */
  int num_segments; /* 1: everything in _main */
  int *seg_ops;     /* by segment: IR ops, nested ones counted */
  int *seg_checks;  /* by segment: rt.check ops */
  int *pos;         /* by value id; -1 when not defined at the top level */
  int *reach;       /* by top-level index: the last top-level index using its results */
  SharePlan share;  /* the groups translated once and called (llvm_share.c) */
} SegPlan;

static void plan_segments(IrModule *m, bool share, const uint64_t *ext_offset, SegPlan *p) {
  IrBlock *top = m->main->body;
  int n = 0;
  for (IrOp *op = top->first; op; op = op->next) n++;
  SegScan s = {.top = top, .pos = malloc(sizeof(int) * ((size_t)m->next_value_id + 1)),
               .reach = malloc(sizeof(int) * ((size_t)n + 1))};
  int *size = malloc(sizeof(int) * ((size_t)n + 1));
  int *checks = malloc(sizeof(int) * ((size_t)n + 1));
  *p = (SegPlan){.ops = malloc(sizeof *p->ops * ((size_t)n + 1)), .num_ops = n,
                 .starts = malloc(sizeof(int) * ((size_t)n + 2)),
                 .seg_ops = calloc((size_t)n + 1, sizeof(int)),
                 .seg_checks = calloc((size_t)n + 1, sizeof(int)), .pos = s.pos};
  IR_ASSERT(s.pos && s.reach && size && checks && p->ops && p->starts && p->seg_ops &&
            p->seg_checks);
  for (int i = 0; i <= m->next_value_id; i++) s.pos[i] = -1;
  int i = 0;
  for (IrOp *op = top->first; op; op = op->next, i++) {
    p->ops[i] = op;
    s.reach[i] = i;
    s.index = i;
    s.count = s.checks = 0;
    seg_uses(op, &s);
    for (int r = 0; r < op->num_regions; r++) ir_walk(op->regions[r], seg_uses, &s);
    size[i] = s.count;
    checks[i] = s.checks;
    for (int k = 0; k < op->num_results; k++) s.pos[op->results[k]->id] = i;
  }
  /* cut before i when no value defined before i is used at or after i */
  int open = -1, count = 0;
  for (i = 0; i < n; i++) {
    bool new_node = i > 0 && !ir_loc_same_node(&p->ops[i]->loc, &p->ops[i - 1]->loc);
    if (i == 0 || (count >= SEGMENT_MIN_OPS && open < i && new_node)) {
      p->starts[p->num_segments++] = i;
      count = 0;
    }
    count += size[i];
    p->seg_ops[p->num_segments - 1] += size[i];
    p->seg_checks[p->num_segments - 1] += checks[i];
    if (s.reach[i] > open) open = s.reach[i];
  }
  if (n == 0) p->starts[p->num_segments++] = 0;
  p->starts[p->num_segments] = n;
  p->reach = s.reach;
  free(size);
  free(checks);
  p->share.group_of = NULL;
  if (share) {
    int *seg_of = malloc(sizeof(int) * ((size_t)n + 1));
    IR_ASSERT(seg_of);
    for (int k = 0; k < p->num_segments; k++)
      for (i = p->starts[k]; i < p->starts[k + 1]; i++) seg_of[i] = k;
    share_plan(m, p->ops, n, p->reach, seg_of, ext_offset, &p->share);
    free(seg_of);
  }
}

static void free_plan(SegPlan *p) {
  free(p->ops);
  free(p->starts);
  free(p->seg_ops);
  free(p->seg_checks);
  free(p->pos);
  free(p->reach);
  if (p->share.group_of) share_free(&p->share);
}

/* A function of _main's signature: inputs..., outputs..., workspace, dims,
 * parallel_for, parallel_user [, weights: --weights=external] -> i32; its
 * parameters become e's. */
static LLVMValueRef em_body_fn(Em *e, const char *name) {
  IrFunc *f = e->m->main;
  int n = f->body->num_args;
  unsigned np = (unsigned)n + 4 + (e->ext_offset != NULL);
  LLVMTypeRef *ps = malloc(sizeof *ps * np);
  for (unsigned i = 0; i < np; i++) ps[i] = e->ptr;
  LLVMTypeRef ft = LLVMFunctionType(e->i32, ps, np, 0);
  free(ps);
  LLVMValueRef fn = LLVMGetNamedFunction(e->mod, name); /* declared by _main */
  if (!fn) fn = LLVMAddFunction(e->mod, name, ft);
  LLVMSetLinkage(fn, LLVMInternalLinkage);
  for (int i = 0; i <= n + 1; i++) {
    enum_attr(e, fn, (unsigned)i + 1, "noalias", 0);
    enum_attr(e, fn, (unsigned)i + 1, "nocapture", 0);
    if (i < n) em_set(e, f->body->args[i], LLVMGetParam(fn, (unsigned)i));
  }
  enum_attr(e, fn, (unsigned)n + 1, "align", TCC_WORKSPACE_ALIGN);
  e->fn = fn;
  e->workspace = LLVMGetParam(fn, (unsigned)n);
  e->dims = LLVMGetParam(fn, (unsigned)n + 1);
  e->pfor = LLVMGetParam(fn, (unsigned)n + 2);
  e->puser = LLVMGetParam(fn, (unsigned)n + 3);
  e->wbase = NULL;
  if (e->ext_offset) { /* read-only weights that nothing else points into */
    unsigned w = (unsigned)n + 4;
    e->wbase = LLVMGetParam(fn, w);
    static const char *const attrs[] = {"noalias", "nocapture", "readonly"};
    for (int k = 0; k < 3; k++) enum_attr(e, fn, w + 1, attrs[k], 0);
    enum_attr(e, fn, w + 1, "align", TCC_WEIGHTS_ALIGN);
  }
  LLVMPositionBuilderAtEnd(e->b, LLVMAppendBasicBlockInContext(e->c, fn, "entry"));
  return fn;
}

/* ------------------------------------------------------ shared functions */
static void shared_name(const Em *e, int k, char *buf, size_t size) {
  snprintf(buf, size, "%s_shared%d", e->m->name, k);
}

/* Shared function k of sp: (ptr ext... but small weights, ws, dims,
 * parallel_for, parallel_user) -> void; declared on first use. */
static LLVMValueRef em_shared_decl(Em *e, const SharePlan *sp, int k) {
  char name[256];
  shared_name(e, k, name, sizeof name);
  LLVMValueRef fn = LLVMGetNamedFunction(e->mod, name);
  if (fn) return fn;
  const ShareGroup *g = &sp->groups[sp->fns[k].group];
  LLVMTypeRef *ps = malloc(sizeof *ps * (size_t)(g->num_ext + 4));
  IR_ASSERT(ps);
  int np = 0;
  for (int i = 0; i < g->num_ext; i++)
    if (share_passes(sp, g->ext[i])) ps[np++] = e->ptr;
  for (int i = 0; i < 4; i++) ps[np++] = e->ptr;
  fn = LLVMAddFunction(e->mod, name, LLVMFunctionType(LLVMVoidTypeInContext(e->c), ps,
                                                       (unsigned)np, 0));
  free(ps);
  LLVMSetVisibility(fn, LLVMHiddenVisibility); /* defined in the unit of its first call */
  int p = 0;
  for (int i = 0; i < g->num_ext; i++) {
    if (!share_passes(sp, g->ext[i])) continue;
    enum_attr(e, fn, (unsigned)p + 1, "noalias", 0);
    enum_attr(e, fn, (unsigned)p + 1, "nocapture", 0);
    if (sp->fns[k].align[i] > 1) enum_attr(e, fn, (unsigned)p + 1, "align", sp->fns[k].align[i]);
    p++;
  }
  enum_attr(e, fn, (unsigned)p + 1, "align", TCC_WORKSPACE_ALIGN);
  enum_attr(e, fn, LLVMAttributeFunctionIndex, "noinline", 0);
  return fn;
}

static void em_const_uses(IrOp *op, void *user) {
  Em *e = user;
  for (int i = 0; i < op->num_operands; i++) {
    IrValue *v = op->operands[i];
    if (v && v->def && v->def->kind == IR_OP_CONST && v->def->parent == e->m->main->body)
      em_op(e, v->def);
  }
}

/* Defines shared function k: its group's ops but the allocs, on the
 * parameters; internal when every call is in this module (local). */
static bool em_shared_fn(Em *e, IrOp *const *ops, const SharePlan *sp, int k, bool local) {
  const ShareGroup *g = &sp->groups[sp->fns[k].group];
  LLVMValueRef fn = em_shared_decl(e, sp, k);
  if (local) LLVMSetLinkage(fn, LLVMInternalLinkage);
  e->fn = fn;
  LLVMPositionBuilderAtEnd(e->b, LLVMAppendBasicBlockInContext(e->c, fn, "entry"));
  LLVMValueRef *saved = malloc(sizeof *saved * (size_t)(g->num_ext + 1));
  IR_ASSERT(saved);
  if (!e->shared_param) e->shared_param = calloc((size_t)e->m->next_value_id + 1, sizeof(bool));
  IR_ASSERT(e->shared_param);
  unsigned p = 0;
  for (int i = 0; i < g->num_ext; i++) {
    saved[i] = e->vals[g->ext[i]->id];
    if (!share_passes(sp, g->ext[i])) continue;
    em_set(e, g->ext[i], LLVMGetParam(fn, p++));
    e->shared_param[g->ext[i]->id] = true;
  }
  e->workspace = LLVMGetParam(fn, p);
  e->dims = LLVMGetParam(fn, p + 1);
  e->pfor = LLVMGetParam(fn, p + 2);
  e->puser = LLVMGetParam(fn, p + 3);
  e->wbase = NULL; /* its weights are parameters */
  for (int i = g->first; i < g->end; i++) {
    em_const_uses(ops[i], e);
    for (int r = 0; r < ops[i]->num_regions; r++) ir_walk(ops[i]->regions[r], em_const_uses, e);
  }
  bool ok = true;
  for (int i = g->first; i < g->end && ok; i++)
    if (ops[i]->kind != IR_OP_ALLOC) ok = em_op(e, ops[i]);
  if (ok) LLVMBuildRetVoid(e->b);
  for (int i = 0; i < g->num_ext; i++) {
    e->vals[g->ext[i]->id] = saved[i];
    e->shared_param[g->ext[i]->id] = false;
  }
  free(saved);
  return ok;
}

/* The call of group g's shared function, with g's buffers. */
static void em_shared_call(Em *e, const SharePlan *sp, int g) {
  const ShareGroup *grp = &sp->groups[g];
  LLVMValueRef fn = em_shared_decl(e, sp, grp->fn);
  LLVMValueRef *args = malloc(sizeof *args * (size_t)(grp->num_ext + 4));
  IR_ASSERT(args);
  unsigned n = 0;
  for (int i = 0; i < grp->num_ext; i++)
    if (share_passes(sp, grp->ext[i])) args[n++] = em_val(e, grp->ext[i]);
  args[n++] = e->workspace;
  args[n++] = e->dims;
  args[n++] = e->pfor;
  args[n++] = e->puser;
  LLVMBuildCall2(e->b, LLVMGlobalGetValueType(fn), fn, args, n, "");
  free(args);
}

typedef struct Remat {
  Em *e;
  IrBlock *top;
  const int *pos;   /* by value id: top-level index (plan_segments) */
  int first;        /* the segment's first top-level index */
  int *done;        /* by value id: the stamp of the segment that rebuilt it */
  int stamp;
  bool ok;
} Remat;

/* Rebuilds a buffer or constant defined at the top level before the
 * segment (the operands of a view first), once per segment. */
static void remat_value(Remat *r, IrValue *v) {
  if (!v || !v->def || v->def->parent != r->top || !remat_kind(v->def->kind) ||
      r->pos[v->id] >= r->first || r->done[v->id] == r->stamp)
    return;
  r->done[v->id] = r->stamp;
  if (v->def->kind == IR_OP_VIEW) remat_value(r, v->def->operands[0]);
  if (r->ok) r->ok = em_op(r->e, v->def);
}

static void remat_uses(IrOp *op, void *user) {
  for (int i = 0; i < op->num_operands; i++) remat_value(user, op->operands[i]);
}

/* Fills the function em_body_fn made last with segment k of the plan;
 * done: a zeroed array by value id. */
static bool em_segment(Em *e, const SegPlan *p, int k, int *done) {
  int first = p->starts[k], end = p->starts[k + 1];
  Remat r = {e, e->m->main->body, p->pos, first, done, k + 1, true};
  for (int i = first; i < end && r.ok; i++) {
    remat_uses(p->ops[i], &r);
    for (int g = 0; g < p->ops[i]->num_regions; g++) ir_walk(p->ops[i]->regions[g], remat_uses, &r);
  }
  const SharePlan *sp = &p->share;
  for (int i = first; i < end && r.ok; i++) {
    IrOp *op = p->ops[i];
    int g = sp->group_of ? sp->group_of[i] : -1;
    if (op->kind == IR_OP_YIELD) continue;
    if (g < 0 || remat_kind(op->kind)) r.ok = em_op(e, op);
    else if (i == sp->groups[g].call_at) em_shared_call(e, sp, g);
  }
  return r.ok;
}

static void seg_name(const Em *e, int k, char *buf, size_t size) {
  snprintf(buf, size, "%s_seg%d", e->m->name, k);
}

/* The shared functions first called in segments [first, end). */
static bool em_shared_fns(Em *e, const SegPlan *p, int first, int end, bool local) {
  bool ok = true;
  for (int k = 0; k < p->share.num_fns && ok; k++)
    if (p->share.fns[k].segment >= first && p->share.fns[k].segment < end)
      ok = em_shared_fn(e, p->ops, &p->share, k, local);
  return ok;
}

/* Segments [first, end) of the plan as functions <name>_seg<K>: internal
 * when _main is in this module (local), else hidden globals for the
 * object that holds _main. */
static bool em_segments(Em *e, const SegPlan *p, int first, int end, bool local) {
  int *done = calloc((size_t)e->m->next_value_id + 1, sizeof *done);
  IR_ASSERT(done);
  bool ok = em_shared_fns(e, p, first, end, local);
  for (int k = first; k < end && ok; k++) {
    char name[256];
    seg_name(e, k, name, sizeof name);
    LLVMValueRef seg = em_body_fn(e, name);
    if (!local) {
      LLVMSetLinkage(seg, LLVMExternalLinkage);
      LLVMSetVisibility(seg, LLVMHiddenVisibility);
    }
    enum_attr(e, seg, LLVMAttributeFunctionIndex, "noinline", 0);
    ok = em_segment(e, p, k, done);
    if (ok) LLVMBuildRet(e->b, LLVMConstInt(e->i32, 0, 0));
  }
  free(done);
  return ok;
}

/* <name>_main: the translated body when the plan has one segment, else
 * calls of the segments in order (each returns like _main; the first
 * non-zero is _main's).  with_segments: define them here too (else
 * they are declared, defined in unit modules). */
static bool em_main(Em *e, const SegPlan *p, bool with_segments) {
  char *name = ir_arena_printf(e->m->arena, "%s_main", e->m->name);
  if (p->num_segments == 1 && !em_shared_fns(e, p, 0, 1, true)) return false;
  LLVMValueRef main_fn = em_body_fn(e, name);
  if (p->num_segments == 1) {
    int *done = calloc((size_t)e->m->next_value_id + 1, sizeof *done);
    IR_ASSERT(done);
    bool ok = em_segment(e, p, 0, done);
    free(done);
    if (!ok) return false;
    LLVMBuildRet(e->b, LLVMConstInt(e->i32, 0, 0));
    return true;
  }
  LLVMTypeRef ft = LLVMGlobalGetValueType(main_fn);
  unsigned np = LLVMCountParams(main_fn);
  LLVMValueRef *args = malloc(sizeof *args * np);
  for (unsigned i = 0; i < np; i++) args[i] = LLVMGetParam(main_fn, i);
  for (int k = 0; k < p->num_segments; k++) {
    char seg_fn[256];
    seg_name(e, k, seg_fn, sizeof seg_fn);
    LLVMValueRef seg = LLVMAddFunction(e->mod, seg_fn, ft);
    if (with_segments) LLVMSetLinkage(seg, LLVMInternalLinkage);
    else LLVMSetVisibility(seg, LLVMHiddenVisibility);
    /* r = seg(...); if (r) return r; */
    LLVMValueRef r = LLVMBuildCall2(e->b, ft, seg, args, np, "");
    LLVMBasicBlockRef fail = LLVMAppendBasicBlockInContext(e->c, main_fn, "seg_fail");
    LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(e->c, main_fn, "seg_ok");
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntEQ, r, LLVMConstInt(e->i32, 0, 0), ""),
                    next, fail);
    LLVMPositionBuilderAtEnd(e->b, fail);
    LLVMBuildRet(e->b, r);
    LLVMPositionBuilderAtEnd(e->b, next);
  }
  free(args);
  LLVMBuildRet(e->b, LLVMConstInt(e->i32, 0, 0));
  if (with_segments && !em_segments(e, p, 0, p->num_segments, true)) return false;
  e->fn = main_fn;
  return true;
}

/* Loads ptrs[i] for i < n into out. */
static void em_load_ptrs(Em *e, LLVMValueRef ptrs, int n, LLVMValueRef *out) {
  for (int i = 0; i < n; i++) {
    LLVMValueRef k = i64c(e, i);
    LLVMValueRef p = LLVMBuildInBoundsGEP2(e->b, e->ptr, ptrs, &k, 1, "");
    out[i] = LLVMBuildLoad2(e->b, e->ptr, p, "");
  }
}

/* Does an input's type use sym k (so the caller gives its value)? */
static bool input_uses_sym(const IrFunc *f, int k) {
  for (int i = 0; i < f->num_inputs; i++) {
    const IrType *t = &f->body->args[i]->type;
    for (int d = 0; d < t->rank; d++)
      if (t->dims[d].sym == k) return true;
  }
  return false;
}

/* In _run_dims: dims is not NULL and every run-time dim of an input lies in
 * its LO..HI; otherwise returns the status from `bad`. */
static void em_check_dims(Em *e, LLVMValueRef fn, LLVMValueRef dims,
                          LLVMBasicBlockRef bad_null, LLVMBasicBlockRef bad_range) {
  IrModule *m = e->m;
  LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(e->c, fn, "dims");
  LLVMBuildCondBr(e->b, LLVMBuildIsNull(e->b, dims, ""), bad_null, next);
  LLVMPositionBuilderAtEnd(e->b, next);
  LLVMValueRef saved = e->dims;
  e->dims = dims;
  for (int k = 0; k < m->num_syms; k++) {
    const IrSym *s = &m->syms[k];
    /* a sum (past + seq) is the model's to set, from its checked terms */
    if (s->value >= 0 || s->num_terms || !input_uses_sym(m->main, k)) continue;
    LLVMValueRef v = em_dim(e, (IrDim){0, k});
    LLVMValueRef out = LLVMBuildICmp(e->b, LLVMIntSLT, v, i64c(e, s->lo), "");
    if (s->hi >= 0)
      out = LLVMBuildOr(e->b, out, LLVMBuildICmp(e->b, LLVMIntSGT, v, i64c(e, s->hi), ""), "");
    next = LLVMAppendBasicBlockInContext(e->c, fn, "dims");
    LLVMBuildCondBr(e->b, out, bad_range, next);
    LLVMPositionBuilderAtEnd(e->b, next);
  }
  e->dims = saved;
}

/* A constant C string <name>_<what><k> (internal, so several models link). */
static LLVMValueRef em_cstring(Em *e, const char *what, int k, const char *text) {
  LLVMValueRef init = LLVMConstStringInContext2(e->c, text, strlen(text), 0);
  char *name = ir_arena_printf(e->m->arena, "%s_%s%d", e->m->name, what, k);
  LLVMValueRef g = LLVMAddGlobal(e->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(g, init);
  LLVMSetGlobalConstant(g, 1);
  LLVMSetLinkage(g, LLVMInternalLinkage);
  return g;
}

/* After _main returned r != 0 (check r - 1 failed): when ctx->error is not
 * NULL, fill it with the status and the check's node and op type; return
 * the status.  The strings are constants of the object, <name>_node<k>
 * and <name>_op<k>. */
static void em_report(Em *e, LLVMValueRef fn, LLVMTypeRef ctx_ty, LLVMValueRef ctx,
                      LLVMValueRef r) {
  LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(e->c, fn, "ran");
  LLVMBasicBlockRef report = LLVMAppendBasicBlockInContext(e->c, fn, "report");
  LLVMBasicBlockRef store = LLVMAppendBasicBlockInContext(e->c, fn, "report_store");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(e->c, fn, "report_done");
  LLVMValueRef sw = LLVMBuildSwitch(e->b, r, ok, (unsigned)e->num_checks);
  LLVMPositionBuilderAtEnd(e->b, report);
  LLVMValueRef phis[3] = {LLVMBuildPhi(e->b, e->i32, ""), LLVMBuildPhi(e->b, e->ptr, ""),
                          LLVMBuildPhi(e->b, e->ptr, "")};
  for (int k = 0; k < e->num_checks; k++) {
    const IrOp *op = e->checks[k];
    LLVMBasicBlockRef site = LLVMAppendBasicBlockInContext(e->c, fn, "failed");
    LLVMAddCase(sw, LLVMConstInt(e->i32, (unsigned long long)k + 1, 0), site);
    LLVMPositionBuilderAtEnd(e->b, site);
    LLVMValueRef v[3] = {
        LLVMConstInt(e->i32, (unsigned long long)ir_attr_int(op, "status", 0), 0),
        em_cstring(e, "node", k, op->loc.node ? op->loc.node : ""),
        em_cstring(e, "op", k, op->loc.op_type ? op->loc.op_type : "")};
    LLVMBuildBr(e->b, report);
    for (int i = 0; i < 3; i++) LLVMAddIncoming(phis[i], &v[i], &site, 1);
  }
  /* struct tcc_error_info { i32 status; i32 reserved; ptr node; ptr op_type; } */
  LLVMTypeRef fields[4] = {e->i32, e->i32, e->ptr, e->ptr};
  LLVMTypeRef info_ty = LLVMStructTypeInContext(e->c, fields, 4, 0);
  LLVMPositionBuilderAtEnd(e->b, report);
  LLVMValueRef info = LLVMBuildLoad2(e->b, e->ptr, LLVMBuildStructGEP2(e->b, ctx_ty, ctx, 6, ""), "");
  LLVMBuildCondBr(e->b, LLVMBuildIsNull(e->b, info, ""), done, store);
  LLVMPositionBuilderAtEnd(e->b, store);
  LLVMValueRef vals[4] = {phis[0], LLVMConstInt(e->i32, 0, 0), phis[1], phis[2]};
  for (unsigned i = 0; i < 4; i++)
    LLVMBuildStore(e->b, vals[i], LLVMBuildStructGEP2(e->b, info_ty, info, i, ""));
  LLVMBuildBr(e->b, done);
  LLVMPositionBuilderAtEnd(e->b, done);
  LLVMBuildRet(e->b, phis[0]);
  LLVMPositionBuilderAtEnd(e->b, ok);
}

/* <name>_run(ctx, inputs, outputs), or for a model with run-time dims
 * <name>_run_dims(ctx, dims, inputs, outputs): checks, unpacks, calls
 * _main. */
static void em_run(Em *e, LLVMTypeRef size_ty, LLVMValueRef main_fn) {
  IrFunc *f = e->m->main;
  bool dyn = ir_module_is_dynamic(e->m);
  LLVMTypeRef ps[7] = {e->ptr, e->i32, e->i64, e->i32, e->ptr, e->i32, e->ptr};
  LLVMTypeRef ct = LLVMFunctionType(e->i32, ps, 7, 0);
  LLVMValueRef check = LLVMAddFunction(e->mod, "tcc_rt_check", ct);
  LLVMTypeRef rps[4] = {e->ptr, e->ptr, e->ptr, e->ptr};
  LLVMTypeRef rt = LLVMFunctionType(e->i32, rps, dyn ? 4 : 3, 0);
  char *name = ir_arena_printf(e->m->arena, dyn ? "%s_run_dims" : "%s_run", e->m->name);
  LLVMValueRef fn = LLVMAddFunction(e->mod, name, rt);
  int p = dyn ? 1 : 0;
  LLVMValueRef ctx = LLVMGetParam(fn, 0), in = LLVMGetParam(fn, (unsigned)p + 1),
               out = LLVMGetParam(fn, (unsigned)p + 2);
  LLVMValueRef dims = dyn ? LLVMGetParam(fn, 1) : LLVMConstNull(e->ptr);
  LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(e->c, fn, "entry");
  LLVMBasicBlockRef bad = LLVMAppendBasicBlockInContext(e->c, fn, "bad");
  LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(e->c, fn, "ok");
  LLVMPositionBuilderAtEnd(e->b, bad);
  LLVMValueRef st_phi = LLVMBuildPhi(e->b, e->i32, "");
  LLVMBuildRet(e->b, st_phi);
  LLVMPositionBuilderAtEnd(e->b, entry);
  LLVMValueRef args[7] = {ctx, LLVMConstInt(e->i32, TCC_ABI_VERSION, 0),
                          i64c(e, f->workspace_size),
                          LLVMConstInt(e->i32, (unsigned)f->num_inputs, 0), in,
                          LLVMConstInt(e->i32, (unsigned)f->num_outputs, 0), out};
  LLVMValueRef st = LLVMBuildCall2(e->b, ct, check, args, 7, "");
  LLVMBasicBlockRef here = LLVMGetInsertBlock(e->b);
  LLVMAddIncoming(st_phi, &st, &here, 1);
  LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntNE, st, LLVMConstInt(e->i32, 0, 0), ""),
                  bad, ok);
  LLVMPositionBuilderAtEnd(e->b, ok);
  if (e->ext_offset) { /* the blob is there and is this code's */
    LLVMTypeRef wps[3] = {e->ptr, e->i64, e->i64};
    LLVMTypeRef wct = LLVMFunctionType(e->i32, wps, 3, 0);
    LLVMValueRef wcheck = LLVMAddFunction(e->mod, "tcc_rt_check_weights", wct);
    LLVMValueRef wargs[3] = {ctx, i64c(e, (int64_t)e->ext->id), i64c(e, (int64_t)e->ext->data_size)};
    LLVMValueRef wst = LLVMBuildCall2(e->b, wct, wcheck, wargs, 3, "");
    LLVMBasicBlockRef wok = LLVMAppendBasicBlockInContext(e->c, fn, "weights_ok");
    here = LLVMGetInsertBlock(e->b);
    LLVMAddIncoming(st_phi, &wst, &here, 1);
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntNE, wst, LLVMConstInt(e->i32, 0, 0), ""),
                    bad, wok);
    LLVMPositionBuilderAtEnd(e->b, wok);
  }
  if (dyn) {
    /* Status blocks for a NULL dims array and a dim out of range. */
    LLVMBasicBlockRef bad_null = LLVMAppendBasicBlockInContext(e->c, fn, "bad_null");
    LLVMBasicBlockRef bad_range = LLVMAppendBasicBlockInContext(e->c, fn, "bad_range");
    em_check_dims(e, fn, dims, bad_null, bad_range);
    LLVMBasicBlockRef cont = LLVMGetInsertBlock(e->b);
    LLVMValueRef codes[2] = {LLVMConstInt(e->i32, TCC_ERR_NULL_ARGUMENT, 0),
                             LLVMConstInt(e->i32, TCC_ERR_DIM_OUT_OF_RANGE, 0)};
    LLVMBasicBlockRef from[2] = {bad_null, bad_range};
    for (int i = 0; i < 2; i++) {
      LLVMPositionBuilderAtEnd(e->b, from[i]);
      LLVMBuildBr(e->b, bad);
    }
    LLVMAddIncoming(st_phi, codes, from, 2);
    LLVMPositionBuilderAtEnd(e->b, cont);
  }
  /* struct tcc_ctx { u32 abi; u32 reserved; void *workspace; size_t size;
   * fn parallel_for; void *parallel_user; tcc_error_info *error;
   * const void *weights; size_t weights_size; } in the target's layout. */
  LLVMTypeRef fields[9] = {e->i32, e->i32, e->ptr, size_ty, e->ptr, e->ptr, e->ptr,
                           e->ptr, size_ty};
  LLVMTypeRef ctx_ty = LLVMStructTypeInContext(e->c, fields, 9, 0);
  LLVMValueRef wsp = LLVMBuildStructGEP2(e->b, ctx_ty, ctx, 2, "");
  int n = f->num_inputs + f->num_outputs;
  LLVMValueRef *cargs = malloc(sizeof *cargs * (size_t)(n + 5));
  em_load_ptrs(e, in, f->num_inputs, cargs);
  em_load_ptrs(e, out, f->num_outputs, cargs + f->num_inputs);
  cargs[n] = LLVMBuildLoad2(e->b, e->ptr, wsp, "");
  cargs[n + 1] = dims;
  for (int i = 0; i < 2; i++)
    cargs[n + 2 + i] = LLVMBuildLoad2(e->b, e->ptr,
                                      LLVMBuildStructGEP2(e->b, ctx_ty, ctx, 4 + (unsigned)i, ""), "");
  unsigned nargs = (unsigned)n + 4;
  if (e->ext_offset) { /* the weights follow the blob's header */
    LLVMValueRef blob = LLVMBuildLoad2(e->b, e->ptr, LLVMBuildStructGEP2(e->b, ctx_ty, ctx, 7, ""), "");
    LLVMValueRef skip = i64c(e, TCC_WEIGHTS_HEADER_SIZE);
    cargs[nargs++] = LLVMBuildInBoundsGEP2(e->b, e->i8, blob, &skip, 1, "");
  }
  LLVMValueRef r = LLVMBuildCall2(e->b, LLVMGlobalGetValueType(main_fn), main_fn, cargs,
                                  nargs, "");
  free(cargs);
  if (e->num_checks) em_report(e, fn, ctx_ty, ctx, r);
  LLVMBuildRet(e->b, LLVMConstInt(e->i32, 0, 0));
  e->fn = fn;
}

/* --------------------------------------------------------------- driver */
static LLVMTargetMachineRef em_machine(const TargetRow *row, const char *cpu,
                                       const char *features, int opt,
                                       uint64_t weight_bytes) {
  static const LLVMCodeGenOptLevel levels[] = {
      LLVMCodeGenLevelNone, LLVMCodeGenLevelLess, LLVMCodeGenLevelDefault,
      LLVMCodeGenLevelAggressive};
  LLVMTargetRef tgt;
  char *err = NULL;
  if (LLVMGetTargetFromTriple(row->pub.triple, &tgt, &err)) {
    em_fail(NULL, "internal error: LLVM has no target for %s: %s", row->pub.triple,
            err ? err : "");
    LLVMDisposeMessage(err);
    return NULL;
  }
  LLVMCodeModel cm = weight_bytes > WEIGHTS_LARGE_MODEL ? LLVMCodeModelLarge
                                                        : LLVMCodeModelDefault;
  return LLVMCreateTargetMachine(tgt, row->pub.triple, cpu, features,
                                 levels[opt < 0 ? 0 : opt > 3 ? 3 : opt],
                                 LLVMRelocPIC, cm);
}

static bool em_verify_and_optimize(Em *e, LLVMTargetMachineRef tm, int opt) {
  char *msg = NULL;
  if (LLVMVerifyModule(e->mod, LLVMReturnStatusAction, &msg)) {
    em_fail(NULL, "internal error: the generated LLVM module does not verify: %s",
            msg ? msg : "");
    LLVMDisposeMessage(msg);
    return false;
  }
  LLVMDisposeMessage(msg);
  char passes[32];
  opt = opt < 0 ? 0 : opt > 3 ? 3 : opt;
  snprintf(passes, sizeof passes, "default<O%d>", opt);
  LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopVectorization(po, opt >= 2);
  LLVMPassBuilderOptionsSetSLPVectorization(po, opt >= 2);
  LLVMErrorRef err = LLVMRunPasses(e->mod, passes, tm, po);
  LLVMDisposePassBuilderOptions(po);
  if (!err) return true;
  char *text = LLVMGetErrorMessage(err);
  em_fail(NULL, "internal error: LLVM passes failed: %s", text);
  LLVMDisposeErrorMessage(text);
  return false;
}

static bool em_object(LLVMTargetMachineRef tm, LLVMModuleRef mod, void **obj,
                      size_t *size) {
  char *err = NULL;
  LLVMMemoryBufferRef buf = NULL;
  if (LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMObjectFile, &err, &buf)) {
    em_fail(NULL, "internal error: LLVM code generation failed: %s", err ? err : "");
    LLVMDisposeMessage(err);
    return false;
  }
  *size = LLVMGetBufferSize(buf);
  *obj = malloc(*size ? *size : 1);
  memcpy(*obj, LLVMGetBufferStart(buf), *size);
  LLVMDisposeMemoryBuffer(buf);
  return true;
}

/* The module's LLVM IR and assembly as text (--emit=llvm,asm), malloc'd.
 * The assembly comes from a clone: code generation rewrites the IR it runs
 * on, and the object must not depend on what else was asked for. */
static bool em_texts(LLVMTargetMachineRef tm, LLVMModuleRef mod, bool want_llvm,
                     bool want_asm, char **llvm, char **as) {
  if (want_llvm) {
    char *t = LLVMPrintModuleToString(mod);
    size_t n = strlen(t) + 1;
    *llvm = malloc(n);
    if (*llvm) memcpy(*llvm, t, n);
    LLVMDisposeMessage(t);
  }
  if (!want_asm) return true;
  LLVMModuleRef clone = LLVMCloneModule(mod);
  char *err = NULL;
  LLVMMemoryBufferRef buf = NULL;
  bool failed = LLVMTargetMachineEmitToMemoryBuffer(tm, clone, LLVMAssemblyFile, &err, &buf);
  LLVMDisposeModule(clone);
  if (failed) {
    em_fail(NULL, "internal error: LLVM assembly output failed: %s", err ? err : "");
    LLVMDisposeMessage(err);
    return false;
  }
  size_t n = LLVMGetBufferSize(buf);
  *as = malloc(n + 1);
  if (*as) {
    memcpy(*as, LLVMGetBufferStart(buf), n);
    (*as)[n] = 0;
  }
  LLVMDisposeMemoryBuffer(buf);
  return true; /* a text that could not be kept is reported when written */
}

/* Appends a unit's text to *all under a heading in a comment: ';' in LLVM
 * IR, a C-style block comment, which every assembler tcc targets reads. */
static void append_text(char **all, const char *text, int unit, int num_units, bool ir) {
  if (!text) return;
  char head[96] = "";
  if (num_units > 1)
    snprintf(head, sizeof head, ir ? "; ---- unit %d of %d\n" : "/* ---- unit %d of %d */\n",
             unit, num_units);
  size_t old = *all ? strlen(*all) : 0, n = strlen(head) + strlen(text);
  char *p = realloc(*all, old + n + 1);
  if (!p) return;
  memcpy(p + old, head, strlen(head));
  memcpy(p + old + strlen(head), text, strlen(text) + 1);
  *all = p;
}

/* ---------------------------------------------------------------- units */
/* Big modules are compiled in units: runs of consecutive segments of at
 * least UNIT_MIN_OPS IR ops, each a module in an LLVM context of its own,
 * optimized and compiled to an object by one of -j threads; _main, _run
 * and the weights form one more module, and the objects are merged in
 * order (elf_merge_objects).  The cut depends on the graph alone, never on
 * -j, so the object is the same whatever -j is.  ELF targets only: a
 * wasm32 object is always one module. */
#define UNIT_MIN_OPS 3000

typedef struct Unit {
  int first, end;       /* segments [first, end); end == 0: the _main unit */
  int check_base;       /* rt.check numbers before the unit's */
  const IrOp **checks;  /* [check_base, num_checks): the unit's rt.check ops */
  int num_checks;
  void *obj;
  size_t size;
  char *llvm, *as;      /* --emit=llvm,asm */
  bool ok;
} Unit;

typedef struct EmJob {
  IrModule *m;
  const TargetRow *row;
  const char *cpu, *features;
  int opt;
  const SegPlan *plan;
  Unit *units;          /* units[0] holds _main, _run and the weights */
  int num_units;
  const uint64_t *blob_offset; /* Em's */
  uint64_t blob_size;
  const uint64_t *ext_offset;  /* Em's */
  const LlvmWeights *ext;
  int next;             /* the next unit a thread takes */
  pthread_mutex_t lock;
  DiagState *diag;      /* the compiling thread's, which workers report into */
  bool want_llvm, want_asm;
} EmJob;

static int plan_units(const SegPlan *p, Unit **out) {
  Unit *u = calloc((size_t)p->num_segments + 2, sizeof *u);
  IR_ASSERT(u);
  int n = 1, ops = 0, checks = 0;
  for (int k = 0; k < p->num_segments; k++) {
    if (n == 1 || ops >= UNIT_MIN_OPS) {
      u[n].first = k;
      u[n].check_base = checks;
      n++;
      ops = 0;
    }
    u[n - 1].end = k + 1;
    ops += p->seg_ops[k];
    checks += p->seg_checks[k];
  }
  *out = u;
  return n;
}

/* A fresh context and module for the target; false after a diagnostic. */
static void em_open(Em *e, IrModule *m, const TargetRow *row, const char *cpu,
                    const char *features, LLVMTargetMachineRef tm, LLVMTargetDataRef *td) {
  *e = (Em){.m = m, .c = LLVMContextCreate()};
  SchedTarget st;
  target_describe(row, cpu, features, &st);
  e->dot4_bits = st.dot4_bits;
  e->dot4_mixed = target_feature_on(features, "i8mm", false);
  e->mod = LLVMModuleCreateWithNameInContext(m->name, e->c);
  e->b = LLVMCreateBuilderInContext(e->c);
  e->entry_b = LLVMCreateBuilderInContext(e->c);
  e->vals = calloc((size_t)m->next_value_id + 1, sizeof *e->vals);
  IR_ASSERT(e->vals);
  e->i1 = LLVMInt1TypeInContext(e->c);
  e->i8 = LLVMInt8TypeInContext(e->c);
  e->i32 = LLVMInt32TypeInContext(e->c);
  e->i64 = LLVMInt64TypeInContext(e->c);
  e->ptr = LLVMPointerTypeInContext(e->c, 0);
  *td = LLVMCreateTargetDataLayout(tm);
  LLVMSetTarget(e->mod, row->pub.triple);
  LLVMSetModuleDataLayout(e->mod, *td);
}

static void em_close(Em *e, LLVMTargetDataRef td) {
  LLVMDisposeTargetData(td);
  free(e->vals);
  free(e->shared_param);
  free(e->checks);
  LLVMDisposeBuilder(e->b);
  LLVMDisposeBuilder(e->entry_b);
  LLVMDisposeModule(e->mod);
  LLVMContextDispose(e->c);
}

static void em_finish_attrs(Em *e, const TargetRow *row, const char *cpu,
                            const char *features) {
  for (LLVMValueRef fn = LLVMGetFirstFunction(e->mod); fn; fn = LLVMGetNextFunction(fn))
    if (!LLVMIsDeclaration(fn)) em_common_attrs(e, row, fn, cpu, features);
}

static LLVMTargetMachineRef em_machine(const TargetRow *row, const char *cpu,
                                       const char *features, int opt,
                                       uint64_t weight_bytes);
static bool em_verify_and_optimize(Em *e, LLVMTargetMachineRef tm, int opt);
static bool em_object(LLVMTargetMachineRef tm, LLVMModuleRef mod, void **obj,
                      size_t *size);
static uint64_t weight_bytes(const IrModule *m);

/* One unit: its module, optimized, as an object.  Unit 0: the weights,
 * _main calling every segment, and _run. */
static void em_unit(EmJob *j, Unit *u) {
  LLVMTargetMachineRef tm = em_machine(j->row, j->cpu, j->features, j->opt, weight_bytes(j->m));
  if (!tm) return;
  Em e;
  LLVMTargetDataRef td;
  em_open(&e, j->m, j->row, j->cpu, j->features, tm, &td);
  e.blob_offset = j->blob_offset;
  e.blob_size = j->blob_size;
  e.ext_offset = j->ext_offset;
  e.ext = j->ext;
  e.num_checks = u->check_base;
  bool ok;
  if (u == j->units) {
    e.checks = calloc((size_t)j->units[j->num_units - 1].num_checks + 1, sizeof *e.checks);
    IR_ASSERT(e.checks);
    for (int k = 1; k < j->num_units; k++)
      for (int c = j->units[k].check_base; c < j->units[k].num_checks; c++)
        e.checks[c] = j->units[k].checks[c];
    e.num_checks = j->units[j->num_units - 1].num_checks;
    ok = em_weights(&e, j->row, true, false) && em_main(&e, j->plan, false);
    if (ok) em_run(&e, LLVMIntPtrTypeInContext(e.c, td), e.fn);
  } else {
    ok = em_weights(&e, j->row, false, false) &&
         em_segments(&e, j->plan, u->first, u->end, false);
    u->checks = e.checks; /* kept: unit 0 reports them */
    u->num_checks = e.num_checks;
    e.checks = NULL;
  }
  if (ok) em_finish_attrs(&e, j->row, j->cpu, j->features);
  u->ok = ok && em_verify_and_optimize(&e, tm, j->opt) &&
          em_texts(tm, e.mod, j->want_llvm, j->want_asm, &u->llvm, &u->as) &&
          em_object(tm, e.mod, &u->obj, &u->size);
  em_close(&e, td);
  LLVMDisposeTargetMachine(tm);
}

static void *em_worker(void *arg) {
  EmJob *j = arg;
  diag_adopt(j->diag);
  for (;;) {
    pthread_mutex_lock(&j->lock);
    int k = j->next < j->num_units ? j->next++ : -1;
    pthread_mutex_unlock(&j->lock);
    if (k < 0) return NULL;
    em_unit(j, &j->units[k]);
  }
}

/* Units 1.. on up to jobs threads (this one included), then unit 0, which
 * needs their rt.check ops; then the merge (and the texts, in unit order). */
static bool em_units(EmJob *j, int jobs, void **obj, size_t *size, LlvmObject *out) {
  j->next = 1;
  j->diag = diag_state();
  pthread_mutex_init(&j->lock, NULL);
  int extra = jobs - 1 < j->num_units - 2 ? jobs - 1 : j->num_units - 2;
  char stage[64];
  snprintf(stage, sizeof stage, "codegen: %d units on %d threads", j->num_units - 1, extra + 1);
  stage_begin(stage);
  pthread_t *threads = calloc((size_t)(extra > 0 ? extra : 1), sizeof *threads);
  int started = 0;
  for (; started < extra; started++)
    if (pthread_create(&threads[started], NULL, em_worker, j)) break;
  em_worker(j);
  for (int t = 0; t < started; t++) pthread_join(threads[t], NULL);
  free(threads);
  pthread_mutex_destroy(&j->lock);
  bool ok = true;
  for (int k = 1; k < j->num_units; k++) ok = ok && j->units[k].ok;
  stage_begin("codegen: _main, _run");
  if (ok) em_unit(j, &j->units[0]);
  ok = ok && j->units[0].ok;
  stage_begin("codegen: merge the units' objects");
  const void **objs = malloc(sizeof *objs * (size_t)j->num_units);
  size_t *sizes = malloc(sizeof *sizes * (size_t)j->num_units);
  for (int k = 0; k < j->num_units; k++) {
    objs[k] = j->units[k].obj;
    sizes[k] = j->units[k].size;
  }
  ok = ok && elf_merge_objects(objs, sizes, j->num_units, obj, size);
  for (int k = 0; k < j->num_units; k++) {
    append_text(&out->llvm_text, j->units[k].llvm, k, j->num_units, true);
    append_text(&out->asm_text, j->units[k].as, k, j->num_units, false);
    free(j->units[k].llvm);
    free(j->units[k].as);
    free(j->units[k].obj);
    free(j->units[k].checks);
  }
  free(objs);
  free(sizes);
  return ok;
}

/* Everything in one module: the weights, _main with its segments, _run. */
static bool em_module(Em *e, const SegPlan *p, const TargetRow *row, LLVMTargetDataRef td,
                      const char *cpu, const char *features) {
  if (!em_weights(e, row, true, true) || !em_main(e, p, true)) return false;
  em_run(e, LLVMIntPtrTypeInContext(e->c, td), e->fn);
  em_finish_attrs(e, row, cpu, features);
  return true;
}

static uint64_t weight_bytes(const IrModule *m) {
  uint64_t n = 0;
  for (int i = 0; i < m->num_weights; i++) n += m->weights[i]->nbytes;
  return n;
}

/* ----------------------------------------------------- weights blob */
/* The weights that go in the blob: over WEIGHT_FOLDABLE_BYTES, 64-aligned
 * in model order.  NULL when the target keeps all of them as LLVM
 * constants (wasm32: not ELF) or none is that big. */
static uint64_t *plan_blob(const IrModule *m, const TargetRow *row, uint64_t *size) {
  *size = 0;
  if (!row->weight_section || !strncmp(row->pub.triple, "wasm", 4)) return NULL;
  uint64_t *off = malloc(sizeof *off * ((size_t)m->num_weights + 1));
  IR_ASSERT(off);
  for (int i = 0; i < m->num_weights; i++) {
    const IrWeight *w = m->weights[i];
    off[i] = UINT64_MAX;
    if (w->nbytes <= WEIGHT_FOLDABLE_BYTES || !w->data) continue;
    *size = (*size + 63) & ~(uint64_t)63;
    off[i] = *size;
    *size += w->nbytes;
  }
  if (*size == 0) {
    free(off);
    return NULL;
  }
  return off;
}

/* LLVM's object in out->bytes; attaches the blob when the code refers to
 * it (LLVM may have folded every use away). */
static bool attach_blob(const IrModule *m, const TargetRow *row, const uint64_t *blob_offset,
                        uint64_t blob_size, LlvmObject *out) {
  char name[256];
  snprintf(name, sizeof name, "%s_weights", m->name);
  if (!blob_offset || !elf_has_symbol(out->bytes, out->size, name)) return true;
  /* Past the large-model size on x86_64, the psABI's large data section,
   * which ld places after all other data, out of the way of the small
   * code model's +-2 GiB reach (crt files, the runtime). */
  const char *section = blob_size > WEIGHTS_LARGE_MODEL && !strncmp(row->pub.triple, "x86_64-", 7)
                            ? ".lrodata.tcc_weights"
                            : row->weight_section;
  if (!elf_attach_blob(out->bytes, out->size, name, section, blob_size, 64, &out->blob))
    return false;
  free(out->bytes);
  out->bytes = NULL;
  out->size = 0;
  out->pieces = malloc(sizeof *out->pieces * ((size_t)m->num_weights + 1));
  IR_ASSERT(out->pieces);
  for (int i = 0; i < m->num_weights; i++)
    if (blob_offset[i] != UINT64_MAX)
      out->pieces[out->num_pieces++] =
          (ElfBlobPiece){m->weights[i]->data, blob_offset[i], m->weights[i]->nbytes};
  return true;
}

/* ----------------------------------------------------- external weights */
/* With --weights=external only the structural scalars stay in the code (a
 * Pow's exponent, a Clip's bounds, from Constant nodes), so LLVM folds them;
 * a scalar initializer (a PReLU slope, the bias of one output) is trained,
 * and goes to the blob with the tensors. */
static bool stays_in_code(const IrWeight *w) {
  uint64_t n;
  return !w->data || !w->nbytes ||
         (w->structural && ir_type_numel(&w->value->type, &n) && n <= 1);
}

static void put_le(unsigned char *p, uint64_t v, int n) {
  for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t hash_u64(uint64_t h, uint64_t v) {
  unsigned char b[8];
  put_le(b, v, 8);
  return ir_hash(h, b, 8);
}

/* The blob's layout (LlvmWeights) and *by_value, the offsets by value id
 * that Em reads. */
static void plan_external(const IrModule *m, LlvmWeights *w, uint64_t **by_value) {
  w->external = true;
  w->offset = malloc(sizeof *w->offset * ((size_t)m->num_weights + 1));
  *by_value = malloc(sizeof **by_value * ((size_t)m->next_value_id + 1));
  IR_ASSERT(w->offset && *by_value);
  for (int i = 0; i <= m->next_value_id; i++) (*by_value)[i] = UINT64_MAX;
  char *code = ir_print_code_str(m);
  static const char format[] = "tcc weights 1\n";
  uint64_t h = ir_hash(ir_hash(IR_HASH_START, format, strlen(format)), code, strlen(code));
  free(code);
  uint64_t size = 0;
  for (int i = 0; i < m->num_weights; i++) {
    const IrWeight *wt = m->weights[i];
    w->offset[i] = UINT64_MAX;
    if (stays_in_code(wt)) {
      h = ir_hash(hash_u64(h, UINT64_MAX), wt->data ? wt->data : "", wt->data ? wt->nbytes : 0);
      continue;
    }
    size = (size + 63) & ~(uint64_t)63;
    w->offset[i] = (*by_value)[wt->value->id] = size;
    h = hash_u64(hash_u64(h, size), wt->nbytes);
    size += wt->nbytes;
  }
  w->data_size = size;
  w->id = hash_u64(h, size);
}

uint64_t llvm_weights_file_size(const LlvmObject *o) {
  return TCC_WEIGHTS_HEADER_SIZE + o->weights.data_size;
}

/* Calls fn on the data bytes in order: each weight, zeros between. */
static bool blob_data(const IrModule *m, const LlvmWeights *w,
                      bool (*fn)(const void *, size_t, void *), void *user) {
  static const unsigned char zeros[64];
  uint64_t at = 0;
  for (int i = 0; i < m->num_weights; i++) {
    if (w->offset[i] == UINT64_MAX) continue;
    if (!fn(zeros, (size_t)(w->offset[i] - at), user) ||
        !fn(m->weights[i]->data, (size_t)m->weights[i]->nbytes, user))
      return false;
    at = w->offset[i] + m->weights[i]->nbytes;
  }
  return true;
}

static bool crc_piece(const void *p, size_t n, void *user) {
  *(uint32_t *)user = tcc_crc32(*(uint32_t *)user, p, n);
  return true;
}

static bool write_piece(const void *p, size_t n, void *user) {
  return fwrite(p, 1, n, user) == n;
}

bool llvm_weights_write(const IrModule *m, const LlvmObject *o, FILE *f) {
  const LlvmWeights *w = &o->weights;
  uint32_t crc = 0;
  blob_data(m, w, crc_piece, &crc);
  unsigned char h[TCC_WEIGHTS_HEADER_SIZE] = {0};
  memcpy(h, TCC_WEIGHTS_MAGIC, 8);
  put_le(h + 8, TCC_WEIGHTS_FORMAT, 4);
  put_le(h + 12, TCC_WEIGHTS_HEADER_SIZE, 4);
  put_le(h + 16, w->id, 8);
  put_le(h + 24, w->data_size, 8);
  put_le(h + 32, crc, 4);
  strncpy((char *)h + 40, m->name, 23);
  return fwrite(h, 1, sizeof h, f) == sizeof h && blob_data(m, w, write_piece, f);
}

uint64_t llvm_object_size(const LlvmObject *o) {
  return o->blob.head ? o->blob.total_size : o->size;
}

bool llvm_object_write(const LlvmObject *o, FILE *f) {
  if (o->blob.head) return elf_write_with_blob(f, &o->blob, o->pieces, o->num_pieces);
  return fwrite(o->bytes, 1, o->size, f) == o->size;
}

const void *llvm_object_bytes(LlvmObject *o) {
  if (o->blob.head && !o->bytes) {
    o->bytes = elf_flatten_with_blob(&o->blob, o->pieces, o->num_pieces);
    o->size = o->bytes ? (size_t)o->blob.total_size : 0;
  }
  return o->bytes;
}

void llvm_object_free(LlvmObject *o) {
  free(o->bytes);
  free(o->llvm_text);
  free(o->asm_text);
  elf_with_blob_free(&o->blob);
  free(o->pieces);
  free(o->weights.offset);
  *o = (LlvmObject){0};
}

bool llvm_emit_object(IrModule *m, const LlvmOptions *o, void **obj, size_t *size) {
  LlvmObject lo;
  *obj = NULL;
  *size = 0;
  if (!llvm_emit(m, o, &lo)) return false;
  bool ok = llvm_object_bytes(&lo) != NULL;
  if (ok) {
    *obj = lo.bytes;
    *size = lo.size;
    lo.bytes = NULL;
  }
  llvm_object_free(&lo);
  return ok;
}

bool llvm_emit(IrModule *m, const LlvmOptions *o, LlvmObject *out) {
  *out = (LlvmObject){0};
  void **obj = &out->bytes;
  size_t *size = &out->size;
  if (!m->main || !m->main->lowered || m->main->workspace_size < 0) {
    diag_error("internal error: code generation needs the lowered, planned main function");
    return false;
  }
  const TargetRow *row = target_row(o->target);
  target_init_llvm(); /* once per process: LLVM's target registry is global */
  char *cpu, *features;
  target_resolve(o, &cpu, &features);
  stage_begin("codegen: segments and units");
  uint64_t *ext_offset = NULL;
  if (o->external_weights) plan_external(m, &out->weights, &ext_offset);
  SegPlan plan;
  plan_segments(m, o->share, ext_offset, &plan);
  Unit *units;
  int num_units = plan_units(&plan, &units);
  uint64_t blob_size = 0;
  uint64_t *blob_offset = ext_offset ? NULL : plan_blob(m, row, &blob_size);
  bool ok;
  if (num_units >= 3 && elf_merge_supported(row->pub.triple)) {
    EmJob j = {.m = m, .row = row, .cpu = cpu, .features = features, .opt = o->opt_level,
               .plan = &plan, .units = units, .num_units = num_units,
               .blob_offset = blob_offset, .blob_size = blob_size,
               .ext_offset = ext_offset, .ext = &out->weights,
               .want_llvm = o->want_llvm, .want_asm = o->want_asm};
    ok = em_units(&j, o->jobs > 0 ? o->jobs : 1, obj, size, out);
  } else {
    LLVMTargetMachineRef tm = em_machine(row, cpu, features, o->opt_level, weight_bytes(m));
    ok = tm != NULL;
    if (ok) {
      Em e;
      LLVMTargetDataRef td;
      em_open(&e, m, row, cpu, features, tm, &td);
      e.blob_offset = blob_offset;
      e.blob_size = blob_size;
      e.ext_offset = ext_offset;
      e.ext = &out->weights;
      stage_begin("codegen: LLVM IR");
      ok = em_module(&e, &plan, row, td, cpu, features);
      stage_begin("codegen: LLVM optimization");
      ok = ok && em_verify_and_optimize(&e, tm, o->opt_level) &&
           em_texts(tm, e.mod, o->want_llvm, o->want_asm, &out->llvm_text, &out->asm_text);
      stage_begin("codegen: LLVM object");
      ok = ok && em_object(tm, e.mod, obj, size);
      em_close(&e, td);
      LLVMDisposeTargetMachine(tm);
    }
  }
  stage_begin("codegen: weights blob");
  ok = ok && attach_blob(m, row, blob_offset, blob_size, out);
  stage_end();
  if (!ok) llvm_object_free(out);
  free(blob_offset);
  free(ext_offset);
  free(units);
  free_plan(&plan);
  free(cpu);
  free(features);
  return ok;
}
