/*
 * sample.c — ops that read an image at fractional positions: GridSample
 * (positions from a flow-field grid, as torch.nn.functional.grid_sample)
 * and RoiAlign (averages of bilinear samples over regions of interest, as
 * onnxruntime's kernel); AffineGrid, which makes GridSample's grid from
 * affine matrices (torch.nn.functional.affine_grid); and DeformConv, a 2-D
 * convolution whose taps sit at learned offsets, read bilinearly (zero
 * outside) and scaled by an optional mask (torchvision's deform_conv2d).
 *
 * Canonical forms: grid_sample {mode (linear, nearest or cubic, the names
 * of opset 20), padding_mode, align_corners}, N-D (X [N, C, D1..Dr]), and
 * roi_align {mode, output_height, output_width, sampling_ratio,
 * spatial_scale, coordinate_transformation_mode}, all explicit;
 * affine_grid {align_corners, size} with one operand theta (the ONNX input
 * `size` must be a constant); deform_conv {group, offset_group and the
 * conv window, explicit} with operands (X, W, offset, B or absent, mask or
 * absent).
 *
 * Positions are computed in f64.  There are no conditional loads in loop
 * IR, so an out-of-image tap loads a clamped position and is then replaced
 * by zero with a select.  RoiAlign with sampling_ratio 0 samples a
 * data-dependent number of points per bin: its inner loops have run-time
 * bounds.
 */
#include "datamove.h"
#include "nn_util.h"

#include <string.h>

/* String attribute name, one of allowed[0..n) (default allowed[0]). */
static bool sample_attr_choice(IrModule *m, IrOp *op, const char *name,
                               const char *const *allowed, int n) {
  const char *v;
  if (!dm_attr_string(op, name, allowed[0], &v)) return false;
  for (int i = 0; i < n; i++)
    if (!strcmp(v, allowed[i])) {
      ir_attr_set_string(m, op, name, v);
      return true;
    }
  diag_at(DIAG_ERROR, &op->loc, "%s: unsupported %s '%s'", dm_name(op), name, v);
  return false;
}

static IrValue *f64c(LwCtx *c, double v) { return lw_const_f(c, IR_F64, v); }
static IrValue *fadd(LwCtx *c, IrValue *a, IrValue *b) { return lw_bin(c, IR_OP_A_ADD, a, b); }
static IrValue *fsub(LwCtx *c, IrValue *a, IrValue *b) { return lw_bin(c, IR_OP_A_SUB, a, b); }
static IrValue *fmul(LwCtx *c, IrValue *a, IrValue *b) { return lw_bin(c, IR_OP_A_MUL, a, b); }

/* ------------------------------------------------------------ GridSample */

/* GridSample-20 renamed bilinear/bicubic to linear/cubic (N-linear and
 * N-cubic over the spatial dims); the canonical mode is the new name. */
static const char *const gs_modes[] = {"linear", "nearest", "cubic"};
static const char *const gs_modes16[] = {"bilinear", "nearest", "bicubic"};
static const char *const gs_pads[] = {"zeros", "border", "reflection"};

/* Cubic taps are unrolled: 4^dims of them. */
#define GS_MAX_CUBIC_DIMS 3

static bool grid_sample_import(IrModule *m, IrOp *op, int opset) {
  int64_t ac;
  const char *const *modes = opset < 20 ? gs_modes16 : gs_modes;
  if (!sample_attr_choice(m, op, "mode", modes, 3) ||
      !sample_attr_choice(m, op, "padding_mode", gs_pads, 3) ||
      !dm_attr_int(op, "align_corners", 0, &ac))
    return false;
  const char *mode = ir_attr_string(op, "mode", "");
  for (int i = 0; i < 3; i++)
    if (!strcmp(mode, modes[i])) ir_attr_set_string(m, op, "mode", gs_modes[i]);
  ir_attr_set_int(m, op, "align_corners", ac != 0);
  return true;
}

static int gs_mode(const IrOp *op) {
  const char *mode = ir_attr_string(op, "mode", "linear");
  return !strcmp(mode, "nearest") ? 1 : !strcmp(mode, "cubic") ? 2 : 0;
}

