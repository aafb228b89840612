/*
 * norm.c — InstanceNormalization, LayerNormalization, RMSNormalization,
 * GroupNormalization, MeanVarianceNormalization, LRN and LpNormalization.
 *
 * All but LRN normalize over a set of reduced dims:
 *   y = (x - mean) * inv * scale + bias,   inv = 1 / sqrt(var + eps)
 * (MVN: inv = 1 / (sqrt(var) + 1e-9), no scale or bias).  The lowering
 * loops over the kept dims outside and makes three passes over the
 * reduced dims inside: the sum, the sum of squared deviations (two-pass
 * variance, as the ONNX references compute it), then the output.  The
 * reduced dims are the spatial dims (InstanceNorm), the dims from `axis` on
 * (LayerNorm and RMSNorm, whose Scale/B broadcast against them) or `axes`
 * (MVN).  RMSNorm is LayerNorm without the mean and without B: one pass for
 * the mean of squares, inv = 1 / sqrt(mean(x^2) + eps), then y = x * inv *
 * scale; its scale may have another float type than X, which Y then has.
 * GroupNorm views X [N, C, D...] as [N, G, C/G, prod(D)] and reduces the
 * last two; its scale and bias are per channel (opset >= 21) or per group
 * (opset 18, the canonical attribute scale_per_group=1).
 * f16/bf16 are computed in f32.  LayerNorm's optional Mean and InvStdDev
 * outputs keep X's shape with the reduced dims set to 1.  RMSNorm's and
 * GroupNorm's stash_type (the precision of the statistics) is honoured as
 * "at least": f64 for stash_type 11 (double), else f32 for 16-bit floats
 * and X's type otherwise.
 *
 * LRN sums squares over a window of channels:
 *   y = x / (bias + alpha / size * sum_{c' in window(c)} x[c']^2) ^ beta
 * with the window [c - floor((size-1)/2), c + ceil((size-1)/2)] clipped.
 *
 * LpNormalization divides by the Lp norm along `axis` (p 1 or 2):
 *   y = x / (sum_axis |x|^p)^(1/p), and 0 where the norm is 0.
 *
 * LayerNorm takes run-time dims (OPF_DYN): dims are carried as lw_dim codes,
 * loop bounds and the element count come from dim.get where a dim is a
 * run-time one.  A run-time normalized dim works where Scale and B are 1
 * along it (they are static tensors); otherwise it is refused by name.
 * InstanceNorm takes them too, in every dim but the channels (its scale and
 * B are static [C]): the same code divides by the run-time element count.
 * RMSNorm takes them as LayerNorm does.
 *
 * BatchNormalization in training mode (batchnorm.c hands it over) uses the
 * same passes with X viewed as [N, C, S], reducing N and S per channel, and
 * also writes the running mean and variance.
 */
#include "nn_util.h"

/* ------------------------------------------------------------- import */

static bool norm_import_mvn(IrModule *m, IrOp *op) {
  if (!nn_attr_kind(op, "axes", IR_ATTR_INTS)) return false;
  const int64_t *axes;
  if (ir_attr_ints(op, "axes", &axes) < 0)
    ir_attr_set_ints(m, op, "axes", 3, (int64_t[]){0, 2, 3});
  return true;
}

static bool norm_import_lrn(IrModule *m, IrOp *op) {
  int64_t size;
  if (!ir_attr_get(op, "size")) {
    diag_at(DIAG_ERROR, &op->loc, "attribute 'size' is required");
    return false;
  }
  if (!nn_attr_int_canon(m, op, "size", 1, &size) ||
      !nn_attr_float_canon(m, op, "alpha", 1e-4) ||
      !nn_attr_float_canon(m, op, "beta", 0.75) ||
      !nn_attr_float_canon(m, op, "bias", 1.0))
    return false;
  if (size < 1) {
    diag_at(DIAG_ERROR, &op->loc, "LRN: attribute 'size' must be >= 1, got %lld",
            (long long)size);
    return false;
  }
  return true;
}

/* stash_type is a float element type's ONNX code (1 float, 10 float16,
 * 11 double, 16 bfloat16). */
