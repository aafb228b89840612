/* inspect.c — `tcc inspect`: what a model takes, gives, does and weighs. */
#include <string.h>

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

static void print_ops(const IrModule *m, FILE *out) {
  int count[IR_OP_COUNT] = {0}, total = 0;
  for (const IrOp *op = m->main->body->first; op; op = op->next)
    if (op->kind != IR_OP_RETURN) {
      count[op->kind]++;
      total++;
    }
  fprintf(out, "ops: %d\n", total);
  /* Most frequent first; ties in table order. */
  for (int done = 0; done < total;) {
    int best = -1;
    for (int k = 0; k < IR_OP_COUNT; k++)
      if (count[k] && (best < 0 || count[k] > count[best])) best = k;
    const IrOpInfo *info = ir_op_info(best);
    fprintf(out, "  %-24s %d\n", info->onnx_name ? info->onnx_name : info->name,
            count[best]);
    done += count[best];
    count[best] = 0;
  }
}

static void print_params(const IrModule *m, FILE *out) {
  uint64_t params = 0, bytes = 0;
  for (int i = 0; i < m->num_weights; i++) {
    uint64_t n = 0;
    ir_type_numel(&m->weights[i]->value->type, &n);
    params += n;
    bytes += m->weights[i]->nbytes;
  }
  fprintf(out, "weights: %d tensors, %llu parameters, %llu bytes\n",
          m->num_weights, (unsigned long long)params, (unsigned long long)bytes);
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