static bool grid_sample_infer(IrOp *op) {
  int64_t x[IR_MAX_RANK], g[IR_MAX_RANK];
  if (!dm_static_input(op, 0, x) || !dm_static_input(op, 1, g)) return false;
  int r = op->operands[0]->type.rank;
  if (r < 3 || op->operands[1]->type.rank != r || g[0] != x[0] || g[r - 1] != r - 2 ||
      !ir_elem_is_float(op->operands[0]->type.elem) ||
      !ir_elem_is_float(op->operands[1]->type.elem)) {
    char a[256], b[256];
    diag_at(DIAG_ERROR, &op->loc,
            "GridSample: needs float X [N,C,D1..Dr] and grid [N,O1..Or,r]; got %s and %s",
            dm_type_str(op, 0, a, sizeof a), dm_type_str(op, 1, b, sizeof b));
    return false;
  }
  if (gs_mode(op) == 2 && r - 2 > GS_MAX_CUBIC_DIMS) {
    diag_at(DIAG_ERROR, &op->loc, "GridSample: mode 'cubic' supports at most %d spatial "
            "dims in tcc, not %d", GS_MAX_CUBIC_DIMS, r - 2);
    return false;
  }
  int64_t out[IR_MAX_RANK] = {x[0], x[1]};
  for (int i = 2; i < r; i++) out[i] = g[i - 1];
  dm_set_result(op, 0, op->operands[0]->type.elem, r, out);
  return true;
}

typedef struct GsCtx {
  IrValue *n, *ch; /* image index */
  int nd;          /* spatial dims */
  int64_t size[IR_MAX_RANK];
  int pad;         /* index into gs_pads */
  bool align;
} GsCtx;

/* torch's reflect_coordinates: reflects x into [lo2/2, hi2/2]. */
static IrValue *gs_reflect(LwCtx *c, IrValue *x, double lo2, double hi2) {
  if (lo2 == hi2) return f64c(c, 0.0);
  double mn = lo2 / 2, span = (hi2 - lo2) / 2;
  IrValue *in = lw_un(c, IR_OP_A_ABS, fsub(c, x, f64c(c, mn)));
  IrValue *flips = lw_un(c, IR_OP_M_FLOOR, fmul(c, in, f64c(c, 1 / span)));
  IrValue *extra = fsub(c, in, fmul(c, flips, f64c(c, span)));
  IrValue *half = lw_un(c, IR_OP_M_FLOOR, fmul(c, flips, f64c(c, 0.5)));
  IrValue *even = lw_cmp(c, "eq", fadd(c, half, half), flips);
  return lw_select(c, even, fadd(c, extra, f64c(c, mn)),
                   fsub(c, f64c(c, span + mn), extra));
}

/* torch's compute_coordinates: the padding mode applied to a position. */
static IrValue *gs_pad_coord(LwCtx *c, const GsCtx *g, IrValue *x, int64_t size) {
  if (g->pad == 0) return x;
  if (g->pad == 2)
    x = g->align ? gs_reflect(c, x, 0, 2.0 * (double)(size - 1))
                 : gs_reflect(c, x, -1, 2.0 * (double)size - 1);
  x = lw_bin(c, IR_OP_A_MAX, x, f64c(c, 0.0));
  return lw_bin(c, IR_OP_A_MIN, x, f64c(c, (double)(size - 1)));
}

static IrValue *gs_unnormalize(LwCtx *c, const GsCtx *g, IrValue *v, int64_t size) {
  IrValue *one = f64c(c, 1.0);
  if (g->align) return fmul(c, fadd(c, v, one), f64c(c, (double)(size - 1) / 2));
  return fmul(c, fsub(c, fmul(c, fadd(c, v, one), f64c(c, (double)size)), one), f64c(c, 0.5));
}

/* X[n, ch, pos...] as f64, or 0 when a position (f64, integral) is outside. */
static IrValue *gs_tap(LwCtx *c, const GsCtx *g, IrValue *x, IrValue *const *pos) {
  IrValue *ok = NULL, *idx[IR_MAX_RANK] = {g->n, g->ch};
  for (int d = 0; d < g->nd; d++) {
    IrValue *hi = f64c(c, (double)(g->size[d] - 1)), *zero = f64c(c, 0);
    IrValue *in = lw_bin(c, IR_OP_A_AND, lw_cmp(c, "ge", pos[d], zero),
                         lw_cmp(c, "le", pos[d], hi));
    ok = ok ? lw_bin(c, IR_OP_A_AND, ok, in) : in;
    IrValue *cl = lw_bin(c, IR_OP_A_MIN, lw_bin(c, IR_OP_A_MAX, pos[d], zero), hi);
    idx[2 + d] = lw_cast(c, cl, IR_INDEX);
  }
  IrValue *v = lw_cast(c, lw_load(c, x, idx), IR_F64);
  return lw_select(c, ok, v, f64c(c, 0.0));
}

