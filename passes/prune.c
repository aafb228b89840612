/*
 * prune.c — structured pruning (-prune-channels=F; docs/compression.md).
 *
 * Removes the fraction F of a layer's output channels, those whose weights
 * have the smallest L2 norm (magnitude pruning, no fine-tuning), and every
 * trace of them downstream, so the model really shrinks and runs on the
 * same dense kernels:
 *   - the producer: a one-group conv (filters W[m] and bias B[m]), a gemm
 *     (columns of B', entries of C) or a matmul by a 2-D weight (columns);
 *   - the ops its result flows through, each its only user: activations
 *     (also SiLU as mul(x, sigmoid(x))), batch_norm (its four parameters),
 *     pools, a depthwise conv (its filters, bias and group), the add of a
 *     per-channel bias, a flatten of the channels (each channel a block of
 *     features);
 *   - the consumer, where the chain ends: a one-group conv (input channels
 *     of its weight) or a gemm / matmul (rows of the weight).
 * A producer whose result reaches anything else (two users, a residual
 * add, a concat, a graph output), or one of whose weights another op also
 * reads, keeps its channels: the
 * rewrite of those consumers is still to come.  Runs after fold-constants,
 * before lowrank and fuse; types are inferred again at the end.
 *
 * Statistics: layers pruned, channels removed, layers left whole (their
 * result reaches a consumer that cannot shrink), parameters before,
 * parameters after (of the weights rewritten).  Needs: tensor level with
 * inferred types.  Does nothing without -prune-channels.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lower.h"
#include "passes.h"

/* w with only the kept indices along axis (index i kept when
 * keep[i / block]); NULL when w is not a static f32 weight. */
static IrValue *slice_weight(PassContext *pc, const IrValue *w, int axis, const bool *keep,
                             int64_t block, int64_t kept) {
  uint64_t numel;
  if (!w || !w->weight || !ir_type_is_static(&w->type) || !ir_type_numel(&w->type, &numel))
    return NULL;
  const float *src = pass_weight_f32(w, numel);
  if (!src) return NULL;
  int64_t outer = 1, len = ir_type_dim(&w->type, axis), inner = 1, dims[IR_MAX_RANK];
  for (int i = 0; i < w->type.rank; i++) {
    dims[i] = ir_type_dim(&w->type, i);
    if (i < axis) outer *= dims[i];
    if (i > axis) inner *= dims[i];
  }
  dims[axis] = kept * block;
  float *dst = malloc((size_t)(outer * dims[axis] * inner + 1) * sizeof *dst), *d = dst;
  IR_ASSERT(dst);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < len; j++)
      if (keep[j / block]) {
        memcpy(d, src + (o * len + j) * inner, (size_t)inner * sizeof *d);
        d += inner;
      }
  uint64_t n = (uint64_t)(d - dst);
  IrValue *v = pass_new_weight(pc->m, w->weight->name, "pruned",
                               ir_type_tensor(IR_F32, w->type.rank, dims), dst, n);
  free(dst);
  pass_stat(pc, "parameters before", (int64_t)numel);
  pass_stat(pc, "parameters after", (int64_t)n);
  return v;
}

/* One rewrite of the plan: operand `index` of op, sliced along axis. */
typedef struct Cut {
  IrOp *op;
  int index, axis;
  int64_t block;
} Cut;

#define MAX_CUTS 16

typedef struct Plan {
  IrFunc *f;
  Cut cuts[MAX_CUTS];
  int n;
  IrOp *depthwise[MAX_CUTS]; /* depthwise convs on the way: group = channels kept */
  int num_depthwise;
} Plan;

static bool add_cut(Plan *p, IrOp *op, int index, int axis, int64_t block) {
  if (p->n == MAX_CUTS || index >= op->num_operands || !op->operands[index]) return false;
  const IrValue *w = op->operands[index];
  /* a weight another op also reads stays: a sliced copy beside it would grow the model */
  if (!w->weight || w->type.elem != IR_F32 || !ir_type_is_static(&w->type) ||
      axis >= w->type.rank || pass_single_user(p->f, w) != op)
    return false;
  p->cuts[p->n++] = (Cut){op, index, axis, block};
  return true;
}

/* A per-channel weight of n values that broadcasts along the last dim: f32[n]. */
static bool is_channel_vector(const IrValue *v, int64_t n) {
  return v && v->weight && v->type.rank == 1 && ir_type_is_static(&v->type) &&
         ir_type_dim(&v->type, 0) == n;
}

/* SiLU as PyTorch exports it, mul(v, sigmoid(v)), v used by just those
 * two: the mul (one activation for this pass), else NULL. */
static IrOp *silu_of(IrFunc *f, const IrValue *v) {
  IrOp *users[2];
  if (pass_users(f, v, users, 2) != 2) return NULL;
  for (int i = 0; i < 2; i++)
    if (users[i]->kind == IR_OP_SIGMOID && pass_silu_mul(f, users[i]) == users[1 - i])
      return users[1 - i];
  return NULL;
}

