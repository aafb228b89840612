/* report.c — the compile report: `--report=FILE.json` and `-v`'s table
 * (docs/cli.md "The compile report").  The layers are the top-level ops of
 * main at the end of the tensor-level passes (a fused Conv+BN+Relu is one
 * layer), taken just before `lower`; after code generation the report adds
 * the kernel each layer's lowering chose (ir_module_kernel_of) and the
 * object's flash and RAM (target_memory, the budgets' definitions). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ir.h"
#include "ops.h"
#include "session.h"
#include "tcc/runtime.h"

struct ReportLayer {
  IrLoc loc;
  const char *node, *op_type, *ir_op, *act;
  char type[128];
  uint64_t flops, params, weight_bytes, output_bytes;
  /* the int8 forms (-quantize, QDQ and QLinear imports): X's parameters
   * (dynamic: measured at run time) and the weight scales' extent */
  bool int8, dynamic;
  float x_scale, w_scale_min, w_scale_max;
  int x_zero_point;
  int64_t channels;
};


static uint64_t numel(const IrValue *v) {
  uint64_t n = 0;
  return v && ir_type_numel(&v->type, &n) ? n : 0;
}

/* l's quantization, when op is an int8 fused_conv / fused_matmul. */
static void layer_quantization(const IrOp *op, ReportLayer *l) {
  int at = op->kind == IR_OP_FUSED_CONV ? 6 : op->kind == IR_OP_FUSED_MATMUL ? 4 : -1;
  if (at < 0 || op->num_operands <= at || op->operands[1]->type.elem != IR_I8) return;
  const IrValue *S = op->operands[at];
  uint64_t n = numel(S);
  if (!S || !S->weight || !S->weight->data || S->type.elem != IR_F32 || !n) return;
  const float *ws = S->weight->data;
  l->int8 = true;
  l->dynamic = ir_attr_int(op, "x_dynamic", 0) != 0;
  l->x_scale = (float)ir_attr_float(op, "x_scale", 0);
  l->x_zero_point = (int)ir_attr_int(op, "x_zero_point", 0);
  l->channels = (int64_t)n;
  l->w_scale_min = l->w_scale_max = ws[0];
  for (uint64_t i = 1; i < n; i++) {
    if (ws[i] < l->w_scale_min) l->w_scale_min = ws[i];
    if (ws[i] > l->w_scale_max) l->w_scale_max = ws[i];
  }
}

static uint64_t tail_numel(const IrValue *v, int from) {
  uint64_t n = 1;
  for (int i = from; v && i < v->type.rank; i++) n *= (uint64_t)v->type.dims[i].size;
  return n;
}

/* Floating-point operations: two per multiply-add of the products
 * (convolutions, matrix products), one per output element otherwise
 * (elementwise ops, pools, normalizations: an estimate). */
static uint64_t layer_flops(const IrOp *op) {
  const IrValue *y = op->num_results ? op->results[0] : NULL;
  const IrValue *a = op->num_operands > 0 ? op->operands[0] : NULL;
  const IrValue *b = op->num_operands > 1 ? op->operands[1] : NULL;
  uint64_t out = numel(y);
  switch (op->kind) {
  case IR_OP_CONV:
  case IR_OP_FUSED_CONV: return 2 * out * tail_numel(b, 1); /* W [M, C/g, k...] */
  case IR_OP_CONV_TRANSPOSE: return 2 * numel(a) * tail_numel(b, 1);
  case IR_OP_MATMUL:
  case IR_OP_FUSED_MATMUL:
    return a && a->type.rank ? 2 * out * (uint64_t)a->type.dims[a->type.rank - 1].size : out;
  case IR_OP_GEMM: {
    uint64_t n = y && y->type.rank == 2 ? (uint64_t)y->type.dims[1].size : 0;
    return n ? 2 * out * (numel(b) / n) : out; /* B holds K x N */
  }
  default: return out;
  }
}