/* Cubic convolution weights (A = -0.75) for offset t in [0, 1). */
static void gs_cubic_weights(LwCtx *c, IrValue *t, IrValue **w) {
  const double a = -0.75;
  IrValue *one = f64c(c, 1.0);
  IrValue *d[4] = {fadd(c, t, one), t, fsub(c, one, t), fsub(c, f64c(c, 2.0), t)};
  for (int i = 0; i < 4; i++) {
    IrValue *x = d[i], *x2 = fmul(c, x, x), *x3 = fmul(c, x2, x);
    if (i == 1 || i == 2) /* ((A + 2) x - (A + 3)) x^2 + 1 */
      w[i] = fadd(c, fsub(c, fmul(c, f64c(c, a + 2), x3), fmul(c, f64c(c, a + 3), x2)), one);
    else /* ((A x - 5A) x + 8A) x - 4A */
      w[i] = fsub(c, fadd(c, fsub(c, fmul(c, f64c(c, a), x3), fmul(c, f64c(c, 5 * a), x2)),
                          fmul(c, f64c(c, 8 * a), x)), f64c(c, 4 * a));
  }
}

/* The taps along one spatial dim of position p: nearest rounds the padded
 * position (half to even); linear takes floor and floor + 1 of it; cubic
 * takes floor - 1 .. floor + 2 of the raw position, each tap going through
 * the padding mode on its own (torch's get_value_bounded). */
static int gs_dim_taps(LwCtx *c, const GsCtx *g, int mode, IrValue *p, int64_t size,
                       IrValue **pos, IrValue **w) {
  IrValue *one = f64c(c, 1.0);
  if (mode == 2) {
    IrValue *f = lw_un(c, IR_OP_M_FLOOR, p);
    gs_cubic_weights(c, fsub(c, p, f), w);
    for (int i = 0; i < 4; i++)
      pos[i] = lw_un(c, IR_OP_M_FLOOR, gs_pad_coord(c, g, fadd(c, f, f64c(c, i - 1)), size));
    return 4;
  }
  p = gs_pad_coord(c, g, p, size);
  if (mode == 1) {
    pos[0] = lw_un(c, IR_OP_M_ROUND, p), w[0] = one;
    return 1;
  }
  IrValue *f = lw_un(c, IR_OP_M_FLOOR, p), *l = fsub(c, p, f);
  pos[0] = f, pos[1] = fadd(c, f, one);
  w[0] = fsub(c, one, l), w[1] = l;
  return 2;
}

/* Sum over every combination of the per-dim taps of prod w * X[pos]. */
static IrValue *gs_sample(LwCtx *c, const GsCtx *g, int mode, IrValue *x, IrValue *const *p) {
  IrValue *pos[IR_MAX_RANK][4], *w[IR_MAX_RANK][4];
  int taps = 0, total = 1;
  for (int d = 0; d < g->nd; d++) {
    taps = gs_dim_taps(c, g, mode, p[d], g->size[d], pos[d], w[d]);
    total *= taps;
  }
  if (mode == 1) {
    IrValue *at[IR_MAX_RANK];
    for (int d = 0; d < g->nd; d++) at[d] = pos[d][0];
    return gs_tap(c, g, x, at);
  }
  IrValue *sum = f64c(c, 0.0);
  for (int k = 0; k < total; k++) {
    IrValue *at[IR_MAX_RANK], *wk = NULL;
    for (int d = g->nd - 1, rest = k; d >= 0; d--, rest /= taps) {
      at[d] = pos[d][rest % taps];
      wk = wk ? fmul(c, wk, w[d][rest % taps]) : w[d][rest % taps];
    }
    sum = lw_fma(c, wk, gs_tap(c, g, x, at), sum);
  }
  return sum;
}

static void grid_sample_lower(LwCtx *c, IrOp *op) {
  int64_t dims[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK];
  LwNest nest;
  int r = lw_rank(c->out[0]);
  const char *pad = ir_attr_string(op, "padding_mode", "zeros");
  GsCtx g = {.nd = r - 2,
             .pad = !strcmp(pad, "border") ? 1 : !strcmp(pad, "reflection") ? 2 : 0,
             .align = ir_attr_int(op, "align_corners", 0) != 0};
  for (int i = 0; i < r; i++) dims[i] = lw_dim(c->out[0], i);
  for (int d = 0; d < g.nd; d++) g.size[d] = lw_dim(c->in[0], 2 + d);
  if (dm_numel(r, dims) == 0 || dm_numel(g.nd, g.size) == 0) return;
  lw_nest_begin(c, &nest, r, dims, iv);
  g.n = iv[0], g.ch = iv[1];
  /* grid[n, o..., k] is the position along spatial dim nd - 1 - k. */
  IrValue *gi[IR_MAX_RANK] = {iv[0]}, *p[IR_MAX_RANK];
  for (int i = 2; i < r; i++) gi[i - 1] = iv[i];
  for (int d = 0; d < g.nd; d++) {
    gi[r - 1] = lw_index(c, g.nd - 1 - d);
    p[d] = gs_unnormalize(c, &g, lw_cast(c, lw_load(c, c->in[1], gi), IR_F64), g.size[d]);
  }
  IrValue *v = gs_sample(c, &g, gs_mode(op), c->in[0], p);
  lw_store(c, lw_cast(c, v, lw_elem(c->out[0])), c->out[0], iv);
  lw_nest_end(c, &nest);
}

