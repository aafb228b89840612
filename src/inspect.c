/* inspect.c — `tcc inspect`: what a model takes, gives, does and weighs,
 * as text or (--json) one JSON object. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "session.h"

static void print_values(const IrModule *m, FILE *out) {
  const IrFunc *f = m->main;
  char ty[256];
  fprintf(out, "inputs:\n");
  for (int i = 0; i < f->num_inputs; i++)
    fprintf(out, "  %d %-24s %s\n", i, f->input_names[i],
            ir_type_str(m, &f->body->args[i]->type, ty, sizeof ty));
  fprintf(out, "outputs:\n");
  for (int i = 0; i < f->num_outputs; i++)
    fprintf(out, "  %d %-24s %s\n", i, f->output_names[i],
            ir_type_str(m, &f->output_types[i], ty, sizeof ty));
}

/* The op kinds of main by count, most frequent first (ties in table
 * order): kinds[0..n) and their counts; returns the number of ops. */
static int op_histogram(const IrModule *m, int kinds[IR_OP_COUNT], int counts[IR_OP_COUNT],
                        int *n) {
  int count[IR_OP_COUNT] = {0}, total = 0;
  for (const IrOp *op = m->main->body->first; op; op = op->next)
    if (op->kind != IR_OP_RETURN) {
      count[op->kind]++;
      total++;
    }
  *n = 0;
  for (int done = 0; done < total;) {
    int best = -1;
    for (int k = 0; k < IR_OP_COUNT; k++)
      if (count[k] && (best < 0 || count[k] > count[best])) best = k;
    kinds[*n] = best;
    counts[(*n)++] = count[best];
    done += count[best];
    count[best] = 0;
  }
  return total;
}

static const char *op_name(int kind) {
  const IrOpInfo *info = ir_op_info(kind);
  return info->onnx_name ? info->onnx_name : info->name;
}

static void print_ops(const IrModule *m, FILE *out) {
  int kinds[IR_OP_COUNT], counts[IR_OP_COUNT], n;
  fprintf(out, "ops: %d\n", op_histogram(m, kinds, counts, &n));
  for (int i = 0; i < n; i++) fprintf(out, "  %-24s %d\n", op_name(kinds[i]), counts[i]);
}

static void weight_totals(const IrModule *m, uint64_t *params, uint64_t *bytes) {
  *params = *bytes = 0;
  for (int i = 0; i < m->num_weights; i++) {
    uint64_t n = 0;
    ir_type_numel(&m->weights[i]->value->type, &n);
    *params += n;
    *bytes += m->weights[i]->nbytes;
  }
}

static void print_params(const IrModule *m, FILE *out) {
  uint64_t params, bytes;
  weight_totals(m, &params, &bytes);
  fprintf(out, "weights: %d tensors, %llu parameters, %llu bytes\n",
          m->num_weights, (unsigned long long)params, (unsigned long long)bytes);
}

/* {"name": ..., "type": "f32[1,3,224,224]"} (a symbolic dim by its name). */
static cJSON *value_json(const IrModule *m, const char *name, const IrType *t) {
  char ty[256];
  cJSON *v = cJSON_CreateObject();
  cJSON_AddStringToObject(v, "name", name);
  cJSON_AddStringToObject(v, "type", ir_type_str(m, t, ty, sizeof ty));
  return v;
}

tcc_result tcc_inspect_json(tcc_session *s, FILE *out) {
  IrModule *m = tcc_session_module(s);
  if (!m || !m->main) return TCC_ERROR_INPUT;
  const IrFunc *f = m->main;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "model", m->name);
  cJSON_AddStringToObject(j, "source", m->source ? m->source : "");
  cJSON *syms = cJSON_AddArrayToObject(j, "symbols");
  for (int i = 0; i < m->num_syms; i++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", m->syms[i].name);
    if (m->syms[i].value >= 0) {
      cJSON_AddNumberToObject(o, "value", (double)m->syms[i].value);
    } else {
      cJSON_AddNumberToObject(o, "min", (double)m->syms[i].lo);
      cJSON_AddNumberToObject(o, "max", (double)m->syms[i].hi);
    }
    cJSON_AddItemToArray(syms, o);
  }
  cJSON *ins = cJSON_AddArrayToObject(j, "inputs");
  for (int i = 0; i < f->num_inputs; i++)
    cJSON_AddItemToArray(ins, value_json(m, f->input_names[i], &f->body->args[i]->type));
  cJSON *outs = cJSON_AddArrayToObject(j, "outputs");
  for (int i = 0; i < f->num_outputs; i++)
    cJSON_AddItemToArray(outs, value_json(m, f->output_names[i], &f->output_types[i]));
  int kinds[IR_OP_COUNT], counts[IR_OP_COUNT], n;
  cJSON_AddNumberToObject(j, "num_ops", op_histogram(m, kinds, counts, &n));
  cJSON *ops = cJSON_AddObjectToObject(j, "ops");
  for (int i = 0; i < n; i++) cJSON_AddNumberToObject(ops, op_name(kinds[i]), counts[i]);
  uint64_t params, bytes;
  weight_totals(m, &params, &bytes);
  cJSON *w = cJSON_AddObjectToObject(j, "weights");
  cJSON_AddNumberToObject(w, "tensors", m->num_weights);
  cJSON_AddNumberToObject(w, "parameters", (double)params);
  cJSON_AddNumberToObject(w, "bytes", (double)bytes);
  char *text = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if (!text) return TCC_ERROR_INTERNAL;
  fprintf(out, "%s\n", text);
  free(text);
  return TCC_SUCCESS;
}

tcc_result tcc_inspect(tcc_session *s, FILE *out) {
  IrModule *m = tcc_session_module(s);
  if (!m || !m->main) return TCC_ERROR_INPUT;
  fprintf(out, "model: %s (%s)\n", m->name, m->source ? m->source : "");
  for (int i = 0; i < m->num_syms; i++) {
    const IrSym *sym = &m->syms[i];
    if (sym->value >= 0)
      fprintf(out, "symbol: %s = %lld\n", sym->name, (long long)sym->value);
    else
      fprintf(out, "symbol: %s = %lld..%lld (run-time)\n", sym->name, (long long)sym->lo,
              (long long)sym->hi);
  }
  print_values(m, out);
  print_ops(m, out);
  print_params(m, out);
  return TCC_SUCCESS;
}
