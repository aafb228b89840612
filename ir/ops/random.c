/*
 * random.c — RandomUniform, RandomNormal, RandomUniformLike,
 * RandomNormalLike and Bernoulli, from a deterministic counter-based
 * generator (random.h shares it with Dropout's training mode).
 *
 * ONNX leaves the generator unspecified, so no implementation reproduces
 * another's draws; tcc's are reproducible instead: element i of a result
 * (row-major) is a pure function of (key, i), where the key is the
 * splitmix64 hash of the `seed` attribute's bits.  The draw is splitmix64's
 * finalizer applied to key + (i + 1) * golden-gamma, as loop IR (shifts are
 * unsigned divisions by powers of two, which LLVM turns back into shifts);
 * its top 53 bits make a uniform double in [0, 1).  Normal draws use
 * Box-Muller on the uniforms of counters 2i and 2i + 1.  The same seed thus
 * gives the same tensor on every run and target, also when constant folding
 * evaluates the op at compile time.
 *
 * Canonical forms: random_uniform(_like) {dtype, low, high, seed},
 * random_normal(_like) {dtype, mean, scale, seed}, bernoulli {dtype, seed};
 * the non-Like forms also {shape}.  Without `seed` (ONNX: "auto-generated")
 * import sets one from a hash of the node's name, so two unseeded nodes of
 * one model draw different streams and the IR text shows the seed used.
 */
#include "random.h"
#include "datamove.h"

#include <string.h>

#define RANDOM_GAMMA 0x9E3779B97F4A7C15ull
#define RANDOM_PI 3.14159265358979323846

static uint64_t random_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* The stream key of a seed value. */
static uint64_t random_key(double seed) {
  uint64_t bits;
  memcpy(&bits, &seed, sizeof bits);
  return random_mix(bits + RANDOM_GAMMA);
}

static bool random_like(const IrOp *op) {
  return op->kind == IR_OP_RANDOM_UNIFORM_LIKE || op->kind == IR_OP_RANDOM_NORMAL_LIKE ||
         op->kind == IR_OP_BERNOULLI;
}

static bool random_normal(const IrOp *op) {
  return op->kind == IR_OP_RANDOM_NORMAL || op->kind == IR_OP_RANDOM_NORMAL_LIKE;
}

/* A float attribute (default dflt), set explicitly. */
static bool random_attr_float(IrModule *m, IrOp *op, const char *name, double dflt) {
  const IrAttr *a = ir_attr_get(op, name);
  if (a && a->kind != IR_ATTR_FLOAT && a->kind != IR_ATTR_INT) {
    diag_at(DIAG_ERROR, &op->loc, "%s: attribute '%s' must be a float", dm_name(op), name);
    return false;
  }
  ir_attr_set_float(m, op, name, !a ? dflt : a->kind == IR_ATTR_FLOAT ? a->f : (double)a->i);
  return true;
}

/* The default seed: FNV-1a of the node name, kept small and exact. */
static double random_default_seed(const IrOp *op) {
  const char *node = op->loc.node ? op->loc.node : "";
  return (double)(ir_hash(IR_HASH_START, node, strlen(node)) & 0xFFFFFF);
}

bool random_seed_import(IrModule *m, IrOp *op) {
  return random_attr_float(m, op, "seed", random_default_seed(op));
}

bool op_random_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  int64_t dtype;
  IrValue *in = dm_operand(op, 0);
  int64_t dflt = in ? ir_elem_to_onnx(in->type.elem) : 1;
  if (!dm_attr_int(op, "dtype", dflt, &dtype)) return false;
  IrElem e = ir_elem_from_onnx((int)dtype);
  if (e == IR_ELEM_NONE || (op->kind != IR_OP_BERNOULLI && !ir_elem_is_float(e))) {
    diag_at(DIAG_ERROR, &op->loc, "%s: unsupported dtype %lld", dm_name(op), (long long)dtype);
    return false;
  }
  ir_attr_set_int(m, op, "dtype", dtype);
  if (!random_seed_import(m, op)) return false;
  if (op->kind == IR_OP_BERNOULLI) return true;
  const char *a = random_normal(op) ? "mean" : "low", *b = random_normal(op) ? "scale" : "high";
  if (!random_attr_float(m, op, a, 0.0) || !random_attr_float(m, op, b, 1.0)) return false;
  if (random_like(op)) return true;
  const int64_t *shape;
  int n;
  if (!dm_attr_ints(op, "shape", &n, &shape)) return false;
  if (n < 0) {
    diag_at(DIAG_ERROR, &op->loc, "%s: missing attribute 'shape'", dm_name(op));
    return false;
  }
  return true;
}

bool op_random_infer(IrModule *m, IrOp *op) {
  (void)m;
  int64_t dims[IR_MAX_RANK];
  IrElem e = ir_elem_from_onnx((int)ir_attr_int(op, "dtype", 1));
  if (random_like(op)) {
    if (!dm_static_input(op, 0, dims)) return false;
    if (op->kind == IR_OP_BERNOULLI && !ir_elem_is_float(op->operands[0]->type.elem)) {
      diag_at(DIAG_ERROR, &op->loc, "Bernoulli: input probabilities must be float");
      return false;
    }
    dm_set_result(op, 0, e, op->operands[0]->type.rank, dims);
    return true;
  }
  const int64_t *shape;
  int n = ir_attr_ints(op, "shape", &shape);
  bool ok = n >= 0 && n <= IR_MAX_RANK;
  for (int i = 0; ok && i < n; i++) ok = shape[i] >= 0;
  if (!ok) {
    diag_at(DIAG_ERROR, &op->loc, "%s: shape must have at most 16 dims, none negative",
            dm_name(op));
    return false;
  }
  dm_set_result(op, 0, e, n, shape);
  return true;
}