/* -------------------------------------------------------------- RoiAlign */

static const char *const roi_modes[] = {"avg", "max"};
static const char *const roi_ctm[] = {"half_pixel", "output_half_pixel"};

static bool roi_align_import(IrModule *m, IrOp *op, int opset) {
  int64_t oh, ow, sr;
  double scale = ir_attr_float(op, "spatial_scale", 1.0);
  const IrAttr *a = ir_attr_get(op, "spatial_scale");
  if (a && a->kind != IR_ATTR_FLOAT) {
    diag_at(DIAG_ERROR, &op->loc, "RoiAlign: attribute 'spatial_scale' must be a float");
    return false;
  }
  /* Before opset 16 the only transformation was output_half_pixel. */
  if (opset < 16 && !ir_attr_get(op, "coordinate_transformation_mode"))
    ir_attr_set_string(m, op, "coordinate_transformation_mode", "output_half_pixel");
  if (!sample_attr_choice(m, op, "mode", roi_modes, 2) ||
      !sample_attr_choice(m, op, "coordinate_transformation_mode", roi_ctm, 2) ||
      !dm_attr_int(op, "output_height", 1, &oh) || !dm_attr_int(op, "output_width", 1, &ow) ||
      !dm_attr_int(op, "sampling_ratio", 0, &sr))
    return false;
  if (oh < 1 || ow < 1 || sr < 0) {
    diag_at(DIAG_ERROR, &op->loc,
            "RoiAlign: output_height/width must be >= 1 and sampling_ratio >= 0");
    return false;
  }
  ir_attr_set_int(m, op, "output_height", oh);
  ir_attr_set_int(m, op, "output_width", ow);
  ir_attr_set_int(m, op, "sampling_ratio", sr);
  ir_attr_set_float(m, op, "spatial_scale", scale);
  return true;
}

static bool roi_align_infer(IrOp *op) {
  int64_t x[IR_MAX_RANK], r[IR_MAX_RANK], b[IR_MAX_RANK];
  if (!dm_static_input(op, 0, x) || !dm_static_input(op, 1, r) || !dm_static_input(op, 2, b))
    return false;
  IrElem e = op->operands[0]->type.elem, be = op->operands[2]->type.elem;
  if (op->operands[0]->type.rank != 4 || op->operands[1]->type.rank != 2 || r[1] != 4 ||
      op->operands[2]->type.rank != 1 || b[0] != r[0] || !ir_elem_is_float(e) ||
      op->operands[1]->type.elem != e || !ir_elem_is_int(be)) {
    diag_at(DIAG_ERROR, &op->loc,
            "RoiAlign: needs float X [N,C,H,W], rois [R,4] of X's type and integer "
            "batch_indices [R]");
    return false;
  }
  int64_t out[4] = {r[0], x[1], ir_attr_int(op, "output_height", 1),
                    ir_attr_int(op, "output_width", 1)};
  dm_set_result(op, 0, e, 4, out);
  return true;
}

/* One bilinear sample of onnxruntime's RoiAlign: 0 outside [-1, size],
 * the position clamped at 0 and at size - 1.  Returns (sum, max) terms. */
