/*
 * elf_merge.c — the objects of a model's code-generation units (llvm_emit.c,
 * em_units) merged into one relocatable object, as `ld -r` would: so the
 * units can be compiled on several threads and the user still gets one .o.
 *
 * Only what LLVM writes for tcc's ELF64 RELA targets (x86_64, aarch64,
 * riscv64) is handled: sections of the same name, type and flags are
 * concatenated in input order (each part at its own alignment); local
 * symbols are kept, moved by their part's offset; globals are joined by
 * name (a definition wins over declarations, two definitions are an
 * error), and those that are hidden and defined become local, as they
 * would be in one module; relocations are rebased and renumbered.  A relocation against an
 * input's section symbol gets its part's offset added to its addend, which
 * RELA makes possible (so ELF32 targets with REL, Cortex-M, stay one unit).
 * Target attributes sections (.riscv.attributes) are the same in every
 * input and kept once; the optional address-significance table
 * (.llvm_addrsig) is left out.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "llvm_int.h"

#ifndef SHT_LLVM_ADDRSIG
#define SHT_LLVM_ADDRSIG 0x6fff4c03
#endif
#define SHT_TARGET_ATTRIBUTES 0x70000003 /* SHT_RISCV_ATTRIBUTES */

bool elf_merge_supported(const char *triple) {
  return !strncmp(triple, "x86_64-", 7) || !strncmp(triple, "aarch64-", 8) ||
         !strncmp(triple, "riscv64-", 8);
}

typedef struct Buf {
  unsigned char *p;
  size_t n, cap;
} Buf;

static size_t buf_put(Buf *b, const void *data, size_t n) {
  if (n == 0) return b->n; /* an empty section: b->p may still be NULL */
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2 + 64;
    b->p = realloc(b->p, b->cap);
    IR_ASSERT(b->p);
  }
  size_t at = b->n;
  if (data) memcpy(b->p + at, data, n);
  else memset(b->p + at, 0, n);
  b->n += n;
  return at;
}

static void buf_align(Buf *b, uint64_t align) {
  if (align > 1 && b->n % align) buf_put(b, NULL, (size_t)(align - b->n % align));
}

static uint32_t str_put(Buf *b, const char *s) {
  return (uint32_t)buf_put(b, s, strlen(s) + 1);
}

/* One input, its headers checked. */
typedef struct In {
  const unsigned char *p;
  size_t n;
  Elf64_Ehdr eh;
  Elf64_Shdr *sh;          /* copies, aligned */
  const char *shstr;
  int symtab;              /* section index */
  uint64_t *base;          /* by section: offset of its part in the output section */
  int *out_sec;            /* by section: output section, or -1 */
  uint32_t *sym_map;       /* by symbol: output symbol index */
} In;

/* One output section. */
typedef struct Out {
  const char *name;
  Elf64_Shdr sh;
  Buf data;
  Buf rela;                /* Elf64_Rela entries */
  int sym;                 /* its section symbol, 0 until one is needed */
} Out;

static bool bad(const char *what) {
  return em_fail(NULL, "internal error: merging the units' objects: %s", what);
}

static bool read_in(In *in, const void *p, size_t n) {
  in->p = p;
  in->n = n;
  if (n < sizeof in->eh) return bad("an object is too short");
  memcpy(&in->eh, p, sizeof in->eh);
  const Elf64_Ehdr *e = &in->eh;
  if (memcmp(e->e_ident, ELFMAG, SELFMAG) || e->e_ident[EI_CLASS] != ELFCLASS64 ||
      e->e_ident[EI_DATA] != ELFDATA2LSB || e->e_type != ET_REL ||
      e->e_shentsize != sizeof(Elf64_Shdr) || e->e_shnum == 0 || e->e_shnum >= SHN_LORESERVE ||
      e->e_shoff > n || (n - e->e_shoff) / sizeof(Elf64_Shdr) < e->e_shnum ||
      e->e_shstrndx >= e->e_shnum)
    return bad("not a little-endian ELF64 relocatable object");
  in->sh = malloc(sizeof *in->sh * e->e_shnum);
  in->base = calloc(e->e_shnum, sizeof *in->base);
  in->out_sec = malloc(sizeof *in->out_sec * e->e_shnum);
  IR_ASSERT(in->sh && in->base && in->out_sec);
  memcpy(in->sh, in->p + e->e_shoff, sizeof *in->sh * e->e_shnum);
  in->symtab = -1;
  for (int i = 0; i < e->e_shnum; i++) {
    const Elf64_Shdr *s = &in->sh[i];
    in->out_sec[i] = -1;
    if (s->sh_type != SHT_NOBITS && (s->sh_offset > n || s->sh_size > n - s->sh_offset))
      return bad("a section lies outside its object");
    if (s->sh_type == SHT_SYMTAB) in->symtab = i;
    if (s->sh_type == SHT_REL || s->sh_type == SHT_GROUP)
      return bad("REL relocations or section groups");
  }
  const Elf64_Shdr *ss = &in->sh[e->e_shstrndx];
  in->shstr = (const char *)in->p + ss->sh_offset;
  if (in->symtab < 0 || in->sh[in->symtab].sh_link >= e->e_shnum ||
      in->sh[in->symtab].sh_entsize != sizeof(Elf64_Sym) || ss->sh_size == 0 ||
      in->shstr[ss->sh_size - 1] != 0)
    return bad("no symbol table");
  return true;
}