static bool norm_import_stash(IrModule *m, IrOp *op) {
  int64_t st;
  if (!nn_attr_int_canon(m, op, "stash_type", 1, &st)) return false;
  if (st == 1 || st == 10 || st == 11 || st == 16) return true;
  diag_at(DIAG_ERROR, &op->loc, "%s: attribute 'stash_type' must be a float type "
          "(1 float, 10 float16, 11 double, 16 bfloat16), got %lld", nn_name(op),
          (long long)st);
  return false;
}

/* num_groups is required; opset 18 scales per group, 21 per channel. */
static bool norm_import_group(IrModule *m, IrOp *op, int opset) {
  int64_t g;
  if (!ir_attr_get(op, "num_groups")) {
    diag_at(DIAG_ERROR, &op->loc, "GroupNormalization: attribute 'num_groups' "
            "is required");
    return false;
  }
  if (!nn_attr_int_canon(m, op, "num_groups", 1, &g) ||
      !nn_attr_float_canon(m, op, "epsilon", 1e-5))
    return false;
  if (g < 1) {
    diag_at(DIAG_ERROR, &op->loc, "GroupNormalization: attribute 'num_groups' "
            "must be >= 1, got %lld", (long long)g);
    return false;
  }
  if (opset >= 21 && !norm_import_stash(m, op)) return false;
  ir_attr_set_int(m, op, "scale_per_group", opset < 21);
  return true;
}

static bool norm_import_lp(IrModule *m, IrOp *op) {
  int64_t p;
  if (!nn_attr_int_canon(m, op, "axis", -1, NULL) ||
      !nn_attr_int_canon(m, op, "p", 2, &p))
    return false;
  if (p != 1 && p != 2) {
    diag_at(DIAG_ERROR, &op->loc, "LpNormalization: attribute 'p' (%lld) must be 1 or 2",
            (long long)p);
    return false;
  }
  return true;
}

bool op_norm_import(IrModule *m, IrOp *op, int opset) {
  switch (op->kind) {
  case IR_OP_INSTANCE_NORM:
    return nn_attr_float_canon(m, op, "epsilon", 1e-5);
  case IR_OP_LAYER_NORM:
    return nn_attr_int_canon(m, op, "axis", -1, NULL) &&
           nn_attr_float_canon(m, op, "epsilon", 1e-5) &&
           nn_attr_int_canon(m, op, "stash_type", 1, NULL);
  case IR_OP_RMS_NORM:
    return nn_attr_int_canon(m, op, "axis", -1, NULL) &&
           nn_attr_float_canon(m, op, "epsilon", 1e-5) && norm_import_stash(m, op);
  case IR_OP_GROUP_NORM:
    return norm_import_group(m, op, opset);
  case IR_OP_MVN:
    return norm_import_mvn(m, op);
  case IR_OP_LP_NORM:
    return norm_import_lp(m, op);
  default:
    return norm_import_lrn(m, op);
  }
}

/* -------------------------------------------------------------- infer */

/* Which dims of X (rank r) are reduced; false after a diagnostic. */
static bool norm_reduced(const IrOp *op, int r, bool *red) {
  for (int i = 0; i < r; i++) red[i] = false;
  if (op->kind == IR_OP_INSTANCE_NORM) {
    for (int i = 2; i < r; i++) red[i] = true;
    return true;
  }
  if (op->kind == IR_OP_GROUP_NORM) { /* of the [N, G, C/G, S] view */
    red[2] = red[3] = true;
    return true;
  }
  if (op->kind == IR_OP_LAYER_NORM || op->kind == IR_OP_RMS_NORM || op->kind == IR_OP_LP_NORM) {
    int64_t axis;
    if (!nn_norm_axis(op, ir_attr_int(op, "axis", -1), r, &axis)) return false;
    for (int i = (int)axis; i < r; i++) red[i] = op->kind != IR_OP_LP_NORM || i == axis;
    return true;
  }
  const int64_t *axes;
  int n = ir_attr_ints(op, "axes", &axes);
  for (int i = 0; i < n; i++) {
    int64_t a;
    if (!nn_norm_axis(op, axes[i], r, &a)) return false;
    red[a] = true;
  }
  return true;
}