static void roi_sample(LwCtx *c, IrValue *x, IrValue *n, IrValue *ch, IrValue *py,
                       IrValue *px, IrValue **avg, IrValue **mx) {
  int64_t h = lw_dim(x, 2), w = lw_dim(x, 3);
  IrValue *zero = f64c(c, 0.0), *one = f64c(c, 1.0);
  IrValue *out = lw_bin(c, IR_OP_A_OR, lw_cmp(c, "lt", py, f64c(c, -1.0)),
                        lw_cmp(c, "gt", py, f64c(c, (double)h)));
  out = lw_bin(c, IR_OP_A_OR, out, lw_cmp(c, "lt", px, f64c(c, -1.0)));
  out = lw_bin(c, IR_OP_A_OR, out, lw_cmp(c, "gt", px, f64c(c, (double)w)));
  IrValue *p[2] = {py, px}, *lo[2], *hi[2], *l[2];
  int64_t size[2] = {h, w};
  for (int d = 0; d < 2; d++) {
    IrValue *v = lw_bin(c, IR_OP_A_MAX, p[d], zero), *last = f64c(c, (double)(size[d] - 1));
    IrValue *f = lw_bin(c, IR_OP_A_MIN, lw_un(c, IR_OP_M_FLOOR, v), last);
    IrValue *edge = lw_cmp(c, "ge", f, last);
    l[d] = lw_select(c, edge, zero, fsub(c, v, f));
    lo[d] = lw_cast(c, f, IR_INDEX);
    hi[d] = lw_cast(c, lw_bin(c, IR_OP_A_MIN, fadd(c, f, one), last), IR_INDEX);
  }
  IrValue *wy[2] = {fsub(c, one, l[0]), l[0]}, *wx[2] = {fsub(c, one, l[1]), l[1]};
  IrValue *iy[2] = {lo[0], hi[0]}, *ix[2] = {lo[1], hi[1]};
  *avg = zero, *mx = NULL;
  for (int i = 0; i < 4; i++) {
    IrValue *idx[4] = {n, ch, iy[i / 2], ix[i % 2]};
    IrValue *t = fmul(c, fmul(c, wy[i / 2], wx[i % 2]), lw_cast(c, lw_load(c, x, idx), IR_F64));
    *avg = fadd(c, *avg, t);
    *mx = *mx ? lw_bin(c, IR_OP_A_MAX, *mx, t) : t;
  }
  *avg = lw_select(c, out, zero, *avg);
  *mx = lw_select(c, out, zero, *mx);
}

typedef struct RoiBin {
  IrValue *start[2], *bin[2], *grid[2], *pos[2]; /* y, x */
} RoiBin;

/* Region start and bin size per dim from rois[r] (x1, y1, x2, y2). */
static void roi_geometry(LwCtx *c, const IrOp *op, IrValue *r, RoiBin *b) {
  bool half = !strcmp(ir_attr_string(op, "coordinate_transformation_mode", ""), "half_pixel");
  double scale = ir_attr_float(op, "spatial_scale", 1.0), off = half ? 0.5 : 0.0;
  int64_t out[2] = {ir_attr_int(op, "output_height", 1), ir_attr_int(op, "output_width", 1)};
  int64_t sr = ir_attr_int(op, "sampling_ratio", 0);
  for (int d = 0; d < 2; d++) {
    IrValue *i0[2] = {r, lw_index(c, 1 - d)}, *i1[2] = {r, lw_index(c, 3 - d)};
    IrValue *s = lw_cast(c, lw_load(c, c->in[1], i0), IR_F64);
    IrValue *e = lw_cast(c, lw_load(c, c->in[1], i1), IR_F64);
    s = fsub(c, fmul(c, s, f64c(c, scale)), f64c(c, off));
    e = fsub(c, fmul(c, e, f64c(c, scale)), f64c(c, off));
    IrValue *len = fsub(c, e, s);
    if (!half) len = lw_bin(c, IR_OP_A_MAX, len, f64c(c, 1.0));
    b->start[d] = s;
    b->bin[d] = fmul(c, len, f64c(c, 1.0 / (double)out[d]));
    b->grid[d] = sr > 0 ? lw_index(c, sr)
                        : lw_cast(c, lw_un(c, IR_OP_M_CEIL, b->bin[d]), IR_INDEX);
  }
}

/* Sum (avg) or max over the grid[0] x grid[1] samples of bin (ph, pw). */
static IrValue *roi_pool(LwCtx *c, const IrOp *op, RoiBin *b, IrValue *n, IrValue *ch) {
  bool is_max = !strcmp(ir_attr_string(op, "mode", "avg"), "max");
  IrValue *it[2], *sv[2], *iy, *ix, *p[2], *init = f64c(c, is_max ? -1e308 : 0.0);
  IrOp *ly = lw_for_begin_iter(c, lw_index(c, 0), b->grid[0], 1, 1, &init, &iy, &it[0]);
  IrOp *lx = lw_for_begin_iter(c, lw_index(c, 0), b->grid[1], 1, 1, &it[0], &ix, &it[1]);
  IrValue *ivs[2] = {iy, ix};
  for (int d = 0; d < 2; d++) {
    IrValue *step = lw_bin(c, IR_OP_A_DIV, b->bin[d], lw_cast(c, b->grid[d], IR_F64));
    IrValue *t = fadd(c, lw_cast(c, ivs[d], IR_F64), f64c(c, 0.5));
    p[d] = lw_fma(c, t, step, fadd(c, b->start[d], fmul(c, b->pos[d], b->bin[d])));
  }
  roi_sample(c, c->in[0], n, ch, p[0], p[1], &sv[0], &sv[1]);
  IrValue *acc = is_max ? lw_bin(c, IR_OP_A_MAX, it[1], sv[1]) : fadd(c, it[1], sv[0]);
  lw_for_end_iter(c, lx, 1, &acc);
  lw_for_end_iter(c, ly, 1, lx->results);
  IrValue *count = lw_bin(c, IR_OP_A_MUL, b->grid[0], b->grid[1]);
  IrValue *none = lw_cmp(c, "eq", count, lw_index(c, 0));
  if (is_max) return lw_select(c, none, f64c(c, 0.0), ly->results[0]);
  count = lw_cast(c, lw_bin(c, IR_OP_A_MAX, count, lw_index(c, 1)), IR_F64);
  return lw_bin(c, IR_OP_A_DIV, ly->results[0], count);
}

