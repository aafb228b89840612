/*
 * einsum.c — Einsum by one general contraction.
 *
 * The equation names each dim of each input with a label (a letter, or
 * one of the dims an ellipsis stands for, aligned from the right and
 * broadcast like numpy).  The output labels are given after `->`, or
 * implicitly the ellipsis dims then the letters used exactly once, in
 * alphabetical order.  Every label not in the output is summed over:
 *   Y[out labels] = sum_{other labels} prod_i X_i[its labels]
 * A label repeated within one input reads its diagonal.  This covers
 * matmul, batch matmul, transpose, sums, inner and outer products and
 * diagonals alike; the lowering loops over the output labels outside and
 * over the summed labels inside, carrying the accumulator.
 */
#include <ctype.h>
#include <string.h>

#include "nn_util.h"

#define ES_MAX_IN 8
#define ES_ELL 26 /* labels 26.. are ellipsis dims */

typedef struct EsTerm {
  int n;
  int lab[IR_MAX_RANK];
} EsTerm;

typedef struct Einsum {
  int nin;
  EsTerm in[ES_MAX_IN], out;
  int nell;                   /* ellipsis dims of the output */
  int64_t size[ES_ELL + IR_MAX_RANK];
  bool used[ES_ELL + IR_MAX_RANK];
} Einsum;

/* Parses one term; ell = the ellipsis rank for this term (-1: unknown,
 * count them from rank). */
static bool es_term(const IrOp *op, const char *s, size_t len, int rank,
                    int nell_max, EsTerm *t, int *nell) {
  int letters = 0;
  bool has_ell = false;
  for (size_t i = 0; i < len; i++) {
    if (isalpha((unsigned char)s[i])) letters++;
    else if (s[i] == '.' && i + 2 < len && s[i + 1] == '.' && s[i + 2] == '.') has_ell = true, i += 2;
    else if (s[i] != ' ') goto bad;
  }
  *nell = has_ell ? (rank >= 0 ? rank - letters : nell_max) : 0;
  if (*nell < 0 || letters + *nell > IR_MAX_RANK) goto bad;
  t->n = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '.') {
      for (int k = 0; k < *nell; k++) t->lab[t->n++] = ES_ELL + nell_max - *nell + k;
      i += 2;
    } else if (isalpha((unsigned char)s[i])) {
      if (!islower((unsigned char)s[i])) goto bad;
      t->lab[t->n++] = s[i] - 'a';
    }
  }
  return true;
bad:
  diag_at(DIAG_ERROR, &op->loc, "Einsum: cannot parse term '%.*s' of the "
          "equation (for an input of rank %d)", (int)len, s, rank);
  return false;
}

/* Ellipsis rank of each input, the largest into *max. */
static bool es_parse_inputs(const IrOp *op, const char *eq, size_t lhs, Einsum *e) {
  int ranks[ES_MAX_IN], nells[ES_MAX_IN], max = 0;
  const char *p = eq;
  e->nin = op->num_operands;
  for (int i = 0; i < e->nin; i++) ranks[i] = op->operands[i]->type.rank;
  for (int pass = 0; pass < 2; pass++) {
    p = eq;
    for (int i = 0; i < e->nin; i++) {
      const char *end = memchr(p, ',', (size_t)(eq + lhs - p));
      size_t len = end ? (size_t)(end - p) : (size_t)(eq + lhs - p);
      if ((i < e->nin - 1) != (end != NULL)) {
        diag_at(DIAG_ERROR, &op->loc, "Einsum: the equation has a different "
                "number of terms than the %d inputs", e->nin);
        return false;
      }
      if (!es_term(op, p, len, ranks[i], max, &e->in[i], &nells[i])) return false;
      if (nells[i] > max) max = nells[i];
      p = end ? end + 1 : p;
    }
  }
  e->nell = max;
  return true;
}

/* Label sizes (with size-1 broadcasting) from the inputs. */
static bool es_sizes(const IrOp *op, Einsum *e) {
  for (int l = 0; l < ES_ELL + IR_MAX_RANK; l++) e->size[l] = 1, e->used[l] = false;
  for (int i = 0; i < e->nin; i++) {
    const IrType *t = &op->operands[i]->type;
    for (int k = 0; k < e->in[i].n; k++) {
      int l = e->in[i].lab[k];
      int64_t d = ir_type_dim(t, k);
      if (e->used[l] && e->size[l] != d && d != 1 && e->size[l] != 1) {
        diag_at(DIAG_ERROR, &op->loc, "Einsum: label sizes %lld and %lld do not "
                "match", (long long)e->size[l], (long long)d);
        return false;
      }
      if (!e->used[l] || e->size[l] == 1) e->size[l] = d;
      e->used[l] = true;
    }
  }
  return true;
}

static void es_implicit_out(Einsum *e) {
  int count[26] = {0};
  for (int i = 0; i < e->nin; i++)
    for (int k = 0; k < e->in[i].n; k++)
      if (e->in[i].lab[k] < ES_ELL) count[e->in[i].lab[k]]++;
  e->out.n = 0;
  for (int k = 0; k < e->nell; k++) e->out.lab[e->out.n++] = ES_ELL + k;
  for (int l = 0; l < 26; l++)
    if (count[l] == 1) e->out.lab[e->out.n++] = l;
}