ReportLayer *report_layers(const IrModule *m, int *n) {
  int count = 0;
  for (const IrOp *op = m->main->body->first; op; op = op->next) count++;
  ReportLayer *layers = calloc((size_t)(count ? count : 1), sizeof *layers);
  *n = 0;
  if (!layers) return NULL;
  for (const IrOp *op = m->main->body->first; op; op = op->next) {
    if (op->kind == IR_OP_RETURN || op->num_results == 0) continue;
    ReportLayer *l = &layers[(*n)++];
    l->loc = op->loc;
    l->node = op->loc.node ? op->loc.node : "";
    l->op_type = op->loc.op_type ? op->loc.op_type : "";
    l->ir_op = ir_op_info(op->kind)->name;
    l->act = ir_attr_string(op, "act", NULL);
    ir_type_str(m, &op->results[0]->type, l->type, sizeof l->type);
    l->flops = layer_flops(op);
    layer_quantization(op, l);
    for (int i = 0; i < op->num_results; i++) {
      uint64_t nb = 0;
      if (ir_type_nbytes(&op->results[i]->type, &nb)) l->output_bytes += nb;
    }
    for (int i = 0; i < op->num_operands; i++)
      if (op->operands[i] && op->operands[i]->weight) {
        l->params += numel(op->operands[i]);
        l->weight_bytes += op->operands[i]->weight->nbytes;
      }
  }
  return layers;
}

static const char *kernel_of(const IrModule *m, const ReportLayer *l) {
  const char *k = ir_module_kernel_of(m, &l->loc);
  return k ? k : "loops";
}

char *report_json(const ReportInfo *r) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "tcc_version", tcc_version());
  cJSON_AddStringToObject(j, "model", r->m->name);
  cJSON_AddStringToObject(j, "source", r->m->source ? r->m->source : "");
  cJSON_AddStringToObject(j, "target", r->target);
  cJSON_AddStringToObject(j, "cpu", r->cpu);
  cJSON_AddStringToObject(j, "features", r->features);
  cJSON *layers = cJSON_AddArrayToObject(j, "layers");
  uint64_t flops = 0, params = 0, wbytes = 0;
  for (int i = 0; i < r->num_layers; i++) {
    const ReportLayer *l = &r->layers[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "node", l->node);
    cJSON_AddStringToObject(o, "op_type", l->op_type);
    cJSON_AddStringToObject(o, "op", l->ir_op);
    if (l->act) cJSON_AddStringToObject(o, "activation", l->act);
    cJSON_AddStringToObject(o, "output", l->type);
    cJSON_AddNumberToObject(o, "flops", (double)l->flops);
    cJSON_AddNumberToObject(o, "parameters", (double)l->params);
    cJSON_AddNumberToObject(o, "weight_bytes", (double)l->weight_bytes);
    cJSON_AddNumberToObject(o, "output_bytes", (double)l->output_bytes);
    cJSON_AddStringToObject(o, "kernel", kernel_of(r->m, l));
    for (int k = 0; *l->node && k < r->num_sqnr; k++)
      if (r->sqnr_names[k] && !strcmp(r->sqnr_names[k], l->node)) {
        if (isfinite(r->sqnr[k])) cJSON_AddNumberToObject(o, "output_sqnr_db", r->sqnr[k]);
        else cJSON_AddNullToObject(o, "output_sqnr_db");
      }
    if (l->int8) {
      cJSON *q = cJSON_AddObjectToObject(o, "quantization");
      cJSON_AddStringToObject(q, "weights", "i8 per channel");
      cJSON_AddNumberToObject(q, "channels", (double)l->channels);
      cJSON_AddNumberToObject(q, "w_scale_min", l->w_scale_min);
      cJSON_AddNumberToObject(q, "w_scale_max", l->w_scale_max);
      cJSON_AddStringToObject(q, "input", l->dynamic ? "u8, measured at run time" : "u8 per tensor");
      if (!l->dynamic) {
        cJSON_AddNumberToObject(q, "x_scale", l->x_scale);
        cJSON_AddNumberToObject(q, "x_zero_point", l->x_zero_point);
      }
    }
    cJSON_AddItemToArray(layers, o);
    flops += l->flops, params += l->params, wbytes += l->weight_bytes;
  }
  cJSON *t = cJSON_AddObjectToObject(j, "totals");
  cJSON_AddNumberToObject(t, "layers", r->num_layers);
  cJSON_AddNumberToObject(t, "flops", (double)flops);
  cJSON_AddNumberToObject(t, "parameters", (double)params);
  cJSON_AddNumberToObject(t, "weight_bytes", (double)wbytes);
  cJSON *w = cJSON_AddObjectToObject(j, "weights");
  cJSON_AddStringToObject(w, "placement", r->weights->external ? "external" : "object");
  cJSON_AddStringToObject(w, "packed_as", r->weight_type ? r->weight_type : "f32");
  if (r->weights->external) {
    char id[24];
    snprintf(id, sizeof id, "0x%016llx", (unsigned long long)r->weights->id);
    cJSON_AddStringToObject(w, "id", id);
    cJSON_AddNumberToObject(w, "blob_bytes", (double)(TCC_WEIGHTS_HEADER_SIZE +
                                                      r->weights->data_size));
  }
  if (r->mem) {
    cJSON *mem = cJSON_AddObjectToObject(j, "memory");
    const MemoryFigures *f = r->mem;
    cJSON_AddNumberToObject(mem, "flash", (double)f->flash);
    cJSON_AddNumberToObject(mem, "code", (double)f->code);
    cJSON_AddNumberToObject(mem, "rodata", (double)f->rodata);
    cJSON_AddNumberToObject(mem, "weights_blob", (double)f->blob);
    cJSON_AddNumberToObject(mem, "ram", (double)f->ram);
    cJSON_AddNumberToObject(mem, "workspace", (double)f->workspace);
    cJSON_AddNumberToObject(mem, "inputs_outputs", (double)f->io);
    cJSON_AddNumberToObject(mem, "data", (double)f->data);
    cJSON_AddNumberToObject(mem, "stack_margin", (double)f->stack_margin);
  } else {
    cJSON_AddNullToObject(j, "memory");
  }
  cJSON *b = cJSON_AddObjectToObject(j, "budget");
  if (r->budget->max_flash) cJSON_AddNumberToObject(b, "max_flash", (double)r->budget->max_flash);
  else cJSON_AddNullToObject(b, "max_flash");
  if (r->budget->max_ram) cJSON_AddNumberToObject(b, "max_ram", (double)r->budget->max_ram);
  else cJSON_AddNullToObject(b, "max_ram");
  char *text = cJSON_Print(j);
  cJSON_Delete(j);
  return text;
}