static void roi_align_lower(LwCtx *c, IrOp *op) {
  int64_t dims[4];
  IrValue *iv[4];
  LwNest nest;
  for (int i = 0; i < 4; i++) dims[i] = lw_dim(c->out[0], i);
  int64_t batch = lw_dim(c->in[0], 0);
  lw_check_indices(c, c->in[2], 1, &batch, false, NULL); /* batch_indices in [0, N) */
  if (dm_numel(4, dims) == 0) return;
  lw_nest_begin(c, &nest, 4, dims, iv);
  IrValue *n = lw_cast(c, lw_load(c, c->in[2], iv), IR_INDEX);
  if (c->m->no_index_checks)
    n = lw_bin(c, IR_OP_A_MIN, lw_bin(c, IR_OP_A_MAX, n, lw_index(c, 0)),
               lw_index(c, batch - 1));
  RoiBin b;
  roi_geometry(c, op, iv[0], &b);
  b.pos[0] = lw_cast(c, iv[2], IR_F64), b.pos[1] = lw_cast(c, iv[3], IR_F64);
  IrValue *v = roi_pool(c, op, &b, n, iv[1]);
  lw_store(c, lw_cast(c, v, lw_elem(c->out[0])), c->out[0], iv);
  lw_nest_end(c, &nest);
}

/* ------------------------------------------------------------ AffineGrid */

static bool affine_grid_import(IrModule *m, IrOp *op) {
  int64_t ac;
  if (!dm_attr_int(op, "align_corners", 0, &ac) ||
      !dm_input_to_ints(m, op, 1, "size", "size"))
    return false;
  ir_attr_set_int(m, op, "align_corners", ac != 0);
  op->num_operands = 1;
  return true;
}

/* theta [N, 2, 3] with size (N, C, H, W), or [N, 3, 4] with (N, C, D, H, W);
 * the grid is [N, H, W, 2] or [N, D, H, W, 3]. */
static bool affine_grid_infer(IrOp *op) {
  int64_t t[IR_MAX_RANK], out[IR_MAX_RANK];
  const int64_t *size;
  int n = ir_attr_ints(op, "size", &size);
  if (!dm_static_input(op, 0, t)) return false;
  bool ok = (n == 4 || n == 5) && op->operands[0]->type.rank == 3 && t[0] == size[0] &&
            t[1] == n - 2 && t[2] == n - 1 && ir_elem_is_float(op->operands[0]->type.elem);
  for (int i = 0; ok && i < n; i++) ok = size[i] >= 1;
  if (!ok) {
    char a[256];
    diag_at(DIAG_ERROR, &op->loc,
            "AffineGrid: needs float theta [N,2,3] with size (N,C,H,W) or [N,3,4] with "
            "size (N,C,D,H,W), all >= 1; got %s and %d sizes",
            dm_type_str(op, 0, a, sizeof a), n);
    return false;
  }
  out[0] = size[0];
  for (int i = 2; i < n; i++) out[i - 1] = size[i];
  out[n - 1] = n - 2;
  dm_set_result(op, 0, op->operands[0]->type.elem, n, out);
  return true;
}

/* grid[n, p..., k] = theta[n, k, :] . (x, y[, z], 1), x along the last
 * spatial dim, each in [-1, 1]: pixel centres, or corners with
 * align_corners. */