/* Operand i is a 1-D tensor of C elements of type e. */
static bool norm_check_channel(IrModule *m, const IrOp *op, int i,
                               const char *what, IrElem e, int64_t C) {
  if (!nn_check_operand(op, i, what, NN_FLOAT)) return false;
  const IrType *t = &op->operands[i]->type;
  if (t->elem == e && t->rank == 1 && ir_type_dim(t, 0) == C) return true;
  char buf[128];
  diag_at(DIAG_ERROR, &op->loc, "%s: input %s has type %s; expected %s[%lld]",
          nn_name(op), what, ir_type_str(m, t, buf, sizeof buf), ir_elem_name(e),
          (long long)C);
  return false;
}

/* Operand i broadcasts to X's dims from `axis` on (RMSNorm's scale may
 * have another float type). */
static bool norm_check_bcast(IrModule *m, const IrOp *op, int i, const char *what,
                             const int64_t *x, int r, int axis) {
  if (!nn_check_operand(op, i, what, NN_FLOAT)) return false;
  const IrType *t = &op->operands[i]->type;
  bool ok = (t->elem == op->operands[0]->type.elem || op->kind == IR_OP_RMS_NORM) &&
            t->rank <= r - axis;
  for (int k = 0; ok && k < t->rank; k++) {
    int64_t d = ir_type_dim(t, k), want = x[r - t->rank + k];
    ok = d == 1 || d == want;
    if (!ok && LW_DIM_IS_DYN(want)) {
      diag_at(DIAG_ERROR, &op->loc, "%s: normalized dim %d of X is the run-time "
              "dimension '%s', along which input %s (%lld) does not broadcast; "
              "give it one size with -dim=%s=VALUE", nn_name(op),
              r - t->rank + k, m->syms[-2 - want].name, what, (long long)d,
              m->syms[-2 - want].name);
      return false;
    }
  }
  if (ok) return true;
  char buf[128];
  diag_at(DIAG_ERROR, &op->loc, "%s: input %s has type %s, which does not "
          "broadcast to the normalized dims of X", nn_name(op), what,
          ir_type_str(m, t, buf, sizeof buf));
  return false;
}

static bool norm_infer_layer(IrModule *m, IrOp *op, const int64_t *x, int r) {
  int64_t axis;
  if (!nn_norm_axis(op, ir_attr_int(op, "axis", -1), r, &axis)) return false;
  if (!norm_check_bcast(m, op, 1, "Scale", x, r, (int)axis)) return false;
  if (op->num_operands > 2 && op->operands[2] &&
      !norm_check_bcast(m, op, 2, "B", x, r, (int)axis))
    return false;
  IrElem e = op->operands[0]->type.elem;
  IrElem u = ir_attr_int(op, "stash_type", 1) == 1 ? IR_F32 : e;
  int64_t st[IR_MAX_RANK];
  for (int i = 0; i < r; i++) st[i] = i < axis ? x[i] : 1;
  for (int i = 1; i < op->num_results; i++)
    op->results[i]->type = lw_type(IR_TYPE_TENSOR, u, r, st);
  return true;
}

/* X [N, C, ...]: num_groups divides C; scale and bias [C] or, per group,
 * [num_groups]. */
static bool norm_infer_group(IrModule *m, IrOp *op, const int64_t *x) {
  int64_t g = ir_attr_int(op, "num_groups", 1);
  if (x[1] % g != 0) {
    diag_at(DIAG_ERROR, &op->loc, "GroupNormalization: num_groups (%lld) does "
            "not divide the %lld channels of X", (long long)g, (long long)x[1]);
    return false;
  }
  int64_t n = ir_attr_int(op, "scale_per_group", 0) ? g : x[1];
  IrElem e = op->operands[0]->type.elem;
  return norm_check_channel(m, op, 1, "scale", e, n) &&
         norm_check_channel(m, op, 2, "bias", e, n);
}