/* -v: one line per layer, then the totals and the memory. */
void report_table(const ReportInfo *r, FILE *out) {
  fprintf(out, "%-20s %-22s %-22s %12s %10s %10s  %s\n", "node", "op", "output", "MFLOP",
          "params", "weight KiB", "kernel");
  uint64_t flops = 0, params = 0, wbytes = 0;
  for (int i = 0; i < r->num_layers; i++) {
    const ReportLayer *l = &r->layers[i];
    char op[64];
    snprintf(op, sizeof op, "%s%s%s%s", l->ir_op, l->int8 ? ".int8" : "", l->act ? "+" : "",
             l->act ? l->act : "");
    fprintf(out, "%-20.20s %-22.22s %-22.22s %12.3f %10llu %10.1f  %s\n", l->node, op, l->type,
            (double)l->flops / 1e6, (unsigned long long)l->params,
            (double)l->weight_bytes / 1024.0, kernel_of(r->m, l));
    flops += l->flops, params += l->params, wbytes += l->weight_bytes;
  }
  fprintf(out, "total: %d layers, %.3f MFLOP, %llu parameters, %.1f KiB of weights\n",
          r->num_layers, (double)flops / 1e6, (unsigned long long)params, (double)wbytes / 1024.0);
  char blob[48] = "";
  if (r->mem && r->mem->blob)
    snprintf(blob, sizeof blob, " + weights blob %.1f", (double)r->mem->blob / 1024);
  if (r->mem)
    fprintf(out, "memory: flash %.1f KiB (code %.1f + weights and constants %.1f%s), RAM %.1f KiB "
            "(workspace %.1f + inputs and outputs %.1f + data %.1f + stack margin %.1f)\n",
            (double)r->mem->flash / 1024, (double)r->mem->code / 1024,
            (double)r->mem->rodata / 1024, blob, (double)r->mem->ram / 1024,
            (double)r->mem->workspace / 1024, (double)r->mem->io / 1024,
            (double)r->mem->data / 1024, (double)r->mem->stack_margin / 1024);
}