static void affine_grid_lower(LwCtx *c, IrOp *op) {
  int64_t dims[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK];
  LwNest nest;
  int r = lw_rank(c->out[0]), nd = r - 2;
  bool align = ir_attr_int(op, "align_corners", 0) != 0;
  for (int i = 0; i < r; i++) dims[i] = lw_dim(c->out[0], i);
  lw_nest_begin(c, &nest, r, dims, iv);
  IrValue *ti[3] = {iv[0], iv[r - 1], lw_index(c, nd)};
  IrValue *sum = lw_cast(c, lw_load(c, c->in[0], ti), IR_F64);
  for (int j = 0; j < nd; j++) {
    int d = nd - 1 - j; /* base component j runs along spatial dim d */
    double s = (double)dims[1 + d];
    IrValue *i = lw_cast(c, iv[1 + d], IR_F64), *v;
    if (align)
      v = s > 1 ? lw_fma(c, i, f64c(c, 2 / (s - 1)), f64c(c, -1.0)) : f64c(c, -1.0);
    else
      v = lw_fma(c, i, f64c(c, 2 / s), f64c(c, 1 / s - 1));
    ti[2] = lw_index(c, j);
    sum = lw_fma(c, lw_cast(c, lw_load(c, c->in[0], ti), IR_F64), v, sum);
  }
  lw_store(c, lw_cast(c, sum, lw_elem(c->out[0])), c->out[0], iv);
  lw_nest_end(c, &nest);
}

/* ------------------------------------------------------------ DeformConv */

static bool deform_conv_import(IrModule *m, IrOp *op) {
  return nn_conv_window_import(m, op, op->operands[0], op->operands[1]) &&
         nn_attr_int_canon(m, op, "offset_group", 1, NULL);
}

/* Operand i is absent or a static float tensor of X's type with dims want. */
static bool deform_conv_operand(const IrOp *op, int i, int rank, const int64_t *want) {
  IrValue *v = dm_operand(op, i);
  if (!v) return i >= 3;
  int64_t d[IR_MAX_RANK];
  if (!dm_static_input(op, i, d)) return false;
  if (v->type.elem != op->operands[0]->type.elem || v->type.rank != rank) return false;
  for (int k = 0; k < rank; k++)
    if (d[k] != want[k]) return false;
  return true;
}

static bool deform_conv_infer(IrOp *op) {
  int64_t x[IR_MAX_RANK], w[IR_MAX_RANK];
  NnWindow win;
  if (!dm_static_input(op, 0, x) || !dm_static_input(op, 1, w)) return false;
  int64_t group = ir_attr_int(op, "group", 1), og = ir_attr_int(op, "offset_group", 1);
  bool ok = op->operands[0]->type.rank == 4 && op->operands[1]->type.rank == 4 &&
            ir_elem_is_float(op->operands[0]->type.elem) && group >= 1 && og >= 1 &&
            x[1] == w[1] * group && w[0] % group == 0 && x[1] % og == 0;
  if (ok && !nn_window_get(op, 2, x + 2, false, &win)) return false;
  ok = ok && win.k[0] == w[2] && win.k[1] == w[3];
  int64_t k = ok ? w[2] * w[3] : 0;
  int64_t off[4] = {x[0], og * 2 * k, ok ? win.out[0] : 0, ok ? win.out[1] : 0};
  int64_t mask[4] = {x[0], og * k, off[2], off[3]}, b[1] = {w[0]};
  ok = ok && deform_conv_operand(op, 1, 4, w) && deform_conv_operand(op, 2, 4, off) &&
       deform_conv_operand(op, 3, 1, b) && deform_conv_operand(op, 4, 4, mask);
  if (!ok) {
    char a[256], bw[256];
    diag_at(DIAG_ERROR, &op->loc,
            "DeformConv: needs float X [N,C,H,W], W [M,C/group,kH,kW] (kernel_shape "
            "kH,kW), offset [N,offset_group*2*kH*kW,oH,oW], B [M] and mask "
            "[N,offset_group*kH*kW,oH,oW] of X's type, C divisible by offset_group; got "
            "X %s, W %s", dm_type_str(op, 0, a, sizeof a), dm_type_str(op, 1, bw, sizeof bw));
    return false;
  }
  int64_t out[4] = {x[0], w[0], win.out[0], win.out[1]};
  dm_set_result(op, 0, op->operands[0]->type.elem, 4, out);
  return true;
}

/* out[b, m, i, j] = B[m] + sum over the group's channels c and taps (u, v)
 * of W[m, c, u, v] * mask * X[b, ic] read bilinearly at
 * (i * stride - pad + u * dilation, likewise for j) + the tap's offset. */