bool op_norm_infer(IrModule *m, IrOp *op) {
  if (!nn_check_operand_dyn(op, 0, "X", NN_FLOAT)) return false;
  int64_t x[IR_MAX_RANK];
  int r = lw_dims(op->operands[0], x);
  IrElem e = op->operands[0]->type.elem;
  bool red[IR_MAX_RANK];
  int min_rank = op->kind == IR_OP_LAYER_NORM || op->kind == IR_OP_RMS_NORM ? 1
                 : op->kind == IR_OP_MVN ? 0 : 3;
  if (op->kind == IR_OP_LRN || op->kind == IR_OP_GROUP_NORM) min_rank = 2;
  if (op->kind == IR_OP_LP_NORM) min_rank = 1;
  if (!nn_check_rank_min(op, 0, "X", min_rank) || !norm_reduced(op, r, red))
    return false;
  if (op->kind == IR_OP_INSTANCE_NORM && LW_DIM_IS_DYN(x[1])) {
    const char *sym = m->syms[-2 - x[1]].name;
    diag_at(DIAG_ERROR, &op->loc, "InstanceNormalization: the channel dim (dim 1) "
            "of X is the run-time dimension '%s', which this op does not support; "
            "give it one size with -dim=%s=VALUE", sym, sym);
    return false;
  }
  if (op->kind == IR_OP_INSTANCE_NORM &&
      (!norm_check_channel(m, op, 1, "scale", e, x[1]) ||
       !norm_check_channel(m, op, 2, "B", e, x[1])))
    return false;
  if (op->kind == IR_OP_LAYER_NORM && !norm_infer_layer(m, op, x, r)) return false;
  if (op->kind == IR_OP_GROUP_NORM && !norm_infer_group(m, op, x)) return false;
  op->results[0]->type = op->operands[0]->type;
  if (op->kind == IR_OP_RMS_NORM) {
    int64_t axis;
    if (!nn_norm_axis(op, ir_attr_int(op, "axis", -1), r, &axis) ||
        !norm_check_bcast(m, op, 1, "scale", x, r, (int)axis))
      return false;
    op->results[0]->type.elem = op->operands[1]->type.elem;
  }
  return true;
}

/* ------------------------------------------------------------ lowering */

typedef struct NormCtx {
  IrValue *X, *Y, *scale, *bias, *mean_out, *inv_out;
  int r, nk, nr;
  int64_t x[IR_MAX_RANK];
  int kept[IR_MAX_RANK], redd[IR_MAX_RANK]; /* dim numbers */
  int64_t rdims[IR_MAX_RANK];
  IrValue *idx[IR_MAX_RANK];  /* full X index: kept ivs set outside */
  IrElem ce;
  int axis;                    /* LayerNorm, RMSNorm: first normalized dim */
  int64_t group_size;          /* GroupNorm, scale per channel: C / G */
  IrValue *run_in[2], *run_out[2]; /* BatchNorm training: running mean, var */
  double momentum;
} NormCtx;

/* A nest over the reduced dims carrying n values; fills s->idx. */
static void norm_nest_begin(LwCtx *c, NormCtx *s, NnIterNest *nest, int n,
                            IrValue **vals) {
  IrValue *ivs[IR_MAX_RANK], *hi[IR_MAX_RANK];
  bool dyn = false;
  for (int i = 0; i < s->nr; i++) dyn |= LW_DIM_IS_DYN(s->rdims[i]);
  for (int i = 0; dyn && i < s->nr; i++) hi[i] = lw_dim_index(c, s->rdims[i]);
  nn_iter_nest_begin(c, nest, s->nr, NULL, dyn ? hi : NULL, s->rdims, n, vals, ivs);
  for (int i = 0; i < s->nr; i++) s->idx[s->redd[i]] = ivs[i];
}

/* scale/bias operand value at the current index. */
static IrValue *norm_param(LwCtx *c, const NormCtx *s, IrValue *buf) {
  IrValue *bi[IR_MAX_RANK];
  if (s->group_size) /* channel g * C/G + j of the [N, G, C/G, S] view */
    bi[0] = nn_iadd(c, nn_imul(c, s->idx[1], s->group_size), s->idx[2]);
  else if (s->axis < 0) /* per channel or group */
    bi[0] = s->idx[1];
  else
    lw_broadcast_index(c, buf, s->r - s->axis, s->x + s->axis, s->idx + s->axis, bi);
  return lw_cast(c, nn_load(c, buf, bi), s->ce);
}

static void norm_output(LwCtx *c, NormCtx *s, IrValue *mean, IrValue *inv) {
  NnIterNest nest;
  norm_nest_begin(c, s, &nest, 0, NULL);
  IrValue *x = lw_cast(c, nn_load(c, s->X, s->idx), s->ce);
  if (mean) x = lw_bin(c, IR_OP_A_SUB, x, mean);
  IrValue *y = lw_bin(c, IR_OP_A_MUL, x, inv);
  if (s->scale) y = lw_bin(c, IR_OP_A_MUL, y, norm_param(c, s, s->scale));
  if (s->bias) y = lw_bin(c, IR_OP_A_ADD, y, norm_param(c, s, s->bias));
  nn_store(c, y, s->Y, s->idx);
  nn_iter_nest_end(c, &nest, NULL);
}

