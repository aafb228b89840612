/*
 * interp.c — runs a loop-level function (constant folding, test oracle).
 *
 * Two steps.  compile_* walks the function once: it checks each op (counts,
 * the op's verify hook, scoping by definition order), gives every scalar or
 * vector value a slot of lanes (Num: int64 or double), resolves buffer
 * shapes (symbolic dims take their bound value), pre-decodes attributes and
 * allocates mem.alloc memory, producing an array of Ins per block.
 * run_* then executes those arrays; nothing is looked up by name while
 * running.
 *
 * Numbers: floats are held as double and rounded to their element type
 * after every op (f16/bf16 through ir_elem_store_f64); integers as int64,
 * wrapped to their width after every op (unsigned types zero-extended, u64
 * as its bit pattern).  Scalable vectors run with vscale = 1.  Every memory
 * access is bounds-checked and reported, never performed out of bounds.
 * All memory (a private arena, the slot table, allocated buffers) is freed
 * on every return path.
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "tcc/runtime.h"

#define INTERP_MAX_LANES (1 << 16)

typedef union Num {
  int64_t i;
  double f;
} Num;

typedef struct Slot {
  Num *v;             /* scalar/vector lanes; NULL until defined */
  int lanes;
  unsigned char *mem; /* buffer/weight memory */
  uint64_t nbytes;
  bool readonly;      /* a weight */
  bool defined;
} Slot;

typedef struct Code Code;

typedef struct Ins {
  IrOp *op;
  IrElem elem;     /* element type of operand 0 (or of the buffer for memory ops) */
  IrElem to;       /* element type of result 0 */
  int lanes;       /* lanes of the scalar/vector values involved */
  int valid;       /* vector loads/stores: lanes that touch memory */
  int stride;      /* vector loads and stores: elements between lanes */
  int code;        /* cmp predicate / reduce kind */
  int rank;        /* memory ops: the buffer's rank, dims, strides */
  int64_t *dims, *strides;
  bool dyn;        /* memory ops: run-time dims, strides resolved per access */
  int64_t step;    /* loop.for */
  Code *body;      /* loop.for, loop.while */
  Num *tmp;        /* loop.for, loop.while: yielded values in flight */
  int tmp_lanes;
  unsigned char *mem; /* mem.alloc */
  uint64_t nbytes;
} Ins;

struct Code {
  Ins *ins;
  int n;
};

typedef struct Interp {
  IrModule *m;
  IrFunc *f;
  IrArena *arena;
  Slot *slots;
  int nslots;
  void **allocs; /* calloc'd mem.alloc buffers */
  int nallocs, cap_allocs;
  void *workspace;
  int64_t *dims;  /* by sym: its value in this run, -1 until known */
  uint64_t steps, max_steps; /* ops executed; the limit (0: none) */
  bool over_limit;
} Interp;