static const char *sec_name(const In *in, int i) { return in->shstr + in->sh[i].sh_name; }

static bool is_content(const Elf64_Shdr *s) {
  return s->sh_type != SHT_NULL && s->sh_type != SHT_SYMTAB && s->sh_type != SHT_STRTAB &&
         s->sh_type != SHT_RELA && s->sh_type != SHT_LLVM_ADDRSIG;
}

/* Places the content sections of in into the outputs. */
static void place_sections(In *in, Out **outs, int *num_outs) {
  for (int i = 1; i < in->eh.e_shnum; i++) {
    const Elf64_Shdr *s = &in->sh[i];
    if (!is_content(s)) continue;
    const char *name = sec_name(in, i);
    int k = 0;
    while (k < *num_outs && !(!strcmp((*outs)[k].name, name) &&
                              (*outs)[k].sh.sh_type == s->sh_type &&
                              (*outs)[k].sh.sh_flags == s->sh_flags &&
                              (*outs)[k].sh.sh_entsize == s->sh_entsize))
      k++;
    if (k == *num_outs) {
      *outs = realloc(*outs, sizeof **outs * (size_t)(k + 1));
      IR_ASSERT(*outs);
      (*outs)[k] = (Out){.name = name, .sh = *s};
      (*outs)[k].sh.sh_size = 0;
      (*num_outs)++;
    } else if (s->sh_type == SHT_TARGET_ATTRIBUTES) {
      continue; /* the same in every unit: the first one stands */
    }
    Out *o = &(*outs)[k];
    in->out_sec[i] = k;
    if (s->sh_addralign > o->sh.sh_addralign) o->sh.sh_addralign = s->sh_addralign;
    if (s->sh_type == SHT_NOBITS) {
      uint64_t a = s->sh_addralign > 1 ? s->sh_addralign : 1;
      o->sh.sh_size = (o->sh.sh_size + a - 1) / a * a;
      in->base[i] = o->sh.sh_size;
      o->sh.sh_size += s->sh_size;
    } else {
      buf_align(&o->data, s->sh_addralign);
      in->base[i] = buf_put(&o->data, in->p + s->sh_offset, (size_t)s->sh_size);
      o->sh.sh_size = o->data.n;
    }
  }
}

typedef struct Global {
  const char *name;
  Elf64_Sym sym;           /* output section index and value once defined */
} Global;

