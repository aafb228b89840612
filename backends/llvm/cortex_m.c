/*
 * cortex_m.c — what is particular to the cortex-m4 / m7 / m55 targets.
 *
 * Bare-metal Thumb-2 with the hard-float ABI (thumbv7em-none-eabihf): the
 * CPU names the FPU (cortex-m4: single-precision VFPv4; cortex-m7: FPv5),
 * so the default feature list is empty.  Weights go to .rodata (flash on a
 * microcontroller); the workspace is RAM the application provides.  There
 * is no vector unit on these two; cortex-m55 (thumbv8.1m.main) has Helium,
 * the M-profile vector extension, with float lanes (+mve.fp).
 *
 * Memory fit.  A microcontroller cannot page: a model whose code and weights
 * exceed the flash, or whose workspace and buffers exceed the RAM, cannot run
 * at all, so tcc refuses it at compile time with the figures instead of
 * letting the link fail (`region FLASH overflowed`) or the heap run out.
 * Flash = the object's allocated read-only sections (code, weights, tables);
 * RAM = its writable sections + the workspace + the input and output buffers
 * + a fixed stack margin.  The limits are those of the QEMU board `tcc run`
 * uses for the target, less a reserve for the runtime, newlib and startup
 * code linked beside the model (docs/targets.md).  The same figures check
 * --max-flash and --max-ram on every ELF target (docs/cmake.md).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "elf_object.h"
#include "llvm_int.h"

void cortex_m_init(void) {
  LLVMInitializeARMTargetInfo();
  LLVMInitializeARMTarget();
  LLVMInitializeARMTargetMC();
  LLVMInitializeARMAsmPrinter();
}

/* The board each Cortex-M target runs on (runtime/toolchains/<board>/). */
typedef struct Board {
  const char *target, *board;
  uint64_t flash, ram;        /* the linker script's regions */
} Board;

#define KIB 1024ull
#define MIB (1024ull * 1024ull)
/* What the runtime, newlib (rdimon), the harness and the startup take of
 * the flash (about 37 KiB measured with the sample CNN; the rest is room for
 * the libm functions other models pull in), and the stack margin in RAM. */
#define CORTEX_M_FLASH_RESERVE (128 * KIB)
#define CORTEX_M_STACK_MARGIN (16 * KIB)

static const Board boards[] = {
    {"cortex-m4", "mps2-an386", 4 * MIB, 16 * MIB},
    {"cortex-m7", "mps2-an500", 4 * MIB, 16 * MIB},
    /* 8 MiB QSPI flash; RAM: 16 MiB of the 2 GiB DDR, like the MPS2 boards. */
    {"cortex-m55", "mps3-an547", 8 * MIB, 16 * MIB},
};

static uint64_t io_bytes(const IrModule *m) {
  const IrFunc *f = m->main;
  uint64_t total = 0;
  for (int i = 0; i < f->num_inputs + f->num_outputs; i++) {
    const IrType *t = &f->body->args[i]->type;
    uint64_t n = 0; /* the caller's buffers: sub-byte types packed */
    if (ir_type_numel(t, &n)) total += ir_elem_packed_bytes(t->elem, n);
  }
  return total;
}

/* "11.0 KiB", "44.61 MiB", by value: .s lives to the end of the call
 * that formats it (C11's temporary lifetime), no static buffers. */
typedef struct SizeStr {
  char s[24];
} SizeStr;

static SizeStr size_str(uint64_t n) {
  SizeStr r;
  if (n >= MIB) snprintf(r.s, sizeof r.s, "%.2f MiB", (double)n / (double)MIB);
  else snprintf(r.s, sizeof r.s, "%.1f KiB", (double)n / (double)KIB);
  return r;
}

/* The limits that bind: the board's (less the runtime's reserve) and the
 * user's --max-flash / --max-ram, whichever is smaller; *by_flag says which. */
static uint64_t limit(uint64_t board, uint64_t flag, bool *by_flag) {
  *by_flag = flag && flag < board;
  return *by_flag ? flag : board;
}