/* Stores v into a LayerNorm statistics output (reduced dims are 1). */
static void norm_stat(LwCtx *c, const NormCtx *s, IrValue *buf, IrValue *v) {
  if (!buf) return;
  IrValue *si[IR_MAX_RANK];
  for (int i = 0; i < s->r; i++) si[i] = s->idx[i];
  for (int i = 0; i < s->nr; i++) si[s->redd[i]] = lw_index(c, 0);
  nn_store(c, v, buf, si);
}

/* BatchNorm training, channel s->idx[1]: running = input * momentum +
 * batch * (1 - momentum), for the mean and the (population) variance. */
static void norm_running(LwCtx *c, const NormCtx *s, IrValue *mean, IrValue *var) {
  IrValue *batch[2] = {mean, var};
  for (int k = 0; k < 2; k++) {
    if (!s->run_out[k]) continue;
    IrValue *in = lw_cast(c, nn_load(c, s->run_in[k], &s->idx[1]), s->ce);
    IrValue *part = lw_bin(c, IR_OP_A_MUL, batch[k], lw_const_f(c, s->ce, 1 - s->momentum));
    IrValue *v = lw_fma(c, in, lw_const_f(c, s->ce, s->momentum), part);
    nn_store(c, v, s->run_out[k], &s->idx[1]);
  }
}

/* The three passes for one kept index (s->idx of kept dims set); RMSNorm
 * skips the mean (NULL: the squares are of x itself). */
static void norm_group(LwCtx *c, IrOp *op, NormCtx *s) {
  NnIterNest nest;
  bool dyn = false;
  for (int i = 0; i < s->nr; i++) dyn |= LW_DIM_IS_DYN(s->rdims[i]);
  IrValue *cnt = dyn ? lw_cast(c, lw_dims_product(c, s->nr, s->rdims), s->ce)
                     : lw_const_f(c, s->ce, (double)nn_numel(s->rdims, s->nr));
  IrValue *mean = NULL;
  if (op->kind != IR_OP_RMS_NORM) {
    IrValue *acc = lw_const_f(c, s->ce, 0);
    norm_nest_begin(c, s, &nest, 1, &acc);
    acc = lw_bin(c, IR_OP_A_ADD, acc, lw_cast(c, nn_load(c, s->X, s->idx), s->ce));
    nn_iter_nest_end(c, &nest, &acc);
    mean = lw_bin(c, IR_OP_A_DIV, acc, cnt);
  }
  IrValue *sq = lw_const_f(c, s->ce, 0);
  norm_nest_begin(c, s, &nest, 1, &sq);
  IrValue *d = lw_cast(c, nn_load(c, s->X, s->idx), s->ce);
  if (mean) d = lw_bin(c, IR_OP_A_SUB, d, mean);
  sq = lw_fma(c, d, d, sq);
  nn_iter_nest_end(c, &nest, &sq);
  IrValue *var = lw_bin(c, IR_OP_A_DIV, sq, cnt), *den;
  if (op->kind == IR_OP_MVN)
    den = lw_bin(c, IR_OP_A_ADD, lw_un(c, IR_OP_M_SQRT, var), lw_const_f(c, s->ce, 1e-9));
  else
    den = lw_un(c, IR_OP_M_SQRT, lw_bin(c, IR_OP_A_ADD, var,
                lw_const_f(c, s->ce, ir_attr_float(op, "epsilon", 1e-5))));
  IrValue *inv = lw_bin(c, IR_OP_A_DIV, lw_const_f(c, s->ce, 1), den);
  norm_output(c, s, mean, inv);
  norm_stat(c, s, s->mean_out, mean);
  norm_stat(c, s, s->inv_out, inv);
  norm_running(c, s, mean, var);
}