/* Follows the producer's result to its consumer, planning every cut; false
 * when the chain meets an op it cannot shrink.  Channels sit in dim 1 of a
 * conv's result (`nchw`), in the last dim of a product's, `block` features
 * each after a flatten. */
static bool plan_chain(IrFunc *f, IrValue *v, int64_t channels, bool nchw, Plan *p) {
  int64_t block = 1;
  for (int steps = 0; steps < 32; steps++) {
    IrOp *silu = silu_of(f, v);
    if (silu) {
      v = silu->results[0];
      continue;
    }
    IrOp *u = pass_single_user(f, v);
    if (!u || u->num_results < 1 || u->operands[0] != v) return false;
    for (int i = 1; i < u->num_results; i++)
      if (ir_value_has_uses(f, u->results[i])) return false;
    switch (u->kind) {
    case IR_OP_CONV: {
      int64_t group = ir_attr_int(u, "group", 1);
      const IrValue *w = u->operands[1];
      if (!nchw) return false;
      if (group == 1) return add_cut(p, u, 1, 1, 1);
      /* depthwise, one filter per channel: its filters and bias go too, and
       * the channels flow on */
      if (group != channels || w->type.rank < 3 || !ir_type_is_static(&w->type) ||
          ir_type_dim(&w->type, 0) != channels || ir_type_dim(&w->type, 1) != 1 ||
          !add_cut(p, u, 1, 0, 1) ||
          (u->num_operands > 2 && u->operands[2] &&
           (!is_channel_vector(u->operands[2], channels) || !add_cut(p, u, 2, 0, 1))) ||
          p->num_depthwise == MAX_CUTS)
        return false;
      p->depthwise[p->num_depthwise++] = u;
      break;
    }
    case IR_OP_GEMM:
      return !nchw && v->type.rank == 2 && !ir_attr_int(u, "transA", 0) &&
             add_cut(p, u, 1, ir_attr_int(u, "transB", 0) ? 1 : 0, block);
    case IR_OP_MATMUL:
      return !nchw && u->operands[1]->type.rank == 2 && add_cut(p, u, 1, 0, block);
    case IR_OP_BATCH_NORM:
      if (!nchw || ir_attr_int(u, "training_mode", 0)) return false;
      for (int i = 1; i < 5; i++)
        if (!is_channel_vector(u->operands[i], channels) || !add_cut(p, u, i, 0, 1)) return false;
      break;
    case IR_OP_MAX_POOL: case IR_OP_AVERAGE_POOL: case IR_OP_LP_POOL:
    case IR_OP_GLOBAL_AVERAGE_POOL: case IR_OP_GLOBAL_MAX_POOL:
      if (!nchw) return false;
      break;
    case IR_OP_FLATTEN:
      if (!nchw || ir_attr_int(u, "axis", 1) != 1 || !ir_type_is_static(&v->type)) return false;
      for (int i = 2; i < v->type.rank; i++) block *= ir_type_dim(&v->type, i);
      nchw = false;
      break;
    case IR_OP_ADD: { /* a Linear layer's bias, f32[N] */
      IrValue *b = u->operands[1];
      if (nchw || block != 1 || u->num_operands != 2 || !is_channel_vector(b, channels) ||
          !add_cut(p, u, 1, 0, 1))
        return false;
      break;
    }
    default:
      if (!ew_fusable_activation(u->kind)) return false;
      for (int i = 1; i < u->num_operands; i++) /* Clip's bounds: scalars */
        if (u->operands[i] && u->operands[i]->type.rank != 0) return false;
    }
    v = u->results[0];
  }
  return false;
}

typedef struct Norm {
  double value;
  int64_t index;
} Norm;

static int by_norm(const void *x, const void *y) {
  const Norm *a = x, *b = y;
  if (a->value != b->value) return a->value < b->value ? -1 : 1;
  return a->index < b->index ? -1 : a->index > b->index; /* ties: deterministic */
}

/* The producer's own cuts; its channel count, 0 when they cannot be made. */
static int64_t producer_cuts(IrOp *op, Plan *p, bool *nchw) {
  IrValue *W = op->operands[1];
  if (op->kind == IR_OP_CONV) {
    *nchw = true;
    if (!add_cut(p, op, 1, 0, 1)) return 0;
    int64_t m = ir_type_dim(&W->type, 0);
    if (op->num_operands > 2 && op->operands[2] &&
        (!is_channel_vector(op->operands[2], m) || !add_cut(p, op, 2, 0, 1)))
      return 0;
    return m;
  }
  *nchw = false;
  if (op->kind == IR_OP_MATMUL) return add_cut(p, op, 1, 1, 1) ? ir_type_dim(&W->type, 1) : 0;
  bool trans_b = ir_attr_int(op, "transB", 0) != 0;
  int64_t n = ir_type_dim(&W->type, trans_b ? 0 : 1);
  if (!add_cut(p, op, 1, trans_b ? 0 : 1, 1)) return 0;
  const IrValue *C = op->num_operands > 2 ? op->operands[2] : NULL;
  if (!C) return n;
  if (is_channel_vector(C, n)) return add_cut(p, op, 2, 0, 1) ? n : 0;
  /* C of one element broadcasts to every channel: it stays */
  return C->type.rank <= 1 && ir_type_is_static(&C->type) &&
                 (C->type.rank == 0 || ir_type_dim(&C->type, 0) == 1)
             ? n
             : 0;
}