bool target_memory(const IrModule *m, LlvmObject *o, MemoryFigures *f) {
  /* the whole object, weights blob included (a board's flash is small) */
  const void *obj = llvm_object_bytes(o);
  size_t size = obj ? o->size : 0;
  ElfSizes e;
  if (!obj || !elf_class_bits(obj, size) || !elf_sizes(obj, size, &e)) return false;
  int64_t planned = m->main->workspace_size;
  *f = (MemoryFigures){.code = e.code, .rodata = e.rodata, .data = e.data,
                       .workspace = planned > 0 ? (uint64_t)planned : 0, .io = io_bytes(m),
                       .stack_margin = CORTEX_M_STACK_MARGIN};
  f->blob = o->weights.external ? llvm_weights_file_size(o) : 0;
  f->flash = f->code + f->rodata + f->blob;
  f->ram = f->data + f->workspace + f->io + f->stack_margin;
  return true;
}

bool target_check_fit(const TccTarget *t, const IrModule *m, LlvmObject *o,
                      const MemoryBudget *budget) {
  const Board *b = NULL;
  for (size_t i = 0; i < sizeof boards / sizeof boards[0]; i++)
    if (!strcmp(boards[i].target, t->name)) b = &boards[i];
  bool budgeted = budget && (budget->max_flash || budget->max_ram);
  if (!b && !budgeted) return true; /* hosted targets: virtual memory */
  MemoryFigures f;
  if (!target_memory(m, o, &f)) {
    if (b) diag_error("internal error: the %s object is not an ELF32 object", t->name);
    else diag_error("--max-flash and --max-ram measure ELF objects; the %s "
                    "target's object is not one", t->name);
    return false;
  }
  uint64_t flash = f.flash, ram = f.ram;
  bool flash_flag, ram_flag;
  uint64_t flash_max = limit(b ? b->flash - CORTEX_M_FLASH_RESERVE : UINT64_MAX,
                             budget ? budget->max_flash : 0, &flash_flag);
  uint64_t ram_max = limit(b ? b->ram : UINT64_MAX, budget ? budget->max_ram : 0,
                           &ram_flag);
  char figures[512], blob[64] = "";
  if (f.blob) snprintf(blob, sizeof blob, " + weights blob %s", size_str(f.blob).s);
  snprintf(figures, sizeof figures,
           "%s of flash (code %s + weights and constants %s%s) and %s of RAM "
           "(workspace %s + inputs and outputs %s + data %s + stack margin %s)",
           size_str(flash).s, size_str(f.code).s, size_str(f.rodata).s, blob,
           size_str(ram).s, size_str(f.workspace).s, size_str(f.io).s, size_str(f.data).s,
           size_str(f.stack_margin).s);
  IrLoc loc = {.file = m->source};
  if (flash <= flash_max && ram <= ram_max) {
    if (b)
      diag_at(DIAG_NOTE, &loc, "model '%s' on %s (%s): %s", m->name, t->name,
              b->board, figures);
    else
      diag_at(DIAG_NOTE, &loc, "model '%s' on %s: %s", m->name, t->name, figures);
    return true;
  }
  if ((flash > flash_max && flash_flag) || (ram > ram_max && ram_flag)) {
    char flags[128] = "";
    if (flash > flash_max && flash_flag)
      snprintf(flags, sizeof flags, "--max-flash is %s", size_str(flash_max).s);
    if (ram > ram_max && ram_flag)
      snprintf(flags + strlen(flags), sizeof flags - strlen(flags), "%s--max-ram is %s",
               flags[0] ? " and " : "", size_str(ram_max).s);
    diag_at(DIAG_ERROR, &loc, "model '%s' on %s exceeds its budget: it needs %s; %s",
            m->name, t->name, figures, flags);
    return false;
  }
  diag_at(DIAG_ERROR, &loc, "model '%s' does not fit %s (%s): it needs %s; "
          "the board has %s of flash for the model (%s less %s for the "
          "runtime) and %s of RAM", m->name, t->name, b->board, figures,
          size_str(b->flash - CORTEX_M_FLASH_RESERVE).s, size_str(b->flash).s,
          size_str(CORTEX_M_FLASH_RESERVE).s, size_str(b->ram).s);
  return false;
}