bool elf_merge_objects(const void **objs, const size_t *sizes, int n, void **out,
                       size_t *out_size) {
  In *ins = calloc((size_t)n, sizeof *ins);
  IR_ASSERT(ins);
  Out *outs = NULL;
  int num_outs = 0;
  bool ok = true;
  for (int i = 0; i < n && ok; i++) ok = read_in(&ins[i], objs[i], sizes[i]);
  for (int i = 0; i < n && ok; i++) place_sections(&ins[i], &outs, &num_outs);

  /* symbols: the null one, locals in input order, then the joined globals */
  Buf syms = {0}, strs = {0};
  Global *globals = NULL;
  int num_globals = 0;
  buf_put(&strs, "", 1);
  buf_put(&syms, NULL, sizeof(Elf64_Sym));
  uint32_t num_syms = 1, first_global = 0;
  for (int pass = 0; pass < 2 && ok; pass++) {
    for (int i = 0; i < n && ok; i++) {
      In *in = &ins[i];
      const Elf64_Shdr *st = &in->sh[in->symtab], *ss = &in->sh[st->sh_link];
      size_t count = st->sh_size / sizeof(Elf64_Sym);
      const char *names = (const char *)in->p + ss->sh_offset;
      if (pass == 0) {
        in->sym_map = calloc(count ? count : 1, sizeof *in->sym_map);
        IR_ASSERT(in->sym_map);
      }
      for (size_t k = 1; k < count && ok; k++) {
        Elf64_Sym s;
        memcpy(&s, in->p + st->sh_offset + k * sizeof s, sizeof s);
        bool local = ELF64_ST_BIND(s.st_info) == STB_LOCAL;
        if (local != (pass == 0)) continue;
        if (s.st_name >= ss->sh_size) {
          ok = bad("a symbol name lies outside its string table");
          break;
        }
        const char *name = names + s.st_name;
        bool defined = s.st_shndx != SHN_UNDEF && s.st_shndx < SHN_LORESERVE;
        if (defined && (s.st_shndx >= in->eh.e_shnum || in->out_sec[s.st_shndx] < 0)) {
          /* a section symbol or mapping symbol ($d) of a dropped section */
          if (local && s.st_shndx < in->eh.e_shnum && is_content(&in->sh[s.st_shndx])) continue;
          ok = bad("a symbol in a section that is not merged");
          break;
        }
        if (defined) {
          s.st_value += in->base[s.st_shndx];
          s.st_shndx = (Elf64_Half)(in->out_sec[s.st_shndx] + 1);
        }
        if (ELF64_ST_TYPE(s.st_info) == STT_SECTION) {
          /* one section symbol per output section; addends get the base */
          Out *o = &outs[s.st_shndx - 1];
          if (!o->sym) {
            s.st_value = 0;
            s.st_name = 0;
            o->sym = (int)num_syms++;
            buf_put(&syms, &s, sizeof s);
          }
          in->sym_map[k] = (uint32_t)o->sym;
          continue;
        }
        if (local) {
          s.st_name = str_put(&strs, name);
          in->sym_map[k] = num_syms++;
          buf_put(&syms, &s, sizeof s);
          continue;
        }
        int g = 0;
        while (g < num_globals && strcmp(globals[g].name, name)) g++;
        if (g == num_globals) {
          globals = realloc(globals, sizeof *globals * (size_t)(g + 1));
          IR_ASSERT(globals);
          globals[g] = (Global){name, s};
          num_globals++;
        } else if (defined) {
          if (globals[g].sym.st_shndx != SHN_UNDEF) {
            ok = bad("a symbol is defined twice");
            break;
          }
          globals[g].sym = s;
        }
        in->sym_map[k] = (uint32_t)(0x80000000u | (uint32_t)g); /* fixed below */
      }
    }
  }
  /* hidden globals defined here (the segments, the weights) were only
   * global so the units could reach them: local now, as in one module */
  uint32_t *global_index = malloc(sizeof *global_index * (size_t)(num_globals + 1));
  IR_ASSERT(global_index);
  for (int local = 1; local >= 0; local--) {
    for (int g = 0; g < num_globals; g++) {
      Elf64_Sym *gs = &globals[g].sym;
      bool hidden_def = gs->st_shndx != SHN_UNDEF &&
                        ELF64_ST_VISIBILITY(gs->st_other) == STV_HIDDEN;
      if (hidden_def != (local == 1)) continue;
      if (local) gs->st_info = ELF64_ST_INFO(STB_LOCAL, ELF64_ST_TYPE(gs->st_info));
      gs->st_name = str_put(&strs, globals[g].name);
      global_index[g] = num_syms++;
      buf_put(&syms, gs, sizeof *gs);
    }
    if (local) first_global = num_syms;
  }
  for (int i = 0; i < n && ok; i++) {
    size_t count = ins[i].sh[ins[i].symtab].sh_size / sizeof(Elf64_Sym);
    for (size_t k = 1; k < count; k++)
      if (ins[i].sym_map[k] & 0x80000000u)
        ins[i].sym_map[k] = global_index[ins[i].sym_map[k] & 0x7fffffffu];
  }
  free(global_index);

  /* relocations: rebased offsets, renumbered symbols, section addends */
  for (int i = 0; i < n && ok; i++) {
    In *in = &ins[i];
    size_t count = in->sh[in->symtab].sh_size / sizeof(Elf64_Sym);
    for (int r = 1; r < in->eh.e_shnum && ok; r++) {
      const Elf64_Shdr *rs = &in->sh[r];
      if (rs->sh_type != SHT_RELA) continue;
      if (rs->sh_info >= in->eh.e_shnum || in->out_sec[rs->sh_info] < 0 ||
          rs->sh_link != (Elf64_Word)in->symtab || rs->sh_entsize != sizeof(Elf64_Rela)) {
        ok = bad("relocations for a section that is not merged");
        break;
      }
      Out *o = &outs[in->out_sec[rs->sh_info]];
      for (uint64_t at = 0; at + sizeof(Elf64_Rela) <= rs->sh_size; at += sizeof(Elf64_Rela)) {
        Elf64_Rela rel;
        memcpy(&rel, in->p + rs->sh_offset + at, sizeof rel);
        uint32_t sym = (uint32_t)ELF64_R_SYM(rel.r_info);
        if (sym >= count) {
          ok = bad("a relocation names no symbol");
          break;
        }
        if (sym) {
          Elf64_Sym s;
          memcpy(&s, in->p + in->sh[in->symtab].sh_offset + sym * sizeof s, sizeof s);
          if (ELF64_ST_TYPE(s.st_info) == STT_SECTION) rel.r_addend += (int64_t)in->base[s.st_shndx];
          sym = in->sym_map[sym];
          if (!sym) {
            ok = bad("a relocation names a symbol of a dropped section");
            break;
          }
        }
        rel.r_offset += in->base[rs->sh_info];
        rel.r_info = ELF64_R_INFO(sym, ELF64_R_TYPE(rel.r_info));
        buf_put(&o->rela, &rel, sizeof rel);
      }
    }
  }

  /* layout: header, section contents, relocations, symtab, strtab,
   * shstrtab, section headers: null, outputs, their .rela, the tables */
  Buf f = {0}, shstr = {0};
  if (ok) {
    Elf64_Ehdr eh = ins[0].eh;
    buf_put(&f, NULL, sizeof eh);
    buf_put(&shstr, "", 1);
    int num_rela = 0;
    for (int k = 0; k < num_outs; k++) num_rela += outs[k].rela.n > 0;
    int nsec = 1 + num_outs + num_rela + 3;
    Elf64_Shdr *sh = calloc((size_t)nsec, sizeof *sh);
    IR_ASSERT(sh);
    int symtab_idx = 1 + num_outs + num_rela;
    for (int k = 0; k < num_outs; k++) {
      Elf64_Shdr *s = &sh[1 + k];
      *s = outs[k].sh;
      s->sh_name = str_put(&shstr, outs[k].name);
      if (s->sh_type != SHT_NOBITS) {
        buf_align(&f, s->sh_addralign ? s->sh_addralign : 1);
        s->sh_offset = buf_put(&f, outs[k].data.p, outs[k].data.n);
        s->sh_size = outs[k].data.n;
      } else {
        s->sh_offset = f.n;
      }
      s->sh_link = 0;
      s->sh_info = 0;
    }
    int r = 1 + num_outs;
    for (int k = 0; k < num_outs; k++) {
      if (!outs[k].rela.n) continue;
      Elf64_Shdr *s = &sh[r++];
      char name[256];
      snprintf(name, sizeof name, ".rela%s", outs[k].name);
      buf_align(&f, 8);
      *s = (Elf64_Shdr){.sh_name = str_put(&shstr, name), .sh_type = SHT_RELA,
                        .sh_flags = SHF_INFO_LINK, .sh_offset = f.n,
                        .sh_size = outs[k].rela.n, .sh_link = (Elf64_Word)symtab_idx,
                        .sh_info = (Elf64_Word)(1 + k), .sh_addralign = 8,
                        .sh_entsize = sizeof(Elf64_Rela)};
      buf_put(&f, outs[k].rela.p, outs[k].rela.n);
    }
    buf_align(&f, 8);
    sh[symtab_idx] = (Elf64_Shdr){.sh_name = str_put(&shstr, ".symtab"), .sh_type = SHT_SYMTAB,
                                  .sh_offset = f.n, .sh_size = syms.n,
                                  .sh_link = (Elf64_Word)(symtab_idx + 1),
                                  .sh_info = first_global, .sh_addralign = 8,
                                  .sh_entsize = sizeof(Elf64_Sym)};
    buf_put(&f, syms.p, syms.n);
    sh[symtab_idx + 1] = (Elf64_Shdr){.sh_name = str_put(&shstr, ".strtab"), .sh_type = SHT_STRTAB,
                                      .sh_offset = f.n, .sh_size = strs.n, .sh_addralign = 1};
    buf_put(&f, strs.p, strs.n);
    sh[symtab_idx + 2] = (Elf64_Shdr){.sh_name = str_put(&shstr, ".shstrtab"),
                                      .sh_type = SHT_STRTAB, .sh_addralign = 1};
    sh[symtab_idx + 2].sh_offset = f.n;
    sh[symtab_idx + 2].sh_size = shstr.n;
    buf_put(&f, shstr.p, shstr.n);
    buf_align(&f, 8);
    eh.e_shoff = f.n;
    eh.e_shnum = (Elf64_Half)nsec;
    eh.e_shstrndx = (Elf64_Half)(symtab_idx + 2);
    buf_put(&f, sh, sizeof *sh * (size_t)nsec);
    memcpy(f.p, &eh, sizeof eh);
    free(sh);
    if (nsec >= SHN_LORESERVE) ok = bad("too many sections");
  }
  if (ok) {
    *out = f.p;
    *out_size = f.n;
  } else {
    free(f.p);
  }
  free(shstr.p);
  free(syms.p);
  free(strs.p);
  free(globals);
  for (int k = 0; k < num_outs; k++) {
    free(outs[k].data.p);
    free(outs[k].rela.p);
  }
  free(outs);
  for (int i = 0; i < n; i++) {
    free(ins[i].sh);
    free(ins[i].base);
    free(ins[i].out_sec);
    free(ins[i].sym_map);
  }
  free(ins);
  return ok;
}
