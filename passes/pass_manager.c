/* pass_manager.c — the pass registry (from passes.def) and the pipeline
 * runner: a pass, then the verifier, then the IR dump if asked for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"
#include "timer.h"

static const PassInfo registry[] = {
#define PASS(fn, name, summary) {name, summary, pass_##fn},
#include "passes.def"
#undef PASS
};

int pass_count(void) { return (int)(sizeof registry / sizeof registry[0]); }
const PassInfo *pass_at(int i) { return &registry[i]; }

static const PassInfo *find_n(const char *name, size_t n) {
  for (int i = 0; i < pass_count(); i++)
    if (strlen(registry[i].name) == n && !strncmp(registry[i].name, name, n))
      return &registry[i];
  return NULL;
}

const PassInfo *pass_find(const char *name) {
  return find_n(name, strlen(name));
}

typedef struct Uses {
  const IrValue *v;
  int count, max;
  IrOp **users;
} Uses;

static void note_use(IrOp *op, void *p) {
  Uses *u = p;
  for (int i = 0; i < op->num_operands; i++)
    if (op->operands[i] == u->v && u->count++ < u->max) u->users[u->count - 1] = op;
}

int pass_users(IrFunc *f, const IrValue *v, IrOp **users, int max) {
  Uses u = {v, 0, max, users};
  ir_walk(f->body, note_use, &u);
  return u.count;
}

IrOp *pass_single_user(IrFunc *f, const IrValue *v) {
  IrOp *user;
  return pass_users(f, v, &user, 1) == 1 ? user : NULL;
}

IrOp *pass_silu_mul(IrFunc *f, const IrOp *sig) {
  if (sig->kind != IR_OP_SIGMOID) return NULL;
  const IrValue *x = sig->operands[0], *s = sig->results[0];
  IrOp *mul = pass_single_user(f, s);
  if (!mul || mul->kind != IR_OP_MUL || mul->num_operands != 2) return NULL;
  return (mul->operands[0] == s ? mul->operands[1] : mul->operands[0]) == x ? mul : NULL;
}

const float *pass_weight_f32(const IrValue *v, uint64_t n) {
  uint64_t have;
  if (!v || !v->weight || !v->weight->data || v->type.elem != IR_F32 ||
      !ir_type_numel(&v->type, &have) || have != n || v->weight->nbytes != n * 4)
    return NULL;
  return v->weight->data;
}

IrValue *pass_new_weight(IrModule *m, const char *base, const char *suffix, IrType type,
                         const float *data, uint64_t n) {
  return pass_new_weight_bytes(m, base, suffix, type, data, n * sizeof(float));
}

IrValue *pass_new_weight_bytes(IrModule *m, const char *base, const char *suffix, IrType type,
                               const void *data, uint64_t nbytes) {
  size_t size = strlen(base) + strlen(suffix) + 16; /* a long name must not be cut */
  char *name = malloc(size);
  IR_ASSERT(name);
  for (int i = 0;; i++) {
    snprintf(name, size, "%s.%s%d", base, suffix, i);
    if (!ir_weight_find(m, name)) break;
  }
  IrValue *v = ir_weight_add(m, name, type, data, nbytes, true)->value;
  free(name);
  return v;
}

const char *pass_pipeline_for_level(int level, bool fuse, bool compress) {
  /* the compression passes before fuse: the products they leave take the
   * bias and activation; the dce after them drops the weights replaced */
  /* quantize after fuse: the int8 kernel's epilogue keeps what fuse gave it;
   * from -O1 on always, for the layers of a model that arrives quantized */
  if (level <= 0)
    return compress ? "infer-shapes,prune,lowrank,quantize,dce,lower,plan-memory"
                    : "infer-shapes,lower,plan-memory";
  if (!fuse)
    return compress
               ? "infer-shapes,fold-constants,prune,lowrank,quantize,dce,lower,dce,plan-memory"
               : "infer-shapes,fold-constants,quantize,dce,lower,dce,plan-memory";
  return compress ? "infer-shapes,fold-constants,prune,lowrank,dce,fuse,quantize,dce,lower,dce,"
                    "plan-memory"
                  : "infer-shapes,fold-constants,dce,fuse,quantize,dce,lower,dce,plan-memory";
}

void pass_stat(PassContext *pc, const char *name, int64_t value) {
  for (int i = 0; i < pc->num_stats; i++)
    if (!strcmp(pc->stats[i].name, name)) {
      pc->stats[i].value += value;
      return;
    }
  if (pc->num_stats < PASS_MAX_STATS)
    pc->stats[pc->num_stats++] = (PassStat){name, value};
}

static void list_valid(char *buf, size_t size) {
  size_t n = 0;
  buf[0] = 0;
  for (int i = 0; i < pass_count() && n < size; i++)
    n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "",
                          registry[i].name);
}

bool pass_check_pipeline(const char *passes) {
  for (const char *p = passes; *p;) {
    size_t n = strcspn(p, ",");
    if (n == 0 || !find_n(p, n)) {
      char valid[1024];
      list_valid(valid, sizeof valid);
      diag_error("unknown pass '%.*s'; valid passes: %s", (int)n, p, valid);
      return false;
    }
    p += n;
    if (*p == ',') p++;
  }
  return true;
}

static bool wants_dump(const PipelineOptions *o, const char *name) {
  return o->print_ir_after &&
         (!strcmp(o->print_ir_after, "all") || !strcmp(o->print_ir_after, name));
}

bool pass_run_pipeline(IrModule *m, const PipelineOptions *o) {
  if (!pass_check_pipeline(o->passes)) return false;
  FILE *out = o->ir_out ? o->ir_out : stdout;
  for (const char *p = o->passes; *p;) {
    size_t n = strcspn(p, ",");
    const PassInfo *pi = find_n(p, n);
    PassContext pc = {.m = m, .target = o->target, .tuning = o->tuning, .profile = o->profile,
                      .lowrank = o->lowrank, .prune = o->prune, .quantize = o->quantize};
    if (o->before_pass) o->before_pass(m, pi->name, o->user);
    char stage[64];
    snprintf(stage, sizeof stage, "pass %s", pi->name);
    stage_begin(stage);
    if (!pi->run(&pc)) {
      stage_end();
      return false;
    }
    bool valid = !o->verify_each || ir_verify(m); /* timed with the pass */
    stage_end();
    if (!valid) {
      diag_error("IR is invalid after pass '%s' (a bug in tcc)", pi->name);
      return false;
    }
    if (o->stats)
      for (int i = 0; i < pc.num_stats; i++)
        fprintf(out, "// %s: %s: %lld\n", pi->name, pc.stats[i].name,
                (long long)pc.stats[i].value);
    if (wants_dump(o, pi->name)) {
      fprintf(out, "// IR after %s\n", pi->name);
      ir_print_module(m, out);
    }
    p += n;
    if (*p == ',') p++;
  }
  return true;
}