static void deform_conv_lower(LwCtx *c, IrOp *op) {
  int64_t dims[4], kd[3];
  IrValue *iv[4], *kv[3];
  LwNest nest;
  const int64_t *st, *pads, *dil;
  ir_attr_ints(op, "strides", &st);
  ir_attr_ints(op, "pads", &pads);
  ir_attr_ints(op, "dilations", &dil);
  IrValue *X = c->in[0], *W = c->in[1], *off = c->in[2];
  IrValue *B = op->num_operands > 3 ? c->in[3] : NULL;
  IrValue *mask = op->num_operands > 4 ? c->in[4] : NULL;
  int64_t group = ir_attr_int(op, "group", 1), og = ir_attr_int(op, "offset_group", 1);
  for (int i = 0; i < 4; i++) dims[i] = lw_dim(c->out[0], i);
  for (int i = 0; i < 3; i++) kd[i] = lw_dim(W, 1 + i);
  int64_t ocg = dims[1] / group, ic_per_og = lw_dim(X, 1) / og, k = kd[1] * kd[2];
  GsCtx g = {.nd = 2, .size = {lw_dim(X, 2), lw_dim(X, 3)}, .align = true};
  if (dm_numel(4, dims) == 0) return;
  lw_nest_begin(c, &nest, 4, dims, iv);
  IrValue *acc = B ? lw_cast(c, lw_load(c, B, &iv[1]), IR_F64) : f64c(c, 0.0);
  NnIterNest kn;
  nn_iter_nest_begin(c, &kn, 3, NULL, NULL, kd, 1, &acc, kv);
  IrValue *grp = lw_bin(c, IR_OP_A_DIV, iv[1], lw_index(c, ocg));
  IrValue *ic = lw_bin(c, IR_OP_A_ADD, lw_bin(c, IR_OP_A_MUL, grp, lw_index(c, kd[0])), kv[0]);
  IrValue *ogi = lw_bin(c, IR_OP_A_DIV, ic, lw_index(c, ic_per_og));
  IrValue *tap = lw_bin(c, IR_OP_A_ADD, lw_bin(c, IR_OP_A_MUL, kv[1], lw_index(c, kd[2])), kv[2]);
  IrValue *p[2];
  for (int d = 0; d < 2; d++) {
    /* offset channel og * 2k + 2 * tap + d */
    IrValue *ch = lw_bin(c, IR_OP_A_ADD, lw_bin(c, IR_OP_A_MUL, ogi, lw_index(c, 2 * k)),
                         lw_bin(c, IR_OP_A_ADD, lw_bin(c, IR_OP_A_MUL, tap, lw_index(c, 2)),
                                lw_index(c, d)));
    IrValue *o = lw_cast(c, lw_load(c, off, (IrValue *[]){iv[0], ch, iv[2], iv[3]}), IR_F64);
    IrValue *base = lw_fma(c, lw_cast(c, iv[2 + d], IR_F64), f64c(c, (double)st[d]),
                           f64c(c, (double)-pads[d]));
    base = lw_fma(c, lw_cast(c, kv[1 + d], IR_F64), f64c(c, (double)dil[d]), base);
    p[d] = fadd(c, base, o);
  }
  g.n = iv[0], g.ch = ic;
  IrValue *v = gs_sample(c, &g, 0, X, p);
  IrValue *wt = lw_cast(c, lw_load(c, W, (IrValue *[]){iv[1], kv[0], kv[1], kv[2]}), IR_F64);
  if (mask) {
    IrValue *mc = lw_bin(c, IR_OP_A_ADD, lw_bin(c, IR_OP_A_MUL, ogi, lw_index(c, k)), tap);
    wt = fmul(c, wt, lw_cast(c, lw_load(c, mask, (IrValue *[]){iv[0], mc, iv[2], iv[3]}),
                             IR_F64));
  }
  acc = lw_fma(c, wt, v, acc);
  nn_iter_nest_end(c, &kn, &acc);
  lw_store(c, lw_cast(c, acc, lw_elem(c->out[0])), c->out[0], iv);
  lw_nest_end(c, &nest);
}

/* ----------------------------------------------------------------- hooks */

bool op_sample_import(IrModule *m, IrOp *op, int opset) {
  if (op->kind == IR_OP_AFFINE_GRID) return affine_grid_import(m, op);
  if (op->kind == IR_OP_DEFORM_CONV) return deform_conv_import(m, op);
  return op->kind == IR_OP_GRID_SAMPLE ? grid_sample_import(m, op, opset)
                                       : roi_align_import(m, op, opset);
}

bool op_sample_infer(IrModule *m, IrOp *op) {
  (void)m;
  if (op->kind == IR_OP_AFFINE_GRID) return affine_grid_infer(op);
  if (op->kind == IR_OP_DEFORM_CONV) return deform_conv_infer(op);
  return op->kind == IR_OP_GRID_SAMPLE ? grid_sample_infer(op) : roi_align_infer(op);
}

bool op_sample_lower(LwCtx *c, IrOp *op) {
  if (op->kind == IR_OP_AFFINE_GRID)
    affine_grid_lower(c, op);
  else if (op->kind == IR_OP_DEFORM_CONV)
    deform_conv_lower(c, op);
  else if (op->kind == IR_OP_GRID_SAMPLE)
    grid_sample_lower(c, op);
  else
    roi_align_lower(c, op);
  return true;
}
