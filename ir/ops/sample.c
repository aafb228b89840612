/*
 * sample.c — ops that read an image at fractional positions: GridSample
 * (positions from a flow-field grid, as torch.nn.functional.grid_sample)
 * and RoiAlign (averages of bilinear samples over regions of interest, as
 * onnxruntime's kernel).
 *
 * Canonical forms: grid_sample {mode, padding_mode, align_corners} and
 * roi_align {mode, output_height, output_width, sampling_ratio,
 * spatial_scale, coordinate_transformation_mode}, all explicit.
 *
 * Positions are computed in f64.  There are no conditional loads in loop
 * IR, so an out-of-image tap loads a clamped position and is then replaced
 * by zero with a select.  RoiAlign with sampling_ratio 0 samples a
 * data-dependent number of points per bin: its inner loops have run-time
 * bounds.
 */
#include "datamove.h"

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

static const char *const gs_modes[] = {"bilinear", "nearest", "bicubic"};
static const char *const gs_pads[] = {"zeros", "border", "reflection"};

static bool grid_sample_import(IrModule *m, IrOp *op) {
  int64_t ac;
  if (!sample_attr_choice(m, op, "mode", gs_modes, 3) ||
      !sample_attr_choice(m, op, "padding_mode", gs_pads, 3) ||
      !dm_attr_int(op, "align_corners", 0, &ac))
    return false;
  ir_attr_set_int(m, op, "align_corners", ac != 0);
  return true;
}

static bool grid_sample_infer(IrOp *op) {
  int64_t x[IR_MAX_RANK], g[IR_MAX_RANK];
  if (!dm_static_input(op, 0, x) || !dm_static_input(op, 1, g)) return false;
  if (op->operands[0]->type.rank != 4 || op->operands[1]->type.rank != 4 || g[0] != x[0] ||
      g[3] != 2 || !ir_elem_is_float(op->operands[0]->type.elem) ||
      !ir_elem_is_float(op->operands[1]->type.elem)) {
    char a[256], b[256];
    diag_at(DIAG_ERROR, &op->loc,
            "GridSample: needs float X [N,C,H,W] and grid [N,Ho,Wo,2]; got %s and %s",
            dm_type_str(op, 0, a, sizeof a), dm_type_str(op, 1, b, sizeof b));
    return false;
  }
  int64_t out[4] = {x[0], x[1], g[1], g[2]};
  dm_set_result(op, 0, op->operands[0]->type.elem, 4, out);
  return true;
}

