/* dot.c — the tensor-level graph of a module as Graphviz (`--emit=dot`):
 * one box per top-level op of main (its IR name, the ONNX node it came
 * from, its string attributes such as a fused activation, its result
 * types), an ellipse per graph input and output, an edge
 * per value from its producer to each consumer.  Weights are not drawn as
 * nodes: a box lists how many it reads, so a fused network stays readable. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "ops.h"

/* Text safe inside a double-quoted DOT string. */
static void put_escaped(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    fputc(*s, f);
  }
}

/* The DOT id of a value's producer: an op (by position) or an input. */
static void producer_id(const IrFunc *fn, const IrValue *v, const IrOp *const *ops,
                        int num_ops, char *buf, size_t size) {
  buf[0] = 0;
  for (int i = 0; i < fn->num_inputs; i++)
    if (fn->body->args[i] == v) {
      snprintf(buf, size, "in%d", i);
      return;
    }
  for (int k = 0; k < num_ops; k++)
    if (ops[k] == v->def) {
      snprintf(buf, size, "op%d", k);
      return;
    }
}

char *ir_dot_str(const IrModule *m, const char *title) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return NULL;
  const IrFunc *fn = m->main;
  int num_ops = 0;
  for (const IrOp *op = fn->body->first; op; op = op->next) num_ops++;
  const IrOp **ops = malloc(sizeof *ops * (size_t)(num_ops ? num_ops : 1));
  num_ops = 0;
  for (const IrOp *op = fn->body->first; op; op = op->next) ops[num_ops++] = op;

  fputs("digraph \"", f);
  put_escaped(f, title);
  fputs("\" {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
        "  edge [fontname=\"Helvetica\", fontsize=8];\n", f);
  char type[256], from[32];
  for (int i = 0; i < fn->num_inputs; i++) {
    const IrValue *v = fn->body->args[i];
    fprintf(f, "  in%d [shape=ellipse, label=\"", i);
    put_escaped(f, fn->input_names && fn->input_names[i] ? fn->input_names[i] : "input");
    fputs("\\n", f);
    put_escaped(f, ir_type_str(m, &v->type, type, sizeof type));
    fputs("\"];\n", f);
  }
  for (int k = 0; k < num_ops; k++) {
    const IrOp *op = ops[k];
    const IrOpInfo *info = ir_op_info(op->kind);
    bool ret = op->kind == IR_OP_RETURN;
    int weights = 0;
    for (int i = 0; i < op->num_operands; i++)
      weights += op->operands[i] && op->operands[i]->weight;
    if (ret) {
      fprintf(f, "  op%d [shape=ellipse, label=\"outputs\"];\n", k);
    } else {
      fprintf(f, "  op%d [shape=box, style=rounded, label=\"", k);
      put_escaped(f, info->name);
      if (op->loc.node && op->loc.node[0]) {
        fputs("\\n'", f);
        put_escaped(f, op->loc.node);
        fputc('\'', f);
      }
      for (int a = 0; a < op->num_attrs; a++)
        if (op->attrs[a].kind == IR_ATTR_STRING) {
          fputs("\\n", f);
          put_escaped(f, op->attrs[a].name);
          fputc('=', f);
          put_escaped(f, op->attrs[a].s);
        }
      for (int r = 0; r < op->num_results; r++) {
        fputs("\\n", f);
        put_escaped(f, ir_type_str(m, &op->results[r]->type, type, sizeof type));
      }
      if (weights) fprintf(f, "\\n(%d weight%s)", weights, weights > 1 ? "s" : "");
      fputs("\"];\n", f);
    }
    for (int i = 0; i < op->num_operands; i++) {
      const IrValue *v = op->operands[i];
      if (!v || v->weight) continue;
      producer_id(fn, v, ops, num_ops, from, sizeof from);
      if (!from[0]) continue; /* a constant: shown as its consumer's input */
      fprintf(f, "  %s -> op%d;\n", from, k);
    }
  }
  fputs("}\n", f);
  free(ops);
  if (fclose(f) != 0) {
    free(text);
    return NULL;
  }
  return text;
}