static bool es_parse(const IrOp *op, Einsum *e) {
  const char *eq = ir_attr_string(op, "equation", NULL);
  if (!eq) {
    diag_at(DIAG_ERROR, &op->loc, "attribute 'equation' is required");
    return false;
  }
  if (op->num_operands > ES_MAX_IN) {
    diag_at(DIAG_ERROR, &op->loc, "Einsum: at most %d inputs are supported",
            ES_MAX_IN);
    return false;
  }
  const char *arrow = strstr(eq, "->");
  size_t lhs = arrow ? (size_t)(arrow - eq) : strlen(eq);
  if (!es_parse_inputs(op, eq, lhs, e) || !es_sizes(op, e)) return false;
  if (!arrow) {
    es_implicit_out(e);
    return true;
  }
  int nell;
  if (!es_term(op, arrow + 2, strlen(arrow + 2), -1, e->nell, &e->out, &nell))
    return false;
  for (int k = 0; k < e->out.n; k++)
    if (!e->used[e->out.lab[k]]) {
      diag_at(DIAG_ERROR, &op->loc, "Einsum: output label of '%s' is not in any "
              "input", eq);
      return false;
    }
  return true;
}

bool op_einsum_import(IrModule *m, IrOp *op, int opset) {
  (void)m, (void)opset;
  return nn_attr_kind(op, "equation", IR_ATTR_STRING);
}

bool op_einsum_infer(IrModule *m, IrOp *op) {
  (void)m;
  for (int i = 0; i < op->num_operands; i++)
    if (!nn_check_operand(op, i, "Inputs", NN_FLOAT | NN_INT)) return false;
  IrElem t = op->operands[0]->type.elem;
  for (int i = 1; i < op->num_operands; i++)
    if (op->operands[i]->type.elem != t) {
      diag_at(DIAG_ERROR, &op->loc, "Einsum: inputs have different element types");
      return false;
    }
  Einsum e;
  if (!es_parse(op, &e)) return false;
  int nsum = 0;
  for (int l = 0; l < ES_ELL + IR_MAX_RANK; l++) nsum += e.used[l];
  if (nsum - e.out.n > IR_MAX_RANK) {
    diag_at(DIAG_ERROR, &op->loc, "Einsum: more than %d summed labels",
            IR_MAX_RANK);
    return false;
  }
  int64_t y[IR_MAX_RANK];
  for (int k = 0; k < e.out.n; k++) y[k] = e.size[e.out.lab[k]];
  op->results[0]->type = ir_type_tensor(t, e.out.n, y);
  return true;
}

bool op_einsum_lower(LwCtx *c, IrOp *op) {
  Einsum e;
  if (!es_parse(op, &e)) return false;
  IrValue *lv[ES_ELL + IR_MAX_RANK], *ivs[IR_MAX_RANK];
  int sum[ES_ELL + IR_MAX_RANK], ns = 0;
  bool in_out[ES_ELL + IR_MAX_RANK] = {0};
  for (int k = 0; k < e.out.n; k++) in_out[e.out.lab[k]] = true;
  for (int l = 0; l < ES_ELL + IR_MAX_RANK; l++)
    if (e.used[l] && !in_out[l]) sum[ns++] = l;
  int64_t od[IR_MAX_RANK], sd[ES_ELL + IR_MAX_RANK];
  for (int k = 0; k < e.out.n; k++) od[k] = e.size[e.out.lab[k]];
  for (int k = 0; k < ns; k++) sd[k] = e.size[sum[k]];
  IrElem ce = nn_calc_elem(lw_elem(c->out[0]));
  LwNest nest;
  lw_nest_begin(c, &nest, e.out.n, od, ivs);
  for (int k = 0; k < e.out.n; k++) lv[e.out.lab[k]] = ivs[k];
  IrValue *acc = lw_const_f(c, ce, 0), *sv[ES_ELL + IR_MAX_RANK];
  NnIterNest inner;
  nn_iter_nest_begin(c, &inner, ns, NULL, NULL, sd, 1, &acc, sv);
  for (int k = 0; k < ns; k++) lv[sum[k]] = sv[k];
  IrValue *prod = NULL;
  for (int i = 0; i < e.nin; i++) {
    IrValue *xi[IR_MAX_RANK];
    for (int k = 0; k < e.in[i].n; k++) {
      int l = e.in[i].lab[k];
      bool bc = lw_dim(c->in[i], k) == 1 && e.size[l] != 1;
      xi[k] = bc ? lw_index(c, 0) : lv[l];
    }
    IrValue *x = nn_load(c, c->in[i], xi);
    prod = prod ? lw_bin(c, IR_OP_A_MUL, prod, x) : x;
  }
  acc = lw_bin(c, IR_OP_A_ADD, acc, prod);
  nn_iter_nest_end(c, &inner, &acc);
  nn_store(c, acc, c->out[0], ivs);
  lw_nest_end(c, &nest);
  return true;
}
