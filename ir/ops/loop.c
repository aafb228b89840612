/*
 * loop.c — typing rules of the loop-level ops (docs/ir.md, "Loop level").
 *
 * ir_verify has already checked operand/result/region counts, that no
 * operand is absent and that every operand is in scope; these hooks check
 * types and attributes only.  Buffers read by loads, views and copies may
 * be weights (a tensor-typed value with ->weight); stores and copy
 * destinations must be real buffers, since weights are read-only.
 */
#include <stdarg.h>
#include <string.h>

#include "ir.h"
#include "tcc/runtime.h"

typedef struct TypeStr {
  char s[256];
} TypeStr;

static const char *tstr(IrModule *m, const IrValue *v, TypeStr *buf) {
  return ir_type_str(m, &v->type, buf->s, sizeof buf->s);
}

static bool bad(const IrOp *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool bad(const IrOp *op, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  diag_at(DIAG_ERROR, &op->loc, "verifier: '%s' %s", ir_op_info(op->kind)->name, msg);
  return false;
}

static bool is_index(const IrValue *v) {
  return v->type.kind == IR_TYPE_SCALAR && v->type.elem == IR_INDEX;
}

/* Readable memory: a buffer, or a weight (read like a read-only buffer). */
static bool is_mem(const IrValue *v) {
  return v->type.kind == IR_TYPE_BUFFER || (v->type.kind == IR_TYPE_TENSOR && v->weight);
}

static bool is_val(const IrValue *v) {
  return (v->type.kind == IR_TYPE_SCALAR || v->type.kind == IR_TYPE_VECTOR) &&
         v->type.elem != IR_ELEM_NONE;
}

/* Scalar vs vector with the same lane count (element types may differ). */
static bool same_shape(const IrType *a, const IrType *b) {
  if (a->kind != b->kind) return false;
  return a->kind != IR_TYPE_VECTOR || (a->lanes == b->lanes && a->scalable == b->scalable);
}

static bool same_type(const IrValue *a, const IrValue *b) {
  return ir_type_equal(&a->type, &b->type);
}

static bool numeric(IrElem e) { return ir_elem_is_float(e) || ir_elem_is_int(e); }

/* A string attribute that must be one of a '|'-separated list. */
static bool one_of(const IrOp *op, const char *name, const char *choices) {
  const char *s = ir_attr_string(op, name, NULL);
  size_t n = s ? strlen(s) : 0;
  for (const char *c = choices; s && n && *c;) {
    size_t k = strcspn(c, "|");
    if (k == n && !memcmp(c, s, n)) return true;
    c += k + (c[k] == '|');
  }
  return bad(op, "expects string attribute '%s' = %s", name, choices);
}

/* -------------------------------------------------------------- control */
bool op_for_verify(IrModule *m, IrOp *op) {
  TypeStr a, b;
  int n = op->num_operands - 2;
  const IrAttr *step = ir_attr_get(op, "step");
  if (!is_index(op->operands[0]) || !is_index(op->operands[1]))
    return bad(op, "expects index bounds, got %s and %s", tstr(m, op->operands[0], &a),
               tstr(m, op->operands[1], &b));
  if (!step || step->kind != IR_ATTR_INT || step->i <= 0)
    return bad(op, "expects int attribute 'step' > 0");
  /* parallel=1: the iterations are independent, so the backend may split
   * them across threads; a carried value would make them dependent. */
  const IrAttr *par = ir_attr_get(op, "parallel");
  if (par && (par->kind != IR_ATTR_INT || (par->i != 0 && par->i != 1)))
    return bad(op, "expects int attribute 'parallel' = 0 or 1");
  if (par && par->i == 1 && n > 0)
    return bad(op, "with parallel=1 cannot carry iteration values (it has %d)", n);
  if (op->num_results != n)
    return bad(op, "has %d iteration values but %d results", n, op->num_results);
  IrBlock *body = op->num_regions == 1 ? op->regions[0] : NULL;
  if (!body || body->num_args != 1 + n)
    return bad(op, "expects a body with %d arguments (index, then iteration values)", 1 + n);
  if (!is_index(body->args[0]))
    return bad(op, "induction variable is %s, expected index", tstr(m, body->args[0], &a));
  for (int i = 0; i < n; i++) {
    IrValue *init = op->operands[2 + i];
    if (!is_val(init))
      return bad(op, "iteration value %d is %s, expected a scalar or vector", i, tstr(m, init, &a));
    if (!same_type(init, op->results[i]) || !same_type(init, body->args[1 + i]))
      return bad(op, "iteration value %d is %s but its result or body argument differs", i,
                 tstr(m, init, &a));
  }
  if (n > 0 && (!body->last || body->last->kind != IR_OP_YIELD))
    return bad(op, "body must end in 'loop.yield' (the loop has %d iteration values)", n);
  return true;
}

static bool is_bool(const IrValue *v) {
  return v->type.kind == IR_TYPE_SCALAR && v->type.elem == IR_BOOL;
}

/* loop.while(%c, inits...) (iter args...) { ... loop.yield(%c_next,
 * next...) }: no induction variable; the body always ends in loop.yield,
 * since it always gives the next condition. */
bool op_while_verify(IrModule *m, IrOp *op) {
  TypeStr a;
  int n = op->num_operands - 1;
  if (!is_bool(op->operands[0]))
    return bad(op, "expects a bool condition, got %s", tstr(m, op->operands[0], &a));
  if (op->num_results != n)
    return bad(op, "has %d iteration values but %d results", n, op->num_results);
  IrBlock *body = op->num_regions == 1 ? op->regions[0] : NULL;
  if (!body || body->num_args != n)
    return bad(op, "expects a body with %d arguments (the iteration values)", n);
  for (int i = 0; i < n; i++) {
    IrValue *init = op->operands[1 + i];
    if (!is_val(init))
      return bad(op, "iteration value %d is %s, expected a scalar or vector", i, tstr(m, init, &a));
    if (!same_type(init, op->results[i]) || !same_type(init, body->args[i]))
      return bad(op, "iteration value %d is %s but its result or body argument differs", i,
                 tstr(m, init, &a));
  }
  if (!body->last || body->last->kind != IR_OP_YIELD)
    return bad(op, "body must end in 'loop.yield' (the next condition, then %d iteration values)",
               n);
  return true;
}

/* In loop.for: the next iteration values.  In loop.while: the next
 * condition, then the next iteration values. */
bool op_yield_verify(IrModule *m, IrOp *op) {
  TypeStr a, b;
  IrOp *loop = op->parent ? op->parent->parent_op : NULL;
  if (!loop || (loop->kind != IR_OP_FOR && loop->kind != IR_OP_WHILE))
    return bad(op, "must be inside 'loop.for' or 'loop.while'");
  if (loop->kind == IR_OP_WHILE) { /* checked against the inits: results are the loop's job */
    int n = loop->num_operands - 1;
    if (op->num_operands != 1 + n)
      return bad(op, "yields %d values, the loop.while expects its condition and %d iteration "
                 "values", op->num_operands, n);
    if (!is_bool(op->operands[0]))
      return bad(op, "condition is %s, expected bool", tstr(m, op->operands[0], &a));
    for (int i = 0; i < n; i++)
      if (!same_type(op->operands[1 + i], loop->operands[1 + i]))
        return bad(op, "value %d is %s, the loop's iteration value %d is %s", 1 + i,
                   tstr(m, op->operands[1 + i], &a), i, tstr(m, loop->operands[1 + i], &b));
    return true;
  }
  if (op->num_operands != loop->num_results)
    return bad(op, "yields %d values, the loop has %d iteration values", op->num_operands,
               loop->num_results);
  for (int i = 0; i < op->num_operands; i++)
    if (!same_type(op->operands[i], loop->results[i]))
      return bad(op, "value %d is %s, the loop's iteration value is %s", i,
                 tstr(m, op->operands[i], &a), tstr(m, loop->results[i], &b));
  return true;
}

/* --------------------------------------------------------------- memory */
bool op_alloc_verify(IrModule *m, IrOp *op) {
  TypeStr a;
  const IrAttr *off = ir_attr_get(op, "offset");
  IrValue *r = op->results[0];
  uint64_t bytes;
  if (r->type.kind != IR_TYPE_BUFFER || !ir_type_nbytes_bound(m, &r->type, &bytes))
    return bad(op, "expects a buffer of bounded size, got %s", tstr(m, r, &a));
  if (off && (off->kind != IR_ATTR_INT || off->i < 0))
    return bad(op, "expects int attribute 'offset' >= 0");
  return true;
}

/* Same element type and, when both are static, the same element count. */
static bool same_elems(IrModule *m, const IrOp *op, const IrValue *x, const IrValue *y,
                       const char *verb) {
  TypeStr a, b;
  uint64_t nx, ny;
  bool counts = ir_type_numel(&x->type, &nx) && ir_type_numel(&y->type, &ny);
  if (x->type.elem != y->type.elem || (counts && nx != ny))
    return bad(op, "cannot %s %s as %s", verb, tstr(m, x, &a), tstr(m, y, &b));
  return true;
}

/* A function argument of a sub-byte type is the caller's buffer in ONNX's
 * packing; a view as u8[ceil(n * bits / 8)], its bytes, is how the entry
 * unpacks it and the exit packs into it (docs/ir.md). */
static bool is_packed_arg(const IrValue *v) {
  return v->type.kind == IR_TYPE_BUFFER && ir_elem_is_subbyte(v->type.elem) && !v->def &&
         v->block && !v->block->parent_op;
}

static bool packed_view_ok(const IrValue *src, const IrValue *r) {
  uint64_t n, bytes;
  return is_packed_arg(src) && r->type.elem == IR_U8 && ir_type_numel(&src->type, &n) &&
         ir_type_numel(&r->type, &bytes) && bytes == ir_elem_packed_bytes(src->type.elem, n);
}

bool op_view_verify(IrModule *m, IrOp *op) {
  TypeStr a;
  IrValue *src = op->operands[0], *r = op->results[0];
  if (!is_mem(src)) return bad(op, "expects a buffer or weight, got %s", tstr(m, src, &a));
  if (r->type.kind != IR_TYPE_BUFFER) return bad(op, "expects a buffer result, got %s", tstr(m, r, &a));
  if (packed_view_ok(src, r)) return true;
  return same_elems(m, op, src, r, "view");
}

bool op_copy_verify(IrModule *m, IrOp *op) {
  TypeStr a;
  IrValue *src = op->operands[0], *dst = op->operands[1];
  if (!is_mem(src)) return bad(op, "expects a buffer or weight source, got %s", tstr(m, src, &a));
  if (dst->type.kind != IR_TYPE_BUFFER)
    return bad(op, "expects a buffer destination, got %s", tstr(m, dst, &a));
  return same_elems(m, op, src, dst, "copy");
}

static bool check_indices(IrModule *m, const IrOp *op, const IrValue *buf, int first) {
  TypeStr a;
  int got = op->num_operands - first;
  if (got != buf->type.rank)
    return bad(op, "expects %d indices for %s, got %d", buf->type.rank, tstr(m, buf, &a), got);
  for (int i = first; i < op->num_operands; i++)
    if (!is_index(op->operands[i]))
      return bad(op, "index %d is %s, expected index", i - first, tstr(m, op->operands[i], &a));
  if (op->kind != IR_OP_VLOAD && op->kind != IR_OP_VSTORE) return true;
  return buf->type.rank > 0 || bad(op, "needs a buffer of rank >= 1");
}

/* The scalar (load/store) or vector (vload/vstore) value type of buf. */
static bool value_matches(IrModule *m, const IrOp *op, const IrValue *val, const IrValue *buf,
                          bool vec) {
  TypeStr a, b;
  IrTypeKind k = vec ? IR_TYPE_VECTOR : IR_TYPE_SCALAR;
  if (val->type.kind == k && val->type.elem == buf->type.elem) return true;
  return bad(op, "value %s does not match %s %s", tstr(m, val, &a),
             vec ? "a vector of the elements of" : "the elements of", tstr(m, buf, &b));
}

/* {valid=n} on a vector access: only lanes 0 .. n-1 are read (the others
 * are zero) or written, 0 < n < lanes, a fixed-width vector. */
static bool valid_lanes_ok(const IrOp *op, const IrValue *vec) {
  const IrAttr *a = ir_attr_get(op, "valid");
  if (!a) return true;
  if (op->kind != IR_OP_VLOAD && op->kind != IR_OP_VSTORE)
    return bad(op, "'valid' applies to vector loads and stores only");
  if (a->kind != IR_ATTR_INT || a->i < 1 || a->i >= vec->type.lanes || vec->type.scalable)
    return bad(op, "valid=%lld must be between 1 and %d (lanes - 1) of a fixed-width vector",
               a->kind == IR_ATTR_INT ? (long long)a->i : -1LL, vec->type.lanes - 1);
  return true;
}

/* {stride=s} on a vector load or store: lane l reads or writes element
 * index + l*s (a strided convolution's inputs, a Winograd tile's outputs),
 * s >= 1, a fixed-width vector of numbers. */
static bool stride_ok(const IrOp *op, const IrValue *vec) {
  const IrAttr *a = ir_attr_get(op, "stride");
  if (!a) return true;
  if (op->kind != IR_OP_VLOAD && op->kind != IR_OP_VSTORE)
    return bad(op, "'stride' applies to vector loads and stores only");
  if (a->kind != IR_ATTR_INT || a->i < 1 || a->i > 64 || vec->type.scalable ||
      vec->type.elem == IR_BOOL)
    return bad(op, "stride=%lld must be between 1 and 64, on a fixed-width vector of numbers",
               a->kind == IR_ATTR_INT ? (long long)a->i : -1LL);
  return true;
}

bool op_load_verify(IrModule *m, IrOp *op) {
  TypeStr a;
  IrValue *buf = op->operands[0];
  if (!is_mem(buf)) return bad(op, "expects a buffer or weight, got %s", tstr(m, buf, &a));
  return check_indices(m, op, buf, 1) &&
         value_matches(m, op, op->results[0], buf, op->kind == IR_OP_VLOAD) &&
         valid_lanes_ok(op, op->results[0]) && stride_ok(op, op->results[0]);
}

bool op_prefetch_verify(IrModule *m, IrOp *op) {
  TypeStr a;
  IrValue *buf = op->operands[0];
  if (!is_mem(buf)) return bad(op, "expects a buffer or weight, got %s", tstr(m, buf, &a));
  return check_indices(m, op, buf, 1);
}

bool op_store_verify(IrModule *m, IrOp *op) {
  TypeStr a;
  IrValue *buf = op->operands[1];
  if (buf->weight) return bad(op, "cannot store into weight $%s", buf->weight->name);
  if (buf->type.kind != IR_TYPE_BUFFER)
    return bad(op, "expects a buffer, got %s", tstr(m, buf, &a));
  return check_indices(m, op, buf, 2) &&
         value_matches(m, op, op->operands[0], buf, op->kind == IR_OP_VSTORE) &&
         valid_lanes_ok(op, op->operands[0]) && stride_ok(op, op->operands[0]);
}

/* ----------------------------------------------------------- arithmetic */
/* dim.get {sym="N"} : index reads a run-time dim; dim.set(%n) {sym="N"}
 * writes one (a data-dependent size, before any buffer of that size is
 * touched). */
static bool dim_sym_ok(IrModule *m, const IrOp *op) {
  const char *name = ir_attr_string(op, "sym", NULL);
  if (!name) return bad(op, "expects string attribute 'sym'");
  if (ir_sym_find(m, name) < 0) return bad(op, "names no sym '%s'", name);
  return true;
}

bool op_dim_get_verify(IrModule *m, IrOp *op) {
  TypeStr a;
  if (!is_index(op->results[0]))
    return bad(op, "expects an index result, got %s", tstr(m, op->results[0], &a));
  return dim_sym_ok(m, op);
}

bool op_dim_set_verify(IrModule *m, IrOp *op) {
  TypeStr a;
  if (!is_index(op->operands[0]))
    return bad(op, "expects an index operand, got %s", tstr(m, op->operands[0], &a));
  return dim_sym_ok(m, op);
}

bool op_const_verify(IrModule *m, IrOp *op) {
  TypeStr a;
  IrValue *r = op->results[0];
  const IrAttr *v = ir_attr_get(op, "value");
  if (r->type.kind != IR_TYPE_SCALAR || r->type.elem == IR_ELEM_NONE)
    return bad(op, "expects a scalar result, got %s", tstr(m, r, &a));
  if (!v || (v->kind != IR_ATTR_INT && v->kind != IR_ATTR_FLOAT))
    return bad(op, "expects attribute 'value' (int or float)");
  if (v->kind == IR_ATTR_FLOAT && !ir_elem_is_float(r->type.elem))
    return bad(op, "has a float value for %s", tstr(m, r, &a));
  return true;
}

/* All operands of the same scalar/vector type, which the result has too. */
static bool uniform(IrModule *m, const IrOp *op, int first) {
  TypeStr a, b;
  IrValue *x = op->operands[first];
  if (!is_val(x)) return bad(op, "expects scalars or vectors, got %s", tstr(m, x, &a));
  for (int i = first + 1; i < op->num_operands; i++)
    if (!same_type(x, op->operands[i]))
      return bad(op, "operands have different types %s and %s", tstr(m, x, &a),
                 tstr(m, op->operands[i], &b));
  if (!same_type(x, op->results[0]))
    return bad(op, "result %s differs from its operands' %s", tstr(m, op->results[0], &a),
               tstr(m, x, &b));
  return true;
}

static bool elem_ok(IrModule *m, const IrOp *op, bool ok, const char *what) {
  TypeStr a;
  return ok || bad(op, "expects %s operands, got %s", what, tstr(m, op->operands[0], &a));
}

bool op_arith2_verify(IrModule *m, IrOp *op) {
  if (!uniform(m, op, 0)) return false;
  IrElem e = op->operands[0]->type.elem;
  if (op->kind == IR_OP_A_AND || op->kind == IR_OP_A_OR || op->kind == IR_OP_A_XOR)
    return elem_ok(m, op, ir_elem_is_int(e) || e == IR_BOOL, "integer or bool");
  return elem_ok(m, op, numeric(e), "numeric");
}

bool op_arith1_verify(IrModule *m, IrOp *op) {
  if (!uniform(m, op, 0)) return false;
  IrElem e = op->operands[0]->type.elem;
  if (op->kind == IR_OP_A_NOT)
    return elem_ok(m, op, ir_elem_is_int(e) || e == IR_BOOL, "integer or bool");
  return elem_ok(m, op, numeric(e), "numeric");
}

bool op_fma_verify(IrModule *m, IrOp *op) {
  return uniform(m, op, 0) && elem_ok(m, op, numeric(op->operands[0]->type.elem), "numeric");
}

bool op_dot4_verify(IrModule *m, IrOp *op) {
  return uniform(m, op, 0) && elem_ok(m, op, op->operands[0]->type.elem == IR_I32, "i32");
}

bool op_math_verify(IrModule *m, IrOp *op) {
  return uniform(m, op, 0) &&
         elem_ok(m, op, ir_elem_is_float(op->operands[0]->type.elem), "float");
}

bool op_cmp_verify(IrModule *m, IrOp *op) {
  TypeStr a, b;
  IrValue *x = op->operands[0], *y = op->operands[1], *r = op->results[0];
  if (!is_val(x)) return bad(op, "expects scalars or vectors, got %s", tstr(m, x, &a));
  if (!same_type(x, y))
    return bad(op, "operands have different types %s and %s", tstr(m, x, &a), tstr(m, y, &b));
  if (r->type.elem != IR_BOOL || !same_shape(&r->type, &x->type))
    return bad(op, "result %s is not the bool form of %s", tstr(m, r, &a), tstr(m, x, &b));
  return one_of(op, "pred", "eq|ne|lt|le|gt|ge");
}

bool op_select_verify(IrModule *m, IrOp *op) {
  TypeStr a, b;
  IrValue *c = op->operands[0];
  if (!uniform(m, op, 1)) return false;
  bool scalar_cond = c->type.kind == IR_TYPE_SCALAR;
  if (c->type.elem != IR_BOOL || !(scalar_cond || same_shape(&c->type, &op->operands[1]->type)))
    return bad(op, "condition %s does not fit operands %s", tstr(m, c, &a),
               tstr(m, op->operands[1], &b));
  return true;
}

bool op_cast_verify(IrModule *m, IrOp *op) {
  TypeStr a, b;
  IrValue *x = op->operands[0], *r = op->results[0];
  if (!is_val(x) || !is_val(r) || !same_shape(&x->type, &r->type) ||
      ir_elem_is_narrow_float(x->type.elem) || ir_elem_is_narrow_float(r->type.elem) ||
      ir_elem_is_subbyte(x->type.elem) || ir_elem_is_subbyte(r->type.elem))
    return bad(op, "cannot cast %s to %s", tstr(m, x, &a), tstr(m, r, &b));
  return true;
}

/* The same bits as another element type of the same size (8-bit floats
 * and the sub-byte types become u8/i8 and back to be converted,
 * docs/ir.md). */
bool op_bitcast_verify(IrModule *m, IrOp *op) {
  TypeStr a, b;
  IrValue *x = op->operands[0], *r = op->results[0];
  IrElem xe = x->type.elem, re = r->type.elem;
  if (!is_val(x) || !is_val(r) || !same_shape(&x->type, &r->type) || xe == IR_BOOL ||
      re == IR_BOOL || xe == IR_INDEX || re == IR_INDEX || xe == IR_ELEM_NONE ||
      re == IR_ELEM_NONE || ir_elem_size(xe) != ir_elem_size(re))
    return bad(op, "cannot bitcast %s to %s", tstr(m, x, &a), tstr(m, r, &b));
  return true;
}

/* --------------------------------------------------------------- vector */
bool op_broadcast_verify(IrModule *m, IrOp *op) {
  TypeStr a, b;
  IrValue *x = op->operands[0], *r = op->results[0];
  if (x->type.kind != IR_TYPE_SCALAR || r->type.kind != IR_TYPE_VECTOR ||
      x->type.elem != r->type.elem || x->type.elem == IR_ELEM_NONE)
    return bad(op, "cannot broadcast %s to %s", tstr(m, x, &a), tstr(m, r, &b));
  return true;
}

bool op_vreduce_verify(IrModule *m, IrOp *op) {
  TypeStr a, b;
  IrValue *x = op->operands[0], *r = op->results[0];
  if (x->type.kind != IR_TYPE_VECTOR || r->type.kind != IR_TYPE_SCALAR ||
      x->type.elem != r->type.elem || !numeric(x->type.elem))
    return bad(op, "cannot reduce %s to %s", tstr(m, x, &a), tstr(m, r, &b));
  return one_of(op, "kind", "add|max|min");
}

/* ---------------------------------------------------------------- failure */
/* rt.check(%ok) {status=S}: when %ok is false the run stops and the entry
 * point returns S, naming the op's node (docs/ir.md).  Only the statuses
 * that a value can cause are allowed; and not inside a parallel loop, whose
 * body the backend outlines into a function that cannot return for _run. */
bool op_mark_verify(IrModule *m, IrOp *op) {
  (void)m;
  const IrAttr *layer = ir_attr_get(op, "layer");
  if (!layer || layer->kind != IR_ATTR_INT || layer->i < 0 || layer->i > INT32_MAX)
    return bad(op, "expects int attribute 'layer' >= 0");
  if (op->parent->parent_op)
    return bad(op, "must be at the top level of the function, between layers");
  return true;
}

bool op_check_verify(IrModule *m, IrOp *op) {
  TypeStr a;
  const IrAttr *st = ir_attr_get(op, "status");
  if (!is_bool(op->operands[0]))
    return bad(op, "expects a bool scalar condition, got %s", tstr(m, op->operands[0], &a));
  if (!st || st->kind != IR_ATTR_INT ||
      (st->i != TCC_ERR_DIM_OUT_OF_RANGE && st->i != TCC_ERR_INDEX_OUT_OF_RANGE))
    return bad(op, "expects int attribute 'status' = %d (dimension out of range) or %d "
               "(index out of range)", TCC_ERR_DIM_OUT_OF_RANGE, TCC_ERR_INDEX_OUT_OF_RANGE);
  for (IrBlock *b = op->parent; b && b->parent_op; b = b->parent_op->parent)
    if (b->parent_op->kind == IR_OP_FOR && ir_attr_int(b->parent_op, "parallel", 0) == 1)
      return bad(op, "cannot be inside a parallel loop.for");
  return true;
}