static bool norm_lower_stats(LwCtx *c, IrOp *op) {
  NormCtx s = {.X = c->in[0], .Y = c->out[0], .axis = -1};
  bool red[IR_MAX_RANK];
  s.r = lw_dims(s.X, s.x);
  if (op->kind == IR_OP_GROUP_NORM) { /* static dims (no OPF_DYN) */
    int64_t g = ir_attr_int(op, "num_groups", 1), C = s.x[1];
    int64_t v[4] = {s.x[0], g, C / g, nn_numel(s.x + 2, s.r - 2)};
    s.X = nn_view(c, s.X, 4, v), s.Y = nn_view(c, s.Y, 4, v);
    s.r = lw_dims(s.X, s.x);
    if (!ir_attr_int(op, "scale_per_group", 0)) s.group_size = C / g;
  }
  if (!norm_reduced(op, s.r, red)) return false;
  for (int i = 0; i < s.r; i++) {
    if (red[i]) s.rdims[s.nr] = s.x[i], s.redd[s.nr++] = i;
    else s.kept[s.nk++] = i;
  }
  s.ce = nn_calc_elem(lw_elem(s.X));
  if (ir_attr_int(op, "stash_type", 1) == 11 && op->kind != IR_OP_LAYER_NORM)
    s.ce = IR_F64; /* statistics in double, as asked */
  if (op->kind == IR_OP_INSTANCE_NORM || op->kind == IR_OP_GROUP_NORM)
    s.scale = c->in[1], s.bias = c->in[2];
  if (op->kind == IR_OP_RMS_NORM) s.scale = c->in[1], s.axis = s.nk;
  if (op->kind == IR_OP_LAYER_NORM) {
    s.scale = c->in[1];
    s.bias = op->num_operands > 2 ? c->in[2] : NULL;
    s.axis = s.nk;
    s.mean_out = op->num_results > 1 ? c->out[1] : NULL;
    s.inv_out = op->num_results > 2 ? c->out[2] : NULL;
  }
  int64_t kd[IR_MAX_RANK];
  IrValue *ivs[IR_MAX_RANK];
  for (int i = 0; i < s.nk; i++) kd[i] = s.x[s.kept[i]];
  LwNest nest;
  lw_nest_begin(c, &nest, s.nk, kd, ivs);
  for (int i = 0; i < s.nk; i++) s.idx[s.kept[i]] = ivs[i];
  norm_group(c, op, &s);
  lw_nest_end(c, &nest);
  return true;
}

/* BatchNormalization with training_mode=1 (static dims): X viewed as
 * [N, C, S], the statistics per channel over N and S. */
bool nn_batchnorm_train_lower(LwCtx *c, IrOp *op) {
  NormCtx s = {.scale = c->in[1], .bias = c->in[2], .axis = -1, .nr = 2, .nk = 1,
               .kept = {1}, .redd = {0, 2}};
  int64_t x[IR_MAX_RANK];
  int r = nn_dims(c->in[0], x);
  int64_t d3[3] = {x[0], x[1], nn_numel(x + 2, r - 2)};
  s.X = nn_view(c, c->in[0], 3, d3), s.Y = nn_view(c, c->out[0], 3, d3);
  s.r = lw_dims(s.X, s.x);
  s.rdims[0] = d3[0], s.rdims[1] = d3[2];
  s.ce = nn_calc_elem(lw_elem(s.X));
  s.momentum = ir_attr_float(op, "momentum", 0.9);
  for (int k = 0; k < 2; k++)
    if (op->num_results > 1 + k && c->out[1 + k])
      s.run_in[k] = c->in[3 + k], s.run_out[k] = c->out[1 + k];
  LwNest nest;
  IrValue *ch;
  lw_nest_begin(c, &nest, 1, &d3[1], &ch);
  s.idx[1] = ch;
  norm_group(c, op, &s);
  lw_nest_end(c, &nest);
  return true;
}