typedef struct GsCtx {
  IrValue *n, *ch; /* image index */
  int64_t h, w;
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

/* X[n, ch, iy, ix] as f64, or 0 when (iy, ix) (f64, integral) is outside. */
static IrValue *gs_tap(LwCtx *c, const GsCtx *g, IrValue *x, IrValue *iy, IrValue *ix) {
  IrValue *ok = lw_bin(c, IR_OP_A_AND, lw_cmp(c, "ge", iy, f64c(c, 0)),
                       lw_cmp(c, "le", iy, f64c(c, (double)(g->h - 1))));
  ok = lw_bin(c, IR_OP_A_AND, ok, lw_cmp(c, "ge", ix, f64c(c, 0)));
  ok = lw_bin(c, IR_OP_A_AND, ok, lw_cmp(c, "le", ix, f64c(c, (double)(g->w - 1))));
  IrValue *cy = lw_bin(c, IR_OP_A_MIN, lw_bin(c, IR_OP_A_MAX, iy, f64c(c, 0)),
                       f64c(c, (double)(g->h - 1)));
  IrValue *cx = lw_bin(c, IR_OP_A_MIN, lw_bin(c, IR_OP_A_MAX, ix, f64c(c, 0)),
                       f64c(c, (double)(g->w - 1)));
  IrValue *idx[4] = {g->n, g->ch, lw_cast(c, cy, IR_INDEX), lw_cast(c, cx, IR_INDEX)};
  IrValue *v = lw_cast(c, lw_load(c, x, idx), IR_F64);
  return lw_select(c, ok, v, f64c(c, 0.0));
}

static IrValue *gs_bilinear(LwCtx *c, const GsCtx *g, IrValue *x, IrValue *py, IrValue *px) {
  IrValue *y0 = lw_un(c, IR_OP_M_FLOOR, py), *x0 = lw_un(c, IR_OP_M_FLOOR, px);
  IrValue *one = f64c(c, 1.0), *y1 = fadd(c, y0, one), *x1 = fadd(c, x0, one);
  IrValue *ly = fsub(c, py, y0), *lx = fsub(c, px, x0);
  IrValue *hy = fsub(c, one, ly), *hx = fsub(c, one, lx);
  IrValue *top = fadd(c, fmul(c, hx, gs_tap(c, g, x, y0, x0)), fmul(c, lx, gs_tap(c, g, x, y0, x1)));
  IrValue *bot = fadd(c, fmul(c, hx, gs_tap(c, g, x, y1, x0)), fmul(c, lx, gs_tap(c, g, x, y1, x1)));
  return fadd(c, fmul(c, hy, top), fmul(c, ly, bot));
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

/* 4x4 taps around (py, px); each tap position goes through the padding
 * mode on its own (torch's get_value_bounded). */
static IrValue *gs_bicubic(LwCtx *c, const GsCtx *g, IrValue *x, IrValue *py, IrValue *px) {
  IrValue *y0 = lw_un(c, IR_OP_M_FLOOR, py), *x0 = lw_un(c, IR_OP_M_FLOOR, px);
  IrValue *wy[4], *wx[4], *sum = f64c(c, 0.0);
  gs_cubic_weights(c, fsub(c, py, y0), wy);
  gs_cubic_weights(c, fsub(c, px, x0), wx);
  for (int i = 0; i < 4; i++) {
    IrValue *ty = gs_pad_coord(c, g, fadd(c, y0, f64c(c, i - 1)), g->h);
    IrValue *row = f64c(c, 0.0);
    for (int j = 0; j < 4; j++) {
      IrValue *tx = gs_pad_coord(c, g, fadd(c, x0, f64c(c, j - 1)), g->w);
      tx = lw_un(c, IR_OP_M_FLOOR, tx), ty = lw_un(c, IR_OP_M_FLOOR, ty);
      row = lw_fma(c, wx[j], gs_tap(c, g, x, ty, tx), row);
    }
    sum = lw_fma(c, wy[i], row, sum);
  }
  return sum;
}

static void grid_sample_lower(LwCtx *c, IrOp *op) {
  int64_t dims[4];
  IrValue *iv[4];
  LwNest nest;
  const char *mode = ir_attr_string(op, "mode", "bilinear");
  const char *pad = ir_attr_string(op, "padding_mode", "zeros");
  GsCtx g = {.h = lw_dim(c->in[0], 2), .w = lw_dim(c->in[0], 3),
             .pad = !strcmp(pad, "border") ? 1 : !strcmp(pad, "reflection") ? 2 : 0,
             .align = ir_attr_int(op, "align_corners", 0) != 0};
  for (int i = 0; i < 4; i++) dims[i] = lw_dim(c->out[0], i);
  if (dm_numel(4, dims) == 0 || g.h == 0 || g.w == 0) return;
  lw_nest_begin(c, &nest, 4, dims, iv);
  g.n = iv[0], g.ch = iv[1];
  IrValue *gi[4] = {iv[0], iv[2], iv[3], lw_index(c, 0)};
  IrValue *px = gs_unnormalize(c, &g, lw_cast(c, lw_load(c, c->in[1], gi), IR_F64), g.w);
  gi[3] = lw_index(c, 1);
  IrValue *py = gs_unnormalize(c, &g, lw_cast(c, lw_load(c, c->in[1], gi), IR_F64), g.h);
  IrValue *v;
  if (!strcmp(mode, "bicubic")) {
    v = gs_bicubic(c, &g, c->in[0], py, px);
  } else {
    py = gs_pad_coord(c, &g, py, g.h), px = gs_pad_coord(c, &g, px, g.w);
    if (!strcmp(mode, "nearest"))
      v = gs_tap(c, &g, c->in[0], lw_un(c, IR_OP_M_ROUND, py), lw_un(c, IR_OP_M_ROUND, px));
    else
      v = gs_bilinear(c, &g, c->in[0], py, px);
  }
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

/* ----------------------------------------------------------------- hooks */

bool op_sample_import(IrModule *m, IrOp *op, int opset) {
  return op->kind == IR_OP_GRID_SAMPLE ? grid_sample_import(m, op)
                                       : roi_align_import(m, op, opset);
}

bool op_sample_infer(IrModule *m, IrOp *op) {
  (void)m;
  return op->kind == IR_OP_GRID_SAMPLE ? grid_sample_infer(op) : roi_align_infer(op);
}

bool op_sample_lower(LwCtx *c, IrOp *op) {
  if (op->kind == IR_OP_GRID_SAMPLE)
    grid_sample_lower(c, op);
  else
    roi_align_lower(c, op);
  return true;
}