static bool err(const IrOp *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool err(const IrOp *op, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  diag_at(DIAG_ERROR, &op->loc, "interp: '%s' %s", ir_op_info(op->kind)->name, msg);
  return false;
}

static Slot *slot(Interp *in, const IrValue *v) { return &in->slots[v->id]; }
static Num *lanes(Interp *in, const IrValue *v) { return in->slots[v->id].v; }

/* ------------------------------------------------------------- numbers */
static double to_f32(double x) {
  if (isfinite(x) && fabs(x) > FLT_MAX) /* beyond FLT_MAX + half an ulp: inf */
    return fabs(x) >= (double)FLT_MAX + ldexp(1.0, 103) ? copysign(INFINITY, x)
                                                         : copysign(FLT_MAX, x);
  return (double)(float)x;
}

static double fround(IrElem e, double x) {
  unsigned char tmp[2];
  switch (e) {
  case IR_F64: return x;
  case IR_F32: return to_f32(x);
  default:
    ir_elem_store_f64(e, tmp, 0, to_f32(x));
    return ir_elem_load_f64(e, tmp, 0);
  }
}

static int64_t wrap(IrElem e, uint64_t x) {
  switch (e) {
  case IR_I8: return (int8_t)x;
  case IR_I16: return (int16_t)x;
  case IR_I32: return (int32_t)x;
  case IR_U8: return (uint8_t)x;
  case IR_U16: return (uint16_t)x;
  case IR_U32: return (uint32_t)x;
  case IR_BOOL: return x != 0;
  default: return (int64_t)x;
  }
}

static bool is_unsigned(IrElem e) { return !ir_elem_is_signed(e) && !ir_elem_is_float(e); }

/* Saturating float -> int, truncating toward zero; NaN gives 0. */
static int64_t f2i(IrElem to, double x) {
  static const double lo[IR_ELEM_COUNT] = {
      [IR_I8] = -128.0, [IR_I16] = -32768.0, [IR_I32] = -2147483648.0,
      [IR_I64] = -9223372036854775808.0, [IR_INDEX] = -9223372036854775808.0};
  static const double hi[IR_ELEM_COUNT] = {
      [IR_I8] = 127.0, [IR_I16] = 32767.0, [IR_I32] = 2147483647.0,
      [IR_U8] = 255.0, [IR_U16] = 65535.0, [IR_U32] = 4294967295.0};
  if (isnan(x)) return 0;
  x = trunc(x);
  if (x < lo[to]) x = lo[to];
  if (to == IR_U64) return x >= 18446744073709551616.0 ? -1 : (int64_t)(uint64_t)x;
  if (to == IR_I64 || to == IR_INDEX)
    return x >= 9223372036854775808.0 ? INT64_MAX : (int64_t)x;
  return (int64_t)(x > hi[to] ? hi[to] : x);
}

static double i2f(IrElem from, int64_t x) {
  return from == IR_U64 ? (double)(uint64_t)x : (double)x;
}

static Num cast1(IrElem from, IrElem to, Num a) {
  bool ff = ir_elem_is_float(from);
  Num r;
  if (to == IR_BOOL) r.i = ff ? a.f != 0 : a.i != 0;
  else if (ir_elem_is_float(to)) r.f = fround(to, ff ? a.f : i2f(from, a.i));
  else r.i = ff ? wrap(to, (uint64_t)f2i(to, a.f)) : wrap(to, (uint64_t)a.i);
  return r;
}

/* The bits of a as type `to` (same size), through memory. */
static Num bitcast1(IrElem from, IrElem to, Num a) {
  unsigned char tmp[8] = {0};
  Num r;
  if (ir_elem_is_float(from)) ir_elem_store_f64(from, tmp, 0, a.f);
  else ir_elem_store_i64(from, tmp, 0, a.i);
  if (ir_elem_is_float(to)) r.f = ir_elem_load_f64(to, tmp, 0);
  else r.i = wrap(to, (uint64_t)ir_elem_load_i64(to, tmp, 0));
  return r;
}

static bool int_less(IrElem e, int64_t a, int64_t b) {
  return is_unsigned(e) ? (uint64_t)a < (uint64_t)b : a < b;
}

/* Integer binary op; false on division by zero. */
static bool ibin(IrOpKind k, IrElem e, int64_t a, int64_t b, int64_t *r) {
  uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
  bool u = is_unsigned(e);
  switch (k) {
  case IR_OP_A_ADD: *r = wrap(e, ua + ub); return true;
  case IR_OP_A_SUB: *r = wrap(e, ua - ub); return true;
  case IR_OP_A_MUL: *r = wrap(e, ua * ub); return true;
  case IR_OP_A_AND: *r = wrap(e, ua & ub); return true;
  case IR_OP_A_OR: *r = wrap(e, ua | ub); return true;
  case IR_OP_A_XOR: *r = wrap(e, ua ^ ub); return true;
  case IR_OP_A_MAX: *r = int_less(e, a, b) ? b : a; return true;
  case IR_OP_A_MIN: *r = int_less(e, b, a) ? b : a; return true;
  case IR_OP_A_DIV:
  case IR_OP_A_REM:
    if (!b) return false;
    if (u) *r = wrap(e, k == IR_OP_A_DIV ? ua / ub : ua % ub);
    else if (a == INT64_MIN && b == -1) *r = k == IR_OP_A_DIV ? a : 0;
    else *r = wrap(e, (uint64_t)(k == IR_OP_A_DIV ? a / b : a % b));
    return true;
  default: return false;
  }
}

static double fbin(IrOpKind k, double a, double b) {
  switch (k) {
  case IR_OP_A_ADD: return a + b;
  case IR_OP_A_SUB: return a - b;
  case IR_OP_A_MUL: return a * b;
  case IR_OP_A_DIV: return a / b;
  case IR_OP_A_REM: return fmod(a, b);
  case IR_OP_A_MAX: return fmax(a, b);
  case IR_OP_A_MIN: return fmin(a, b);
  default: return pow(a, b); /* IR_OP_M_POW */
  }
}

static double fmath(IrOpKind k, double x) {
  switch (k) {
  case IR_OP_M_EXP: return exp(x);
  case IR_OP_M_LOG: return log(x);
  case IR_OP_M_SQRT: return sqrt(x);
  case IR_OP_M_TANH: return tanh(x);
  case IR_OP_M_ERF: return erf(x);
  case IR_OP_M_SIGMOID: return 1 / (1 + exp(-x));
  case IR_OP_M_SIN: return sin(x);
  case IR_OP_M_COS: return cos(x);
  case IR_OP_M_TAN: return tan(x);
  case IR_OP_M_ASIN: return asin(x);
  case IR_OP_M_ACOS: return acos(x);
  case IR_OP_M_ATAN: return atan(x);
  case IR_OP_M_SINH: return sinh(x);
  case IR_OP_M_COSH: return cosh(x);
  case IR_OP_M_ASINH: return asinh(x);
  case IR_OP_M_ACOSH: return acosh(x);
  case IR_OP_M_ATANH: return atanh(x);
  case IR_OP_M_FLOOR: return floor(x);
  case IR_OP_M_CEIL: return ceil(x);
  default: return nearbyint(x); /* IR_OP_M_ROUND: half to even */
  }
}

/* ORDER PRED: the predicate names and cmp1's cases. */
static const char *const preds[] = {"eq", "ne", "lt", "le", "gt", "ge", NULL};
static const char *const reduce_kinds[] = {"add", "max", "min", NULL};

static int find_name(const char *const *names, const char *s) {
  for (int i = 0; s && names[i]; i++)
    if (!strcmp(names[i], s)) return i;
  return 0;
}

static bool cmp1(int pred, IrElem e, Num a, Num b) {
  if (ir_elem_is_float(e)) {
    switch (pred) {
    case 0: return a.f == b.f;
    case 1: return a.f != b.f;
    case 2: return a.f < b.f;
    case 3: return a.f <= b.f;
    case 4: return a.f > b.f;
    default: return a.f >= b.f;
    }
  }
  switch (pred) {
  case 0: return a.i == b.i;
  case 1: return a.i != b.i;
  case 2: return int_less(e, a.i, b.i);
  case 3: return !int_less(e, b.i, a.i);
  case 4: return int_less(e, b.i, a.i);
  default: return !int_less(e, a.i, b.i);
  }
}

/* ------------------------------------------------------------- compile */
static bool compile_block(Interp *in, IrBlock *b, Code *out);

static bool shape_too_large(Interp *in, const IrOp *op, const IrType *t) {
  char buf[256];
  const char *ts = ir_type_str(in->m, t, buf, sizeof buf);
  if (op) return err(op, "needs a known, not too large shape, got %s", ts);
  diag_error("interp: a function argument needs a known, not too large shape, got %s", ts);
  return false;
}

/* Resolves a static or symbolic shape to sizes; row-major strides.  A
 * sym takes its value in this run, or its upper bound when that is not
 * known yet or when `bound` (memory to allocate) is asked for. */
static bool resolve_as(Interp *in, const IrOp *op, const IrType *t, int64_t *dims,
                       int64_t *strides, uint64_t *nbytes, bool bound) {
  uint64_t n = 1;
  for (int i = 0; i < t->rank; i++) {
    const IrDim *d = &t->dims[i];
    dims[i] = d->size;
    if (d->sym >= 0 && d->sym < in->m->num_syms) {
      const IrSym *s = &in->m->syms[d->sym];
      dims[i] = in->dims[d->sym];
      if (dims[i] < 0 || (bound && s->value < 0)) dims[i] = s->hi;
    } else if (d->sym >= 0) {
      dims[i] = -1;
    }
    if (dims[i] < 0 || (dims[i] && n > (UINT64_MAX >> 4) / (uint64_t)dims[i]))
      return shape_too_large(in, op, t);
    n *= (uint64_t)dims[i];
  }
  /* With a zero dim n stays 0 however large the others are: the strides
   * can still overflow (a hostile shape such as [0, 2^35, 2^33]). */
  int64_t s = 1;
  for (int i = t->rank - 1; i >= 0; i--) {
    if (strides) strides[i] = s;
    int64_t d = dims[i] ? dims[i] : 1;
    if (s > INT64_MAX / d) return shape_too_large(in, op, t);
    s *= d;
  }
  *nbytes = n * ir_elem_size(t->elem);
  return true;
}

static bool resolve(Interp *in, const IrOp *op, const IrType *t, int64_t *dims,
                    int64_t *strides, uint64_t *nbytes) {
  return resolve_as(in, op, t, dims, strides, nbytes, false);
}

static bool define(Interp *in, const IrOp *op, IrValue *v) {
  if (v->id < 0 || v->id >= in->nslots || slot(in, v)->defined)
    return err(op, "defines a value twice or with a bad id");
  Slot *s = slot(in, v);
  s->defined = true;
  if (v->type.kind != IR_TYPE_SCALAR && v->type.kind != IR_TYPE_VECTOR) return true;
  s->lanes = v->type.kind == IR_TYPE_VECTOR ? v->type.lanes : 1;
  if (s->lanes < 1 || s->lanes > INTERP_MAX_LANES) return err(op, "has a vector too wide to run");
  s->v = ir_arena_alloc(in->arena, sizeof(Num) * (size_t)s->lanes);
  return true;
}

static bool compile_memop(Interp *in, Ins *ins, const IrValue *buf) {
  uint64_t nbytes;
  ins->rank = buf->type.rank;
  ins->elem = buf->type.elem;
  ins->dims = ir_arena_alloc(in->arena, sizeof(int64_t) * (size_t)(ins->rank + 1));
  ins->strides = ir_arena_alloc(in->arena, sizeof(int64_t) * (size_t)(ins->rank + 1));
  ins->dyn = ir_type_is_dynamic(in->m, &buf->type);
  return resolve(in, ins->op, &buf->type, ins->dims, ins->strides, &nbytes);
}

static bool compile_alloc(Interp *in, Ins *ins) {
  IrOp *op = ins->op;
  int64_t dims[IR_MAX_RANK];
  const IrAttr *off = ir_attr_get(op, "offset");
  if (!resolve_as(in, op, &op->results[0]->type, dims, NULL, &ins->nbytes, true))
    return false;
  if (in->workspace && off) {
    int64_t ws = in->f->workspace_size;
    if (ws >= 0 && (uint64_t)off->i + ins->nbytes > (uint64_t)ws)
      return err(op, "offset %lld + %llu bytes exceeds the workspace of %lld bytes",
                 (long long)off->i, (unsigned long long)ins->nbytes, (long long)ws);
    ins->mem = (unsigned char *)in->workspace + off->i;
    return true;
  }
  ins->mem = calloc(1, ins->nbytes ? ins->nbytes : 1);
  if (!ins->mem) return err(op, "cannot allocate %llu bytes", (unsigned long long)ins->nbytes);
  if (in->nallocs == in->cap_allocs) {
    in->cap_allocs = in->cap_allocs ? 2 * in->cap_allocs : 16;
    void **a = realloc(in->allocs, sizeof *a * (size_t)in->cap_allocs);
    if (!a) abort();
    in->allocs = a;
  }
  in->allocs[in->nallocs++] = ins->mem;
  return true;
}

/* The body is compiled before the loop's results exist (they are not in
 * its scope); the yield buffer is sized once they do. */
static bool compile_for_body(Interp *in, Ins *ins) {
  ins->body = ir_arena_alloc(in->arena, sizeof *ins->body);
  return compile_block(in, ins->op->regions[0], ins->body);
}

static void compile_for(Interp *in, Ins *ins) {
  IrOp *op = ins->op;
  ins->step = op->kind == IR_OP_FOR ? ir_attr_int(op, "step", 1) : 0;
  for (int i = 0; i < op->num_results; i++) ins->tmp_lanes += slot(in, op->results[i])->lanes;
  ins->tmp = ir_arena_alloc(in->arena, sizeof(Num) * (size_t)(ins->tmp_lanes + 1));
}

/* Structural checks the verifier would make, so that a bad module is
 * reported instead of crashing the interpreter. */
static bool check_op(Interp *in, IrOp *op) {
  const IrOpInfo *info = ir_op_info(op->kind);
  if (info->level != IR_LEVEL_LOOP) return err(op, "is not a loop-level op");
  if (op->num_operands < info->min_operands ||
      (info->max_operands >= 0 && op->num_operands > info->max_operands) ||
      op->num_results < info->min_results ||
      (info->max_results >= 0 && op->num_results > info->max_results) ||
      op->num_regions != ((info->flags & OPF_REGION) ? 1 : 0))
    return err(op, "has the wrong number of operands, results or regions");
  for (int i = 0; i < op->num_operands; i++) {
    IrValue *v = op->operands[i];
    if (!v || v->id < 0 || v->id >= in->nslots || !slot(in, v)->defined)
      return err(op, "operand %d is not defined before its use", i);
  }
  return true;
}

static bool compile_op(Interp *in, IrOp *op, Ins *ins) {
  ins->op = op;
  if (!check_op(in, op)) return false;
  if ((op->kind == IR_OP_FOR || op->kind == IR_OP_WHILE) && !compile_for_body(in, ins))
    return false;
  for (int i = 0; i < op->num_results; i++)
    if (!define(in, op, op->results[i])) return false;
  const IrOpInfo *info = ir_op_info(op->kind);
  if (info->verify && !info->verify(in->m, op)) return false;
  IrValue *a = op->num_operands ? op->operands[0] : NULL;
  ins->elem = a ? a->type.elem : IR_ELEM_NONE;
  ins->to = op->num_results ? op->results[0]->type.elem : IR_ELEM_NONE;
  ins->lanes = op->num_results ? slot(in, op->results[0])->lanes : 0;
  switch (op->kind) {
  case IR_OP_FOR: case IR_OP_WHILE: compile_for(in, ins); break;
  case IR_OP_ALLOC: return compile_alloc(in, ins);
  case IR_OP_LOAD: case IR_OP_VLOAD: case IR_OP_VIEW: case IR_OP_COPY:
    ins->valid = (int)ir_attr_int(op, "valid", ins->lanes);
    ins->stride = (int)ir_attr_int(op, "stride", 1);
    return compile_memop(in, ins, a);
  case IR_OP_STORE: case IR_OP_VSTORE:
    ins->lanes = slot(in, a)->lanes;
    ins->valid = (int)ir_attr_int(op, "valid", ins->lanes);
    ins->stride = (int)ir_attr_int(op, "stride", 1);
    return compile_memop(in, ins, op->operands[1]);
  case IR_OP_A_CMP: ins->code = find_name(preds, ir_attr_string(op, "pred", NULL)); break;
  case IR_OP_DIM_GET: case IR_OP_DIM_SET:
    ins->code = ir_sym_find(in->m, ir_attr_string(op, "sym", ""));
    break;
  case IR_OP_V_REDUCE:
    ins->code = find_name(reduce_kinds, ir_attr_string(op, "kind", NULL));
    ins->lanes = slot(in, a)->lanes;
    break;
  case IR_OP_A_SELECT: ins->elem = op->operands[1]->type.elem; break;
  default: break;
  }
  return true;
}

static bool compile_block(Interp *in, IrBlock *b, Code *out) {
  for (int i = 0; i < b->num_args; i++)
    if (b->parent_op && !define(in, b->parent_op, b->args[i])) return false;
  for (IrOp *op = b->first; op; op = op->next) out->n++;
  out->ins = ir_arena_alloc(in->arena, sizeof(Ins) * (size_t)(out->n + 1));
  int k = 0;
  for (IrOp *op = b->first; op; op = op->next, k++)
    if (!compile_op(in, op, &out->ins[k])) return false;
  return true;
}

/* ----------------------------------------------------------------- run */
static bool run_block(Interp *in, const Code *c);

/* The yielded values from operand `first` on become the body arguments
 * from `arg` on, through ins->tmp: a yielded value may be a body argument
 * itself. */
static void carry(Interp *in, const Ins *ins, const IrOp *yield, int first, int arg) {
  IrBlock *body = ins->op->regions[0];
  int n = ins->op->num_results;
  Num *t = ins->tmp;
  for (int i = 0; i < n; i++) {
    int l = slot(in, yield->operands[first + i])->lanes;
    memcpy(t, lanes(in, yield->operands[first + i]), sizeof(Num) * (size_t)l);
    t += l;
  }
  t = ins->tmp;
  for (int i = 0; i < n; i++) {
    int l = slot(in, body->args[arg + i])->lanes;
    memcpy(lanes(in, body->args[arg + i]), t, sizeof(Num) * (size_t)l);
    t += l;
  }
}

/* Body arguments from `arg` on <- the operands from `first` on (inits), or
 * the results <- those arguments (finals). */
static void move_iters(Interp *in, const IrOp *op, int arg, int first, bool to_results) {
  IrBlock *body = op->regions[0];
  for (int i = 0; i < op->num_results; i++) {
    IrValue *a = body->args[arg + i], *v = to_results ? op->results[i] : op->operands[first + i];
    size_t n = sizeof(Num) * (size_t)slot(in, a)->lanes;
    if (to_results) memcpy(lanes(in, v), lanes(in, a), n);
    else memcpy(lanes(in, a), lanes(in, v), n);
  }
}

static bool run_for(Interp *in, const Ins *ins) {
  IrOp *op = ins->op;
  IrBlock *body = op->regions[0];
  int64_t lo = lanes(in, op->operands[0])->i, hi = lanes(in, op->operands[1])->i;
  move_iters(in, op, 1, 2, false);
  const IrOp *yield = body->last && body->last->kind == IR_OP_YIELD ? body->last : NULL;
  for (int64_t iv = lo; iv < hi;) {
    lanes(in, body->args[0])->i = iv;
    if (!run_block(in, ins->body)) return false;
    if (yield) carry(in, ins, yield, 0, 1);
    if ((uint64_t)hi - (uint64_t)iv <= (uint64_t)ins->step) break;
    iv += ins->step;
  }
  move_iters(in, op, 1, 2, true);
  return true;
}

/* loop.while: runs the body while the condition (operand 0, then the
 * yield's operand 0) holds.  No guard against a loop that never ends: that
 * is the model's behaviour, as in the compiled code. */
static bool run_while(Interp *in, const Ins *ins) {
  IrOp *op = ins->op;
  IrBlock *body = op->regions[0];
  const IrOp *yield = body->last;
  if (!yield || yield->kind != IR_OP_YIELD) return err(op, "body does not end in 'loop.yield'");
  move_iters(in, op, 0, 1, false);
  for (bool cond = lanes(in, op->operands[0])->i != 0; cond;) {
    if (!run_block(in, ins->body)) return false;
    cond = lanes(in, yield->operands[0])->i != 0; /* before carry() may overwrite it */
    carry(in, ins, yield, 1, 0);
  }
  move_iters(in, op, 0, 1, true);
  return true;
}

/* Element offset of the access at idx (first index operand), checked. */
static bool mem_offset(Interp *in, const Ins *ins, int first, int vlanes, size_t *off) {
  const IrOp *op = ins->op;
  const Slot *buf = slot(in, op->operands[first - 1]);
  int64_t o = 0, dd[IR_MAX_RANK], ss[IR_MAX_RANK];
  const int64_t *dims = ins->dims, *strides = ins->strides;
  if (!buf->mem) return err(op, "reads a weight that has no data");
  if (ins->dyn) {
    uint64_t nbytes;
    if (!resolve(in, op, &op->operands[first - 1]->type, dd, ss, &nbytes)) return false;
    if (nbytes > buf->nbytes) return err(op, "run-time dims exceed the buffer's memory");
    dims = dd;
    strides = ss;
  }
  for (int d = 0; d < ins->rank; d++) {
    int64_t i = lanes(in, op->operands[first + d])->i;
    int64_t extent = d == ins->rank - 1 ? vlanes : 1;
    if (i < 0 || i >= dims[d] || extent > dims[d] - i) {
      char t[256];
      return err(op, "index %lld%s is out of bounds for dimension %d of %s", (long long)i,
                 extent > 1 ? " (+ vector lanes)" : "", d,
                 ir_type_str(in->m, &op->operands[first - 1]->type, t, sizeof t));
    }
    o += i * strides[d];
  }
  *off = (size_t)o;
  return true;
}

static bool run_load(Interp *in, const Ins *ins) {
  size_t off;
  const IrOp *op = ins->op;
  if (!mem_offset(in, ins, 1, (ins->valid - 1) * ins->stride + 1, &off)) return false;
  const unsigned char *mem = slot(in, op->operands[0])->mem;
  Num *r = lanes(in, op->results[0]);
  memset(r, 0, sizeof *r * (size_t)ins->lanes);
  for (int l = 0; l < ins->valid; l++) {
    size_t at = off + (size_t)l * (size_t)ins->stride;
    if (ir_elem_is_float(ins->elem)) r[l].f = ir_elem_load_f64(ins->elem, mem, at);
    else r[l].i = wrap(ins->elem, (uint64_t)ir_elem_load_i64(ins->elem, mem, at));
  }
  return true;
}

static bool run_store(Interp *in, const Ins *ins) {
  size_t off;
  const IrOp *op = ins->op;
  Slot *buf = slot(in, op->operands[1]);
  if (buf->readonly) return err(op, "cannot store into a weight");
  if (!mem_offset(in, ins, 2, (ins->valid - 1) * ins->stride + 1, &off)) return false;
  const Num *v = lanes(in, op->operands[0]);
  for (int l = 0; l < ins->valid; l++) {
    size_t at = off + (size_t)l * (size_t)ins->stride;
    if (ir_elem_is_float(ins->elem)) ir_elem_store_f64(ins->elem, buf->mem, at, v[l].f);
    else ir_elem_store_i64(ins->elem, buf->mem, at, v[l].i);
  }
  return true;
}

static bool run_view_copy(Interp *in, const Ins *ins) {
  const IrOp *op = ins->op;
  Slot *src = slot(in, op->operands[0]);
  uint64_t need;
  int64_t dims[IR_MAX_RANK];
  const IrType *t = op->kind == IR_OP_VIEW ? &op->results[0]->type : &op->operands[1]->type;
  if (!resolve(in, op, t, dims, NULL, &need)) return false;
  if (!src->mem) return err(op, "reads a weight that has no data");
  if (need > src->nbytes) return err(op, "needs %llu bytes, its source has %llu",
                                     (unsigned long long)need, (unsigned long long)src->nbytes);
  if (op->kind == IR_OP_VIEW) {
    Slot *r = slot(in, op->results[0]);
    r->mem = src->mem;
    r->nbytes = need;
    r->readonly = src->readonly;
    return true;
  }
  Slot *dst = slot(in, op->operands[1]);
  if (dst->readonly) return err(op, "cannot copy into a weight");
  if (need > dst->nbytes) return err(op, "destination is too small");
  memmove(dst->mem, src->mem, need);
  return true;
}

static bool run_arith(Interp *in, const Ins *ins) {
  const IrOp *op = ins->op;
  IrOpKind k = op->kind;
  IrElem e = ins->elem;
  Num *r = lanes(in, op->results[0]), *a = lanes(in, op->operands[0]);
  Num *b = op->num_operands > 1 ? lanes(in, op->operands[1]) : NULL;
  Num *c = op->num_operands > 2 ? lanes(in, op->operands[2]) : NULL;
  bool fl = ir_elem_is_float(e);
  for (int l = 0; l < ins->lanes; l++) {
    if (k == IR_OP_A_NEG) {
      if (fl) r[l].f = -a[l].f;
      else r[l].i = wrap(e, 0 - (uint64_t)a[l].i);
    } else if (k == IR_OP_A_ABS) {
      if (fl) r[l].f = fabs(a[l].f);
      else r[l].i = is_unsigned(e) || a[l].i >= 0 ? a[l].i : wrap(e, 0 - (uint64_t)a[l].i);
    } else if (k == IR_OP_A_NOT) {
      r[l].i = wrap(e, e == IR_BOOL ? (uint64_t)a[l].i ^ 1 : ~(uint64_t)a[l].i);
    } else if (k == IR_OP_A_FMA) {
      if (fl) r[l].f = fround(e, fma(a[l].f, b[l].f, c[l].f));
      else r[l].i = wrap(e, (uint64_t)a[l].i * (uint64_t)b[l].i + (uint64_t)c[l].i);
    } else if (fl) {
      r[l].f = fround(e, fbin(k, a[l].f, b[l].f));
    } else if (!ibin(k, e, a[l].i, b[l].i, &r[l].i)) {
      return err(op, "divides by zero");
    }
  }
  return true;
}

static bool run_value_op(Interp *in, const Ins *ins) {
  const IrOp *op = ins->op;
  Num *r = lanes(in, op->results[0]), *a = lanes(in, op->operands[0]);
  switch (op->kind) {
  case IR_OP_A_CMP:
    for (int l = 0; l < ins->lanes; l++)
      r[l].i = cmp1(ins->code, ins->elem, a[l], lanes(in, op->operands[1])[l]);
    return true;
  case IR_OP_A_SELECT: {
    Num *x = lanes(in, op->operands[1]), *y = lanes(in, op->operands[2]);
    int cl = slot(in, op->operands[0])->lanes;
    for (int l = 0; l < ins->lanes; l++) r[l] = a[cl > 1 ? l : 0].i ? x[l] : y[l];
    return true;
  }
  case IR_OP_A_CAST:
    for (int l = 0; l < ins->lanes; l++) r[l] = cast1(ins->elem, ins->to, a[l]);
    return true;
  case IR_OP_A_BITCAST:
    for (int l = 0; l < ins->lanes; l++) r[l] = bitcast1(ins->elem, ins->to, a[l]);
    return true;
  case IR_OP_A_DOT4: /* four u8 x i8 products per i32 lane, wrapping */
    for (int l = 0; l < ins->lanes; l++) {
      uint32_t u = (uint32_t)lanes(in, op->operands[1])[l].i;
      uint32_t s = (uint32_t)lanes(in, op->operands[2])[l].i;
      uint64_t sum = (uint64_t)a[l].i;
      for (int q = 0; q < 4; q++)
        sum += (uint64_t)((int64_t)((u >> 8 * q) & 255) * (int8_t)(uint8_t)(s >> 8 * q));
      r[l].i = wrap(IR_I32, sum);
    }
    return true;
  case IR_OP_V_BROADCAST:
    for (int l = 0; l < ins->lanes; l++) r[l] = a[0];
    return true;
  case IR_OP_M_POW:
    for (int l = 0; l < ins->lanes; l++)
      r[l].f = fround(ins->elem, pow(a[l].f, lanes(in, op->operands[1])[l].f));
    return true;
  default:
    for (int l = 0; l < ins->lanes; l++) r[l].f = fround(ins->elem, fmath(op->kind, a[l].f));
    return true;
  }
}

static void run_reduce(Interp *in, const Ins *ins) {
  const IrOp *op = ins->op;
  Num *a = lanes(in, op->operands[0]), acc = a[0];
  IrElem e = ins->elem;
  static const IrOpKind kinds[] = {IR_OP_A_ADD, IR_OP_A_MAX, IR_OP_A_MIN};
  for (int l = 1; l < ins->lanes; l++) {
    if (ir_elem_is_float(e)) acc.f = fround(e, fbin(kinds[ins->code], acc.f, a[l].f));
    else ibin(kinds[ins->code], e, acc.i, a[l].i, &acc.i);
  }
  *lanes(in, op->results[0]) = acc;
}

static bool run_ins(Interp *in, const Ins *ins) {
  const IrOp *op = ins->op;
  switch (op->kind) {
  case IR_OP_FOR: return run_for(in, ins);
  case IR_OP_WHILE: return run_while(in, ins);
  case IR_OP_YIELD: return true; /* run_for / run_while read the yielded values */
  case IR_OP_ALLOC: {
    Slot *s = slot(in, op->results[0]);
    s->mem = ins->mem;
    s->nbytes = ins->nbytes;
    return true;
  }
  case IR_OP_VIEW: case IR_OP_COPY: return run_view_copy(in, ins);
  case IR_OP_LOAD: case IR_OP_VLOAD: return run_load(in, ins);
  case IR_OP_STORE: case IR_OP_VSTORE: return run_store(in, ins);
  case IR_OP_PREFETCH: return true; /* a hint: nothing to compute */
  case IR_OP_CONST: {
    Num *r = lanes(in, op->results[0]);
    if (ir_elem_is_float(ins->to)) r->f = fround(ins->to, ir_attr_float(op, "value", 0));
    else r->i = wrap(ins->to, (uint64_t)ir_attr_int(op, "value", 0));
    return true;
  }
  case IR_OP_V_REDUCE: run_reduce(in, ins); return true;
  case IR_OP_DIM_GET: {
    int64_t v = in->dims[ins->code];
    if (v < 0)
      return err(op, "reads the run-time dimension '%s' before it has a value",
                 in->m->syms[ins->code].name);
    lanes(in, op->results[0])->i = v;
    return true;
  }
  case IR_OP_DIM_SET: {
    const IrSym *s = &in->m->syms[ins->code];
    int64_t v = lanes(in, op->operands[0])->i;
    if (v < s->lo || (s->hi >= 0 && v > s->hi))
      return err(op, "sets '%s' to %lld, outside %lld..%lld", s->name, (long long)v,
                 (long long)s->lo, (long long)s->hi);
    in->dims[ins->code] = v;
    return true;
  }
  case IR_OP_MARK: return true; /* a compiled model would call the profiler */
  case IR_OP_CHECK: /* a compiled model would return the status here */
    if (lanes(in, op->operands[0])->i) return true;
    diag_at(DIAG_ERROR, &op->loc, "%s (rt.check fails with status %lld)",
            ir_attr_int(op, "status", 0) == TCC_ERR_INDEX_OUT_OF_RANGE
                ? "an index is out of range"
                : "a size is outside its compiled range",
            (long long)ir_attr_int(op, "status", 0));
    return false;
  default:
    if (op->kind >= IR_OP_A_ADD && op->kind <= IR_OP_A_FMA) return run_arith(in, ins);
    return run_value_op(in, ins);
  }
}

static bool run_block(Interp *in, const Code *c) {
  if (in->max_steps && (in->steps += (uint64_t)c->n) > in->max_steps) {
    in->over_limit = true;
    return false;
  }
  for (int i = 0; i < c->n; i++)
    if (!run_ins(in, &c->ins[i])) return false;
  return true;
}

/* ---------------------------------------------------------------- entry */
static bool setup(Interp *in, void *const *buffers) {
  IrModule *m = in->m;
  for (int i = 0; i < m->num_weights; i++) {
    IrWeight *w = m->weights[i];
    Slot *s = &in->slots[w->value->id];
    uint64_t need;
    s->defined = true;
    s->readonly = true;
    if (w->data && ir_type_nbytes(&w->value->type, &need) && need <= w->nbytes) {
      s->mem = (unsigned char *)(uintptr_t)w->data; /* never written: readonly */
      s->nbytes = need;
    }
  }
  IrBlock *b = in->f->body;
  for (int i = 0; i < b->num_args; i++) {
    IrValue *v = b->args[i];
    Slot *s = &in->slots[v->id];
    int64_t dims[IR_MAX_RANK];
    if (v->type.kind != IR_TYPE_BUFFER || !buffers || !buffers[i]) {
      diag_error("interp: argument %d of @%s needs a buffer", i, in->f->name);
      return false;
    }
    if (!resolve(in, NULL, &v->type, dims, NULL, &s->nbytes)) return false;
    s->mem = buffers[i];
    s->defined = true;
  }
  return true;
}

bool ir_interp_run(IrModule *m, IrFunc *f, void *const *buffers, void *workspace) {
  return ir_interp_run_dims(m, f, buffers, workspace, NULL);
}

static bool interp_run(IrModule *m, IrFunc *f, void *const *buffers, void *workspace,
                       int64_t *dims, uint64_t max_steps, bool *over_limit);

bool ir_interp_run_dims(IrModule *m, IrFunc *f, void *const *buffers, void *workspace,
                        int64_t *dims) {
  return interp_run(m, f, buffers, workspace, dims, 0, NULL);
}

bool ir_interp_run_limited(IrModule *m, IrFunc *f, void *const *buffers, void *workspace,
                           uint64_t max_steps, bool *over_limit) {
  return interp_run(m, f, buffers, workspace, NULL, max_steps, over_limit);
}

static bool interp_run(IrModule *m, IrFunc *f, void *const *buffers, void *workspace,
                       int64_t *dims, uint64_t max_steps, bool *over_limit) {
  if (over_limit) *over_limit = false;
  if (!f || !f->lowered) {
    diag_error("interp: only a lowered (loop-level) function can run");
    return false;
  }
  Interp in = {m, f, ir_arena_new(), NULL, m->next_value_id, NULL, 0, 0, workspace, NULL,
               0, max_steps, false};
  in.dims = ir_arena_alloc(in.arena, sizeof(int64_t) * (size_t)(m->num_syms + 1));
  for (int k = 0; k < m->num_syms; k++)
    in.dims[k] = m->syms[k].value >= 0 ? m->syms[k].value : dims ? dims[k] : -1;
  in.slots = calloc((size_t)(in.nslots > 0 ? in.nslots : 1), sizeof *in.slots);
  if (!in.slots) abort();
  for (int i = 0; i < f->body->num_args || i < m->num_weights; i++) {
    IrValue *v = i < f->body->num_args ? f->body->args[i] : NULL;
    IrValue *w = i < m->num_weights ? m->weights[i]->value : NULL;
    if ((v && (v->id < 0 || v->id >= in.nslots)) || (w && (w->id < 0 || w->id >= in.nslots))) {
      diag_error("interp: a value has an id outside the module");
      in.nslots = -1;
      break;
    }
  }
  Code code = {0};
  bool ok = in.nslots >= 0 && setup(&in, buffers) && compile_block(&in, f->body, &code) &&
            run_block(&in, &code);
  if (ok && dims) memcpy(dims, in.dims, sizeof(int64_t) * (size_t)m->num_syms);
  if (over_limit) *over_limit = in.over_limit;
  for (int i = 0; i < in.nallocs; i++) free(in.allocs[i]);
  free(in.allocs);
  free(in.slots);
  ir_arena_free(in.arena);
  return ok;
}