/* u64 >> k as an unsigned division (loop IR has no shifts). */
static IrValue *random_shr(LwCtx *c, IrValue *z, int k) {
  return lw_bin(c, IR_OP_A_DIV, z, lw_const_i(c, IR_U64, (int64_t)(1ull << k)));
}

static IrValue *random_xorshift_mul(LwCtx *c, IrValue *z, int k, uint64_t mul) {
  z = lw_bin(c, IR_OP_A_XOR, z, random_shr(c, z, k));
  return mul ? lw_bin(c, IR_OP_A_MUL, z, lw_const_i(c, IR_U64, (int64_t)mul)) : z;
}

/* The uniform double in [0, 1) of counter ctr (an index value). */
static IrValue *random_uniform01(LwCtx *c, uint64_t key, IrValue *ctr) {
  IrValue *z = lw_bin(c, IR_OP_A_ADD, lw_cast(c, ctr, IR_U64), lw_const_i(c, IR_U64, 1));
  z = lw_bin(c, IR_OP_A_MUL, z, lw_const_i(c, IR_U64, (int64_t)RANDOM_GAMMA));
  z = lw_bin(c, IR_OP_A_ADD, z, lw_const_i(c, IR_U64, (int64_t)key));
  z = random_xorshift_mul(c, z, 30, 0xBF58476D1CE4E5B9ull);
  z = random_xorshift_mul(c, z, 27, 0x94D049BB133111EBull);
  z = random_xorshift_mul(c, z, 31, 0);
  IrValue *u = lw_cast(c, random_shr(c, z, 11), IR_F64);
  return lw_bin(c, IR_OP_A_MUL, u, lw_const_f(c, IR_F64, 1.0 / 9007199254740992.0));
}

IrValue *random_draw01(LwCtx *c, const IrOp *op, IrValue *ctr) {
  return random_uniform01(c, random_key(ir_attr_float(op, "seed", 0.0)), ctr);
}

IrValue *random_counter(LwCtx *c, int rank, const int64_t *dims, IrValue *const *iv) {
  IrValue *i = lw_index(c, 0);
  for (int k = 0; k < rank; k++) i = lw_bin(c, IR_OP_A_ADD, dm_affine(c, i, dims[k], 0), iv[k]);
  return i;
}

/* Box-Muller: sqrt(-2 ln(1 - u1)) cos(2 pi u2), u1/u2 of counters 2i, 2i+1. */
static IrValue *random_gauss(LwCtx *c, uint64_t key, IrValue *i) {
  IrValue *i2 = lw_bin(c, IR_OP_A_ADD, i, i);
  IrValue *u1 = random_uniform01(c, key, i2);
  IrValue *u2 = random_uniform01(c, key, lw_bin(c, IR_OP_A_ADD, i2, lw_index(c, 1)));
  IrValue *r = lw_un(c, IR_OP_M_LOG, lw_bin(c, IR_OP_A_SUB, lw_const_f(c, IR_F64, 1.0), u1));
  r = lw_un(c, IR_OP_M_SQRT, lw_bin(c, IR_OP_A_MUL, r, lw_const_f(c, IR_F64, -2.0)));
  IrValue *th = lw_bin(c, IR_OP_A_MUL, u2, lw_const_f(c, IR_F64, 2 * RANDOM_PI));
  return lw_bin(c, IR_OP_A_MUL, r, lw_un(c, IR_OP_M_COS, th));
}

/* The value of element iv (row-major counter i) in f64 (Bernoulli: 0/1). */
static IrValue *random_value(LwCtx *c, const IrOp *op, IrValue *i, IrValue *const *iv) {
  uint64_t key = random_key(ir_attr_float(op, "seed", 0.0));
  if (op->kind == IR_OP_BERNOULLI) {
    IrValue *p = lw_cast(c, lw_load(c, c->in[0], iv), IR_F64);
    IrValue *hit = lw_cmp(c, "lt", random_uniform01(c, key, i), p);
    return lw_select(c, hit, lw_const_f(c, IR_F64, 1.0), lw_const_f(c, IR_F64, 0.0));
  }
  if (random_normal(op)) {
    IrValue *scale = lw_const_f(c, IR_F64, ir_attr_float(op, "scale", 1.0));
    return lw_fma(c, random_gauss(c, key, i), scale,
                  lw_const_f(c, IR_F64, ir_attr_float(op, "mean", 0.0)));
  }
  double lo = ir_attr_float(op, "low", 0.0), hi = ir_attr_float(op, "high", 1.0);
  return lw_fma(c, random_uniform01(c, key, i), lw_const_f(c, IR_F64, hi - lo),
                lw_const_f(c, IR_F64, lo));
}

bool op_random_lower(LwCtx *c, IrOp *op) {
  int64_t dims[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK];
  LwNest nest;
  int r = lw_rank(c->out[0]);
  for (int k = 0; k < r; k++) dims[k] = lw_dim(c->out[0], k);
  if (dm_numel(r, dims) == 0) return true;
  lw_nest_begin(c, &nest, r, dims, iv);
  IrValue *v = random_value(c, op, random_counter(c, r, dims, iv), iv);
  IrElem e = lw_elem(c->out[0]);
  if (e == IR_BOOL) v = lw_cmp(c, "ne", v, lw_const_f(c, IR_F64, 0.0));
  lw_store(c, lw_cast(c, v, e), c->out[0], iv);
  lw_nest_end(c, &nest);
  return true;
}