/* Plans the producer's own cuts and returns its channel count; 0 when it is
 * not a producer this pass takes, -1 when its weights cannot shrink. */
static int64_t plan_producer(IrOp *op, Plan *p, bool *nchw) {
  IrValue *W = op->num_operands > 1 ? op->operands[1] : NULL;
  if (!W || !W->weight || W->type.elem != IR_F32 || !ir_type_is_static(&op->results[0]->type) ||
      (op->kind == IR_OP_CONV ? ir_attr_int(op, "group", 1) != 1 || W->type.rank < 3
                              : W->type.rank != 2))
    return 0; /* grouped convs, batched weights: not producers this pass takes */
  int64_t channels = producer_cuts(op, p, nchw);
  return channels ? channels : -1;
}

/* Adds to sq[c] the squares of the weight of cut c that belong to channel c. */
static void add_squares(const Cut *c, int64_t channels, double *sq) {
  const IrValue *w = c->op->operands[c->index];
  uint64_t numel;
  ir_type_numel(&w->type, &numel);
  const float *data = pass_weight_f32(w, numel);
  int64_t inner = 1, len = ir_type_dim(&w->type, c->axis);
  for (int i = c->axis + 1; i < w->type.rank; i++) inner *= ir_type_dim(&w->type, i);
  for (int64_t i = 0; data && i < (int64_t)numel; i++)
    sq[(i / inner % len) / c->block % channels] += (double)data[i] * data[i];
}

/* The channels kept: the fraction whose producer weights have the least L2
 * norm go (the filter norm of Li et al. 2017; weighting it by the
 * consumer's weights, or taking the L1 norm, lost more accuracy on the
 * digits models, docs/compression.md). */
static bool *choose_kept(const Plan *p, int64_t channels, double fraction, int64_t *kept) {
  double *sq = calloc((size_t)channels, sizeof *sq);
  bool *keep = malloc((size_t)channels * sizeof *keep);
  Norm *norms = malloc((size_t)channels * sizeof *norms);
  IR_ASSERT(sq && keep && norms);
  add_squares(&p->cuts[0], channels, sq);
  for (int64_t i = 0; i < channels; i++) norms[i] = (Norm){sq[i], i}, keep[i] = true;
  qsort(norms, (size_t)channels, sizeof *norms, by_norm);
  int64_t removed = (int64_t)floor(fraction * (double)channels + 1e-9);
  if (removed >= channels) removed = channels - 1; /* a layer keeps one channel */
  for (int64_t i = 0; i < removed; i++) keep[norms[i].index] = false;
  *kept = channels - removed;
  free(sq), free(norms);
  return keep;
}

bool pass_prune(PassContext *pc) {
  IrFunc *f = pc->m->main;
  if (!f || f->lowered || !pc->prune) return true;
  for (IrOp *op = f->body->first; op; op = op->next) {
    if (op->num_results != 1 || op->results[0]->type.elem != IR_F32 ||
        (op->kind != IR_OP_CONV && op->kind != IR_OP_GEMM && op->kind != IR_OP_MATMUL))
      continue;
    Plan plan = {.f = f, .n = 0};
    bool nchw = false;
    int64_t channels = plan_producer(op, &plan, &nchw);
    if (!channels) continue;
    if (channels < 2 || !plan_chain(f, op->results[0], channels, nchw, &plan)) {
      pass_stat(pc, "layers left whole", 1);
      continue;
    }
    int64_t kept;
    bool *keep = choose_kept(&plan, channels, pc->prune->channels, &kept);
    if (kept < channels) {
      pass_stat(pc, "layers pruned", 1);
      pass_stat(pc, "channels removed", channels - kept);
      for (int i = 0; i < plan.n; i++) {
        const Cut *c = &plan.cuts[i];
        IrValue *v = slice_weight(pc, c->op->operands[c->index], c->axis, keep, c->block, kept);
        IR_ASSERT(v); /* add_cut checked it is a static f32 weight */
        ir_op_set_operand(pc->m, c->op, c->index, v);
      }
      for (int i = 0; i < plan.num_depthwise; i++)
        ir_attr_set_int(pc->m, plan.depthwise[i], "group", kept);
    }
    free(keep);
  }
  /* the channel counts changed along each chain: its types follow */
  PassContext types = {.m = pc->m};
  return pass_infer_shapes(&types);
}