/* LRN over X viewed as [N, C, S]. */
static bool norm_lower_lrn(LwCtx *c, IrOp *op) {
  int64_t x[IR_MAX_RANK];
  int r = nn_dims(c->in[0], x);
  int64_t d3[3] = {x[0], x[1], nn_numel(x + 2, r - 2)};
  IrValue *X = nn_view(c, c->in[0], 3, d3), *Y = nn_view(c, c->out[0], 3, d3);
  IrElem ce = nn_calc_elem(lw_elem(X));
  int64_t size = ir_attr_int(op, "size", 1);
  IrValue *ivs[3], *cc;
  LwNest nest;
  lw_nest_begin(c, &nest, 2, d3, ivs);
  IrValue *lo = lw_bin(c, IR_OP_A_MAX, nn_lin(c, ivs[1], 1, -((size - 1) / 2)),
                       lw_index(c, 0));
  IrValue *hi = lw_bin(c, IR_OP_A_MIN, nn_lin(c, ivs[1], 1, size / 2 + 1),
                       lw_index(c, d3[1]));
  IrOp *ls = lw_for_begin(c, lw_index(c, 0), lw_index(c, d3[2]), 1, &ivs[2]);
  IrValue *acc = lw_const_f(c, ce, 0);
  IrOp *lc = lw_for_begin_iter(c, lo, hi, 1, 1, &acc, &cc, &acc);
  IrValue *v = nn_load(c, X, (IrValue *[]){ivs[0], cc, ivs[2]});
  lw_for_end_iter(c, lc, 1, (IrValue *[]){lw_fma(c, v, v, acc)});
  acc = lc->results[0];
  double k = ir_attr_float(op, "alpha", 1e-4) / (double)size;
  IrValue *base = lw_fma(c, acc, lw_const_f(c, ce, k),
                         lw_const_f(c, ce, ir_attr_float(op, "bias", 1.0)));
  IrValue *p = lw_bin(c, IR_OP_M_POW, base,
                      lw_const_f(c, ce, ir_attr_float(op, "beta", 0.75)));
  nn_store(c, lw_bin(c, IR_OP_A_DIV, nn_load(c, X, ivs), p), Y, ivs);
  lw_for_end(c, ls);
  lw_nest_end(c, &nest);
  return true;
}

/* LpNormalization over X viewed as [outer, A, inner] around the axis. */
static bool norm_lower_lp(LwCtx *c, IrOp *op) {
  int64_t x[IR_MAX_RANK], axis;
  int r = nn_dims(c->in[0], x);
  if (!nn_norm_axis(op, ir_attr_int(op, "axis", -1), r, &axis)) return false;
  int64_t d3[3] = {nn_numel(x, (int)axis), x[axis],
                   nn_numel(x + axis + 1, r - (int)axis - 1)};
  IrValue *X = nn_view(c, c->in[0], 3, d3), *Y = nn_view(c, c->out[0], 3, d3);
  IrElem ce = nn_calc_elem(lw_elem(X));
  int64_t p = ir_attr_int(op, "p", 2);
  IrValue *ivs[2], *a;
  LwNest nest;
  lw_nest_begin(c, &nest, 2, (int64_t[]){d3[0], d3[2]}, ivs);
  IrValue *acc = lw_const_f(c, ce, 0);
  IrOp *la = lw_for_begin_iter(c, lw_index(c, 0), lw_index(c, d3[1]), 1, 1, &acc, &a, &acc);
  IrValue *v = nn_load(c, X, (IrValue *[]){ivs[0], a, ivs[1]});
  lw_for_end_iter(c, la, 1, (IrValue *[]){lw_bin(c, IR_OP_A_ADD, acc, nn_lp_term(c, v, p, ce))});
  IrValue *norm = nn_lp_root(c, la->results[0], p, ce), *zero = lw_const_f(c, ce, 0);
  IrValue *is_zero = lw_cmp(c, "eq", norm, zero);
  /* divide by 1 where the norm is 0, then select 0: no 0/0 */
  IrValue *div = lw_select(c, is_zero, lw_const_f(c, ce, 1), norm);
  IrOp *lo = lw_for_begin(c, lw_index(c, 0), lw_index(c, d3[1]), 1, &a);
  IrValue *at[3] = {ivs[0], a, ivs[1]};
  IrValue *y = lw_bin(c, IR_OP_A_DIV, nn_load(c, X, at), div);
  nn_store(c, lw_select(c, is_zero, zero, y), Y, at);
  lw_for_end(c, lo);
  lw_nest_end(c, &nest);
  return true;
}

bool op_norm_lower(LwCtx *c, IrOp *op) {
  if (op->kind == IR_OP_LRN) return norm_lower_lrn(c, op);
  if (op->kind == IR_OP_LP_NORM) return norm_lower_lp(c, op);
  return norm_lower_stats(c, op);
}
